"""Staff pages for building consultations, through the HTTP client."""

import html
import io
import json
import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, update
from werkzeug.routing import Rule

from consult.access import can_review_consultation
from consult.accounts.models import Role
from consult.audit.models import AuditEvent
from consult.comments import services as comment_services
from consult.consultations import services
from consult.consultations.models import Chapter, CommitteeAssignment, Consultation, Document, Section
from consult.database import utcnow
from consult.extensions import db
from consult.uk_time import display_zone
from tests.conftest import GUIDANCE_SEED, sections_of
from tests.consultations.importing.test_docx import guidance_docx
from tests.consultations.test_views import LISTED_DRAFT

UTC = timezone.utc
BASE = "/staff/consultations"
# Dates staff enter must still be ahead whenever the tests run.
NEXT_YEAR = utcnow().year + 1
YEAR = str(NEXT_YEAR)


@pytest.fixture(autouse=True)
def staged_previews(app, tmp_path, monkeypatch):
    directory = tmp_path / "previews"
    monkeypatch.setitem(app.config, "IMPORT_STAGING_DIR", str(directory))
    return directory


# --- helpers -------------------------------------------------------------------

def text_of(response) -> str:
    return response.get_data(as_text=True)


def main_of(response) -> str:
    page = text_of(response)
    return page[page.index("<main"):page.index("</main>")]


