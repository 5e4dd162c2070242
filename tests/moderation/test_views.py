"""The staff workspace through the browser's eyes: who may see what, the queue, decisions, themes, responses."""

import re
from html import unescape
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import url_for
from sqlalchemy import delete, func, insert, select, update

from consult import create_app
from consult.access import rule_for_endpoint
from consult.accounts.models import Role
from consult.audit.models import AuditEvent
from consult.comments import services as comment_services
from consult.comments.models import Comment
from consult.database import utcnow
from consult.extensions import db
from consult.moderation import services
from consult.moderation.models import CommentResponse, CommentTheme, ModerationDecision, Theme
from consult.moderation.services import decisions
from consult.moderation.services import responses as response_services
from consult.moderation.services import themes as theme_services
from consult.moderation.states import ModerationState, RejectionReason, ResponseState, TagSource
from tests.conftest import make_test_config, sections_of

# --- Reading pages ------------------------------------------------------------------------


class _Page(HTMLParser):
    """The forms, ids, labels and headings of a page, read as a browser would."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self.ids: list[str] = []
        self.label_targets: list[str] = []
        self.h1 = 0
        self._select: dict | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.append(attrs["id"])
        if tag == "h1":
            self.h1 += 1
        if tag == "label" and attrs.get("for"):
            self.label_targets.append(attrs["for"])
        if tag == "form":
            self.forms.append({"action": attrs.get("action", ""), "method": attrs.get("method", "get"),
                               "fields": []})
        elif tag in ("input", "textarea", "button") and self.forms and attrs.get("name"):
            self.forms[-1]["fields"].append({"tag": tag, **attrs})
        elif tag == "select" and self.forms:
            self._select = {"tag": "select", "name": attrs.get("name"), "options": []}
            self.forms[-1]["fields"].append(self._select)
        elif tag == "option" and self._select is not None:
            self._select["options"].append(attrs.get("value"))

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


def read(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def assert_sound_markup(html: str) -> None:
    """One h1, no id used twice, and every label names something on the page."""
    page = read(html)
    assert page.h1 == 1, f"{page.h1} h1 elements"
    duplicates = sorted({i for i in page.ids if page.ids.count(i) > 1})
    assert duplicates == [], f"duplicate ids: {duplicates}"
    missing = [target for target in page.label_targets if target not in page.ids]
    assert missing == [], f"labels for nothing: {missing}"


def form_posting_to(html: str, path: str) -> dict:
    matches = [f for f in read(html).forms if urlsplit(unescape(f["action"])).path == path]
    assert matches, f"no form posts to {path}"
    return matches[0]


def hidden_values(form: dict) -> dict[str, str]:
    return {f["name"]: f.get("value", "") for f in form["fields"] if f.get("type") == "hidden"}


def checkbox_values(html: str) -> list[str]:
    return re.findall(r'name="selected" type="checkbox" value="([^"]+)"', html)


def text_of(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


# --- The world ----------------------------------------------------------------------------


@pytest.fixture
def world(make_consultation, make_submitted_comments, make_staff, make_user):
    consultation = make_consultation()
    patient = make_submitted_comments(consultation, 2, quote="only be used in research",
                                      other_interests="I volunteer for a foot charity",
                                      body="Patient comment {i} about the guidance.")
    charity = make_submitted_comments(consultation, 1, kind="organisation", has_tobacco_links=True,
                                      tobacco_details="A grant in 2019", section="2.1", target="chapter",
                                      body="Charity comment on the procedure.")
    staff_alice, staff_bob = make_staff("Alice Staff"), make_staff("Bob Staff")
    theme = services.create_theme(consultation.id, "Cost", "What it costs", staff_alice)
    db.session.commit()
    return {"consultation": consultation, "comments": patient + charity, "alice": staff_alice, "bob": staff_bob,
            "theme": theme, "ref": consultation.reference,
            "stakeholder": make_user(name="Sam Stakeholder"),
            "committee": make_user(name="Cora Committee", role=Role.COMMITTEE),
            "admin": make_user(name="Ada Admin", role=Role.ADMIN)}


def base(world) -> str:
    return f"/staff/consultations/{world['ref']}"


def fresh(comment) -> Comment:
    db.session.expire_all()
    return db.session.get(Comment, comment.id)


# --- Who may use each route ------------------------------------------------------------------


def _routes() -> list[tuple[str, str, str]]:
    app = create_app(make_test_config("sqlite://"))
    return sorted((rule.endpoint, method, rule.rule) for rule in app.url_map.iter_rules()
                  if rule.endpoint.startswith("moderation.")
                  for method in rule.methods - {"HEAD", "OPTIONS"})


ROUTES = _routes()
IDS = [f"{method} {path}" for _, method, path in ROUTES]


def _url(app, endpoint: str, world) -> str:
    values = {"reference": world["ref"], "number": world["comments"][0].number, "theme_id": world["theme"].id}
    rule = next(app.url_map.iter_rules(endpoint))
    with app.test_request_context():
        return url_for(endpoint, **{name: values[name] for name in rule.arguments})


def rule_for_endpoint_name(app, endpoint: str) -> str:
    with app.test_request_context():
        rule = rule_for_endpoint(endpoint)
    return {"roles: committee, staff, admin": "committee_or_staff", "roles: staff, admin": "staff"}[rule.name]


def _request(client, csrf, method: str, url: str):
    if method == "GET":
        return client.get(url)
    return client.post(url, data={"csrf_token": csrf()})


def test_every_staff_workspace_route_is_covered_here():
    assert len(ROUTES) >= 20
    assert ("moderation.dashboard", "GET", "/staff/") in ROUTES


@pytest.mark.parametrize("endpoint,method,path", ROUTES, ids=IDS)
def test_a_stakeholder_is_refused_every_route(app, client, csrf, login, world, endpoint, method, path):
    login(world["stakeholder"])
    assert _request(client, csrf, method, _url(app, endpoint, world)).status_code == 403


@pytest.mark.parametrize("endpoint,method,path", ROUTES, ids=IDS)
def test_signed_out_visitors_are_sent_to_sign_in_or_refused(app, client, world, endpoint, method, path):
    response = client.get(_url(app, endpoint, world)) if method == "GET" else client.post(
        _url(app, endpoint, world))
    if method == "GET":
        assert response.status_code == 302 and response.headers["Location"].startswith("/account/sign-in")
    else:
        assert response.status_code == 400  # refused before anything else: no CSRF token


@pytest.mark.parametrize("endpoint,method,path", ROUTES, ids=IDS)
def test_an_unassigned_committee_member_cannot_see_the_consultation(app, client, csrf, login, world, endpoint,
                                                                    method, path):
    login(world["committee"])
    status = _request(client, csrf, method, _url(app, endpoint, world)).status_code
    if endpoint == "moderation.dashboard":
        assert status == 200
    elif rule_for_endpoint_name(app, endpoint) == "committee_or_staff":
        assert status == 404  # the consultation does not exist for them
    else:
        assert status == 403


@pytest.mark.parametrize("endpoint,method,path", ROUTES, ids=IDS)
def test_an_assigned_committee_member_reads_but_changes_nothing(app, client, csrf, login, world, assign_committee,
                                                               endpoint, method, path):
    assign_committee(world["committee"], world["consultation"])
    login(world["committee"])
    response = _request(client, csrf, method, _url(app, endpoint, world))
    if method == "GET" and rule_for_endpoint_name(app, endpoint) == "committee_or_staff":
        assert response.status_code == 200
        assert 'method="post" action="/staff' not in response.get_data(as_text=True)
    else:
        assert response.status_code == 403
    assert fresh(world["comments"][0]).moderation_state is ModerationState.NEW


@pytest.mark.parametrize("endpoint,method,path", [r for r in ROUTES if r[1] == "GET"],
                         ids=[i for i in IDS if i.startswith("GET")])
def test_staff_can_open_every_page_and_each_is_sound(app, client, login, world, endpoint, method, path):
    login(world["alice"])
    response = client.get(_url(app, endpoint, world))
    assert response.status_code == 200
    assert_sound_markup(response.get_data(as_text=True))


def test_a_post_without_a_csrf_token_is_refused(client, login, world):
    login(world["alice"])
    response = client.post(f"{base(world)}/comments/1/accept", data={"version": "1"})
    assert response.status_code == 400
    assert fresh(world["comments"][0]).moderation_state is ModerationState.NEW


# --- Dashboard ----------------------------------------------------------------------------


def test_staff_see_every_consultation_with_its_progress(client, login, world, make_consultation):
    draft = make_consultation(title="Held back draft")
    draft.is_draft = True
    db.session.commit()
    first = world["comments"][0]
    services.decide_comment(first, services.Decision(ModerationState.ACCEPTED), world["alice"], first.version,
                            utcnow())
    services.tag_comment(first, world["theme"], world["alice"], utcnow())
    services.save_response(first, "Thanks", ResponseState.AGREED, world["alice"], None, utcnow())
    db.session.commit()
    login(world["alice"])
    html = client.get("/staff/").get_data(as_text=True)
    assert "Held back draft" in html
    card = html.split(f'data-consultation="{world["ref"]}"')[1].split("data-consultation=")[0]
    counts = dict(re.findall(r'data-count="(\w+)">([^<]+)<', card))
    assert counts == {"submitted": "3", "triaged": "1 (33%)", "themed": "1 (33%)", "answered": "1 (33%)"}


def test_committee_members_see_only_the_consultations_they_are_assigned(client, login, world, make_consultation,
                                                                       assign_committee):
    other = make_consultation(title="Not theirs")
    assign_committee(world["committee"], world["consultation"])
    login(world["committee"])
    html = client.get("/staff/").get_data(as_text=True)
    assert "Sample consultation" in html and "Not theirs" not in html
    assert client.get(f"/staff/consultations/{other.reference}/comments").status_code == 404


# --- The queue --------------------------------------------------------------------------------


def test_the_queue_lists_submitted_comments_only(client, login, world, make_user, make_participation):
    participation = make_participation(make_user(), world["consultation"])
    section = sections_of(world["consultation"])["1.1"]
    comment_services.save_draft(participation, comment_services.CommentTargetRef(
        section.document, section.chapter, section), "A secret draft nobody should triage", None, utcnow())
    db.session.commit()
    login(world["alice"])
    html = client.get(f"{base(world)}/comments").get_data(as_text=True)
    assert "A secret draft" not in html
    assert html.count("data-comment=") == 3
    assert "Showing 1 to 3 of 3 comments" in html
    assert "Tobacco links" in html  # the charity declared links


def test_filters_live_in_the_url_and_pages_keep_them(client, login, world, make_submitted_comments):
    make_submitted_comments(world["consultation"], 30, body="Bulk comment {i} about cost")
    login(world["alice"])
    html = client.get(f"{base(world)}/comments", query_string={"q": "cost", "state": "new"}).get_data(as_text=True)
    assert "Showing 1 to 25 of 30 comments matching these filters" in html
    next_link = re.search(r'<a class="govuk-link govuk-pagination__link" href="([^"]+)" rel="next"', html).group(1)
    assert parse_qs(urlsplit(unescape(next_link)).query) == {"q": ["cost"], "state": ["new"], "page": ["2"]}
    second = client.get(unescape(next_link)).get_data(as_text=True)
    assert second.count("data-comment=") == 5
    assert "Showing 26 to 30 of 30 comments" in second
    assert 'aria-current="page"' in second


def test_each_filter_narrows_the_queue_from_the_url(client, login, world):
    consultation, theme = world["consultation"], world["theme"]
    patient, _second, charity = world["comments"]
    services.tag_comment(patient, theme, world["alice"], utcnow())
    services.decide_comment(charity, services.Decision(ModerationState.ACCEPTED), world["alice"], charity.version,
                            utcnow())
    db.session.commit()
    parts = sections_of(consultation)
    login(world["alice"])

    def shown(**args) -> list[int]:
        html = client.get(f"{base(world)}/comments", query_string=args).get_data(as_text=True)
        return [int(n) for n in re.findall(r'data-comment="(\d+)"', html)]

    assert shown() == [1, 2, 3]
    assert shown(theme=theme.id) == [1]
    assert shown(theme=0) == [2, 3]
    assert shown(state="accepted") == [3]
    assert shown(participant="organisation") == [3]
    assert shown(participant="individual:patient_or_carer") == [1, 2]
    assert shown(organisation="foot health") == [3]
    assert shown(tobacco="yes") == [3]
    assert shown(tobacco="no") == [1, 2]
    assert shown(document=parts["1.1"].document_id) == [1, 2, 3]
    assert shown(chapter=parts["2.1"].chapter_id) == [3]
    assert shown(section=parts["1.1"].id) == [1, 2]
    assert shown(q="USED IN research") == [1, 2]
    assert shown(q="used in research", state="new", theme=theme.id) == [1]


def test_the_response_filter_narrows_the_queue_from_the_url(client, login, world, make_submitted_comments):
    patient, second, charity = world["comments"]
    [agreed, not_needed] = make_submitted_comments(world["consultation"], 2, body="Later comment {i}")
    alice, now = world["alice"], utcnow()
    for comment in (patient, charity, agreed, not_needed):
        services.decide_comment(comment, services.Decision(ModerationState.ACCEPTED), alice, comment.version, now)
    services.save_response(second, "Still drafting", ResponseState.DRAFT, alice, None, now)
    services.save_response(charity, "Still drafting too", ResponseState.DRAFT, alice, None, now)
    services.save_response(agreed, "Thank you", ResponseState.AGREED, alice, None, now)
    services.mark_no_response_needed(not_needed, "Repeats comment 1", alice, None, now)
    db.session.commit()
    login(alice)

    def shown(**args) -> list[int]:
        html = client.get(f"{base(world)}/comments", query_string=args).get_data(as_text=True)
        return [int(n) for n in re.findall(r'data-comment="(\d+)"', html)]

    assert shown() == [1, 2, 3, 4, 5]
    assert shown(response="none") == [1]
    assert shown(response="draft") == [2, 3]
    assert shown(response="agreed") == [4]
    assert shown(response="not_needed") == [5]
    assert shown(response="not_agreed") == [1, 2, 3, 5]
    assert shown(response="not_agreed", state="accepted") == [1, 3, 5]
    assert shown(state="public") == [1, 3, 4, 5]
    html = client.get(f"{base(world)}/comments", query_string={"response": "not_agreed", "state": "public"})
    text = html.get_data(as_text=True)
    assert "Showing 1 to 3 of 3 comments matching these filters" in text
    filters = form_posting_to(text, f"{base(world)}/comments")
    [response] = [f for f in filters["fields"] if f["name"] == "response"]
    assert response["options"] == ["", "not_agreed", "none", "draft", "agreed", "not_needed"]
    assert '<option value="not_agreed" selected>Without an agreed response</option>' in text
    assert '<option value="public" selected>Accepted or redacted</option>' in text
    assert_sound_markup(text)


@pytest.mark.parametrize("typed", ["31/12/9999", "1/1/0001", "1/1/\u0662\u0660\u0662\u0667"])
def test_a_date_far_off_or_in_another_script_is_explained_not_a_500(client, login, world, typed):
    """31/12/9999 once overflowed working out the end of that day: a 500 on the queue and every download."""
    login(world["alice"])
    for path in ("/comments", "/downloads/comments.csv"):
        response = client.get(f"{base(world)}{path}", query_string={"submitted_to": typed})
        assert response.status_code in (200, 400), (path, response.status_code)
    page = client.get(f"{base(world)}/comments", query_string={"submitted_to": typed}).get_data(as_text=True)
    assert "Submitted on or before must be a real date, like 27/3/2027" in page


def test_a_bad_filter_is_explained_and_left_out(client, login, world):
    login(world["alice"])
    response = client.get(f"{base(world)}/comments", query_string={"submitted_from": "31/2/2026",
                                                                   "state": "nonsense", "response": "maybe"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<title>Error: " in html
    assert "Submitted on or after must be a real date, like 27/3/2027" in html
    assert "Select staff response from the list" in html
    assert 'href="#submitted_from"' in html and 'href="#state"' in html and 'href="#response"' in html
    downloads = re.findall(r'href="([^"]*/downloads/comments\.csv[^"]*)"', html)
    assert downloads and all("response=" not in link for link in downloads)  # left out of what links keep
    assert html.count("data-comment=") == 3
    assert_sound_markup(html)


def test_committee_see_the_queue_without_selection_or_actions(client, login, world, assign_committee):
    assign_committee(world["committee"], world["consultation"])
    login(world["committee"])
    html = client.get(f"{base(world)}/comments").get_data(as_text=True)
    assert html.count("data-comment=") == 3
    assert checkbox_values(html) == []
    assert "Act on several comments" not in html


# --- One comment --------------------------------------------------------------------------------


def test_the_comment_page_gives_the_full_context(client, login, world):
    comment = world["comments"][0]
    services.decide_comment(comment, services.Decision(ModerationState.REJECTED,
                                                       reason=RejectionReason.OUT_OF_SCOPE, note="About cost"),
                            world["bob"], comment.version, utcnow())
    services.tag_comment(comment, world["theme"], world["alice"], utcnow())
    suggested = services.create_theme(world["consultation"].id, "Access", "", world["alice"])
    services.tag_comment(comment, suggested, None, utcnow(), source=TagSource.SYSTEM)
    services.save_response(comment, "We considered cost.", ResponseState.DRAFT, world["alice"], None, utcnow())
    db.session.commit()
    login(world["alice"])
    html = client.get(f"{base(world)}/comments/{comment.number}").get_data(as_text=True)
    page = text_of(html)
    assert f"Comment {comment.reference}" in page
    assert "Section 1.1: What we recommend" in page
    assert "Quoted passage only be used in research" in page
    assert "Show the text of section 1.1" in page and "The procedure should only be used in research." in page
    assert "Individual (patient or carer)" in page
    assert "I volunteer for a foot charity" in page
    assert "Links with the tobacco industry None declared" in page
    assert "Bob Staff changed it from new to rejected. Why: Out of scope: About cost" in page
    assert "Cost Tagged by Alice Staff at" in page
    assert "Access Suggested by the system at" in page
    assert "We considered cost." in page and "Draft" in page


def test_an_organisation_comment_shows_its_declarations(client, login, world):
    login(world["alice"])
    page = text_of(client.get(f"{base(world)}/comments/3").get_data(as_text=True))
    assert "Foot Health Charity (charity or patient group)" in page
    assert "Links with the tobacco industry Yes: A grant in 2019" in page
    assert "Chapter: 2 The procedure" in page


def test_unknown_draft_and_other_consultations_comments_do_not_exist(client, login, world, make_consultation,
                                                                     make_submitted_comments, make_user,
                                                                     make_participation):
    other = make_consultation()
    make_submitted_comments(other, 5)
    participation = make_participation(make_user(), world["consultation"])
    section = sections_of(world["consultation"])["1.1"]
    comment_services.save_draft(participation, comment_services.CommentTargetRef(
        section.document, section.chapter, section), "A draft", None, utcnow())
    db.session.commit()
    login(world["alice"])
    assert client.get(f"{base(world)}/comments/4").status_code == 404  # other has a 4; this one does not
    assert client.get(f"/staff/consultations/{other.reference}/comments/4").status_code == 200
    assert client.get(f"{base(world)}/comments/999").status_code == 404
    assert client.get("/staff/consultations/NOPE1/comments").status_code == 404


# --- Decisions --------------------------------------------------------------------------------------


def test_accepting_from_the_comment_page_records_everything(client, login, world):
    comment = world["comments"][0]
    login(world["alice"])
    html = client.get(f"{base(world)}/comments/1").get_data(as_text=True)
    form = form_posting_to(html, f"{base(world)}/comments/1/accept")
    response = client.post(f"{base(world)}/comments/1/accept", data=hidden_values(form),
                           headers={"X-Request-Id": "req-accept-1"})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Comment {comment.reference} is now accepted." in page
    assert "Alice Staff changed it from new to accepted" in text_of(page)
    comment = fresh(comment)
    assert comment.moderation_state is ModerationState.ACCEPTED and comment.moderated_by_id == world["alice"].id
    [audit] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "comment.accept"))
    assert (audit.actor_id, audit.object_id, audit.request_id) == (world["alice"].id, str(comment.id),
                                                                   "req-accept-1")
    assert audit.before["moderation_state"] == "new" and audit.after["moderation_state"] == "accepted"


def test_rejecting_without_a_reason_is_refused_with_a_clear_message(client, login, post_form, world):
    login(world["alice"])
    version = world["comments"][0].version
    response = post_form(f"{base(world)}/comments/1/reject", {"version": version})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "There is a problem" in html and "Select why the comment is rejected" in html
    assert 'href="#reason"' in html
    response = post_form(f"{base(world)}/comments/1/reject", {"version": version, "reason": "other"})
    assert "Explain why the comment is rejected" in response.get_data(as_text=True)
    assert fresh(world["comments"][0]).moderation_state is ModerationState.NEW
    assert db.session.scalar(select(func.count()).select_from(ModerationDecision)) == 0


def test_rejecting_with_a_reason(client, login, post_form, world):
    login(world["alice"])
    response = post_form(f"{base(world)}/comments/1/reject",
                         {"version": world["comments"][0].version, "reason": "duplicate", "note": "Same as 2"})
    assert response.status_code == 302
    comment = fresh(world["comments"][0])
    assert (comment.moderation_state, comment.rejection_reason, comment.moderation_note) == (
        ModerationState.REJECTED, RejectionReason.DUPLICATE, "Same as 2")


def test_a_redaction_is_what_everyone_but_admins_reads(client, login, post_form, world, assign_committee):
    comment = world["comments"][0]
    original = comment.body
    login(world["alice"])
    form_page = client.get(f"{base(world)}/comments/1/redact").get_data(as_text=True)
    assert original in form_page  # the copy starts from the original, for staff to edit
    response = post_form(f"{base(world)}/comments/1/redact", {
        "version": comment.version, "reason": "personal_data", "redacted_body": "Comment [name removed].",
        "redacted_quote": "only be used"})
    assert response.status_code == 302
    for path in (f"{base(world)}/comments", f"{base(world)}/comments/1"):
        html = client.get(path).get_data(as_text=True)
        assert "Comment [name removed]." in html and original not in html
    row = re.search(r'data-comment="1">(.*?)</tr>', client.get(f"{base(world)}/comments").get_data(as_text=True),
                    re.S).group(1)
    assert "Quoted: “only be used”" in row and "only be used in research" not in row
    assert 'id="quote">only be used</blockquote>' in client.get(f"{base(world)}/comments/1").get_data(as_text=True)
    assert client.get(f"{base(world)}/comments", query_string={"q": original}).get_data(
        as_text=True).count("data-comment=") == 0
    assert 'id="accept"' not in client.get(f"{base(world)}/comments/1").get_data(as_text=True)

    assign_committee(world["committee"], world["consultation"])
    login(world["committee"])
    assert original not in client.get(f"{base(world)}/comments/1").get_data(as_text=True)

    login(world["admin"])
    html = client.get(f"{base(world)}/comments/1").get_data(as_text=True)
    assert "Show the original comment (admins only)" in html and original in html
    assert 'id="accept"' in html  # only an admin may publish the original again
    assert "Comment [name removed]." in html
    assert client.get(f"{base(world)}/comments", query_string={"q": original}).get_data(
        as_text=True).count("data-comment=") == 1


def test_redacting_a_redacted_comment_again_reads_as_a_changed_redaction(client, login, post_form, world):
    comment = world["comments"][0]
    login(world["alice"])
    for body in ("Comment [name removed].", "Comment [name and town removed]."):
        response = post_form(f"{base(world)}/comments/1/redact", {
            "version": fresh(comment).version, "reason": "personal_data", "redacted_body": body})
        assert response.status_code == 302
    history = text_of(client.get(f"{base(world)}/comments/1").get_data(as_text=True).split('id="history"')[1])
    assert "Alice Staff changed it from new to redacted. Why: Contains personal data" in history
    assert "Alice Staff changed the redaction. Why: Contains personal data" in history
    assert "from redacted to redacted" not in history


def test_a_stale_form_shows_both_versions_and_overwrites_nothing(client, login, post_form, world):
    """Alice opens the reject form; Bob accepts the comment; Alice sends her rejection."""
    login(world["alice"])
    alice_form = hidden_values(form_posting_to(client.get(f"{base(world)}/comments/1/reject").get_data(
        as_text=True), ""))
    login(world["bob"])
    bob_page = client.get(f"{base(world)}/comments/1").get_data(as_text=True)
    assert post_form(f"{base(world)}/comments/1/accept",
                     hidden_values(form_posting_to(bob_page, f"{base(world)}/comments/1/accept"))
                     ).status_code == 302
    login(world["alice"])
    response = post_form(f"{base(world)}/comments/1/reject",
                         {"version": alice_form["version"], "reason": "duplicate", "note": "Same as 2"})
    html = response.get_data(as_text=True)
    page = text_of(html)
    assert response.status_code == 409
    assert re.search(r"This comment was changed by Bob Staff at \S+ on \d+ \w+ \d{4} since you opened it", page)
    yours = text_of(html.split('id="yours"')[1].split('id="current"')[0])
    current = text_of(html.split('id="current"')[1])
    assert "Decision Rejected" in yours and "Reason Duplicate" in yours and "Same as 2" in yours
    assert "Decision Accepted" in current and "Changed by Bob Staff" in current
    comment = fresh(world["comments"][0])
    assert comment.moderation_state is ModerationState.ACCEPTED and comment.moderation_note == ""
    assert [d.actor_id for d in db.session.scalars(select(ModerationDecision))] == [world["bob"].id]
    assert_sound_markup(html)


@pytest.fixture
def race_after_the_check(monkeypatch):
    """Another member of staff's decision lands after this request checked the version and before it writes:
    the window only the database's version check can close."""

    def arm(actor_id: int) -> None:
        check = decisions._check_comment_version

        def check_then_lose_the_race(comment, expected_version, actor):
            check(comment, expected_version, actor)
            db.session.connection().execute(
                update(Comment).where(Comment.id == comment.id)
                .values(version=Comment.version + 1, moderation_state=ModerationState.ACCEPTED,
                        moderated_by_id=actor_id, moderated_at=utcnow())
                .execution_options(synchronize_session=False))

        monkeypatch.setattr(decisions, "_check_comment_version", check_then_lose_the_race)

    return arm


