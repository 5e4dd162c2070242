"""How are you taking part? One question a page, check your answers, confirm once."""

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from consult.comments.models import IndividualType, OrganisationType, ParticipantKind, Participation
from consult.comments.take_part_views import ANSWERS_CHANGED
from consult.database import utcnow
from consult.extensions import db
from tests.comments.helpers import AS_CHARITY, AS_PATIENT, answer_questions, confirm, shown_on
from tests.conftest import sections_of

CLOSED_MESSAGE = "This consultation closed and is no longer accepting comments."
CANNOT_CHANGE = "This cannot be changed."


def text_of(response) -> str:
    return response.get_data(as_text=True)


def main_of(response) -> str:
    page = text_of(response)
    return page[page.index("<main"):page.index("</main>")]


def page_after(client, response) -> str:
    assert response.status_code in (301, 302, 303), response.status_code
    return text_of(client.get(response.headers["Location"], follow_redirects=True))


def error_summary_items(page: str) -> list[str]:
    match = re.search(r'class="govuk-error-summary".*?</ul>', page, re.S)
    assert match, "page has no error summary"
    return [html.unescape(item) for item in re.findall(r'<a href="#[^"]*">(.*?)</a>', match.group(0))]


def heading(page: str) -> str:
    match = re.search(r"<h1[^>]*>(.*?)</h1>|<legend[^>]*>\s*<h1[^>]*>(.*?)</h1>|<label[^>]*>\s*<h1[^>]*>",
                      page, re.S)
    assert match, "page has no heading"
    return html.unescape(re.sub(r"<[^>]+>", "", match.group(0))).strip()


def back_link(page: str) -> str:
    match = re.search(r'<a href="([^"]*)" class="govuk-back-link"', page)
    assert match, "page has no back link"
    return html.unescape(match.group(1))


def change_links(page: str) -> dict[str, str]:
    """'Change' links on the check page, by the words a screen reader hears after 'Change'."""
    return {html.unescape(hidden).strip(): html.unescape(href) for href, hidden in re.findall(
        r'<a class="govuk-link" href="([^"]*)">Change<span class="govuk-visually-hidden">([^<]*)</span>', page)}


def summary_rows(page: str) -> dict[str, str]:
    rows = re.findall(r'<dt class="govuk-summary-list__key">\s*(.*?)\s*</dt>\s*'
                      r'<dd class="govuk-summary-list__value">\s*(.*?)\s*</dd>', page, re.S)
    return {html.unescape(key): html.unescape(re.sub(r"<[^>]+>", "", value)).strip() for key, value in rows}