def plain(response) -> str:
    """The main content as one line of text, entities decoded, for matching sentences."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", main_of(response))).split())


def error_summary_items(page: str) -> list[str]:
    match = re.search(r'class="govuk-error-summary".*?</ul>', page, re.S)
    assert match, "page has no error summary"
    return [html.unescape(item) for item in re.findall(r'<a href="#[^"]*">(.*?)</a>', match.group(0))]


def input_value(page: str, name: str) -> str:
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', page)
    assert tag, f"no input named {name}"
    value = re.search(r'value="([^"]*)"', tag.group(0))
    return html.unescape(value.group(1)) if value else ""


def audit_events(consultation, action: str | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.object_type == "consultations",
                                     AuditEvent.object_id == str(consultation.id)).order_by(AuditEvent.id)
    if action:
        query = query.where(AuditEvent.action == action)
    return list(db.session.scalars(query))


def count(model, *conditions) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*conditions))


def reload(consultation) -> Consultation:
    db.session.expire_all()
    return db.session.get(Consultation, consultation.id)


def new_form(**overrides) -> dict:
    values = {
        "reference": "hte2001", "title": "Cryoablation for neuroma pain", "summary": "What we propose.",
        "opens_on": ["12", "1", YEAR], "opens_time": "9am",
        "closes_on": ["9", "2", YEAR], "closes_time": "5pm", "late_grace_seconds": "15",
    }
    values.update(overrides)
    return values


def staff_consultation(reference="HTE3001", title="Existing consultation", is_draft=False,
                       opens_at=datetime(NEXT_YEAR, 1, 12, 9, tzinfo=UTC),
                       closes_at=datetime(NEXT_YEAR, 2, 9, 17, tzinfo=UTC)):
    consultation = services.create_consultation(reference, title, "Summary.", opens_at, closes_at, is_draft)
    db.session.commit()
    return consultation


# --- Who may use these pages ---------------------------------------------------

def _staff_routes(app) -> list[tuple[str, str]]:
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("staff_consultations."):
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                found.append((rule.endpoint, method))
    return found


def _url(app, endpoint: str, reference: str) -> str:
    rule: Rule = next(app.url_map.iter_rules(endpoint))
    with app.test_request_context():
        from flask import url_for
        return url_for(endpoint, **({"reference": reference} if "reference" in rule.arguments else {}))


def test_the_staff_pages_are_all_declared_for_staff(app):
    from consult.access import rule_for_endpoint

    routes = _staff_routes(app)
    assert len({endpoint for endpoint, _ in routes}) == 10
    with app.test_request_context():
        assert {rule_for_endpoint(endpoint).name for endpoint, _ in routes} == {"roles: staff, admin"}


@pytest.mark.parametrize("role", [None, Role.STAKEHOLDER, Role.COMMITTEE])
def test_everyone_but_staff_is_kept_out_of_every_staff_route(app, client, csrf, login_as, make_consultation, role):
    consultation = make_consultation()
    if role is not None:
        login_as(role)
    for endpoint, method in _staff_routes(app):
        url = _url(app, endpoint, consultation.reference)
        if method == "GET":
            response = client.get(url)
        else:
            response = client.post(url, data={"csrf_token": csrf(), "email": "x@example.org", "token": "t" * 43})
        if role is None and method == "GET":
            assert response.status_code == 302, (endpoint, method)
            assert response.headers["Location"].startswith("/account/sign-in"), (endpoint, method)
        elif role is None:  # something was sent: the sign-in page keeps it, and nothing is done
            assert response.status_code == 401, (endpoint, method)
            assert 'action="/account/sign-in' in text_of(response), (endpoint, method)
        else:
            assert response.status_code == 403, (endpoint, method, response.status_code)
    assert audit_events(consultation) == []


@pytest.mark.parametrize("role", [Role.STAFF, Role.ADMIN])
def test_staff_and_admins_can_use_every_staff_route(app, client, csrf, login_as, make_consultation, role):
    consultation = make_consultation()
    login_as(role)
    for endpoint, method in _staff_routes(app):
        url = _url(app, endpoint, consultation.reference)
        response = client.get(url) if method == "GET" else client.post(url, data={"csrf_token": csrf()})
        assert response.status_code not in (403, 404, 500), (endpoint, method, response.status_code)


def test_a_state_changing_route_refuses_a_missing_csrf_token(client, login_as, make_consultation):
    consultation = make_consultation()
    login_as(Role.STAFF)
    response = client.post(f"{BASE}/{consultation.reference}/edit", data={"title": "Changed"})
    assert response.status_code == 400
    assert reload(consultation).title == "Sample consultation"


# --- The list of consultations --------------------------------------------------

def test_the_list_shows_every_consultation_with_status_dates_and_document_count(client, login_as,
                                                                                make_consultation):
    login_as(Role.STAFF)
    open_one = make_consultation(reference="OPN1001", state="open")
    draft = staff_consultation(reference="DRF1001", title="Held back", is_draft=True)

    response = client.get(f"{BASE}/")

    assert response.status_code == 200
    page = main_of(response)
    open_row = re.search(r'<tr[^>]*data-reference="OPN1001".*?</tr>', page, re.S).group(0)
    draft_row = re.search(r'<tr[^>]*data-reference="DRF1001".*?</tr>', page, re.S).group(0)
    assert "Open for comments" in open_row and "Draft" in draft_row
    assert re.search(r'numeric">1</td>', open_row) and re.search(r'numeric">0</td>', draft_row)
    assert f"9am on 12 January {YEAR}" in draft_row and f"5pm on 9 February {YEAR}" in draft_row
    assert f'href="{BASE}/DRF1001/edit"' in draft_row and f'href="{BASE}/DRF1001/import"' in draft_row
    assert f'href="{BASE}/OPN1001"' in open_row
    assert "Held back" in page and open_one.title in page


def test_titles_are_escaped_on_staff_pages(client, login_as):
    login_as(Role.STAFF)
    staff_consultation(reference="XSS1001", title="<script>alert(1)</script>")
    for url in (f"{BASE}/", f"{BASE}/XSS1001", f"{BASE}/XSS1001/edit"):
        page = text_of(client.get(url))
        assert "<script>alert(1)</script>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


# --- Creating a consultation ----------------------------------------------------

def test_the_new_form_suggests_nine_in_the_morning_and_five_in_the_afternoon(client, login_as):
    login_as(Role.STAFF)
    page = text_of(client.get(f"{BASE}/new"))
    assert input_value(page, "opens_time") == "9am"
    assert input_value(page, "closes_time") == "5pm"
    assert page.count("<h1") == 1
    assert 'for="reference"' in page and 'id="opens_on-day"' in page


def test_a_new_consultation_is_held_as_a_draft_unless_staff_untick_it(client, login_as):
    login_as(Role.STAFF)
    page = text_of(client.get(f"{BASE}/new"))
    assert re.search(r'<input[^>]*name="is_draft"[^>]*checked', page)


def test_creating_a_consultation_stores_uk_times_as_utc_and_audits_it(client, post_form, login_as):
    actor = login_as(Role.STAFF, name="Priya Staff")
    response = post_form(f"{BASE}/new", new_form(
        opens_on=["12", "1", YEAR], opens_time="9am",  # GMT: the same in UTC
        closes_on=["1", "7", YEAR], closes_time="5pm",  # BST: an hour ahead of UTC
        is_draft="y"))

    assert response.status_code == 302
    assert response.headers["Location"] == f"{BASE}/HTE2001"
    consultation = services.find_consultation("HTE2001")
    assert consultation.title == "Cryoablation for neuroma pain"
    assert consultation.opens_at == datetime(NEXT_YEAR, 1, 12, 9, tzinfo=UTC)
    assert consultation.closes_at == datetime(NEXT_YEAR, 7, 1, 16, tzinfo=UTC)
    assert consultation.is_draft is True
    [event] = audit_events(consultation)
    assert (event.actor_id, event.action, event.before) == (actor.id, "consultation.create", None)
    assert event.after == {
        "reference": "HTE2001", "title": "Cryoablation for neuroma pain", "summary": "What we propose.",
        "opens_at": f"{YEAR}-01-12T09:00:00+00:00", "closes_at": f"{YEAR}-07-01T16:00:00+00:00",
        "late_grace_seconds": 15, "is_draft": True,
    }
    assert "Consultation HTE2001 created" in text_of(client.get(response.headers["Location"]))


def test_a_draft_consultation_is_hidden_from_the_public(client, post_form, login_as):
    login_as(Role.STAFF)
    post_form(f"{BASE}/new", new_form(is_draft="y"))
    client.post("/account/sign-out", data={"csrf_token": ""})
    with client.session_transaction() as session:
        session.clear()
    assert client.get("/consultations/HTE2001").status_code == 404


@pytest.mark.parametrize("overrides,message", [
    ({"reference": ""}, "Enter a reference"),
    ({"reference": "HTE 2001"}, "Reference must contain only letters, numbers and hyphens"),
    ({"reference": "H" * 21}, "Reference must be 20 characters or fewer"),
    ({"title": "  "}, "Enter a title"),
    ({"title": "t" * 301}, "Title must be 300 characters or fewer"),
    ({"opens_on": ["", "", ""]}, "Enter the opening date"),
    ({"opens_on": ["12", "", YEAR]}, "The opening date must include a month"),
    ({"closes_on": ["", "", YEAR]}, "The closing date must include a day and a month"),
    ({"closes_on": ["31", "2", YEAR]}, "The closing date must be a real date, for example 27 3 2027"),
    ({"closes_on": ["9", "13", YEAR]}, "The closing date must be a real date, for example 27 3 2027"),
    ({"closes_on": ["9", "2", "27"]}, "Year in the closing date must include 4 numbers, like 2027"),
    ({"closes_on": ["9", "2", "3027"]}, "Year in the closing date must be between 1900 and 2999"),
    ({"closes_on": ["nine", "2", YEAR]}, "The closing date must be a real date, for example 27 3 2027"),
    ({"closes_on": ["9", "\u0661", YEAR]}, "The closing date must be a real date, for example 27 3 2027"),
    ({"closes_on": ["0", "0", "0"]}, "The closing date must be a real date, for example 27 3 2027"),
    ({"closes_on": ["9"]}, "The closing date must include a month and a year"),
    ({"opens_time": ""}, "Enter the opening time"),
    ({"closes_time": "25:00"}, "Enter the closing time as a real time, for example 5pm or 17:00"),
    ({"closes_time": "13pm"}, "Enter the closing time as a real time, for example 5pm or 17:00"),
    ({"closes_time": "17"}, "Enter the closing time as a real time, for example 5pm or 17:00"),
    ({"closes_on": ["11", "1", YEAR]}, "The closing date and time must be after the opening date and time"),
    ({"closes_on": ["12", "1", YEAR], "closes_time": "9am"},
     "The closing date and time must be after the opening date and time"),
    # The day the clocks go forward in 2027; the form refuses the time before the service sees the date.
    ({"opens_on": ["28", "3", "2027"], "opens_time": "1:30am"},
     "The opening time does not exist on that day because the clocks go forward; choose a different time"),
])
def test_invalid_details_are_explained_and_nothing_is_saved(client, post_form, login_as, overrides, message):
    login_as(Role.STAFF)
    response = post_form(f"{BASE}/new", new_form(**overrides))

    assert response.status_code == 200
    page = text_of(response)
    assert message in error_summary_items(page)
    assert count(Consultation) == 0
    assert count(AuditEvent) == 0
    assert page.count("<h1") == 1


def test_what_was_typed_is_kept_when_a_date_is_wrong(client, post_form, login_as):
    login_as(Role.STAFF)
    page = text_of(post_form(f"{BASE}/new", new_form(closes_on=["31", "2", YEAR])))
    assert re.search(r'id="closes_on-day"[^>]*value="31"', page)
    assert re.search(r'id="closes_on-month"[^>]*value="2"', page)
    assert input_value(page, "title") == "Cryoablation for neuroma pain"


def summary_links(page: str) -> list[str]:
    """Where each link of the error summary points, without the #."""
    match = re.search(r'class="govuk-error-summary".*?</ul>', page, re.S)
    assert match, "page has no error summary"
    return re.findall(r'<a href="#([^"]*)">', match.group(0))


def input_ids(page: str) -> set[str]:
    return set(re.findall(r'<(?:input|textarea|select)[^>]* id="([^"]+)"', page))


@pytest.mark.parametrize("overrides,targets", [
    ({"reference": "", "opens_on": ["", "", ""], "closes_on": ["", "", ""]},
     ["reference", "opens_on-day", "closes_on-day"]),
    ({"opens_on": ["12", "", YEAR]}, ["opens_on-month"]),
    ({"closes_on": ["9", "2", "27"]}, ["closes_on-year"]),
    ({"closes_on": ["9", "13", YEAR]}, ["closes_on-month"]),
    ({"closes_on": ["31", "2", YEAR]}, ["closes_on-day"]),
    ({"opens_on": ["1", "1", "2020"], "closes_on": ["1", "2", "2020"]}, ["closes_on-day"]),  # refused by the rules
])
def test_the_error_summary_links_a_date_to_the_input_to_correct(client, post_form, login_as, overrides, targets):
    login_as(Role.STAFF)
    page = text_of(post_form(f"{BASE}/new", new_form(**overrides)))

    links = summary_links(page)
    assert links == targets
    assert set(links) <= input_ids(page)