def test_a_true_race_gives_the_same_message(client, login, post_form, world, race_after_the_check):
    comment = world["comments"][0]
    login(world["alice"])
    race_after_the_check(world["bob"].id)
    response = post_form(f"{base(world)}/comments/1/reject", {"version": comment.version, "reason": "spam"})
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert re.search(r"This comment was changed by Bob Staff at .+ since you opened it", text_of(html))
    assert "Decision Accepted" in text_of(html.split('id="current"')[1])
    comment = fresh(comment)
    assert comment.moderation_state is not ModerationState.REJECTED
    assert db.session.scalar(select(func.count()).select_from(ModerationDecision)) == 0


# --- Bulk -----------------------------------------------------------------------------------------------


def start_bulk(client, world, query: dict | None = None, **choices) -> tuple[str, dict]:
    """Load the queue as a person would and send its bulk form with these choices."""
    queue_html = client.get(f"{base(world)}/comments", query_string=query or {}).get_data(as_text=True)
    form = form_posting_to(queue_html, f"{base(world)}/comments/bulk")
    data = {**hidden_values(form), **choices}
    return queue_html, data


def test_bulk_reject_all_matching_across_pages_confirms_the_count_first(client, login, world,
                                                                       make_submitted_comments):
    make_submitted_comments(world["consultation"], 34, body="Copied campaign text {i}")  # 37 in all
    login(world["alice"])
    _html, data = start_bulk(client, world, scope="all", action="reject", reason="duplicate")
    response = client.post(f"{base(world)}/comments/bulk", data=data)
    confirm = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "You are about to reject 37 comments as Duplicate." in text_of(confirm)
    assert db.session.scalar(select(func.count()).select_from(ModerationDecision)) == 0
    assert_sound_markup(confirm)

    confirmed = client.post(f"{base(world)}/comments/bulk",
                            data=hidden_values(form_posting_to(confirm, f"{base(world)}/comments/bulk")))
    assert confirmed.status_code == 302
    assert "Rejected 37 comments as Duplicate." in client.get(confirmed.headers["Location"]).get_data(as_text=True)
    states = set(db.session.scalars(select(Comment.moderation_state).where(
        Comment.consultation_id == world["consultation"].id)))
    assert states == {ModerationState.REJECTED}
    audits = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "comment.reject"))
    assert audits == 37


