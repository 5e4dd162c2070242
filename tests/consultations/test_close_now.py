"""Closing an open consultation now: the check page, the close, and what it refuses."""

import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import update

from consult.accounts.models import Role
from consult.comments import services as comment_services
from consult.comments.models import CommentStatus
from consult.consultations import services
from consult.consultations.models import Consultation, ConsultationStatus
from consult.database import utcnow
from consult.extensions import db
from consult.operations import ARRIVED_AT_KEY
from consult.questions.models import Answer, Question, QuestionKind
from consult.uk_time import uk_datetime
from tests.conftest import sections_of
from tests.consultations.test_staff_views import (
    BASE,
    audit_events,
    edit_form_as_shown,
    field_error,
    main_of,
    plain,
    reload,
    staff_consultation,
    text_of,
    uk_date_parts,
)
from tests.query_counting import counted_queries

UTC = timezone.utc
NEXT_YEAR = utcnow().year + 1
CLOSED_MESSAGE = "This consultation closed and is no longer accepting comments."


def close_url(consultation) -> str:
    return f"{BASE}/{consultation.reference}/close"


def add_draft(participation, body: str = "A draft comment") -> None:
    section = sections_of(participation.consultation)["1.1"]
    comment_services.save_draft(participation, comment_services.CommentTargetRef(
        section.document, section.chapter, section), body, None, utcnow())
    db.session.commit()


def submitted_response(make_user, make_participation, consultation) -> None:
    participation = make_participation(make_user(), consultation)
    add_draft(participation, "A submitted comment")
    comment_services.submit_response(participation, utcnow(), send_receipt=False)
    db.session.commit()


def page_after(client, response) -> str:
    assert response.status_code == 302, response.status_code
    return plain(client.get(response.headers["Location"]))


# --- The way in -----------------------------------------------------------------

def test_the_staff_page_of_an_open_consultation_offers_to_close_it_now(client, login_as, make_consultation):
    login_as(Role.STAFF)
    consultation = make_consultation(state="open")
    page = main_of(client.get(f"{BASE}/{consultation.reference}"))
    assert f'href="{close_url(consultation)}"' in page
    assert "Close this consultation now" in page


@pytest.mark.parametrize("state", ["upcoming", "closed", "draft"])
def test_the_staff_page_offers_no_close_when_there_is_nothing_open_to_close(client, login_as, make_consultation,
                                                                            state):
    login_as(Role.STAFF)
    consultation = make_consultation(state="open" if state == "draft" else state)
    if state == "draft":
        consultation.is_draft = True
        db.session.commit()
    page = main_of(client.get(f"{BASE}/{consultation.reference}"))
    assert close_url(consultation) not in page and "Close this consultation now" not in page


# --- The journey ------------------------------------------------------------------

def test_staff_check_then_close_and_stakeholders_can_no_longer_comment_or_submit(
        app, client, post_form, login, login_as, make_user, make_participation, make_consultation):
    consultation = make_consultation(state="open")
    planned_close = consultation.closes_at
    submitted_response(make_user, make_participation, consultation)
    stakeholder = make_user(name="Dana Draft")
    add_draft(make_participation(stakeholder, consultation), "Still thinking about this")
    make_participation(make_user(), consultation)  # taking part, but nothing written: holds no draft
    manager = login_as(Role.STAFF, name="Morgan Manager")

    check = client.get(close_url(consultation))
    assert check.status_code == 200
    page = plain(check)
    assert page.count("Are you sure you want to close this consultation now?") == 1
    assert main_of(check).count("<h1") == 1
    assert f"It is open for comments until {uk_datetime(planned_close)}." in page
    assert "nobody can add, change or submit comments or answers from that moment" in page
    assert "drafts that have not been submitted are not sent" in page
    assert "Responses submitted 1 response" in page
    assert "People with drafts they have not submitted 1 person" in page
    assert ("late arrivals are not taken: a response that reaches the service after you close it is refused, "
            "even within the 15 seconds allowed after a closing time set in advance") in page
    assert 'name="csrf_token"' in text_of(check)

    before = utcnow()
    closed = post_form(close_url(consultation))
    after = utcnow()

    assert closed.status_code == 302
    assert closed.headers["Location"] == f"{BASE}/{consultation.reference}"
    saved = reload(consultation)
    assert before <= saved.closes_at <= after
    assert saved.late_grace_seconds == 0
    assert saved.status_at(after) is ConsultationStatus.CLOSED
    assert not saved.accepts_responses_at(saved.closes_at + timedelta(seconds=1))
    shown = page_after(client, closed)
    assert (f"Consultation {consultation.reference} closed at {uk_datetime(saved.closes_at)}. Nobody can add, "
            "change or submit comments now.") in shown
    assert "Closed" in shown and "Close this consultation now" not in shown

    [event] = audit_events(saved, "consultation.close")
    assert event.actor_id == manager.id
    assert event.before["closes_at"] == planned_close.isoformat()
    assert event.after["closes_at"] == saved.closes_at.isoformat()
    assert (event.before["late_grace_seconds"], event.after["late_grace_seconds"]) == (15, 0)
    assert {key for key in event.before if event.before[key] != event.after[key]} == {
        "closes_at", "late_grace_seconds"}

    login(stakeholder)
    section = sections_of(consultation)["1.2"]
    comment = post_form(f"/consultations/{consultation.reference}/sections/{section.id}/comment",
                        {"body": "An afterthought"})
    assert comment.status_code == 409 and CLOSED_MESSAGE in text_of(comment)
    submit = post_form(f"/consultations/{consultation.reference}/response/submit")
    assert submit.status_code == 409 and CLOSED_MESSAGE in text_of(submit)
    participation = comment_services.find_participation(stakeholder.id, consultation.id)
    assert participation.submitted_at is None
    assert [(c.body, c.status) for c in comment_services.list_comments(participation)] == [
        ("Still thinking about this", CommentStatus.DRAFT)]