def checked(page: str, name: str) -> list[str]:
    return re.findall(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"[^>]*checked', page)


def stored_participations(user) -> list[Participation]:
    db.session.expire_all()
    return list(db.session.scalars(select(Participation).where(Participation.user_id == user.id)))


def path(consultation, rest: str = "") -> str:
    return f"/consultations/{consultation.reference}{rest}"


def pending(client, consultation) -> dict:
    with client.session_transaction() as session:
        return dict(session.get("pending_participation", {}).get(str(consultation.id)) or {})


@pytest.fixture
def signed_in_at(login_as, make_consultation):
    """A signed-in stakeholder who has not yet said how they take part, and the open consultation."""
    consultation = make_consultation()
    user = login_as()
    db.session.commit()
    return user, consultation


# --- One question a page, each leading to the next -------------------------------

def test_the_first_page_asks_only_how_you_are_taking_part(client, signed_in_at):
    _, consultation = signed_in_at
    page = main_of(client.get(path(consultation, "/take-part")))
    assert heading(page) == "How are you taking part in this consultation?"
    assert "You will not be able to change how you comment later" in page
    assert 'name="kind"' in page
    for later in ("individual_type", "organisation_name", "has_tobacco_links", "tobacco_details", "publish_name"):
        assert f'name="{later}"' not in page
    assert checked(page, "kind") == []


@pytest.mark.parametrize("answers, pages", [
    (AS_PATIENT, ["/take-part/about-you", "/take-part/tobacco-links", "/take-part/other-interests",
                  "/take-part/publish-name", "/take-part/check"]),
    (AS_CHARITY, ["/take-part/organisation", "/take-part/tobacco-links", "/take-part/tobacco-links/details",
                  "/take-part/other-interests", "/take-part/check"]),
], ids=["individual", "organisation-with-tobacco-links"])
def test_each_answer_leads_to_the_next_question_on_its_path(post_form, signed_in_at, answers, pages):
    _, consultation = signed_in_at
    url, visited = path(consultation, "/take-part"), []
    while "/check" not in url:
        response = post_form(url, answers)
        assert response.status_code == 302, text_of(response)
        url = response.headers["Location"]
        visited.append(url.split("?")[0].removeprefix(path(consultation)))
    assert visited == pages


def test_the_publish_name_question_starts_at_no(client, post_form, signed_in_at):
    _, consultation = signed_in_at
    for url in ("/take-part", "/take-part/about-you", "/take-part/tobacco-links", "/take-part/other-interests"):
        post_form(path(consultation, url), AS_PATIENT)
    page = main_of(client.get(path(consultation, "/take-part/publish-name")))
    assert heading(page) == "Can we publish your name with your comments?"
    assert checked(page, "publish_name") == ["no"]


QUESTION_ERRORS = [
    ("/take-part", {}, {}, "Select how you are taking part in this consultation"),
    ("/take-part/about-you", {"kind": "individual"}, {}, "Select which best describes you"),
    ("/take-part/organisation", {"kind": "organisation"},
     {"organisation_name": "  ", "organisation_type": "professional_body"}, "Enter the name of the organisation"),
    ("/take-part/organisation", {"kind": "organisation"}, {"organisation_name": "Royal College"},
     "Select the type of organisation"),
    ("/take-part/organisation", {"kind": "organisation"},
     {"organisation_name": "x" * 201, "organisation_type": "other"},
     "Organisation name must be 200 characters or fewer"),
    ("/take-part/organisation", {"kind": "organisation"},
     {"organisation_name": "\u202eKU htlaeH tooF", "organisation_type": "other"},
     "Organisation name must not include hidden characters that change the direction of text"),
    ("/take-part/tobacco-links", AS_PATIENT, {}, "Select yes if you have links with, or funding from, the tobacco industry"),
    ("/take-part/tobacco-links/details", {**AS_PATIENT, "has_tobacco_links": "yes"}, {"tobacco_details": " "},
     "Give details of the links with, or funding from, the tobacco industry"),
    ("/take-part/tobacco-links/details", {**AS_PATIENT, "has_tobacco_links": "yes"}, {"tobacco_details": "y" * 2001},
     "Details must be 2,000 characters or fewer"),
    ("/take-part/other-interests", AS_PATIENT, {"other_interests": "z" * 2001},
     "Other interests must be 2,000 characters or fewer"),
    ("/take-part/publish-name", AS_PATIENT, {}, "Select yes if we can publish your name with your comments"),
]


@pytest.mark.parametrize("page, before, posted, message", QUESTION_ERRORS,
                         ids=["kind", "individual-type", "organisation-name", "organisation-type",
                              "organisation-name-too-long", "organisation-name-direction", "tobacco",
                              "tobacco-details", "tobacco-details-too-long", "other-interests-too-long",
                              "publish-name"])
def test_each_question_has_its_own_error_message_and_keeps_what_was_typed(client, post_form, signed_in_at, page,
                                                                          before, posted, message):
    user, consultation = signed_in_at
    url = path(consultation, "/take-part")
    while not url.split("?")[0].endswith(page):  # answer the questions before this one
        url = post_form(url, before).headers["Location"]
    response = post_form(url, posted)
    assert response.status_code == 200
    shown = text_of(response)
    assert error_summary_items(shown) == [message]
    assert "<title>Error: " in shown
    for typed in posted.values():
        if typed.strip() and len(typed) < 100:
            assert typed in shown
    assert stored_participations(user) == []


@pytest.mark.parametrize("page, before, posted, message", [
    ("/take-part", {}, {"kind": "staff"}, "Select how you are taking part in this consultation"),
    ("/take-part/about-you", {"kind": "individual"}, {"individual_type": "x" * 300},
     "Select which best describes you"),
    ("/take-part/publish-name", AS_PATIENT, {"publish_name": "maybe"},
     "Select yes if we can publish your name with your comments"),
], ids=["kind", "individual-type", "publish-name"])
def test_an_answer_that_is_not_one_of_the_options_gets_the_questions_own_message(post_form, signed_in_at, page,
                                                                                before, posted, message):
    user, consultation = signed_in_at
    url = path(consultation, "/take-part")
    while not url.split("?")[0].endswith(page):
        url = post_form(url, before).headers["Location"]
    response = post_form(url, posted)
    assert response.status_code == 200
    assert error_summary_items(text_of(response)) == [message]
    assert stored_participations(user) == []


# --- Back keeps answers; Change returns to the check page ----------------------------

def test_going_back_shows_the_answers_already_given(client, post_form, signed_in_at):
    _, consultation = signed_in_at
    answer_questions(post_form, path(consultation, "/take-part"), AS_CHARITY)
    tobacco = main_of(client.get(path(consultation, "/take-part/tobacco-links")))
    back = text_of(client.get(path(consultation, "/take-part/tobacco-links")))
    assert back_link(back) == path(consultation, "/take-part/organisation")
    organisation = main_of(client.get(back_link(back)))
    assert 'value="Foot Health Charity"' in organisation
    assert checked(organisation, "organisation_type") == ["charity_or_patient_group"]
    assert back_link(text_of(client.get(path(consultation, "/take-part/organisation")))) == path(consultation,
                                                                                                  "/take-part")
    assert checked(main_of(client.get(path(consultation, "/take-part"))), "kind") == ["organisation"]
    assert checked(tobacco, "has_tobacco_links") == ["yes"]
    assert "A grant in 2019" in main_of(client.get(path(consultation, "/take-part/tobacco-links/details")))
    assert "We sell insoles" in main_of(client.get(path(consultation, "/take-part/other-interests")))
    assert back_link(text_of(client.get(path(consultation, "/take-part")))) == path(consultation)


def test_check_page_shows_every_answer_with_a_change_link_to_its_question(client, post_form, signed_in_at):
    user, consultation = signed_in_at
    check = client.get(answer_questions(post_form, path(consultation, "/take-part"), AS_CHARITY))
    page = main_of(check)
    assert heading(page) == "Check how you are taking part"
    assert summary_rows(page) == {
        "How you are taking part": "On behalf of an organisation",
        "Organisation name": "Foot Health Charity",
        "Type of organisation": "Charity or patient group",
        "Links with the tobacco industry": "Yes",
        "Details of the links or funding": "A grant in 2019",
        "Other interests": "We sell insoles",
        # An organisation's comments carry its name, never its respondent's: nothing to ask, nothing to change.
        "Name published with the comments": "Your organisation’s name. Your own name is not published.",
    }
    links = change_links(page)
    expected = {
        "how you are taking part": "/take-part", "organisation name": "/take-part/organisation",
        "type of organisation": "/take-part/organisation", "links with the tobacco industry": "/take-part/tobacco-links",
        "details of the links or funding": "/take-part/tobacco-links/details",
        "other interests": "/take-part/other-interests",
    }
    assert {name: href.split("?")[0] for name, href in links.items()} == {
        name: path(consultation, rest) for name, rest in expected.items()}
    assert all("change=yes" in href for href in links.values())
    assert "You will not be able to change how you comment later" in page
    assert stored_participations(user) == []


def test_a_change_link_returns_to_the_check_page_with_the_new_answer(client, post_form, signed_in_at):
    _, consultation = signed_in_at
    check_url = answer_questions(post_form, path(consultation, "/take-part"), AS_CHARITY)
    change = change_links(main_of(client.get(check_url)))["organisation name"]
    form = text_of(client.get(change))
    assert back_link(form) == check_url
    changed = post_form(change, {"organisation_name": "Neuroma Support", "organisation_type": "professional_body"})
    assert changed.headers["Location"] == check_url
    rows = summary_rows(main_of(client.get(check_url)))
    assert (rows["Organisation name"], rows["Type of organisation"]) == ("Neuroma Support", "Professional body")


def test_changing_to_a_new_path_asks_its_questions_then_returns_to_the_check_page(client, post_form, signed_in_at):
    user, consultation = signed_in_at
    check_url = answer_questions(post_form, path(consultation, "/take-part"), AS_PATIENT)
    links = change_links(main_of(client.get(check_url)))

    to_organisation = post_form(links["how you are taking part"], {"kind": "organisation"})
    assert to_organisation.headers["Location"].startswith(path(consultation, "/take-part/organisation?"))
    back = post_form(to_organisation.headers["Location"],
                     {"organisation_name": "Royal College", "organisation_type": "professional_body"})
    assert back.headers["Location"] == check_url

    to_links = post_form(links["links with the tobacco industry"], {"has_tobacco_links": "yes"})
    assert to_links.headers["Location"].startswith(path(consultation, "/take-part/tobacco-links/details?"))
    assert post_form(to_links.headers["Location"], {"tobacco_details": "Shares"}).headers["Location"] == check_url

    rows = summary_rows(main_of(client.get(check_url)))
    assert rows["How you are taking part"] == "On behalf of an organisation"
    assert "Which best describes you" not in rows
    assert rows["Details of the links or funding"] == "Shares"
    confirm(client, post_form, check_url)
    [stored] = stored_participations(user)
    assert (stored.kind, stored.organisation_name, stored.individual_type) == (
        ParticipantKind.ORGANISATION, "Royal College", None)
    assert (stored.has_tobacco_links, stored.tobacco_details) == (True, "Shares")


# --- Contradictory answers can no longer be sent -------------------------------------

def test_answers_off_the_chosen_path_are_neither_shown_nor_stored(client, post_form, signed_in_at):
    user, consultation = signed_in_at
    check_url = answer_questions(post_form, path(consultation, "/take-part"), AS_CHARITY)
    links = change_links(main_of(client.get(check_url)))
    post_form(links["how you are taking part"], {"kind": "individual"})
    post_form(path(consultation, "/take-part/about-you?change=yes"), {"individual_type": "researcher"})
    post_form(path(consultation, "/take-part/publish-name?change=yes"), {"publish_name": "no"})  # now asked
    post_form(links["links with the tobacco industry"], {"has_tobacco_links": "no"})

    page = main_of(client.get(check_url))
    rows = summary_rows(page)
    assert rows["Which best describes you"] == "Researcher"
    assert rows["Links with the tobacco industry"] == "No"
    for gone in ("Foot Health Charity", "A grant in 2019", "Organisation name", "Details of the links"):
        assert gone not in page
    confirm(client, post_form, check_url)
    [stored] = stored_participations(user)
    assert (stored.kind, stored.individual_type) == (ParticipantKind.INDIVIDUAL, IndividualType.RESEARCHER)
    assert (stored.organisation_name, stored.organisation_type) == (None, None)
    assert (stored.has_tobacco_links, stored.tobacco_details) == (False, "")


@pytest.mark.parametrize("page, posted", [
    ("/take-part/organisation", {"organisation_name": "Tobacco Friends Ltd", "organisation_type": "other"}),
    ("/take-part/tobacco-links/details", {"tobacco_details": "Smuggled in"}),
])
def test_a_question_off_the_chosen_path_refuses_its_answer(client, post_form, signed_in_at, page, posted):
    user, consultation = signed_in_at
    check_url = answer_questions(post_form, path(consultation, "/take-part"), AS_PATIENT)
    before = pending(client, consultation)
    shown = client.get(path(consultation, page))
    sent = post_form(path(consultation, page), posted)
    for response in (shown, sent):
        assert response.status_code == 302
        assert response.headers["Location"] == check_url
    assert pending(client, consultation) == before
    confirm(client, post_form, check_url)
    [stored] = stored_participations(user)
    assert (stored.organisation_name, stored.tobacco_details) == (None, "")


def test_a_later_question_before_the_earlier_ones_sends_you_to_the_first_unanswered(client, post_form,
                                                                                    signed_in_at):
    _, consultation = signed_in_at
    for page in ("/take-part/publish-name", "/take-part/check"):
        response = client.get(path(consultation, page))
        assert response.status_code == 302
        assert response.headers["Location"].split("?")[0] == path(consultation, "/take-part")
    post_form(path(consultation, "/take-part"), {"kind": "organisation"})
    response = client.get(path(consultation, "/take-part/check"))
    assert response.headers["Location"].split("?")[0] == path(consultation, "/take-part/organisation")


# --- Confirming, once ------------------------------------------------------------------

def test_confirming_stores_the_answers_and_says_how_you_take_part_once(client, post_form, signed_in_at):
    user, consultation = signed_in_at
    confirmed = confirm(client, post_form, answer_questions(post_form, path(consultation, "/take-part"), AS_CHARITY))
    assert confirmed.status_code == 302
    assert confirmed.headers["Location"].endswith(path(consultation))
    [stored] = stored_participations(user)
    assert (stored.kind, stored.organisation_name, stored.organisation_type) == (
        ParticipantKind.ORGANISATION, "Foot Health Charity", OrganisationType.CHARITY_OR_PATIENT_GROUP)
    assert (stored.has_tobacco_links, stored.tobacco_details) == (True, "A grant in 2019")
    assert (stored.other_interests, stored.publish_name) == ("We sell insoles", False)
    page = text_of(client.get(confirmed.headers["Location"]))
    assert page.count("taking part on behalf of Foot Health Charity") == 1
    assert "Your answers have been saved" in page
    assert pending(client, consultation) == {}


def test_replaying_the_confirmation_twice_gives_one_participation(client, post_form, signed_in_at):
    user, consultation = signed_in_at
    check_url = answer_questions(post_form, path(consultation, "/take-part"), AS_CHARITY)
    answers = pending(client, consultation)
    assert confirm(client, post_form, check_url).status_code == 302
    # The same request again, with the answers still in its session (a replay, or a second tab).
    with client.session_transaction() as session:
        session["pending_participation"] = {str(consultation.id): answers}
    replay = post_form(check_url)
    assert replay.status_code == 302
    assert CANNOT_CHANGE in page_after(client, replay)
    assert len(stored_participations(user)) == 1


def test_a_crafted_confirm_with_other_answers_is_refused_and_the_choice_is_unchanged(client, post_form,
                                                                                     signed_in_at):
    user, consultation = signed_in_at
    confirm(client, post_form, answer_questions(post_form, path(consultation, "/take-part"), AS_PATIENT))
    crafted = {"kind": "organisation", "organisation_name": "Tobacco Friends Ltd",
               "organisation_type": "company_or_industry", "has_tobacco_links": False, "other_interests": "",
               "publish_name": False}
    with client.session_transaction() as session:
        session["pending_participation"] = {str(consultation.id): crafted}
    response = post_form(path(consultation, "/take-part/check"), AS_CHARITY)
    assert response.status_code == 302
    assert CANNOT_CHANGE in page_after(client, response)
    [stored] = stored_participations(user)
    assert (stored.kind, stored.individual_type) == (ParticipantKind.INDIVIDUAL, IndividualType.PATIENT_OR_CARER)


@pytest.mark.parametrize("page", ["/take-part", "/take-part/organisation", "/take-part/publish-name",
                                  "/take-part/check"])
def test_every_question_refuses_once_you_are_taking_part(client, post_form, signed_in_at, page):
    user, consultation = signed_in_at
    confirm(client, post_form, answer_questions(post_form, path(consultation, "/take-part"), AS_PATIENT))
    for send in (lambda: client.get(path(consultation, page)), lambda: post_form(path(consultation, page), AS_CHARITY)):
        response = send()
        assert response.status_code == 302
        assert response.headers["Location"].endswith(path(consultation))
        assert CANNOT_CHANGE in page_after(client, response)
    [stored] = stored_participations(user)
    assert stored.kind is ParticipantKind.INDIVIDUAL


@pytest.mark.parametrize("state, message", [
    ("closed", CLOSED_MESSAGE),
    ("upcoming", "This consultation is not open for comments yet."),
])
@pytest.mark.parametrize("page", ["/take-part", "/take-part/tobacco-links"])
def test_taking_part_is_refused_unless_the_consultation_is_open(client, post_form, login_as, make_consultation,
                                                                state, message, page):
    consultation = make_consultation(state=state)
    user = login_as()
    db.session.commit()
    for response in (client.get(path(consultation, page)), post_form(path(consultation, page), AS_PATIENT)):
        assert response.status_code == 409
        assert message in text_of(response)
    assert stored_participations(user) == []


def test_confirming_after_the_consultation_closed_stores_nothing(client, post_form, signed_in_at):
    user, consultation = signed_in_at
    check_url = answer_questions(post_form, path(consultation, "/take-part"), AS_PATIENT)
    shown = shown_on(client.get(check_url).get_data(as_text=True))  # the page stood open while it closed
    consultation.closes_at = utcnow() - timedelta(minutes=1)  # well past any grace for late arrivals
    db.session.commit()
    response = post_form(check_url, {"shown": shown})
    assert response.status_code == 409
    assert CLOSED_MESSAGE in text_of(response)
    assert stored_participations(user) == []


def test_commenting_before_taking_part_asks_how_then_returns_to_the_comment_form(client, post_form,
                                                                                 signed_in_at):
    _, consultation = signed_in_at
    form_url = path(consultation, f"/sections/{sections_of(consultation)['2.1'].id}/comment")
    asked = client.get(form_url)
    assert asked.status_code == 302
    assert asked.headers["Location"].startswith(path(consultation, "/take-part?next="))
    check_url = answer_questions(post_form, asked.headers["Location"], AS_PATIENT)
    # A detour through a Change link keeps the way back to the comment form.
    change = change_links(main_of(client.get(check_url)))["which best describes you"]
    assert post_form(change, {"individual_type": "researcher"}).headers["Location"] == check_url
    confirmed = confirm(client, post_form, check_url)
    assert confirmed.headers["Location"] == form_url
    assert "Comment on section 2.1" in text_of(client.get(form_url))


def test_an_outside_next_address_is_not_followed(client, post_form, signed_in_at):
    _, consultation = signed_in_at
    check_url = answer_questions(post_form, path(consultation, "/take-part?next=//evil.example/x"), AS_PATIENT)
    assert "evil" not in check_url
    assert confirm(client, post_form, check_url).headers["Location"].endswith(path(consultation))


def test_a_confirm_pressed_on_answers_another_tab_has_since_changed_is_refused(client, post_form, signed_in_at):
    """Every tab shares the session's answers: a check page left open in one tab must not confirm what a
    second tab answered later, which the person never saw on that page."""
    user, consultation = signed_in_at
    check_url = answer_questions(post_form, path(consultation, "/take-part"), AS_PATIENT)
    first_tab = shown_on(client.get(check_url).get_data(as_text=True))
    answer_questions(post_form, path(consultation, "/take-part"), {**AS_CHARITY, "publish_name": "yes"})

    response = post_form(check_url, {"shown": first_tab})

    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert ANSWERS_CHANGED in html.unescape(page)
    assert 'href="#how-you-take-part"' in page and 'id="how-you-take-part"' in page
    assert page.count('data-module="govuk-error-summary"') == 1
    assert "Foot Health Charity" in text_of(response)  # the answers as they are now, to check
    assert stored_participations(user) == []
    assert post_form(check_url).status_code == 409  # a confirm that carries no page's answers at all
    assert stored_participations(user) == []

    assert confirm(client, post_form, check_url).status_code == 302  # confirming what the page now shows
    [stored] = stored_participations(user)
    # A publish_name answer sent for an organisation is off its path: its respondent's name is never published.
    assert (stored.kind, stored.organisation_name, stored.publish_name) == (
        ParticipantKind.ORGANISATION, "Foot Health Charity", False)


def test_an_organisation_with_a_commenting_lead_is_refused_by_name_and_the_way_in_is_given(client, post_form,
                                                                                        signed_in_at):
    """Otherwise anyone could send a second response in its name, beside the one its lead submits."""
    from tests.organisations.conftest import new_lead

    user, consultation = signed_in_at
    new_lead(organisation="Foot Health UK")
    post_form(path(consultation, "/take-part"), {"kind": "organisation"})
    response = post_form(path(consultation, "/take-part/organisation"),
                         {"organisation_name": "  foot health UK ", "organisation_type": "charity_or_patient_group"})

    assert response.status_code == 200
    message = "Foot Health UK responds through its commenting lead. Ask them for your organisation’s code"
    assert any(item.startswith(message) for item in error_summary_items(text_of(response)))
    assert 'href="#organisation_name"' in text_of(response)
    assert "organisation_name" not in pending(client, consultation)

    # Another organisation, with no lead, takes part by name as before.
    answer_questions(post_form, path(consultation, "/take-part"), AS_CHARITY)
    assert pending(client, consultation)["organisation_name"] == "Foot Health Charity"


def test_a_name_whose_organisation_gains_a_lead_before_the_confirm_is_refused_there(client, post_form,
                                                                                   signed_in_at):
    """The name was free when typed; a lead recorded before the confirm makes it the lead's to respond for."""
    from tests.organisations.conftest import new_lead

    user, consultation = signed_in_at
    check_url = answer_questions(post_form, path(consultation, "/take-part"), AS_CHARITY)
    new_lead(organisation="Foot Health Charity")
    response = confirm(client, post_form, check_url)
    assert response.status_code == 409
    assert any(item.startswith("Foot Health Charity responds through its commenting lead.")
               for item in error_summary_items(text_of(response)))
    assert db.session.scalar(select(Participation).where(Participation.user_id == user.id)) is None


@pytest.mark.parametrize("typed", ["Foot\u200b Health UK", "F\u200boot Health UK", "Fοot Health UK",
                                   "Fооt Неаlth UK", "FOOT HEALTH UK\u2060"],
                         ids=["zero-width-space", "zero-width-space-in-a-word", "greek-omicron", "cyrillic",
                              "word-joiner"])
def test_a_led_organisations_name_is_refused_however_it_is_disguised(client, post_form, signed_in_at, typed):
    from tests.organisations.conftest import new_lead

    user, consultation = signed_in_at
    new_lead(organisation="Foot Health UK")
    post_form(path(consultation, "/take-part"), {"kind": "organisation"})
    response = post_form(path(consultation, "/take-part/organisation"),
                         {"organisation_name": typed, "organisation_type": "charity_or_patient_group"})

    assert response.status_code == 200
    [message] = error_summary_items(text_of(response))
    assert message.startswith("Foot Health UK responds through its commenting lead.")
    assert "organisation_name" not in pending(client, consultation)


def test_an_organisation_name_is_kept_without_invisible_characters(client, post_form, signed_in_at):
    user, consultation = signed_in_at
    check_url = answer_questions(post_form, path(consultation, "/take-part"),
                                 {**AS_CHARITY, "organisation_name": "\u200bFoot Health\u200d Charity\ufeff"})
    assert pending(client, consultation)["organisation_name"] == "Foot Health Charity"
    assert confirm(client, post_form, check_url).status_code == 302
    [stored] = stored_participations(user)
    assert stored.organisation_name == "Foot Health Charity"