def test_bulk_all_matching_respects_the_filters(client, login, world, make_submitted_comments):
    make_submitted_comments(world["consultation"], 4, kind="organisation", organisation_name="Acme Devices")
    login(world["alice"])
    _html, data = start_bulk(client, world, {"organisation": "acme"}, scope="all", action="accept")
    confirm = client.post(f"{base(world)}/comments/bulk", data=data).get_data(as_text=True)
    assert "You are about to accept 4 comments." in text_of(confirm)
    client.post(f"{base(world)}/comments/bulk", data=hidden_values(form_posting_to(confirm,
                                                                                  f"{base(world)}/comments/bulk")))
    accepted = db.session.scalars(select(Comment).where(Comment.moderation_state == ModerationState.ACCEPTED))
    assert {c.participation.organisation_name for c in accepted} == {"Acme Devices"}
    assert fresh(world["comments"][0]).moderation_state is ModerationState.NEW


def test_bulk_on_selected_rows_reports_those_changed_meanwhile(client, login, post_form, world):
    login(world["alice"])
    queue_html, data = start_bulk(client, world, action="reject", reason="spam")
    data["selected"] = checkbox_values(queue_html)  # all three rows, with the versions she saw
    confirm = client.post(f"{base(world)}/comments/bulk", data=data).get_data(as_text=True)
    assert "You are about to reject 3 comments as Spam." in text_of(confirm)

    login(world["bob"])
    bob_page = client.get(f"{base(world)}/comments/2").get_data(as_text=True)
    post_form(f"{base(world)}/comments/2/accept",
              hidden_values(form_posting_to(bob_page, f"{base(world)}/comments/2/accept")))

    login(world["alice"])
    done = client.post(f"{base(world)}/comments/bulk",
                       data=hidden_values(form_posting_to(confirm, f"{base(world)}/comments/bulk")))
    page = text_of(client.get(done.headers["Location"]).get_data(as_text=True))
    assert "Rejected 2 comments as Spam." in page
    second = world["comments"][1]
    assert re.search(rf"1 comment was not changed because someone else changed it since you loaded the queue: "
                     rf"{second.reference} \(changed by Bob Staff at .+\)", page)
    assert [fresh(c).moderation_state for c in world["comments"]] == [
        ModerationState.REJECTED, ModerationState.ACCEPTED, ModerationState.REJECTED]


