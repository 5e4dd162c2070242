"""The lead's buttons and pages before and after they start the organisation's response."""

from consult.comments import services as comment_services
from consult.comments.models import OrganisationRole
from consult.organisations import services
from tests.conftest import new_participation
from tests.organisations.conftest import new_lead

START_FIRST = "Start your organisation’s response first."


def _text(response) -> str:
    return response.get_data(as_text=True)


def test_a_lead_who_has_not_started_is_sent_to_the_organisation_page_to_start(client, login, post_form,
                                                                              make_consultation):
    consultation = make_consultation()
    login(new_lead())
    hub = f"/consultations/{consultation.reference}/organisation"
    for ask in (lambda: client.get(f"{hub}/lead/response"), lambda: post_form(f"{hub}/lead/answers/1/use")):
        response = ask()
        assert response.status_code == 302 and response.headers["Location"] == hub
        assert START_FIRST in _text(client.get(hub))
    submit = client.get(f"{hub}/lead/submit")
    assert submit.status_code == 302 and submit.headers["Location"] == f"{hub}/lead/response"


def test_starting_takes_the_lead_to_their_response(client, login, post_form, make_consultation, app_context):
    consultation = make_consultation()
    lead = login(new_lead())
    hub = f"/consultations/{consultation.reference}/organisation"
    response = post_form(f"{hub}/lead/start")
    assert response.status_code == 302 and response.headers["Location"] == f"{hub}/lead/response"
    participation = comment_services.find_participation(lead.id, consultation.id)
    assert participation.organisation_role is OrganisationRole.LEAD
    assert START_FIRST not in _text(client.get(f"{hub}/lead/response"))


def test_a_refused_start_or_share_says_why_on_the_organisation_page(client, login, post_form, make_consultation,
                                                                    app_context):
    consultation = make_consultation()
    lead = login(new_lead())
    new_participation(lead, consultation)  # taking part as themselves already
    hub = f"/consultations/{consultation.reference}/organisation"
    for button in ("start", "share"):
        response = post_form(f"{hub}/lead/{button}")
        assert response.status_code == 302 and response.headers["Location"] == hub
        assert "You are already taking part in this consultation" in _text(client.get(hub))
    assert services.find_code(services.lead_of(lead.id).organisation_id, consultation.id) is None


def test_a_closed_consultation_refuses_the_lead_s_buttons(client, login, post_form, make_consultation, app_context):
    consultation = make_consultation(state="closed")
    lead = login(new_lead())
    hub = f"/consultations/{consultation.reference}/organisation"
    for button in ("start", "share"):
        response = post_form(f"{hub}/lead/{button}")
        assert response.status_code == 302 and response.headers["Location"] == hub
        assert "This consultation closed and is no longer accepting comments." in _text(client.get(hub))
    assert comment_services.find_participation(lead.id, consultation.id) is None