def test_the_close_takes_effect_when_the_request_arrived(client, post_form, login_as, make_consultation):
    """Timed as every other write is: by when the request reached the service, not when the view ran."""
    login_as(Role.STAFF)
    consultation = make_consultation(state="open")
    arrived = time.time() - 3

    response = post_form(close_url(consultation), environ_overrides={ARRIVED_AT_KEY: arrived})

    assert response.status_code == 302
    assert reload(consultation).closes_at == datetime.fromtimestamp(arrived, tz=UTC)


@pytest.mark.parametrize("role", [Role.STAFF, Role.ADMIN])
def test_staff_and_admins_may_close(client, post_form, login_as, make_consultation, role):
    login_as(role)
    consultation = make_consultation(state="open")
    assert client.get(close_url(consultation)).status_code == 200
    assert post_form(close_url(consultation)).status_code == 302
    assert reload(consultation).status is ConsultationStatus.CLOSED


@pytest.mark.parametrize("role", [Role.STAKEHOLDER, Role.COMMITTEE])
def test_nobody_else_may_see_the_check_page_or_close(client, post_form, login_as, make_consultation, role):
    consultation = make_consultation(state="open")
    closes_at = consultation.closes_at
    login_as(role)
    assert client.get(close_url(consultation)).status_code == 403
    assert post_form(close_url(consultation)).status_code == 403
    assert reload(consultation).closes_at == closes_at
    assert audit_events(consultation) == []


def test_a_close_without_the_csrf_token_is_refused_and_changes_nothing(client, login_as, make_consultation):
    login_as(Role.STAFF)
    consultation = make_consultation(state="open")
    closes_at = consultation.closes_at
    response = client.post(close_url(consultation), data={})
    assert response.status_code == 400
    assert reload(consultation).closes_at == closes_at
    assert audit_events(consultation) == []


def test_an_unknown_consultation_has_no_close_page(client, post_form, login_as):
    login_as(Role.STAFF)
    assert client.get(f"{BASE}/NOPE1/close").status_code == 404
    assert post_form(f"{BASE}/NOPE1/close").status_code == 404


# --- Replays and two tabs --------------------------------------------------------------

def test_a_second_close_says_when_it_closed_and_changes_nothing(client, post_form, login_as, make_consultation):
    login_as(Role.STAFF)
    consultation = make_consultation(state="open")
    assert post_form(close_url(consultation)).status_code == 302
    closed_at = reload(consultation).closes_at

    replay = post_form(close_url(consultation))

    assert replay.headers["Location"] == f"{BASE}/{consultation.reference}"
    assert (f"Consultation {consultation.reference} already closed at {uk_datetime(closed_at)}. "
            "Nothing was changed.") in page_after(client, replay)
    assert reload(consultation).closes_at == closed_at
    assert len(audit_events(consultation, "consultation.close")) == 1