def test_a_replayed_bulk_accept_says_you_changed_them_and_still_names_a_colleague(client, login, world):
    login(world["alice"])
    queue_html, data = start_bulk(client, world, action="accept")
    data["selected"] = checkbox_values(queue_html)
    confirm = client.post(f"{base(world)}/comments/bulk", data=data).get_data(as_text=True)
    confirmed = hidden_values(form_posting_to(confirm, f"{base(world)}/comments/bulk"))
    client.post(f"{base(world)}/comments/bulk", data=confirmed)
    client.get(f"{base(world)}/comments")  # the first submission's messages are read
    third = world["comments"][2]
    services.decide_comment(third, services.Decision(ModerationState.REJECTED, reason=RejectionReason.SPAM),
                            world["bob"], third.version, utcnow())
    db.session.commit()

    again = client.post(f"{base(world)}/comments/bulk", data=confirmed)
    page = text_of(client.get(again.headers["Location"]).get_data(as_text=True))
    replanned = text_of(client.post(f"{base(world)}/comments/bulk", data=data).get_data(as_text=True))

    first, second = world["comments"][:2]
    assert (f"You had already changed 2 comments since you loaded the queue, so they were not changed now: "
            f"{first.reference}, {second.reference}.") in page
    assert re.search(rf"1 comment was not changed because someone else changed it since you loaded the queue: "
                     rf"{third.reference} \(changed by Bob Staff at .+\)", page)
    assert "Accepted 0 comments" not in page
    assert "Alice Staff" not in page.split("No comments were changed.")[1]
    assert "3 comments were changed since you loaded the queue, and will not be changed" in replanned
    assert re.search(rf"{first.reference} ?: changed by you at", replanned)
    assert re.search(rf"{third.reference} ?: changed by Bob Staff at", replanned)
    assert "someone else" not in replanned and "changed by Alice Staff" not in replanned


def test_bulk_confirmation_lists_comments_changed_since_the_queue_was_loaded(client, login, world):
    login(world["alice"])
    _html, data = start_bulk(client, world, scope="all", action="accept")
    second = world["comments"][1]
    services.decide_comment(second, services.Decision(ModerationState.REJECTED, reason=RejectionReason.SPAM),
                            world["bob"], second.version, utcnow())
    db.session.commit()
    confirm = text_of(client.post(f"{base(world)}/comments/bulk", data=data).get_data(as_text=True))
    assert "You are about to accept 2 comments." in confirm
    assert re.search(rf"{second.reference} ?: changed by Bob Staff at", confirm)
    assert "now rejected" in confirm


def test_bulk_accept_of_all_matching_leaves_rejections_and_redactions_and_says_so(client, login, world):
    second, third = world["comments"][1:]
    services.decide_comment(second, services.Decision(ModerationState.REJECTED, reason=RejectionReason.SPAM),
                            world["bob"], second.version, utcnow())
    services.decide_comment(third, services.Decision(
        ModerationState.REDACTED, reason=RejectionReason.PERSONAL_DATA, redacted_body="Charity [removed]"),
        world["bob"], third.version, utcnow())
    db.session.commit()
    login(world["alice"])
    _html, data = start_bulk(client, world, scope="all", action="accept")
    confirm = client.post(f"{base(world)}/comments/bulk", data=data).get_data(as_text=True)
    said = text_of(confirm)
    assert "Check before you change 1 comment" in said and "You are about to accept 1 comment." in said
    assert "<title>Check before you change 1 comment –" in confirm  # the title says what the heading says
    assert "1 rejected comment will be left as it is: open it to change its rejection." in said
    assert "1 redacted comment will be left as it is: only an admin can accept a redacted comment" in said
    assert_sound_markup(confirm)

    done = client.post(f"{base(world)}/comments/bulk",
                       data=hidden_values(form_posting_to(confirm, f"{base(world)}/comments/bulk")))
    told = text_of(client.get(done.headers["Location"]).get_data(as_text=True))
    assert "Accepted 1 comment." in told
    assert f"1 rejected comment was left as it is: {second.reference}. Open it to change its rejection." in told
    assert f"1 redacted comment was left as it is: {third.reference}. Only an admin can accept" in told
    assert [fresh(c).moderation_state for c in world["comments"]] == [
        ModerationState.ACCEPTED, ModerationState.REJECTED, ModerationState.REDACTED]
    history = text_of(client.get(f"{base(world)}/comments/{second.number}").get_data(as_text=True))
    assert "to accepted" not in history


def test_bulk_accept_of_ticked_comments_leaves_a_rejection_as_it_is(client, login, world):
    second = world["comments"][1]
    services.decide_comment(second, services.Decision(ModerationState.REJECTED, reason=RejectionReason.SPAM),
                            world["bob"], second.version, utcnow())
    db.session.commit()
    login(world["admin"])
    queue_html, data = start_bulk(client, world, action="accept")
    data["selected"] = checkbox_values(queue_html)
    confirm = text_of(client.post(f"{base(world)}/comments/bulk", data=data).get_data(as_text=True))
    assert "You are about to accept 2 comments." in confirm
    assert "1 rejected comment will be left as it is: open it to change its rejection." in confirm
    assert "redacted" not in confirm