def marked_wrong(page: str) -> list[str]:
    """The ids of the inputs drawn as wrong (GOV.UK's red border), in page order."""
    return re.findall(r'<input[^>]*class="[^"]*govuk-input--error[^"]*"[^>]* id="([^"]+)"', page)


@pytest.mark.parametrize("overrides,wrong", [
    ({"opens_on": ["12", "", YEAR]}, ["opens_on-month"]),  # one part missing: that part alone
    ({"closes_on": ["", "", YEAR]}, ["closes_on-day", "closes_on-month"]),
    ({"closes_on": ["9", "2", "27"]}, ["closes_on-year"]),
    ({"closes_on": ["9", "13", YEAR]}, ["closes_on-month"]),
    ({"closes_on": ["31", "2", YEAR]}, ["closes_on-day"]),  # no 31 February: the day
    ({"opens_on": ["", "", ""]}, ["opens_on-day", "opens_on-month", "opens_on-year"]),  # the whole date
    ({"opens_on": ["0", "0", "0"]}, ["opens_on-day", "opens_on-month", "opens_on-year"]),  # each part wrong
    ({"closes_on": ["32", "2", "27"]}, ["closes_on-day", "closes_on-year"]),
    ({"closes_on": ["9", "\u0661", YEAR]}, ["closes_on-month"]),  # an Arabic-Indic one is not a 1 here
    ({"opens_on": ["1", "1", "2020"], "closes_on": ["1", "2", "2020"]},
     ["closes_on-day", "closes_on-month", "closes_on-year"]),  # refused by the rules: the whole date
])
def test_only_the_wrong_parts_of_a_date_are_marked_as_wrong(client, post_form, login_as, overrides, wrong):
    login_as(Role.STAFF)
    page = text_of(post_form(f"{BASE}/new", new_form(**overrides)))

    assert marked_wrong(page) == wrong


def test_a_duplicate_reference_is_refused_whatever_its_case(client, post_form, login_as):
    login_as(Role.STAFF)
    staff_consultation(reference="HTE2001", title="The first")
    response = post_form(f"{BASE}/new", new_form(reference=" hte2001 ", title="The second"))

    assert response.status_code == 200
    assert error_summary_items(text_of(response)) == [
        "A consultation with the reference HTE2001 already exists; enter a different reference"]
    assert count(Consultation) == 1
    assert services.find_consultation("HTE2001").title == "The first"


# --- Editing -------------------------------------------------------------------

def test_the_edit_form_shows_the_saved_times_in_uk_time(client, login_as):
    login_as(Role.STAFF)
    consultation = staff_consultation(opens_at=datetime(NEXT_YEAR, 6, 1, 8, tzinfo=UTC),
                                      closes_at=datetime(NEXT_YEAR, 12, 1, 17, 30, tzinfo=UTC))
    page = text_of(client.get(f"{BASE}/{consultation.reference}/edit"))

    assert re.search(r'id="opens_on-day"[^>]*value="01"', page)
    assert re.search(r'id="opens_on-month"[^>]*value="06"', page)
    assert input_value(page, "opens_time") == "9am"
    assert input_value(page, "closes_time") == "5:30pm"
    assert input_value(page, "version") == str(consultation.version)


def test_editing_saves_and_audits_before_and_after(client, post_form, login_as):
    actor = login_as(Role.ADMIN)
    consultation = staff_consultation()
    page = text_of(client.get(f"{BASE}/{consultation.reference}/edit"))
    response = post_form(f"{BASE}/{consultation.reference}/edit", new_form(
        reference="HTE3001", title="A better title", summary="Summary.",
        opens_on=["12", "1", YEAR], opens_time="9am", closes_on=["16", "2", YEAR], closes_time="midday",
        version=input_value(page, "version"), digest=input_value(page, "digest")))

    assert response.status_code == 302
    saved = reload(consultation)
    assert saved.title == "A better title"
    assert saved.closes_at == datetime(NEXT_YEAR, 2, 16, 12, tzinfo=UTC)
    assert saved.is_draft is False
    [event] = audit_events(saved, "consultation.edit")
    assert event.actor_id == actor.id
    assert event.before["title"] == "Existing consultation" and event.after["title"] == "A better title"
    assert event.before["closes_at"] == f"{YEAR}-02-09T17:00:00+00:00"
    assert event.after["closes_at"] == f"{YEAR}-02-16T12:00:00+00:00"


def test_saving_without_changes_records_nothing(client, post_form, login_as):
    login_as(Role.STAFF)
    consultation = staff_consultation()
    page = text_of(client.get(f"{BASE}/{consultation.reference}/edit"))
    fields = {name: input_value(page, name) for name in ("reference", "title", "opens_time", "closes_time",
                                                        "late_grace_seconds", "version", "digest")}
    response = post_form(f"{BASE}/{consultation.reference}/edit", {
        **fields, "summary": "Summary.", "opens_on": ["12", "1", YEAR], "closes_on": ["9", "2", YEAR]},
        follow_redirects=True)

    assert "No changes were made." in text_of(response)
    assert audit_events(consultation, "consultation.edit") == []


@pytest.mark.parametrize("overrides,message", [
    ({"closes_on": ["1", "1", YEAR]}, "The closing date and time must be after the opening date and time"),
    ({"reference": "OTH1001"}, "A consultation with the reference OTH1001 already exists; enter a different reference"),
    ({"opens_on": ["30", "2", YEAR]}, "The opening date must be a real date, for example 27 3 2027"),
])
def test_invalid_edits_save_nothing(client, post_form, login_as, overrides, message):
    login_as(Role.STAFF)
    staff_consultation(reference="OTH1001", title="Other")
    consultation = staff_consultation()
    page = text_of(client.get(f"{BASE}/{consultation.reference}/edit"))
    response = post_form(f"{BASE}/{consultation.reference}/edit", new_form(**{
        "reference": "HTE3001", "version": input_value(page, "version"), "digest": input_value(page, "digest"),
        **overrides}))

    assert response.status_code == 200
    assert message in error_summary_items(text_of(response))
    saved = reload(consultation)
    assert (saved.reference, saved.title, saved.closes_at) == (
        "HTE3001", "Existing consultation", datetime(NEXT_YEAR, 2, 9, 17, tzinfo=UTC))
    assert audit_events(saved, "consultation.edit") == []


def test_an_edit_you_saved_in_another_tab_says_it_was_you_and_saves_nothing(client, post_form, login_as):
    login_as(Role.STAFF, name="Tabby Twotabs")
    consultation = staff_consultation()
    page = text_of(client.get(f"{BASE}/{consultation.reference}/edit"))
    seen = {"version": input_value(page, "version"), "digest": input_value(page, "digest")}
    first = post_form(f"{BASE}/{consultation.reference}/edit", new_form(reference="HTE3001", title="First tab",
                                                                         **seen))
    assert first.status_code == 302

    second = post_form(f"{BASE}/{consultation.reference}/edit", new_form(reference="HTE3001", title="Second tab",
                                                                          **seen))
    assert second.status_code == 409
    assert error_summary_items(text_of(second)) == [
        "You changed this consultation in another tab or window, or sent the form twice, since you opened it here. "
        "Nothing was saved."]
    assert "You changed this consultation at " in plain(second)
    assert "Tabby Twotabs" not in main_of(second) and "To keep the saved one" in plain(second)
    assert reload(consultation).title == "First tab"


