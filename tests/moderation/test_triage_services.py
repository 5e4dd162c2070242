"""Triage at volume, as rules: who is reading, flags and notes, saved views, and 'all matching' at scale."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from consult.accounts.models import Role
from consult.audit.models import AuditEvent
from consult.comments.models import Comment
from consult.database import utcnow
from consult.extensions import db
from consult.moderation import queries, services
from consult.moderation.highlight import highlight
from consult.moderation.models import TriageMark
from consult.moderation.states import ModerationState, RejectionReason


@pytest.fixture
def desk(make_consultation, make_submitted_comments, make_staff):
    consultation = make_consultation()
    comments = make_submitted_comments(consultation, 5, body="Comment {i} on cost")
    return {"consultation": consultation, "comments": comments,
            "alice": make_staff("Alice Staff"), "bob": make_staff("Bob Staff")}


def audits(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


# --- Who is reading -------------------------------------------------------------------------------


def test_the_first_reader_holds_a_comment_until_the_hold_lapses(desk):
    first, alice, bob = desk["comments"][0], desk["alice"], desk["bob"]
    start = utcnow()
    services.start_reading(first, alice, start)
    mark = services.start_reading(first, bob, start + timedelta(minutes=1))
    assert mark.reader_id == alice.id and mark.reading_since == start
    assert services.read_by_someone_else(mark, bob.id, start + timedelta(minutes=1))
    assert not services.read_by_someone_else(mark, alice.id, start + timedelta(minutes=1))

    later = start + services.READING_FOR + timedelta(seconds=1)
    assert not services.read_by_someone_else(mark, bob.id, later)
    mark = services.start_reading(first, bob, later)
    assert mark.reader_id == bob.id and mark.reading_since == later


def test_opening_another_comment_lets_go_of_the_last(desk):
    first, second, alice = desk["comments"][0], desk["comments"][1], desk["alice"]
    now = utcnow()
    services.start_reading(first, alice, now)
    services.start_reading(second, alice, now)
    db.session.expire_all()
    assert db.session.get(TriageMark, first.id).reader_id is None
    assert db.session.get(TriageMark, second.id).reader_id == alice.id
    assert services.start_reading(second, alice, now + timedelta(minutes=2)).reading_since == now


def test_not_being_read_by_someone_else_leaves_out_only_colleagues_holds(desk):
    consultation, (first, second, *_rest) = desk["consultation"], desk["comments"]
    now = utcnow()
    services.start_reading(first, desk["bob"], now)
    services.start_reading(second, desk["alice"], now)
    free_for_alice = queries.QueueFilters(free_for=desk["alice"].id, reading_since=now - services.READING_FOR)
    numbers = list(db.session.scalars(queries.matching_comments(consultation.id, free_for_alice)
                                      .with_only_columns(Comment.number)))
    assert first.number not in numbers and second.number in numbers and len(numbers) == 4
    lapsed = queries.QueueFilters(free_for=desk["alice"].id, reading_since=now + timedelta(seconds=1))
    assert queries.count_matching(consultation.id, lapsed) == 5


# --- Flags and notes -----------------------------------------------------------------------------


def test_flagging_records_who_and_when_and_is_audited(desk):
    comment, alice, bob = desk["comments"][0], desk["alice"], desk["bob"]
    now = utcnow()
    mark = services.set_flag(comment, True, alice, now)
    assert (mark.flagged, mark.flagged_by_id, mark.flagged_at) == (True, alice.id, now)
    with pytest.raises(services.NothingToChange, match="already flagged"):
        services.set_flag(comment, True, bob, now)
    services.set_flag(comment, False, bob, now)
    assert [(e.actor_id, e.before["flagged"], e.after["flagged"]) for e in audits("comment.flag")] == [
        (alice.id, False, True)]
    assert [(e.actor_id, e.after["flagged"]) for e in audits("comment.unflag")] == [(bob.id, False)]
    flagged = queries.QueueFilters(flagged=True)
    assert queries.count_matching(desk["consultation"].id, flagged) == 0
    services.set_flag(comment, True, bob, now)
    assert queries.count_matching(desk["consultation"].id, flagged) == 1
    assert queries.count_matching(desk["consultation"].id, queries.QueueFilters(flagged=False)) == 4


def test_a_note_saved_since_it_was_opened_is_not_overwritten(desk):
    comment, alice, bob = desk["comments"][0], desk["alice"], desk["bob"]
    now = utcnow()
    mark = services.save_triage_note(comment, "  Check the cost figures  ", 0, alice, now)
    assert (mark.note, mark.note_by_id, mark.note_at, mark.note_version) == ("Check the cost figures", alice.id,
                                                                             now, 1)
    with pytest.raises(services.StaleNote, match="The note on this comment was changed by Alice Staff"):
        services.save_triage_note(comment, "Bob's view", 0, bob, now)
    with pytest.raises(services.InvalidInput, match="2,000 characters or fewer"):
        services.save_triage_note(comment, "x" * 2001, 1, bob, now)
    services.save_triage_note(comment, "", 1, bob, now)
    db.session.expire_all()
    mark = db.session.get(TriageMark, comment.id)
    assert (mark.note, mark.note_by_id, mark.note_version) == ("", None, 2)
    assert [(e.actor_id, e.before["note"], e.after["note"]) for e in audits("comment.note")] == [
        (alice.id, "", "Check the cost figures"), (bob.id, "Check the cost figures", "")]


# --- Saved views ---------------------------------------------------------------------------------


def test_saved_views_are_named_once_and_belong_to_their_owner(desk):
    consultation, alice, bob = desk["consultation"], desk["alice"], desk["bob"]
    view = services.save_view(alice, consultation, "  Flagged   on chapter 1 ", "flag=yes&chapter=1")
    assert view.name == "Flagged on chapter 1"
    with pytest.raises(services.DuplicateViewName, match="already have a view called ‘Flagged on chapter 1’"):
        services.save_view(alice, consultation, "Flagged on chapter 1", "flag=yes")
    with pytest.raises(services.InvalidInput, match="Enter a name"):
        services.save_view(alice, consultation, "   ", "")
    with pytest.raises(services.InvalidInput, match="80 characters or fewer"):
        services.save_view(alice, consultation, "x" * 81, "")
    services.save_view(bob, consultation, "Flagged on chapter 1", "flag=yes")  # his own, the same name
    assert [v.name for v in services.views_of(alice)] == ["Flagged on chapter 1"]
    with pytest.raises(services.SavedViewNotFound):
        services.delete_view(bob, view.id)
    services.delete_view(alice, view.id)
    assert services.views_of(alice) == [] and len(services.views_of(bob)) == 1
    assert [e.action for e in db.session.scalars(select(AuditEvent).where(
        AuditEvent.object_type == "saved_views").order_by(AuditEvent.id))] == [
        "saved_view.create", "saved_view.create", "saved_view.delete"]


# --- All matching, at scale ----------------------------------------------------------------------


def test_all_matching_applies_to_exactly_the_confirmed_set_in_batches(desk, make_submitted_comments,
                                                                      monkeypatch):
    consultation, alice = desk["consultation"], desk["alice"]
    make_submitted_comments(consultation, 3, body="Unrelated comment {i}")
    loaded_at = utcnow()
    on_cost = queries.QueueFilters(text="cost")
    action = services.BulkAction("accept")
    plan = services.plan_matching(consultation.id, on_cost, loaded_at, action, 5)
    assert plan.items == {} and plan.count == 5 and len(plan.references) == 5
    late = make_submitted_comments(consultation, 1, body="A late comment on cost",
                                   submitted_at=loaded_at + timedelta(seconds=5))
    batches = []
    real = queries.in_batches
    monkeypatch.setattr(queries, "in_batches", lambda query: (batches.append(b) or b for b in real(query, size=2)))
    outcome = services.apply_to_matching(consultation.id, on_cost, loaded_at, (plan.count, plan.checksum),
                                         action, alice, utcnow())
    assert [len(b) for b in batches] == [2, 2, 1]
    assert len(outcome.changed) == 5
    db.session.expire_all()
    accepted = set(db.session.scalars(select(Comment.id).where(
        Comment.moderation_state == ModerationState.ACCEPTED)))
    assert accepted == {c.id for c in desk["comments"]}
    assert db.session.get(Comment, late[0].id).moderation_state is ModerationState.NEW
    assert len(audits("comment.accept")) == 5


def test_all_matching_refuses_when_the_set_changed_after_it_was_confirmed(desk):
    consultation, alice, bob = desk["consultation"], desk["alice"], desk["bob"]
    loaded_at = utcnow()
    action = services.BulkAction("reject", reason=RejectionReason.SPAM)
    plan = services.plan_matching(consultation.id, queries.QueueFilters(), loaded_at, action, 5)
    assert plan.count == 5
    taken = desk["comments"][2]
    services.decide_comment(taken, services.Decision(ModerationState.ACCEPTED), bob, taken.version, utcnow())
    with pytest.raises(services.MatchingChanged):
        services.apply_to_matching(consultation.id, queries.QueueFilters(), loaded_at,
                                   (plan.count, plan.checksum), action, alice, utcnow())
    assert db.session.scalar(select(func.count()).select_from(Comment).where(
        Comment.moderation_state == ModerationState.REJECTED)) == 0
    with pytest.raises(services.MatchingChanged):  # the same count with another comment is another set
        services.apply_to_matching(consultation.id, queries.QueueFilters(), loaded_at,
                                   (4, plan.checksum + 1), action, alice, utcnow())


def test_all_matching_counts_the_rejected_and_redacted_comments_an_accept_leaves_as_they_are(desk, make_staff):
    consultation, alice, bob = desk["consultation"], desk["alice"], desk["bob"]
    first, second, third, *rest = desk["comments"]
    services.decide_comment(second, services.Decision(ModerationState.REJECTED, reason=RejectionReason.SPAM),
                            bob, second.version, utcnow())
    services.decide_comment(third, services.Decision(
        ModerationState.REDACTED, reason=RejectionReason.PERSONAL_DATA, redacted_body="Comment [removed]"),
        bob, third.version, utcnow())
    loaded_at = utcnow()
    action = services.BulkAction("accept")
    plan = services.plan_matching(consultation.id, queries.QueueFilters(), loaded_at, action, 5, actor=alice)
    assert (plan.count, plan.to_change) == (5, 3)
    assert plan.left == {ModerationState.REJECTED: 1, ModerationState.REDACTED: 1}
    assert second.reference not in plan.references and third.reference not in plan.references
    assert len(plan.references) == 3 and plan.more == 0
    admin = make_staff("Ada Admin", role=Role.ADMIN)
    as_admin = services.plan_matching(consultation.id, queries.QueueFilters(), loaded_at, action, 5, actor=admin)
    assert as_admin.left == {ModerationState.REJECTED: 1} and as_admin.to_change == 4
    assert (as_admin.count, as_admin.checksum) == (plan.count, plan.checksum)  # the same set, confirmed
    rejecting = services.plan_matching(consultation.id, queries.QueueFilters(), loaded_at,
                                       services.BulkAction("reject", reason=RejectionReason.DUPLICATE), 5,
                                       actor=alice)
    assert rejecting.left == {} and rejecting.to_change == 5

    outcome = services.apply_to_matching(consultation.id, queries.QueueFilters(), loaded_at,
                                         (plan.count, plan.checksum), action, alice, utcnow())
    assert outcome.changed == [first, *rest] and outcome.refused == [second, third]
    db.session.expire_all()
    assert db.session.get(Comment, second.id).moderation_state is ModerationState.REJECTED
    assert db.session.get(Comment, third.id).moderation_state is ModerationState.REDACTED
    assert len(audits("comment.accept")) == 3


def test_ticked_comments_an_accept_leaves_as_they_are_are_counted_apart(desk):
    consultation, alice = desk["consultation"], desk["alice"]
    first, second = desk["comments"][:2]
    services.decide_comment(second, services.Decision(ModerationState.REJECTED, reason=RejectionReason.SPAM),
                            alice, second.version, utcnow())
    plan = services.plan_selected(consultation.id, {first.id: first.version, second.id: second.version},
                                  services.BulkAction("accept"), actor=alice)
    assert plan.left == {ModerationState.REJECTED: 1} and plan.to_change == 1
    assert plan.references == [first.reference]
    outcome = services.apply_bulk_action(consultation.id, plan.items, services.BulkAction("accept"), alice,
                                         utcnow())
    assert outcome.changed == [first] and outcome.refused == [second]


def test_neighbours_follow_the_filtered_queue(desk, make_submitted_comments):
    consultation = desk["consultation"]
    others = make_submitted_comments(consultation, 2, body="Unrelated {i}")
    numbers = [c.number for c in desk["comments"]]
    on_cost = queries.QueueFilters(text="cost")
    assert queries.neighbours(consultation.id, on_cost, numbers[0]) == (None, numbers[1])
    assert queries.neighbours(consultation.id, on_cost, numbers[-1]) == (numbers[-2], None)
    assert queries.neighbours(consultation.id, queries.QueueFilters(), numbers[-1]) == (numbers[-2],
                                                                                        others[0].number)


# --- Highlighting ----------------------------------------------------------------------------------


def test_highlighting_escapes_the_text_and_the_term():
    assert str(highlight("<b>Cost</b> & cost", "cost")) == (
        "&lt;b&gt;<mark>Cost</mark>&lt;/b&gt; &amp; <mark>cost</mark>")
    assert str(highlight("a <script>alert(1)</script>", "<script>")) == (
        "a &lt;<mark>script</mark>&gt;alert(1)&lt;/<mark>script</mark>&gt;")
    assert str(highlight("fish &amp; chips", "amp")) == "fish &amp;<mark>amp</mark>; chips"
    assert str(highlight("no match <i>", "")) == "no match &lt;i&gt;"
    snippet = str(highlight("x " * 150 + "needle" + " y" * 150, "needle", 200))
    assert "<mark>needle</mark>" in snippet and snippet.startswith("…") and snippet.endswith("…")


def test_highlighting_marks_what_the_search_looked_for():
    assert str(highlight("Patients said the procedure hurt", "patient procedures")) == (
        "<mark>Patients</mark> said the <mark>procedure</mark> hurt")
    assert str(highlight("It was too high for me", '"too high" -me')) == "It was <mark>too high</mark> for me"
    assert str(highlight("Cost matters", "-cost")) == "Cost matters"  # excluded words are not why it matched
    assert str(highlight("the cost", "the cost")) == "the <mark>cost</mark>"  # stop words are not searched