def test_a_campaign_filter_that_is_not_a_number_is_explained_where_its_error_link_lands(client, login, world):
    """The filter is a hidden input set by a link; its error linked to that input, which the page did not even
    draw, so the summary's link led nowhere."""
    login(world["alice"])
    html = client.get(f"{base(world)}/comments", query_string={"campaign": "abc"}).get_data(as_text=True)
    assert 'href="#campaign-error"' in html
    message = html.split('id="campaign-error"')[1].split("</p>")[0]
    assert "Campaign must be a campaign&#39;s number" in message and "It shows every comment instead." in message
    assert len(re.findall(r'data-comment="\d+"', html)) == len(world["comments"])
    wide = client.get(f"{base(world)}/comments", query_string={"campaign": "\uff11"}).get_data(as_text=True)
    assert 'href="#campaign-error"' in wide  # a full-width 1 is not read as a number


def test_bulk_without_a_selection_or_a_reason_explains_what_is_missing(client, login, world):
    login(world["alice"])
    _html, data = start_bulk(client, world, action="reject")
    html = client.post(f"{base(world)}/comments/bulk", data=data).get_data(as_text=True)
    assert "Select why the comment is rejected" in html
    _html, data = start_bulk(client, world, action="accept")
    html = client.post(f"{base(world)}/comments/bulk", data=data).get_data(as_text=True)
    assert "Select at least one comment" in html and 'href="#selected-error"' in html
    # Beside the table it is about, where the summary's link lands, in sight: not on a checkbox scrolled away.
    above_table = html.split('id="selected-error"')[1].split('id="queue"')[0]
    assert "Select at least one comment" in above_table and "govuk-form-group--error" in html.split(
        'id="selected-error"')[0].rsplit("<div", 1)[1]
    _html, data = start_bulk(client, world, scope="all", action="tag")
    html = client.post(f"{base(world)}/comments/bulk", data=data).get_data(as_text=True)
    assert "Select the theme to add" in html and 'href="#tag_theme"' in html
    _html, data = start_bulk(client, world, scope="all", action="respond", response_state="draft")
    html = client.post(f"{base(world)}/comments/bulk", data=data).get_data(as_text=True)
    assert "Enter the response" in html and 'href="#response_text"' in html
    _html, data = start_bulk(client, world, scope="all")
    html = client.post(f"{base(world)}/comments/bulk", data=data).get_data(as_text=True)
    assert "Select what you want to do with the comments" in html and "<title>Error: " in html
    assert_sound_markup(html)
    assert db.session.scalar(select(func.count()).select_from(ModerationDecision)) == 0


def test_bulk_refuses_a_comment_of_another_consultation(client, login, world, make_consultation,
                                                        make_submitted_comments):
    [elsewhere] = make_submitted_comments(make_consultation())
    login(world["alice"])
    _html, data = start_bulk(client, world, action="accept", selected=[f"{elsewhere.id}:{elsewhere.version}"])
    assert client.post(f"{base(world)}/comments/bulk", data=data).status_code == 404
    data.update(confirmed="yes", items=f"{elsewhere.id}:{elsewhere.version}")
    assert client.post(f"{base(world)}/comments/bulk", data=data).status_code == 404
    assert fresh(elsewhere).moderation_state is ModerationState.NEW


def test_bulk_tag_and_bulk_response_from_the_queue(client, login, world):
    login(world["alice"])
    theme = world["theme"]
    queue_html, data = start_bulk(client, world, action="tag", tag_theme=str(theme.id))
    data["selected"] = checkbox_values(queue_html)[:2]
    confirm = client.post(f"{base(world)}/comments/bulk", data=data).get_data(as_text=True)
    assert "You are about to add the theme ‘Cost’ to 2 comments." in text_of(confirm)
    client.post(f"{base(world)}/comments/bulk", data=hidden_values(form_posting_to(confirm,
                                                                                  f"{base(world)}/comments/bulk")))
    assert services.comment_ids_with_theme(theme) == sorted(c.id for c in world["comments"][:2])

    _html, data = start_bulk(client, world, {"theme": theme.id}, scope="all", action="respond",
                             response_text="Cost is outside the remit.", response_state="draft")
    confirm = client.post(f"{base(world)}/comments/bulk", data=data).get_data(as_text=True)
    assert "You are about to apply this response to 2 comments, marked draft." in text_of(confirm)
    client.post(f"{base(world)}/comments/bulk", data=hidden_values(form_posting_to(confirm,
                                                                                  f"{base(world)}/comments/bulk")))
    answered = [services.find_response(c.id) for c in world["comments"]]
    assert [r.text if r else None for r in answered] == ["Cost is outside the remit."] * 2 + [None]


def test_bulk_tag_with_an_unknown_theme_is_not_found(client, login, world):
    login(world["alice"])
    queue_html, data = start_bulk(client, world, action="tag", tag_theme="987654")
    data["selected"] = checkbox_values(queue_html)[:1]
    assert client.post(f"{base(world)}/comments/bulk", data=data).status_code == 404


# --- Themes -------------------------------------------------------------------------------------------


def test_creating_renaming_and_duplicate_theme_names(client, login, post_form, world):
    login(world["alice"])
    created = post_form(f"{base(world)}/themes/new", {"name": "Safety", "description": "Harms"})
    assert created.status_code == 302
    assert "Theme ‘Safety’ created." in client.get(created.headers["Location"]).get_data(as_text=True)
    duplicate = post_form(f"{base(world)}/themes/new", {"name": "cost"})
    html = duplicate.get_data(as_text=True)
    assert "There is already a theme called ‘Cost’ in this consultation." in html and 'href="#name"' in html
    safety = db.session.scalar(select(Theme).where(Theme.name == "Safety"))
    opened = safety.version
    renamed = post_form(f"{base(world)}/themes/{safety.id}/edit",
                        {"name": "Safety and harms", "description": "", "version": safety.version})
    assert renamed.status_code == 302
    db.session.expire_all()
    assert db.session.get(Theme, safety.id).name == "Safety and harms"
    clash = post_form(f"{base(world)}/themes/{safety.id}/edit",
                      {"name": "COST", "description": "", "version": db.session.get(Theme, safety.id).version})
    assert "There is already a theme called ‘Cost’" in clash.get_data(as_text=True)
    stale = post_form(f"{base(world)}/themes/{safety.id}/edit",
                      {"name": "Harms", "description": "", "version": opened})
    assert stale.status_code == 409
    # Alice renamed it herself since she opened this form: the page says it was her, not "Alice Staff".
    assert "This theme was changed by you" in text_of(stale.get_data(as_text=True))


def test_unknown_themes_are_not_found(client, login, post_form, world, make_consultation):
    foreign = services.create_theme(make_consultation().id, "Foreign", "", world["alice"])
    db.session.commit()
    login(world["alice"])
    for theme_id in (999999, foreign.id):
        assert client.get(f"{base(world)}/themes/{theme_id}/edit").status_code == 404
        assert client.get(f"{base(world)}/themes/{theme_id}/merge").status_code == 404
        assert client.get(f"{base(world)}/themes/{theme_id}/delete").status_code == 404
        assert post_form(f"{base(world)}/comments/1/themes", {"theme": theme_id}).status_code == 404
        assert post_form(f"{base(world)}/comments/1/themes/{theme_id}/remove").status_code == 404
        assert post_form(f"{base(world)}/themes/{world['theme'].id}/merge",
                         {"target": theme_id}).status_code == 404
    assert db.session.scalar(select(func.count()).select_from(CommentTheme)) == 0


def test_tagging_and_untagging_from_the_comment_page(client, login, post_form, world):
    login(world["alice"])
    theme = world["theme"]
    added = post_form(f"{base(world)}/comments/1/themes", {"theme": theme.id})
    assert added.status_code == 302
    page = text_of(client.get(added.headers["Location"]).get_data(as_text=True))
    assert "Added the theme ‘Cost’" in page and "Cost Tagged by Alice Staff at" in page
    again = post_form(f"{base(world)}/comments/1/themes", {"theme": theme.id})
    assert "already has the theme ‘Cost’" in client.get(again.headers["Location"]).get_data(as_text=True)
    removed = post_form(f"{base(world)}/comments/1/themes/{theme.id}/remove")
    assert removed.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(CommentTheme)) == 0
    actions = list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "comments")
                                          .order_by(AuditEvent.id)))
    assert actions == ["comment.tag", "comment.untag"]
    missing = post_form(f"{base(world)}/comments/1/themes", {"theme": ""})
    assert "Select a theme to add" in missing.get_data(as_text=True)