def _edit_form_as_shown(page: str) -> dict:
    """The edit form's values as the page fills them in, ready to send back with a change or two."""
    values: dict = {}
    for tag in re.findall(r"<input[^>]*>", page):
        name = re.search(r'name="([^"]*)"', tag)
        if not name or ('type="checkbox"' in tag and "checked" not in tag):
            continue
        value = re.search(r'value="([^"]*)"', tag)
        values.setdefault(name.group(1), []).append(html.unescape(value.group(1)) if value else "")
    values["summary"] = [html.unescape(re.search(r'<textarea[^>]*name="summary"[^>]*>\s*(.*?)</textarea>', page,
                                                 re.S).group(1))]
    return {name: found if len(found) > 1 else found[0] for name, found in values.items()}


def _opened_consultation(**overrides):
    now = utcnow()
    return staff_consultation(opens_at=now - timedelta(days=3), closes_at=now + timedelta(days=20), **overrides)


def test_an_opened_consultation_keeps_its_reference(client, post_form, login_as):
    login_as(Role.STAFF)
    consultation = _opened_consultation()
    page = client.get(f"{BASE}/{consultation.reference}/edit").get_data(as_text=True)
    assert "It can no longer be changed: the consultation has opened or has comments" in page

    response = post_form(f"{BASE}/{consultation.reference}/edit",
                         {**_edit_form_as_shown(page), "reference": "HTE3002", "title": "New title"})

    assert response.status_code == 200
    assert error_summary_items(text_of(response)) == [
        "The reference cannot be changed once the consultation has opened or has comments: comment numbers, "
        "receipts and links already sent use it"]
    assert 'href="#reference"' in response.get_data(as_text=True)
    assert (reload(consultation).reference, reload(consultation).title) == ("HTE3001", "Existing consultation")
    assert audit_events(consultation, "consultation.edit") == []
    renamed_only = post_form(f"{BASE}/{consultation.reference}/edit",
                             {**_edit_form_as_shown(page), "title": "New title"})
    assert renamed_only.status_code == 302 and reload(consultation).title == "New title"


def test_a_consultation_not_yet_open_keeps_its_reference_once_it_has_numbered_a_comment(client, post_form,
                                                                                        login_as):
    login_as(Role.STAFF)
    consultation = staff_consultation()  # opens next year
    page = client.get(f"{BASE}/{consultation.reference}/edit").get_data(as_text=True)
    assert "It can no longer be changed" not in page
    consultation.last_comment_number = 1  # a paper response entered by staff before it opens
    db.session.commit()
    response = post_form(f"{BASE}/{consultation.reference}/edit", {**_edit_form_as_shown(page),
                                                                    "reference": "HTE3002"})
    assert response.status_code == 200 and reload(consultation).reference == "HTE3001"


def test_an_opened_consultations_conflict_page_offers_only_what_can_be_done(client, post_form, login_as):
    """Saved in two tabs: the 409 page showed the draft box, refused if ticked, and lost the reference's hint."""
    login_as(Role.STAFF)
    consultation = _opened_consultation()
    page = client.get(f"{BASE}/{consultation.reference}/edit").get_data(as_text=True)
    assert post_form(f"{BASE}/{consultation.reference}/edit", {**_edit_form_as_shown(page),
                                                                "title": "First tab"}).status_code == 302
    conflict = post_form(f"{BASE}/{consultation.reference}/edit", {**_edit_form_as_shown(page),
                                                                    "title": "Second tab"})
    assert conflict.status_code == 409
    shown = conflict.get_data(as_text=True)
    assert 'name="is_draft"' not in shown and "It can no longer be changed" in shown


def test_an_opened_consultation_cannot_be_held_as_a_draft_again(client, post_form, login_as):
    login_as(Role.STAFF)
    consultation = _opened_consultation()
    page = client.get(f"{BASE}/{consultation.reference}/edit").get_data(as_text=True)
    assert 'name="is_draft"' not in page
    assert "It has opened, so it can no longer be held as a draft" in page

    response = post_form(f"{BASE}/{consultation.reference}/edit", {**_edit_form_as_shown(page), "is_draft": "y"})

    assert response.status_code == 200
    assert error_summary_items(text_of(response)) == [
        "The consultation has opened, so it cannot be held as a draft again: people taking part would lose their "
        "drafts, receipts and links. To stop taking comments early, use ‘Close this consultation now’ on its page"]
    assert 'href="#is_draft"' in response.get_data(as_text=True)
    assert 'name="is_draft"' in response.get_data(as_text=True)  # the box is shown with its error
    assert reload(consultation).is_draft is False


def test_a_consultation_not_yet_open_can_be_held_as_a_draft_again(client, post_form, login_as):
    login_as(Role.STAFF)
    consultation = staff_consultation()  # public, opens next year
    page = client.get(f"{BASE}/{consultation.reference}/edit").get_data(as_text=True)
    response = post_form(f"{BASE}/{consultation.reference}/edit", {**_edit_form_as_shown(page), "is_draft": "y",
                                                                    "reference": "HTE3009"})
    assert response.status_code == 302
    assert (reload(consultation).is_draft, reload(consultation).reference) == (True, "HTE3009")


def test_a_stale_edit_shows_who_changed_it_and_both_versions_and_saves_nothing(app, client, post_form, login_as,
                                                                                make_user):
    login_as(Role.STAFF, name="Sam Slow")
    consultation = staff_consultation()
    page = text_of(client.get(f"{BASE}/{consultation.reference}/edit"))
    seen = {"version": input_value(page, "version"), "digest": input_value(page, "digest")}

    quick = make_user(name="Quinn Quick", role=Role.STAFF)
    services.edit_consultation(quick, consultation, services.ConsultationDetails(
        "HTE3001", "Quinn's title", "Summary.", consultation.opens_at, consultation.closes_at, False),
        consultation.version, services.details_digest(consultation), utcnow())
    db.session.commit()
    quinn_saved_at = audit_events(consultation, "consultation.edit")[-1].occurred_at

    response = post_form(f"{BASE}/{consultation.reference}/edit", new_form(
        reference="HTE3001", title="Sam's title", opens_on=["12", "1", YEAR], closes_on=["9", "2", YEAR],
        **seen))

    assert response.status_code == 409
    expected_time = app.jinja_env.filters["uk_datetime"](quinn_saved_at)
    assert (f"This consultation was changed by Quinn Quick at {expected_time} since you opened it."
            in plain(response))
    table = main_of(response)
    assert "Quinn&#39;s title" in table and "Sam&#39;s title" in table
    assert reload(consultation).title == "Quinn's title"
    assert len(audit_events(consultation, "consultation.edit")) == 1

    # Having seen Quinn's version, saving again keeps Sam's on purpose.
    conflict_page = text_of(response)
    again = post_form(f"{BASE}/{consultation.reference}/edit", new_form(
        reference="HTE3001", title="Sam's title", opens_on=["12", "1", YEAR], closes_on=["9", "2", YEAR],
        version=input_value(conflict_page, "version"), digest=input_value(conflict_page, "digest")))
    assert again.status_code == 302
    assert reload(consultation).title == "Sam's title"