def test_a_check_page_left_open_in_another_tab_cannot_close_it_twice(client, post_form, login_as, make_user,
                                                                      make_consultation):
    login_as(Role.STAFF)
    consultation = make_consultation(state="open")
    assert client.get(close_url(consultation)).status_code == 200
    colleague = make_user(name="Casey Colleague", role=Role.STAFF)
    services.close_consultation(colleague, consultation, utcnow())
    db.session.commit()
    closed_at = reload(consultation).closes_at

    late = post_form(close_url(consultation))

    assert f"already closed at {uk_datetime(closed_at)}. Nothing was changed." in page_after(client, late)
    assert reload(consultation).closes_at == closed_at
    assert [e.actor_id for e in audit_events(consultation, "consultation.close")] == [colleague.id]
    # Opening the check page again says the same, rather than offering a close.
    again = client.get(close_url(consultation))
    assert f"already closed at {uk_datetime(closed_at)}" in page_after(client, again)


def test_a_close_that_lost_a_race_reports_the_close_that_won(app_context, make_user, make_consultation):
    """Another request closed the row after this one read it: the version column catches it."""
    consultation = make_consultation(state="open")
    staff = make_user(role=Role.STAFF)
    won_at = utcnow() - timedelta(seconds=5)
    # As another request's close would: our copy of the row is left as it was read.
    db.session.execute(update(Consultation).where(Consultation.id == consultation.id).values(
        closes_at=won_at, late_grace_seconds=0, version=Consultation.version + 1
    ).execution_options(synchronize_session=False))
    assert consultation.closes_at > utcnow()

    with pytest.raises(services.NotOpenToClose) as refused:
        services.close_consultation(staff, consultation, utcnow())

    assert refused.value.status == 409
    assert str(refused.value) == f"Consultation {consultation.reference} already closed at {uk_datetime(won_at)}."
    assert (reload(consultation).closes_at, consultation.late_grace_seconds) == (won_at, 0)
    assert audit_events(consultation) == []


# --- Refusals ----------------------------------------------------------------------------


def _not_open(state: str):
    now = utcnow()
    if state == "draft":
        return staff_consultation(reference="NOT1001", is_draft=True, opens_at=now - timedelta(days=2),
                                  closes_at=now + timedelta(days=9))
    if state == "upcoming":
        return staff_consultation(reference="NOT1001", opens_at=datetime(NEXT_YEAR, 1, 12, 9, tzinfo=UTC),
                                  closes_at=datetime(NEXT_YEAR, 2, 9, 17, tzinfo=UTC))
    return staff_consultation(reference="NOT1001", opens_at=now - timedelta(days=30),
                              closes_at=now - timedelta(days=1))


@pytest.mark.parametrize("state,message", [
    ("draft", "Consultation NOT1001 is held as a draft, so it is not open for comments and there is nothing "
              "to close."),
    ("upcoming", f"Consultation NOT1001 has not opened yet: it opens at 9am on 12 January {NEXT_YEAR}. "
                 "To change when it closes, edit its details."),
    ("closed", "Consultation NOT1001 already closed at {closed}."),
])
def test_a_consultation_that_is_not_open_cannot_be_closed(client, post_form, login_as, state, message):
    login_as(Role.STAFF)
    consultation = _not_open(state)
    saved = (consultation.closes_at, consultation.late_grace_seconds, consultation.version)
    message = message.format(closed=uk_datetime(consultation.closes_at))

    shown = client.get(close_url(consultation))
    assert shown.headers["Location"] == f"{BASE}/NOT1001"
    assert message in page_after(client, shown)

    refused = post_form(close_url(consultation))
    assert refused.status_code == 302
    assert f"{message} Nothing was changed." in page_after(client, refused)
    stored = reload(consultation)
    assert (stored.closes_at, stored.late_grace_seconds, stored.version) == saved
    assert audit_events(consultation) == []


# --- The edit form, opened before the close -----------------------------------------------