def test_merging_and_deleting_themes_from_the_themes_pages(client, login, post_form, world):
    consultation, alice = world["consultation"], world["alice"]
    cost = world["theme"]
    costs = services.create_theme(consultation.id, "Costs", "", alice)
    spare = services.create_theme(consultation.id, "Spare", "", alice)
    for comment in world["comments"][:2]:
        services.tag_comment(comment, costs, alice, utcnow())
    services.tag_comment(world["comments"][0], cost, alice, utcnow())
    db.session.commit()
    cost_id, spare_id = cost.id, spare.id
    login(alice)
    merge_page = client.get(f"{base(world)}/themes/{costs.id}/merge").get_data(as_text=True)
    assert "‘Costs’ is on 2 comments" in merge_page
    merged = post_form(f"{base(world)}/themes/{costs.id}/merge", {"target": cost.id})
    assert "Merged ‘Costs’ into ‘Cost’: 2 comments moved." in client.get(merged.headers["Location"]).get_data(
        as_text=True)
    assert services.comment_ids_with_theme(cost) == sorted(c.id for c in world["comments"][:2])

    refused = post_form(f"{base(world)}/themes/{cost.id}/delete", {"reassign_to": ""})
    assert "‘Cost’ is on 2 comments. Choose a theme to move them to before you delete it." in refused.get_data(
        as_text=True)
    assert db.session.get(Theme, cost.id) is not None
    moved = post_form(f"{base(world)}/themes/{cost.id}/delete", {"reassign_to": spare.id})
    assert "Deleted the theme ‘Cost’. 2 comments moved to ‘Spare’." in client.get(
        moved.headers["Location"]).get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Theme, cost_id) is None
    assert services.comment_ids_with_theme(db.session.get(Theme, spare_id)) == sorted(
        c.id for c in world["comments"][:2])


def test_the_themes_page_counts_by_type_of_participant(client, login, world, assign_committee):
    theme, alice = world["theme"], world["alice"]
    for comment in world["comments"]:
        services.tag_comment(comment, theme, alice, utcnow())
    db.session.commit()
    assign_committee(world["committee"], world["consultation"])
    login(world["committee"])
    html = client.get(f"{base(world)}/themes").get_data(as_text=True)
    table = html.split('id="themes-by-participant"')[1]
    assert "Individual (patient or carer)" in table and "Organisation (charity or patient group)" in table
    cells = dict(re.findall(r'data-type="([\w:]+)">(\d+)<', table))
    assert cells == {"individual:patient_or_carer": "2", "organisation:charity_or_patient_group": "1"}
    assert "Create a theme" not in html and "Rename" not in html


# --- Responses -------------------------------------------------------------------------------------------


def test_a_response_applied_to_a_theme_then_edited_for_one_comment(client, login, post_form, world):
    theme, alice = world["theme"], world["alice"]
    for comment in world["comments"][:2]:
        services.tag_comment(comment, theme, alice, utcnow())
    db.session.commit()
    login(alice)
    page = text_of(client.get(f"{base(world)}/themes/{theme.id}/response").get_data(as_text=True))
    assert "applied to the 2 comments with this theme that have no response yet" in page
    applied = post_form(f"{base(world)}/themes/{theme.id}/response",
                        {"text": "The committee noted the cost.", "state": "agreed"})
    assert "Applied the response to 2 comments with the theme ‘Cost’." in client.get(
        applied.headers["Location"]).get_data(as_text=True)

    form = hidden_values(form_posting_to(client.get(f"{base(world)}/comments/2/response").get_data(as_text=True),
                                         ""))
    edited = post_form(f"{base(world)}/comments/2/response",
                       {"version": form["version"], "text": "The committee noted the cost in 3.2.",
                        "state": "agreed"})
    assert edited.status_code == 302
    texts = [services.find_response(c.id).text for c in world["comments"][:2]]
    assert texts == ["The committee noted the cost.", "The committee noted the cost in 3.2."]
    assert services.find_response(world["comments"][2].id) is None


def test_the_theme_response_page_counts_the_comments_with_a_response_already(client, login, world):
    theme, alice = world["theme"], world["alice"]
    comments = world["comments"]
    for comment in comments:
        services.tag_comment(comment, theme, alice, utcnow())
    services.save_response(comments[0], "A draft so far", ResponseState.DRAFT, alice, None, utcnow())
    db.session.commit()
    login(alice)
    url = f"{base(world)}/themes/{theme.id}/response"
    page = text_of(client.get(url).get_data(as_text=True))
    assert f"applied to the {len(comments) - 1} comments with this theme that have no response yet" in page
    assert "1 already has a response, which is kept." in page
    services.untag_comment(comments[0], theme, alice)
    db.session.commit()
    page = text_of(client.get(url).get_data(as_text=True))
    assert f"applied to the {len(comments) - 1} comments with this theme" in page and "already has" not in page


def test_a_stale_response_form_is_refused_with_both_versions(client, login, post_form, world):
    login(world["alice"])
    opened = hidden_values(form_posting_to(client.get(f"{base(world)}/comments/1/response").get_data(
        as_text=True), ""))
    assert opened["version"] == ""
    services.save_response(world["comments"][0], "Bob wrote this", ResponseState.DRAFT, world["bob"], None,
                           utcnow())
    db.session.commit()
    response = post_form(f"{base(world)}/comments/1/response",
                         {"version": opened["version"], "text": "Alice wrote this", "state": "draft"})
    page = text_of(response.get_data(as_text=True))
    assert response.status_code == 409
    assert "The response to this comment was changed by Bob Staff at" in page
    assert "Alice wrote this" in page and "Bob wrote this" in page
    assert services.find_response(world["comments"][0].id).text == "Bob wrote this"


def test_no_response_needed_requires_a_reason(client, login, post_form, world):
    login(world["alice"])
    refused = post_form(f"{base(world)}/comments/1/no-response", {"version": "", "reason": "  "})
    html = refused.get_data(as_text=True)
    assert "Explain why no response is needed" in html and 'href="#reason"' in html
    assert services.find_response(world["comments"][0].id) is None
    done = post_form(f"{base(world)}/comments/1/no-response", {"version": "", "reason": "Repeats comment 2"})
    assert done.status_code == 302
    page = text_of(client.get(f"{base(world)}/comments/1").get_data(as_text=True))
    assert "No response needed because: Repeats comment 2" in page


def test_a_response_needs_text(client, login, post_form, world):
    login(world["alice"])
    html = post_form(f"{base(world)}/comments/1/response", {"version": "", "text": " ", "state": "draft"}
                     ).get_data(as_text=True)
    assert "Enter the response" in html
    assert services.find_response(world["comments"][0].id) is None


# --- Progress and output ------------------------------------------------------------------------------------


def test_the_queue_names_an_nhs_body_as_written(client, login, world, make_submitted_comments):
    from consult.comments.models import OrganisationType

    [trust] = make_submitted_comments(world["consultation"], kind="organisation", organisation_name="Leeds Trust",
                                      organisation_type=OrganisationType.NHS_OR_PUBLIC_BODY)
    login(world["alice"])
    queue = client.get(f"{base(world)}/comments").get_data(as_text=True)
    assert '<option value="organisation:nhs_or_public_body">Organisation (NHS or public body)</option>' in queue
    assert "Leeds Trust (NHS or public body)" in text_of(queue)
    assert "nhs or public body" not in queue
    page = text_of(client.get(f"{base(world)}/comments/{trust.number}").get_data(as_text=True))
    assert "Leeds Trust (NHS or public body)" in page and "nhs or public body" not in page


def test_the_queue_shows_progress(client, login, world):
    first = world["comments"][0]
    services.decide_comment(first, services.Decision(ModerationState.ACCEPTED), world["alice"], first.version,
                            utcnow())
    services.mark_no_response_needed(world["comments"][1], "Duplicate", world["alice"], None, utcnow())
    db.session.commit()
    login(world["alice"])
    progress = client.get(f"{base(world)}/comments").get_data(as_text=True).split('id="progress"')[1].split("</p>")[0]
    counts = dict(re.findall(r'data-count="(\w+)">(.*?)</span>', progress))
    assert counts == {"submitted": "3", "triaged": "1 (33%)", "themed": "0 (0%)", "answered": "1 (33%)"}


def test_what_participants_typed_is_shown_as_text(client, login, world, make_submitted_comments):
    payload = "<script>alert('x')</script><img src=x onerror=alert(1)>"
    make_submitted_comments(world["consultation"], body=f"Body {payload}", kind="organisation",
                            organisation_name=f"Org {payload}", has_tobacco_links=True, tobacco_details=payload)
    services.create_theme(world["consultation"].id, f"Theme {payload}", payload, world["alice"])
    db.session.commit()
    login(world["alice"])
    for path in (f"{base(world)}/comments", f"{base(world)}/comments/4", f"{base(world)}/themes"):
        html = client.get(path).get_data(as_text=True)
        assert payload not in html and "&lt;script&gt;" in html, path