def test_a_response_submitted_while_editing_is_not_a_conflict(client, post_form, login_as):
    login_as(Role.STAFF)
    consultation = staff_consultation()
    page = text_of(client.get(f"{BASE}/{consultation.reference}/edit"))
    # Submitting a response moves the comment counter, and with it the version.
    db.session.execute(update(Consultation).where(Consultation.id == consultation.id).values(
        last_comment_number=Consultation.last_comment_number + 1, version=Consultation.version + 1))
    db.session.commit()

    response = post_form(f"{BASE}/{consultation.reference}/edit", new_form(
        reference="HTE3001", title="Edited during the consultation", opens_on=["12", "1", YEAR],
        closes_on=["9", "2", YEAR], version=input_value(page, "version"), digest=input_value(page, "digest")))

    assert response.status_code == 302
    assert reload(consultation).title == "Edited during the consultation"


def test_an_edit_without_the_version_it_started_from_is_refused(client, post_form, login_as):
    login_as(Role.STAFF)
    consultation = staff_consultation()
    response = post_form(f"{BASE}/{consultation.reference}/edit", new_form(reference="HTE3001", title="No version"))
    assert response.status_code == 400
    assert reload(consultation).title == "Existing consultation"


# --- Closing and opening times that have passed ---------------------------------

CLOSING_IN_THE_PAST = "The closing time must be in the future"
CLOSE_NOW_INSTEAD = ("The closing time must be in the future. To stop taking comments now, use ‘Close this "
                     "consultation now’ on its page")


def field_error(page: str, name: str) -> str:
    """The error message shown beside a field, without its visually hidden prefix."""
    match = re.search(rf'<p id="{name}-error" class="govuk-error-message">(.*?)</p>', page, re.S)
    assert match, f"no error beside {name}"
    return " ".join(html.unescape(re.sub(r"<span[^>]*>.*?</span>", "", match.group(1))).split())