def test_an_edit_page_opened_before_the_close_cannot_reopen_it_unawares(client, post_form, login_as, make_user,
                                                                        make_consultation):
    login_as(Role.STAFF, name="Sam Slow")
    consultation = make_consultation(state="open")
    page = text_of(client.get(f"{BASE}/{consultation.reference}/edit"))
    closer = make_user(name="Casey Closer", role=Role.STAFF)
    services.close_consultation(closer, consultation, utcnow())
    db.session.commit()
    closed_at = reload(consultation).closes_at

    stale = post_form(f"{BASE}/{consultation.reference}/edit", edit_form_as_shown(page, title="A new title"))

    assert stale.status_code == 409
    shown = plain(stale)
    assert "Casey Closer closed this consultation at" in shown  # a close, said as one, not as an edit
    assert "Someone else closed this consultation since you opened this page. Nothing was saved." in shown
    assert (f"It is closed now: it closed at {uk_datetime(closed_at)}. Your version has a closing time in the "
            "future, so saving it would open the consultation again for comments.") in shown
    saved = reload(consultation)
    assert (saved.title, saved.closes_at, saved.late_grace_seconds) == ("Sample consultation", closed_at, 0)

    # Told, and saving again, reopens it on purpose: that too is an audited edit.
    conflict_page = text_of(stale)
    again = post_form(f"{BASE}/{consultation.reference}/edit", edit_form_as_shown(conflict_page,
                                                                                   title="A new title"))
    assert again.status_code == 302
    assert reload(consultation).status is ConsultationStatus.OPEN


def test_an_edit_page_opened_after_the_close_keeps_it_closed(client, post_form, login_as, make_consultation):
    login_as(Role.STAFF)
    consultation = make_consultation(state="open")
    post_form(close_url(consultation))
    closed_at = reload(consultation).closes_at
    page = text_of(client.get(f"{BASE}/{consultation.reference}/edit"))
    assert "It has closed. A closing time in the future opens it again for comments." in plain(
        client.get(f"{BASE}/{consultation.reference}/edit"))

    response = post_form(f"{BASE}/{consultation.reference}/edit", edit_form_as_shown(page, title="Renamed"))

    assert response.status_code == 302
    saved = reload(consultation)
    assert (saved.title, saved.closes_at, saved.status) == ("Renamed", closed_at, ConsultationStatus.CLOSED)


def test_an_open_consultations_past_closing_time_points_to_close_now(client, post_form, login_as,
                                                                    make_consultation):
    login_as(Role.STAFF)
    consultation = make_consultation(state="open")
    page = text_of(client.get(f"{BASE}/{consultation.reference}/edit"))
    response = post_form(f"{BASE}/{consultation.reference}/edit", edit_form_as_shown(
        page, closes_on=uk_date_parts(utcnow() - timedelta(days=1))))
    assert response.status_code == 200
    assert field_error(text_of(response), "closes_on") == (
        "The closing time must be in the future. To stop taking comments now, use ‘Close this consultation now’ "
        "on its page")
    assert reload(consultation).status is ConsultationStatus.OPEN


# --- The counts on the check page ----------------------------------------------------------

def test_the_counts_are_of_submitted_responses_and_people_holding_drafts(app_context, make_user,
                                                                          make_participation, make_consultation):
    consultation = make_consultation(state="open")
    other = make_consultation(state="open")
    for _ in range(2):
        submitted_response(make_user, make_participation, consultation)
    submitted_response(make_user, make_participation, other)  # another consultation's: not counted
    with_two_drafts = make_participation(make_user(), consultation)
    add_draft(with_two_drafts, "One")
    add_draft(with_two_drafts, "Two")
    only_an_answer = make_participation(make_user(), consultation)
    question = Question(consultation_id=consultation.id, kind=QuestionKind.OPEN, text="Anything else?", position=1)
    db.session.add(question)
    db.session.flush()
    db.session.add(Answer(participation_id=only_an_answer.id, question_id=question.id, text="Yes, this."))
    make_participation(make_user(), consultation)  # nothing written
    db.session.commit()

    assert services.closing_counts(consultation) == services.ClosingCounts(submitted_responses=2,
                                                                          people_with_drafts=2)


def test_the_check_page_costs_the_same_queries_however_many_comments(app, client, login_as, make_user,
                                                                     make_participation, make_consultation):
    login_as(Role.STAFF)
    statements = {}
    for size in (1, 8):
        consultation = make_consultation(state="open")
        for _ in range(size):
            submitted_response(make_user, make_participation, consultation)
            add_draft(make_participation(make_user(), consultation))
        with app.app_context(), counted_queries() as sent:
            page = plain(client.get(close_url(consultation)))
        assert f"{size} response" in page
        statements[size] = sent
    assert len(statements[1]) == len(statements[8])
    assert not any("comments.body" in statement for statement in statements[8])