@pytest.mark.parametrize("action, fields", [
    ("reject", {"reason": "spam"}),
    ("redact", {"reason": "personal_data", "redacted_body": "Patient comment [removed]."}),
    ("response", {"text": "Thank you for your comment.", "state": "agreed"}),
    ("no-response", {"reason": "It repeats comment 2."}),
])
def test_a_garbled_version_on_a_change_form_is_a_bad_request_that_changes_nothing(login, post_form, world, action,
                                                                                  fields):
    comment = world["comments"][0]
    login(world["alice"])
    assert post_form(f"{base(world)}/comments/1/{action}", {"version": "x", **fields}).status_code == 400
    assert db.session.scalar(select(func.count()).select_from(ModerationDecision)) == 0
    assert db.session.scalar(select(func.count()).select_from(CommentResponse)) == 0
    assert fresh(comment).moderation_state is ModerationState.NEW
    # The same form with the version the page sent goes through, so the version alone was refused.
    sent = "" if action in ("response", "no-response") else str(comment.version)
    assert post_form(f"{base(world)}/comments/1/{action}", {"version": sent, **fields}).status_code == 302


def test_nonsense_in_urls_and_forms_gets_a_clear_refusal_not_an_error_page(client, login, post_form, world):
    login(world["alice"])
    huge = "99999999999999999999"
    assert client.get(f"{base(world)}/comments/{huge}").status_code == 404
    assert client.get(f"{base(world)}/themes/{huge}/edit").status_code == 404
    assert post_form(f"{base(world)}/comments/1/themes", {"theme": huge}).status_code == 404
    odd_page = client.get(f"{base(world)}/comments", query_string={"page": "abc", "per_page": "7"})
    assert odd_page.status_code == 200 and "Select comments per page from the list" in odd_page.get_data(
        as_text=True)
    assert client.get(f"{base(world)}/comments", query_string={"page": huge}).status_code == 200
    assert post_form(f"{base(world)}/comments/1/accept", {"version": "x"}).status_code == 400
    assert post_form(f"{base(world)}/comments/1/reject", {"version": "x", "reason": "spam"}).status_code == 400
    for items in ("1:x", f"{huge}:1", f"1:{huge}"):
        assert post_form(f"{base(world)}/comments/bulk", {"confirmed": "yes", "action": "accept",
                                                          "items": items}).status_code == 400
    _html, data = start_bulk(client, world, scope="all", action="accept")
    data["filters"] = "state=bogus"
    html = client.post(f"{base(world)}/comments/bulk", data=data).get_data(as_text=True)
    assert "Correct the filters before you act on all the comments matching them" in html
    assert db.session.scalar(select(func.count()).select_from(ModerationDecision)) == 0


def test_a_stale_form_whose_change_was_your_own_says_so_instead_of_naming_you(client, login, post_form, world):
    """Alice opens the reject form in two tabs and sends both: the second meets her own first rejection."""
    login(world["alice"])
    form = hidden_values(form_posting_to(client.get(f"{base(world)}/comments/1/reject").get_data(as_text=True), ""))
    data = {"version": form["version"], "reason": "duplicate", "note": "Same as 2"}
    assert post_form(f"{base(world)}/comments/1/reject", data).status_code == 302
    response = post_form(f"{base(world)}/comments/1/reject", {**data, "reason": "spam"})
    page = text_of(response.get_data(as_text=True))
    assert response.status_code == 409
    assert re.search(r"This comment was changed by you at .+, in another tab or window or by sending the form "
                     r"twice, since you opened it here", page)
    assert "changed by Alice" not in page


# --- A form sent twice at once, or again after pressing Back ---------------------------------------------


def _form_on(client, path: str, posting_to: str = "") -> dict:
    """The hidden fields (CSRF token, version) of the page's form, as the browser holds them after loading it."""
    return hidden_values(form_posting_to(client.get(path).get_data(as_text=True), posting_to))


def _told(client, response) -> str:
    """Where a redirect lands, read as text, with the message it flashed."""
    assert response.status_code == 302
    return text_of(client.get(response.headers["Location"]).get_data(as_text=True))


def _events(action: str) -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action))


@pytest.fixture
def costs(world):
    """A second theme, 'Costs', on the first two comments: one to merge into 'Cost' or delete."""
    theme = services.create_theme(world["consultation"].id, "Costs", "", world["alice"])
    for comment in world["comments"][:2]:
        services.tag_comment(comment, theme, world["alice"], utcnow())
    db.session.commit()
    return theme


def test_a_merge_sent_again_says_the_theme_was_already_merged(client, login, world, costs):
    cost = world["theme"]
    login(world["alice"])
    url = f"{base(world)}/themes/{costs.id}/merge"
    data = {**_form_on(client, url), "target": cost.id}
    first = client.post(url, data=data)
    assert "Merged ‘Costs’ into ‘Cost’: 2 comments moved." in _told(client, first)

    again = client.post(url, data=data)
    page = _told(client, again)
    assert again.headers["Location"] == first.headers["Location"]
    assert "The theme ‘Costs’ was already merged into ‘Cost’. Nothing more was changed." in page
    assert "Page not found" not in page
    # Back asks for the merge page again (staff pages are not kept by the browser): it says the same.
    back = client.get(url)
    assert "The theme ‘Costs’ was already merged into ‘Cost’." in _told(client, back)
    # The target's name as it is now, not as it was at the merge.
    services.update_theme(cost, "Cost to patients", "", world["alice"], cost.version)
    db.session.commit()
    assert "already merged into ‘Cost to patients’" in _told(client, client.post(url, data=data))
    assert _events("theme.merge") == 1
    assert services.comment_ids_with_theme(cost) == sorted(c.id for c in world["comments"][:2])


def test_a_merge_sent_again_after_a_new_theme_is_made_never_touches_the_new_one(client, login, world, costs):
    """SQLite once gave the newest theme's id, merged away, to the next theme made: the old merge form sent
    again then merged a theme nobody chose. Ids are never given out twice, on either database."""
    cost, merged_id = world["theme"], costs.id
    login(world["alice"])
    url = f"{base(world)}/themes/{merged_id}/merge"
    data = {**_form_on(client, url), "target": cost.id}
    assert client.post(url, data=data).status_code == 302
    fresh = services.create_theme(world["consultation"].id, "Fresh unrelated theme", "", world["alice"])
    db.session.commit()
    assert fresh.id != merged_id

    again = client.post(url, data=data)

    assert "The theme ‘Costs’ was already merged into ‘Cost’. Nothing more was changed." in _told(client, again)
    assert db.session.get(Theme, fresh.id).name == "Fresh unrelated theme"
    assert _events("theme.merge") == 1


def test_a_merge_into_a_theme_deleted_in_another_tab_asks_for_another(client, login, world, costs):
    cost = world["theme"]
    login(world["alice"])
    url = f"{base(world)}/themes/{costs.id}/merge"
    data = {**_form_on(client, url), "target": cost.id}
    services.delete_theme(cost, world["alice"])  # the other tab
    db.session.commit()

    response = client.post(url, data=data)

    assert response.status_code == 200
    page = text_of(response.get_data(as_text=True))
    assert "The theme you chose was merged or deleted since this page was shown. Choose another." in page
    assert db.session.get(Theme, costs.id) is not None and _events("theme.merge") == 0


def test_a_delete_sent_again_says_the_theme_was_already_deleted(client, login, world, costs):
    cost = world["theme"]
    login(world["alice"])
    url = f"{base(world)}/themes/{cost.id}/delete"
    data = _form_on(client, url)
    assert "Deleted the theme ‘Cost’." in _told(client, client.post(url, data=data))
    again = client.post(url, data=data)
    assert again.headers["Location"] == f"{base(world)}/themes"
    assert "The theme ‘Cost’ was already deleted. Nothing more was changed." in _told(client, again)

    spare = services.create_theme(world["consultation"].id, "Spare", "", world["alice"])
    db.session.commit()
    url = f"{base(world)}/themes/{costs.id}/delete"
    data = {**_form_on(client, url), "reassign_to": spare.id}
    assert "Deleted the theme ‘Costs’. 2 comments moved to ‘Spare’." in _told(client, client.post(url, data=data))
    assert ("The theme ‘Costs’ was already deleted, and its comments moved to ‘Spare’. Nothing more was changed."
            in _told(client, client.post(url, data=data)))
    # A merge left open in another tab, sent after the delete, is told the same.
    assert "The theme ‘Costs’ was already deleted" in _told(
        client, client.post(f"{base(world)}/themes/{costs.id}/merge", data={**data, "target": spare.id}))
    assert _events("theme.delete") == 2


@pytest.fixture
def merged_meanwhile(monkeypatch, world):
    """The same merge, sent a moment earlier (a double click, or a colleague), is saved after this request
    loaded the theme and before it writes: the window only the database can close."""

    def arm(source: Theme, target: Theme, by) -> None:
        check = theme_services._require_other_theme
        before = {"consultation_id": source.consultation_id, "name": source.name,
                  "description": source.description, "version": source.version}
        ids = (source.id, target.id, target.name, by.id)

        def check_then_lose_the_race(theme, other):
            check(theme, other)
            source_id, target_id, target_name, by_id = ids
            connection = db.session.connection()
            moved = list(connection.scalars(select(CommentTheme.comment_id)
                                            .where(CommentTheme.theme_id == source_id)))
            connection.execute(update(CommentTheme).where(CommentTheme.theme_id == source_id)
                               .values(theme_id=target_id))
            connection.execute(insert(AuditEvent).values(
                actor_id=by_id, action="theme.merge", object_type="themes", object_id=str(source_id),
                before=before, after={"merged_into_id": target_id, "merged_into": target_name,
                                      "comment_ids": moved, "already_in_target": 0},
                occurred_at=utcnow(), request_id=""))
            connection.execute(delete(Theme).where(Theme.id == source_id))

        monkeypatch.setattr(theme_services, "_require_other_theme", check_then_lose_the_race)

    return arm