def edit_form_as_shown(page: str, **overrides) -> dict:
    """The edit form's values as the page shows them, as a browser would send them back."""
    values = {name: input_value(page, name) for name in ("reference", "title", "opens_time", "closes_time",
                                                        "late_grace_seconds", "version", "digest")}
    for name in ("opens_on", "closes_on"):
        values[name] = [html.unescape(value) for value in
                        re.findall(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', page)]
    values["summary"] = html.unescape(re.search(r'<textarea[^>]*name="summary"[^>]*>(.*?)</textarea>',
                                                page, re.S).group(1)).strip()
    return {**values, **overrides}


def uk_date_parts(moment: datetime) -> list[str]:
    day = moment.astimezone(display_zone()).date()
    return [str(day.day), str(day.month), str(day.year)]


@pytest.mark.parametrize("is_draft", ["y", ""])
def test_a_new_consultation_that_has_already_closed_is_refused_beside_the_closing_date(
        client, post_form, login_as, is_draft):
    login_as(Role.STAFF)
    response = post_form(f"{BASE}/new", new_form(opens_on=["1", "1", "2020"], closes_on=["1", "2", "2020"],
                                                 is_draft=is_draft))

    assert response.status_code == 200
    page = text_of(response)
    assert error_summary_items(page) == [CLOSING_IN_THE_PAST]
    assert field_error(page, "closes_on") == CLOSING_IN_THE_PAST
    assert count(Consultation) == 0 and count(AuditEvent) == 0


@pytest.mark.parametrize("field,days_from_now,message", [
    ("closes_on", -1, CLOSE_NOW_INSTEAD),
    ("opens_on", 1, "The consultation has already opened, so the opening time cannot be in the future: people "
                    "may be part-way through their responses"),
])
def test_an_open_consultation_keeps_times_that_would_shut_out_people_part_way_through(
        client, post_form, login_as, make_consultation, field, days_from_now, message):
    login_as(Role.STAFF)
    consultation = make_consultation(state="open")
    saved_times = consultation.opens_at, consultation.closes_at
    page = text_of(client.get(f"{BASE}/{consultation.reference}/edit"))

    day = uk_date_parts(utcnow() + timedelta(days=days_from_now))
    response = post_form(f"{BASE}/{consultation.reference}/edit", edit_form_as_shown(page, **{field: day}))

    assert response.status_code == 200
    assert field_error(text_of(response), field) == message
    saved = reload(consultation)
    assert (saved.opens_at, saved.closes_at) == saved_times
    assert audit_events(consultation, "consultation.edit") == []


def test_a_closed_consultation_can_still_be_renamed(client, post_form, login_as, make_consultation):
    login_as(Role.STAFF)
    consultation = make_consultation(state="closed")  # closes at a time with seconds the form cannot show
    closes_at = consultation.closes_at
    page = text_of(client.get(f"{BASE}/{consultation.reference}/edit"))

    response = post_form(f"{BASE}/{consultation.reference}/edit",
                         edit_form_as_shown(page, title="Renamed after closing"))

    assert response.status_code == 302
    saved = reload(consultation)
    assert (saved.title, saved.closes_at) == ("Renamed after closing", closes_at)
    [event] = audit_events(saved, "consultation.edit")
    assert event.before["closes_at"] == event.after["closes_at"]


def test_staff_set_how_long_after_closing_late_arrivals_are_taken(client, post_form, login_as):
    login_as(Role.STAFF)
    consultation = staff_consultation()
    page = text_of(client.get(f"{BASE}/{consultation.reference}/edit"))
    assert input_value(page, "late_grace_seconds") == "15"
    seen = {"version": input_value(page, "version"), "digest": input_value(page, "digest")}

    for value, message in [("", "Enter how many seconds late arrivals are taken for, for example 15"),
                           ("601", "Late arrivals must be taken for between 0 and 600 seconds"),
                           ("-1", "Late arrivals must be taken for between 0 and 600 seconds"),
                           ("ten", "Enter how many seconds late arrivals are taken for, for example 15")]:
        refused = post_form(f"{BASE}/{consultation.reference}/edit", new_form(
            reference="HTE3001", title="Existing consultation", late_grace_seconds=value, **seen))
        assert message in text_of(refused), value
        assert reload(consultation).late_grace_seconds == 15

    saved = post_form(f"{BASE}/{consultation.reference}/edit", new_form(
        reference="HTE3001", title="Existing consultation", late_grace_seconds="45", **seen))
    assert saved.status_code == 302
    assert reload(consultation).late_grace_seconds == 45
    assert "45 seconds after closing" in text_of(client.get(f"{BASE}/{consultation.reference}"))
    [event] = audit_events(reload(consultation), "consultation.edit")
    assert (event.before["late_grace_seconds"], event.after["late_grace_seconds"]) == (15, 45)


def test_an_unknown_reference_is_not_found(client, login_as):
    login_as(Role.STAFF)
    for url in (f"{BASE}/NOPE1", f"{BASE}/NOPE1/edit", f"{BASE}/NOPE1/import"):
        assert client.get(url).status_code == 404


# --- Importing a draft ----------------------------------------------------------

def upload(post_form, reference: str, data: bytes, name: str, **fields):
    return post_form(f"{BASE}/{reference}/import", {"draft": (io.BytesIO(data), name), **fields})


def preview_sections(page: str) -> list[str]:
    return re.findall(r'<tr class="govuk-table__row" data-section="([^"]+)"', page)


def test_the_guidance_seed_is_previewed_then_imported(client, post_form, login_as, staged_previews):
    actor = login_as(Role.STAFF)
    consultation = staff_consultation()

    response = upload(post_form, consultation.reference, GUIDANCE_SEED.read_bytes(), "guidance.txt")
    assert response.status_code == 302
    preview = client.get(response.headers["Location"])
    assert preview.status_code == 200
    page = text_of(preview)
    assert preview_sections(page) == ["1.1", "1.2"] + [f"2.{n}" for n in range(1, 7)] + [
        f"3.{n}" for n in range(1, 6)]
    assert "Percutaneous image-guided cryoablation of peripheral neuroma for chronic pain" in page
    assert "4 chapters, 13 sections" in page
    # "Update information" has text and no numbers: said as how it will be commented on, not as a fault.
    assert "Its text has no numbered sections, so people comment on the chapter as a whole." in page
    assert count(Document) == 0  # nothing is imported until confirmed

    token = input_value(page, "token")
    confirmed = post_form(f"{BASE}/{consultation.reference}/import/confirm", {"token": token})

    assert confirmed.status_code == 302
    saved = reload(consultation)
    assert list(sections_of(saved)) == preview_sections(page)
    assert len(sections_of(saved)) == 13
    [event] = audit_events(saved, "consultation.import_document")
    assert event.actor_id == actor.id
    assert event.after["sections"] == 13 and event.after["chapters"] == 4
    assert event.after["filename"] == "guidance.txt"
    assert list(staged_previews.iterdir()) == []
    assert "13 sections" in text_of(client.get(confirmed.headers["Location"]))

    # Confirming twice (a double click) imports once.
    again = post_form(f"{BASE}/{consultation.reference}/import/confirm", {"token": token})
    assert again.status_code == 302 and again.headers["Location"].endswith("/import")
    assert count(Document) == 1


def test_a_draft_of_one_chapter_and_one_section_is_counted_in_the_singular(client, post_form, login_as):
    login_as(Role.STAFF)
    consultation = staff_consultation()
    draft = b"# A short draft\n\n## 1 Recommendations\n\n1.1 Use it only in research.\n"
    page = text_of(client.get(upload(post_form, consultation.reference, draft, "short.md").headers["Location"]))
    assert "1 chapter, 1 section" in page and "1 chapters" not in page
    confirmed = post_form(f"{BASE}/{consultation.reference}/import/confirm", {"token": input_value(page, "token")})
    assert "1 chapter and 1 section." in text_of(client.get(confirmed.headers["Location"]))


def test_a_draft_sent_to_replace_a_document_the_page_did_not_offer_says_what_to_choose(
        client, post_form, login_as):
    login_as(Role.STAFF)
    consultation = staff_consultation()
    preview = text_of(client.get(upload(post_form, consultation.reference, GUIDANCE_SEED.read_bytes(),
                                        "first.txt").headers["Location"]))
    assert post_form(f"{BASE}/{consultation.reference}/import/confirm",
                     {"token": input_value(preview, "token")}).status_code == 302
    refused = upload(post_form, consultation.reference, GUIDANCE_SEED.read_bytes(), "second.txt",
                     target="99999999999999999999")
    assert ("Choose where the draft should go: a new document, or one of the documents listed"
            in text_of(refused))
    assert "Not a valid choice" not in text_of(refused)


def test_the_preview_says_what_was_left_out_and_can_keep_it_as_an_introduction(client, post_form, login_as):
    login_as(Role.STAFF)
    consultation = staff_consultation()
    preview = client.get(upload(post_form, consultation.reference, GUIDANCE_SEED.read_bytes(),
                                "guidance.txt").headers["Location"])
    page = text_of(preview)
    assert "What was left out" in page
    assert "Your responsibility" in page and "This guidance replaces IPG747." in page
    assert "It is a contents table" in page
    replaces = re.search(r'value="(\d+)"[^>]*>\s*<label[^>]*>\s*This guidance replaces IPG747.', page)
    assert replaces, "the block is offered as a checkbox"
    token = input_value(page, "token")

    tampered = post_form(f"{BASE}/{consultation.reference}/import/confirm", {"token": token, "include": "999"})
    assert tampered.status_code == 400
    assert "There is a problem" in text_of(tampered) and count(Document) == 0
    assert "Choose from the left-out text shown on this page" in text_of(tampered)

    confirmed = post_form(f"{BASE}/{consultation.reference}/import/confirm",
                          {"token": token, "include": replaces.group(1)})
    assert confirmed.status_code == 302
    [document] = reload(consultation).documents
    first = document.chapters[0]
    assert (first.number, first.title, first.body) == (None, "Introduction", "This guidance replaces IPG747.")
    assert len(sections_of(reload(consultation))) == 13
    assert "5 chapters and 13 sections" in text_of(client.get(confirmed.headers["Location"]))


def hint_of(page: str, field_id: str) -> str:
    match = re.search(rf'<div id="{field_id}-hint" class="govuk-hint">(.*?)</div>', page, re.S)
    assert match, f"no hint for {field_id}"
    return " ".join(html.unescape(match.group(1)).split())


def flash_of(response) -> str:
    match = re.search(r'<div class="govuk-notification-banner.*?<p[^>]*>(.*?)</p>', text_of(response), re.S)
    assert match, "no notification banner"
    return " ".join(html.unescape(match.group(1)).split())


def test_the_preview_says_an_included_introduction_becomes_a_chapter_and_the_counts_agree(
        client, post_form, login_as):
    login_as(Role.STAFF)
    consultation = staff_consultation()
    seed = GUIDANCE_SEED.read_bytes()

    page = text_of(client.get(upload(post_form, consultation.reference, seed, "guidance.txt").headers["Location"]))
    assert "4 chapters, 13 sections" in page
    assert hint_of(page, "include") == (
        "Select the text commenters need to read. It becomes one unnumbered chapter, “Introduction”, before the "
        "first chapter, so the document has 5 chapters and 13 sections. What you do not select is left out.")
    block = re.search(r'<input[^>]*name="include"[^>]*value="(\d+)"', page)
    confirmed = post_form(f"{BASE}/{consultation.reference}/import/confirm",
                          {"token": input_value(page, "token"), "include": block.group(1)})
    assert flash_of(client.get(confirmed.headers["Location"])) == (
        "Imported “Percutaneous image-guided cryoablation of peripheral neuroma for chronic pain”: 5 chapters "
        "and 13 sections, counting the introduction as a chapter.")

    page = text_of(client.get(upload(post_form, consultation.reference, seed, "guidance.txt").headers["Location"]))
    confirmed = post_form(f"{BASE}/{consultation.reference}/import/confirm", {"token": input_value(page, "token")})
    assert flash_of(client.get(confirmed.headers["Location"])) == (
        "Imported “Percutaneous image-guided cryoablation of peripheral neuroma for chronic pain”: 4 chapters "
        "and 13 sections.")


def test_a_word_document_is_previewed_and_imported_with_its_structure(client, post_form, login_as):
    login_as(Role.STAFF)
    consultation = staff_consultation()

    preview = client.get(upload(post_form, consultation.reference, guidance_docx(), "draft.docx").headers["Location"])
    page = text_of(preview)
    assert preview_sections(page) == ["1.1", "1.2", "2.1", "2.2"]
    post_form(f"{BASE}/{consultation.reference}/import/confirm", {"token": input_value(page, "token")})

    [document] = reload(consultation).documents
    assert document.title == "Cryoablation for neuroma pain"
    assert [(c.number, c.title, [(s.number, s.heading) for s in c.sections]) for c in document.chapters] == [
        ("1", "Recommendations", [("1.1", "More research is needed"), ("1.2", "What research is needed")]),
        ("2", "The procedure", [("2.1", None), ("2.2", None)]),
        (None, "Update information", []),
    ]


def test_the_preview_gives_a_section_s_first_words_as_they_will_read(client, post_form, login_as):
    login_as(Role.STAFF)
    consultation = staff_consultation()
    page = text_of(client.get(upload(post_form, consultation.reference, LISTED_DRAFT.encode(),
                                     "draft.md").headers["Location"]))
    first_words = re.findall(r'<td class="govuk-table__cell">([^<]*)</td>\s*</tr>', page)
    assert first_words == [
        "Offer the procedure only when: the person has tried conservative care the…",
        "See the evidence (https://example.org/evidence) first."]


def documents_table(page: str) -> str:
    return re.search(r'<caption[^>]*>Documents in this consultation</caption>.*?</table>', page, re.S).group(0)


def test_after_import_the_staff_page_links_each_document_to_its_page_as_the_public_will_see_it(client, post_form,
                                                                                             login_as):
    login_as(Role.STAFF)
    consultation = staff_consultation(is_draft=True)
    preview = client.get(upload(post_form, consultation.reference, guidance_docx(), "draft.docx").headers["Location"])
    post_form(f"{BASE}/{consultation.reference}/import/confirm", {"token": input_value(text_of(preview), "token")})
    [document] = reload(consultation).documents
    document_url = f"/consultations/{consultation.reference}/documents/{document.id}"

    page = main_of(client.get(f"{BASE}/{consultation.reference}"))
    assert f'<a class="govuk-link" href="{document_url}">Cryoablation for neuroma pain</a>' in documents_table(page)
    assert f'href="/consultations/{consultation.reference}"' in page  # the consultation page, previewed

    shown = client.get(document_url)
    assert shown.status_code == 200
    assert "Preview: this consultation is held as a draft and is not visible to the public" in main_of(shown)
    assert "1.2" in main_of(shown) and "Comment on" not in main_of(shown)


def test_the_staff_page_links_a_public_consultation_s_documents_to_their_public_pages(client, login_as,
                                                                                     make_consultation):
    login_as(Role.STAFF)
    consultation = make_consultation()
    [document] = consultation.documents
    page = main_of(client.get(f"{BASE}/{consultation.reference}"))
    document_url = f"/consultations/{consultation.reference}/documents/{document.id}"
    assert f'<a class="govuk-link" href="{document_url}">Sample draft guidance</a>' in documents_table(page)
    assert "Preview" not in main_of(client.get(document_url))


def test_a_preview_belongs_to_the_person_who_uploaded(client, post_form, login_as, make_user, login):
    login_as(Role.STAFF)
    consultation = staff_consultation()
    location = upload(post_form, consultation.reference, guidance_docx(), "draft.docx").headers["Location"]
    token = input_value(text_of(client.get(location)), "token")

    login(make_user(role=Role.STAFF, name="Someone Else"))
    assert client.get(location).status_code == 302
    response = post_form(f"{BASE}/{consultation.reference}/import/confirm", {"token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith("/import")
    assert count(Document) == 0


def test_an_expired_preview_explains_and_imports_nothing(client, post_form, login_as, staged_previews):
    login_as(Role.STAFF)
    consultation = staff_consultation()
    location = upload(post_form, consultation.reference, guidance_docx(), "draft.docx").headers["Location"]
    token = input_value(text_of(client.get(location)), "token")
    staged = staged_previews / f"{token}.json"
    stored = json.loads(staged.read_text())
    stored["expires_at"] = (utcnow() - timedelta(seconds=1)).isoformat()
    staged.write_text(json.dumps(stored))

    response = post_form(f"{BASE}/{consultation.reference}/import/confirm", {"token": token},
                         follow_redirects=True)
    assert "This preview has expired or has already been used, so nothing was imported." in text_of(response)
    assert count(Document) == 0


def test_no_file_chosen_is_explained(client, post_form, login_as):
    login_as(Role.STAFF)
    consultation = staff_consultation()
    response = post_form(f"{BASE}/{consultation.reference}/import", {})
    assert response.status_code == 200
    assert error_summary_items(text_of(response)) == ["Select a file to import"]


def test_a_draft_that_cannot_be_parsed_is_explained(client, post_form, login_as):
    login_as(Role.STAFF)
    consultation = staff_consultation()
    response = upload(post_form, consultation.reference, b"1 Recommendations\n\n1.1 One.\n\n1.1 Again.\n",
                      "draft.txt")
    assert response.status_code == 400
    assert "Section 1.1 appears twice" in error_summary_items(text_of(response))[0]


def test_another_document_can_be_added(client, post_form, login_as, make_consultation):
    login_as(Role.STAFF)
    consultation = make_consultation()
    location = upload(post_form, consultation.reference, guidance_docx(), "draft.docx", target="new").headers[
        "Location"]
    page = text_of(client.get(location))
    assert "It is added as a new document" in page
    post_form(f"{BASE}/{consultation.reference}/import/confirm", {"token": input_value(page, "token")})

    documents = reload(consultation).documents
    assert [(d.position, d.title) for d in documents] == [
        (1, "Sample draft guidance"), (2, "Cryoablation for neuroma pain")]


def test_a_document_without_comments_is_replaced_in_place(client, post_form, login_as, make_consultation):
    actor = login_as(Role.STAFF)
    consultation = make_consultation()
    [old] = consultation.documents
    old_id = old.id
    location = upload(post_form, consultation.reference, guidance_docx(), "draft.docx",
                      target=str(old_id)).headers["Location"]
    page = text_of(client.get(location))
    assert "It replaces “Sample draft guidance”" in html.unescape(page)
    post_form(f"{BASE}/{consultation.reference}/import/confirm", {"token": input_value(page, "token")})

    [document] = reload(consultation).documents
    assert (document.position, document.title) == (1, "Cryoablation for neuroma pain")
    # Only the new rows remain (SQLite may hand the new document the old id).
    assert count(Document) == 1 and count(Chapter) == 3 and count(Section) == 4
    texts = [s.text for s in sections_of(reload(consultation)).values()]
    assert "A probe is passed through the skin." in texts
    assert not any("should only be used in research" in text for text in texts)
    [event] = audit_events(consultation, "consultation.replace_document")
    assert event.actor_id == actor.id
    assert event.before == {"document_id": old_id, "title": "Sample draft guidance", "position": 1,
                            "chapters": 2, "sections": 4}
    assert event.after["title"] == "Cryoablation for neuroma pain" and event.after["sections"] == 4


def _draft_comment(make_user, make_participation, consultation):
    participation = make_participation(make_user(), consultation)
    section = sections_of(consultation)["1.1"]
    comment_services.save_draft(participation, comment_services.CommentTargetRef(
        section.document, section.chapter, section), "A draft comment.", None, utcnow())
    db.session.commit()


def test_replacing_a_document_with_comments_is_refused_at_upload(client, post_form, login_as, make_consultation,
                                                                make_user, make_participation):
    consultation = make_consultation()
    _draft_comment(make_user, make_participation, consultation)
    login_as(Role.STAFF)
    [old] = consultation.documents

    response = upload(post_form, consultation.reference, guidance_docx(), "draft.docx", target=str(old.id))

    assert response.status_code == 409
    [message] = error_summary_items(text_of(response))
    assert message == ("“Sample draft guidance” cannot be replaced because it has 1 comment; versioned drafts "
                       "come later. Import the new draft as an additional document instead.")
    assert [d.id for d in reload(consultation).documents] == [old.id]


def test_a_comment_made_between_preview_and_confirm_stops_the_replacement(client, post_form, login_as,
                                                                         make_consultation, make_user,
                                                                         make_participation):
    login_as(Role.STAFF)
    consultation = make_consultation()
    [old] = consultation.documents
    old_id, old_sections = old.id, count(Section, Section.document_id == old.id)
    location = upload(post_form, consultation.reference, guidance_docx(), "draft.docx",
                      target=str(old_id)).headers["Location"]
    token = input_value(text_of(client.get(location)), "token")
    _draft_comment(make_user, make_participation, consultation)

    response = post_form(f"{BASE}/{consultation.reference}/import/confirm", {"token": token})

    assert response.status_code == 409
    assert "cannot be replaced because it has 1 comment; versioned drafts come later" in html.unescape(
        text_of(response))
    assert [d.id for d in reload(consultation).documents] == [old_id]
    assert count(Section, Section.document_id == old_id) == old_sections
    assert audit_events(consultation, "consultation.replace_document") == []


# --- Committee -----------------------------------------------------------------

def test_a_committee_member_is_assigned_by_email_and_unassigned(client, post_form, login_as, make_user):
    actor = login_as(Role.STAFF)
    consultation = staff_consultation()
    member = make_user(name="Dr Committee", email="chair@example.org", role=Role.COMMITTEE)
    assert not can_review_consultation(member, consultation)

    response = post_form(f"{BASE}/{consultation.reference}/committee", {"email": "  Chair@Example.org "})
    assert response.status_code == 302
    assert can_review_consultation(member, consultation)
    page = text_of(client.get(response.headers["Location"]))
    assert "Dr Committee (chair@example.org)" in page
    [assigned] = audit_events(consultation, "consultation.assign_committee_member")
    assert (assigned.actor_id, assigned.before) == (actor.id, None)
    assert assigned.after == {"user_id": member.id, "email": "chair@example.org", "name": "Dr Committee"}

    response = post_form(f"{BASE}/{consultation.reference}/committee/remove", {"user_id": str(member.id)})
    assert response.status_code == 302
    db.session.expire_all()
    assert not can_review_consultation(member, consultation)
    [removed] = audit_events(consultation, "consultation.unassign_committee_member")
    assert removed.before == assigned.after and removed.after is None
    assert "can no longer review HTE3001" in text_of(client.get(response.headers["Location"]))


@pytest.mark.parametrize("user_id", ["2147483648", "99999999999999999999", "9223372036854775808", "-1", "x"])
def test_removing_a_committee_member_by_a_number_no_account_has_changes_nothing(post_form, login_as, make_user,
                                                                              user_id):
    # PostgreSQL refuses a number beyond a 32-bit id mid-request; it must be refused before, as any other.
    login_as(Role.STAFF)
    consultation = staff_consultation()
    member = make_user(name="Dr Committee", email="chair@example.org", role=Role.COMMITTEE)
    assert post_form(f"{BASE}/{consultation.reference}/committee", {"email": member.email}).status_code == 302

    response = post_form(f"{BASE}/{consultation.reference}/committee/remove", {"user_id": user_id})
    assert response.status_code == 302
    db.session.expire_all()
    assert can_review_consultation(member, consultation)


@pytest.mark.parametrize("email,role,message,status", [
    ("", None, "Enter the email address of a committee member", 200),
    ("nobody@example.org", None, "There is no account with the email address nobody@example.org. "
                                 "Check the address, or ask the person to create an account first.", 200),
    ("stake@example.org", Role.STAKEHOLDER, "Pat Person (stake@example.org) is not a committee member. "
                                            "An admin can give them the committee role first.", 200),
])
def test_assigning_someone_who_cannot_be_assigned_is_explained(client, post_form, login_as, make_user, email, role,
                                                               message, status):
    login_as(Role.STAFF)
    consultation = staff_consultation()
    if role:
        make_user(name="Pat Person", email=email, role=role)
    response = post_form(f"{BASE}/{consultation.reference}/committee", {"email": email})

    assert response.status_code == status
    assert error_summary_items(text_of(response)) == [message]
    assert count(CommitteeAssignment) == 0
    assert audit_events(consultation) == []


def test_assigning_someone_twice_is_explained(client, post_form, login_as, make_user):
    login_as(Role.STAFF)
    consultation = staff_consultation()
    make_user(name="Dr Committee", email="chair@example.org", role=Role.COMMITTEE)
    post_form(f"{BASE}/{consultation.reference}/committee", {"email": "chair@example.org"})
    response = post_form(f"{BASE}/{consultation.reference}/committee", {"email": "chair@example.org"})

    assert response.status_code == 409
    assert error_summary_items(text_of(response)) == [
        "Dr Committee (chair@example.org) is already assigned to this consultation."]
    assert count(CommitteeAssignment) == 1


def test_removing_someone_not_assigned_changes_nothing(client, post_form, login_as, make_user):
    login_as(Role.STAFF)
    consultation = staff_consultation()
    member = make_user(role=Role.COMMITTEE)
    response = post_form(f"{BASE}/{consultation.reference}/committee/remove", {"user_id": str(member.id)},
                         follow_redirects=True)
    assert "That person is not assigned to this consultation" in text_of(response)
    assert audit_events(consultation) == []


def test_the_staff_page_has_one_heading_and_no_duplicate_ids(client, post_form, login_as, make_user,
                                                            make_consultation):
    login_as(Role.STAFF)
    consultation = make_consultation()
    for number in range(2):
        member = make_user(role=Role.COMMITTEE, email=f"member{number}@example.org")
        post_form(f"{BASE}/{consultation.reference}/committee", {"email": member.email})
    for url in (f"{BASE}/", f"{BASE}/new", f"{BASE}/{consultation.reference}", f"{BASE}/{consultation.reference}/edit",
                f"{BASE}/{consultation.reference}/import"):
        page = text_of(client.get(url))
        ids = re.findall(r'\sid="([^"]+)"', page)
        assert len(ids) == len(set(ids)), (url, sorted(i for i in ids if ids.count(i) > 1))
        assert page.count("<h1") == 1, url