def test_a_merge_sent_twice_at_once_says_the_theme_was_already_merged(client, login, world, costs,
                                                                       merged_meanwhile):
    cost = world["theme"]
    login(world["alice"])
    url = f"{base(world)}/themes/{costs.id}/merge"
    data = {**_form_on(client, url), "target": cost.id}
    merged_meanwhile(costs, cost, world["alice"])
    response = client.post(url, data=data)
    assert response.headers["Location"] == f"{base(world)}/themes"
    assert "The theme ‘Costs’ was already merged into ‘Cost’. Nothing more was changed." in _told(client, response)


def test_a_theme_that_never_was_in_this_consultation_is_still_not_found(client, login, world, costs,
                                                                        make_consultation, assign_committee):
    elsewhere = make_consultation()
    foreign = services.create_theme(elsewhere.id, "Foreign", "", world["alice"])
    target = services.create_theme(elsewhere.id, "Foreign target", "", world["alice"])
    db.session.commit()
    foreign_id = foreign.id
    services.merge_themes(foreign, target, world["alice"])
    db.session.commit()
    costs_id = costs.id
    login(world["alice"])
    token = _form_on(client, f"{base(world)}/themes/{costs_id}/merge")
    for theme_id in (foreign_id, 999999):
        for action in ("merge", "delete"):
            url = f"{base(world)}/themes/{theme_id}/{action}"
            assert client.get(url).status_code == 404
            assert client.post(url, data={**token, "target": world["theme"].id}).status_code == 404
    # Only staff may merge or delete: anyone else is refused before a merged theme is looked up.
    merged = client.post(f"{base(world)}/themes/{costs_id}/merge", data={**token, "target": world["theme"].id})
    assert merged.status_code == 302
    assign_committee(world["committee"], world["consultation"])
    login(world["committee"])
    refused = client.post(f"{base(world)}/themes/{costs_id}/merge", data=_form_on(client, f"{base(world)}/themes",
                                                                                  "/account/sign-out"))
    assert refused.status_code == 403 and "Costs" not in refused.get_data(as_text=True)


def test_accept_sent_twice_says_the_comment_is_already_accepted(client, login, world):
    comment = world["comments"][0]
    login(world["alice"])
    url = f"{base(world)}/comments/1/accept"
    data = _form_on(client, f"{base(world)}/comments/1", url)
    first = client.post(url, data=data)
    assert f"Comment {comment.reference} is now accepted." in _told(client, first)
    again = client.post(url, data=data)
    assert again.headers["Location"] == first.headers["Location"]
    page = _told(client, again)
    assert f"Comment {comment.reference} is already accepted. Nothing more was changed." in page
    assert "has not been saved" not in page
    assert db.session.scalar(select(func.count()).select_from(ModerationDecision)) == 1
    assert _events("comment.accept") == 1


def test_accept_sent_twice_at_once_says_the_comment_is_already_accepted(client, login, world,
                                                                        race_after_the_check):
    comment = world["comments"][0]
    login(world["alice"])
    url = f"{base(world)}/comments/1/accept"
    data = _form_on(client, f"{base(world)}/comments/1", url)
    race_after_the_check(world["alice"].id)
    response = client.post(url, data=data)
    assert f"Comment {comment.reference} is already accepted. Nothing more was changed." in _told(client, response)
    assert db.session.scalar(select(func.count()).select_from(ModerationDecision)) == 0


def test_a_rejection_sent_twice_is_already_so_but_a_different_one_is_still_a_conflict(client, login, world):
    comment = world["comments"][0]
    login(world["alice"])
    url = f"{base(world)}/comments/1/reject"
    data = {**_form_on(client, url), "reason": "duplicate", "note": "Same as 2"}
    first = client.post(url, data=data)
    assert first.status_code == 302
    client.get(first.headers["Location"])
    again = client.post(url, data=data)
    assert again.headers["Location"] == first.headers["Location"]
    assert f"Comment {comment.reference} is already rejected. Nothing more was changed." in _told(client, again)

    # Bob opened it before Alice's rejection and rejects it for another reason: that is refused, as before.
    login(world["bob"])
    conflict = client.post(url, data={**data, "note": "Bob thinks it repeats comment 3"})
    html = conflict.get_data(as_text=True)
    assert conflict.status_code == 409
    assert "This comment was changed by Alice Staff" in text_of(html)
    assert "Bob thinks it repeats comment 3" in text_of(html.split('id="yours"')[1].split('id="current"')[0])
    assert fresh(comment).moderation_note == "Same as 2"


def test_a_redaction_sent_twice_is_already_so_unless_its_reason_differs(client, login, world):
    comment = world["comments"][0]
    login(world["alice"])
    url = f"{base(world)}/comments/1/redact"
    data = {**_form_on(client, url), "reason": "personal_data", "redacted_body": "Comment [name removed]."}
    first = client.post(url, data=data)
    assert first.status_code == 302
    client.get(first.headers["Location"])
    assert (f"Comment {comment.reference} is already redacted with that text. Nothing more was changed."
            in _told(client, client.post(url, data=data)))
    login(world["bob"])
    conflict = client.post(url, data={**data, "reason": "offensive"})
    assert conflict.status_code == 409 and "Redacted comment Comment [name removed]." in text_of(
        conflict.get_data(as_text=True))
    assert db.session.scalar(select(func.count()).select_from(ModerationDecision)) == 1


def test_a_response_saved_twice_says_it_is_already_saved(client, login, world):
    comment = world["comments"][0]
    login(world["alice"])
    url = f"{base(world)}/comments/1/response"
    data = {**_form_on(client, url), "text": "The committee noted the cost.", "state": "agreed"}
    first = client.post(url, data=data)
    assert "has been saved" in _told(client, first)
    again = client.post(url, data=data)
    assert again.headers["Location"] == first.headers["Location"]
    assert (f"The response to comment {comment.reference} is already saved and agreed, with that text. "
            "Nothing more was changed.") in _told(client, again)
    assert _events("response.agree") == 1

    # The same words saved by Bob as a draft since Alice opened the page are a real change: still refused.
    data = {**_form_on(client, url), "text": "We will look again.", "state": "draft"}
    services.save_response(comment, "We will look again.", ResponseState.AGREED, world["bob"],
                           services.find_response(comment.id).version, utcnow())
    db.session.commit()
    conflict = client.post(url, data=data)
    html = conflict.get_data(as_text=True)
    assert conflict.status_code == 409 and "changed by Bob Staff" in text_of(html)
    assert "Status Draft" in text_of(html.split('id="yours"')[1].split('id="current"')[0])
    assert services.find_response(comment.id).state is ResponseState.AGREED


@pytest.fixture
def response_saved_meanwhile(monkeypatch):
    """The same first response, sent a moment earlier (a double click), is saved after this request saw none
    and before it writes: the database's one-response-per-comment rule refuses the second."""

    def arm(text: str, state: ResponseState, by) -> None:
        find = response_services.find_response
        calls = []

        def none_yet_then_lose_the_race(comment_id):
            if calls:
                return find(comment_id)
            calls.append(comment_id)
            now = utcnow()
            db.session.connection().execute(insert(CommentResponse).values(
                comment_id=comment_id, state=state, text=text, reason="", updated_by_id=by.id, version=1,
                created_at=now, updated_at=now))
            return None

        monkeypatch.setattr(response_services, "find_response", none_yet_then_lose_the_race)

    return arm


def test_a_response_sent_twice_at_once_says_it_is_already_saved(client, login, world, response_saved_meanwhile):
    comment = world["comments"][0]
    login(world["alice"])
    url = f"{base(world)}/comments/1/response"
    data = {**_form_on(client, url), "text": "We will look again.", "state": "draft"}
    response_saved_meanwhile("We will look again.", ResponseState.DRAFT, world["alice"])
    response = client.post(url, data=data)
    assert (f"The response to comment {comment.reference} is already saved as a draft, with that text. "
            "Nothing more was changed.") in _told(client, response)


def test_no_response_needed_sent_twice_says_it_is_already_marked(client, login, world):
    comment = world["comments"][0]
    login(world["alice"])
    url = f"{base(world)}/comments/1/no-response"
    data = {**_form_on(client, url), "reason": "Repeats comment 2"}
    assert client.post(url, data=data).status_code == 302
    assert (f"Comment {comment.reference} is already marked as needing no response, for that reason. "
            "Nothing more was changed.") in _told(client, client.post(url, data=data))
    assert _events("response.not_needed") == 1
