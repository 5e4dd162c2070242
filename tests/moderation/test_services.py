"""The staff rules, called as the views call them: decisions, themes, responses, bulk actions, progress."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from consult.accounts.models import Role
from consult.audit.models import AuditEvent
from consult.comments import services as comment_services
from consult.comments.models import Comment, IndividualType
from consult.database import utcnow
from consult.extensions import db
from consult.moderation import queries, services
from consult.moderation.models import CommentResponse, CommentTheme, ModerationDecision, Theme
from consult.moderation.states import ModerationState, RejectionReason, ResponseState, TagSource
from tests.conftest import sections_of

ACCEPT = services.Decision(ModerationState.ACCEPTED)
DUPLICATE = services.Decision(ModerationState.REJECTED, reason=RejectionReason.DUPLICATE)


def audit_events(obj, action: str | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.object_type == type(obj).__tablename__,
                                     AuditEvent.object_id == str(obj.id)).order_by(AuditEvent.id)
    if action:
        query = query.where(AuditEvent.action == action)
    return list(db.session.scalars(query))


def decisions_of(comment) -> list[ModerationDecision]:
    return list(db.session.scalars(select(ModerationDecision).where(ModerationDecision.comment_id == comment.id)
                                   .order_by(ModerationDecision.id)))


@pytest.fixture
def world(make_consultation, make_submitted_comments, make_staff):
    consultation = make_consultation()
    comments = make_submitted_comments(consultation, 3, quote="only be used in research")
    return {"consultation": consultation, "comments": comments,
            "alice": make_staff("Alice Staff"), "bob": make_staff("Bob Staff")}


def bump_behind_the_orm(comment, actor) -> None:
    """Another request's committed decision, written without this session knowing."""
    db.session.execute(
        update(Comment).where(Comment.id == comment.id)
        .values(version=Comment.version + 1, moderation_state=ModerationState.ACCEPTED,
                moderated_by_id=actor.id, moderated_at=utcnow())
        .execution_options(synchronize_session=False))


# --- Decisions ----------------------------------------------------------------------------


def test_accepting_records_who_when_history_and_audit(world):
    comment, alice = world["comments"][0], world["alice"]
    version = comment.version
    now = utcnow()
    services.decide_comment(comment, ACCEPT, alice, version, now)
    db.session.commit()

    assert comment.moderation_state is ModerationState.ACCEPTED
    assert comment.moderated_by_id == alice.id and comment.moderated_at == now
    assert comment.version == version + 1
    [decision] = decisions_of(comment)
    assert (decision.actor_id, decision.from_state, decision.to_state) == (alice.id, ModerationState.NEW,
                                                                           ModerationState.ACCEPTED)
    [audit] = audit_events(comment)
    assert audit.action == "comment.accept" and audit.actor_id == alice.id
    assert audit.before["moderation_state"] == "new" and audit.after["moderation_state"] == "accepted"
    assert audit.after["version"] == version + 1


def test_rejecting_needs_a_reason_and_nothing_is_written_without_one(world):
    comment = world["comments"][0]
    with pytest.raises(services.InvalidInput) as refused:
        services.decide_comment(comment, services.Decision(ModerationState.REJECTED), world["alice"],
                                comment.version, utcnow())
    assert refused.value.field == "reason"
    assert "Select why the comment is rejected" in str(refused.value)
    db.session.rollback()
    assert comment.moderation_state is ModerationState.NEW
    assert decisions_of(comment) == [] and audit_events(comment) == []


def test_other_as_a_reason_needs_an_explanation(world):
    comment = world["comments"][0]
    other = services.Decision(ModerationState.REJECTED, reason=RejectionReason.OTHER, note="   ")
    with pytest.raises(services.InvalidInput, match="Explain why"):
        services.decide_comment(comment, other, world["alice"], comment.version, utcnow())
    services.decide_comment(comment, services.Decision(ModerationState.REJECTED, reason=RejectionReason.OTHER,
                                                       note="Advertises a clinic"),
                            world["alice"], comment.version, utcnow())
    assert comment.rejection_reason is RejectionReason.OTHER
    assert comment.moderation_note == "Advertises a clinic"
    [decision] = decisions_of(comment)
    assert decision.reason is RejectionReason.OTHER and decision.note == "Advertises a clinic"


def test_each_transition_is_kept_in_the_history(world):
    comment, alice, bob = world["comments"][0], world["alice"], world["bob"]
    services.decide_comment(comment, ACCEPT, alice, comment.version, utcnow())
    services.decide_comment(comment, DUPLICATE, bob, comment.version, utcnow())
    redaction = services.Decision(ModerationState.REDACTED, reason=RejectionReason.PERSONAL_DATA,
                                  redacted_body="Comment [name removed].")
    services.decide_comment(comment, redaction, alice, comment.version, utcnow())
    db.session.commit()
    history = [(d.from_state, d.to_state, d.actor_id) for d in decisions_of(comment)]
    assert history == [
        (ModerationState.NEW, ModerationState.ACCEPTED, alice.id),
        (ModerationState.ACCEPTED, ModerationState.REJECTED, bob.id),
        (ModerationState.REJECTED, ModerationState.REDACTED, alice.id),
    ]
    assert [e.action for e in audit_events(comment)] == ["comment.accept", "comment.reject", "comment.redact"]
    assert comment.rejection_reason is None  # a redacted comment is not rejected


def test_deciding_the_same_again_changes_nothing(world):
    comment = world["comments"][0]
    services.decide_comment(comment, ACCEPT, world["alice"], comment.version, utcnow())
    with pytest.raises(services.NothingToChange, match="already accepted"):
        services.decide_comment(comment, ACCEPT, world["alice"], comment.version, utcnow())
    assert len(decisions_of(comment)) == 1


def test_redaction_keeps_the_original_and_shows_the_copy(world):
    comment = world["comments"][0]
    original_body, original_quote = comment.body, comment.quote
    decision = services.Decision(ModerationState.REDACTED, reason=RejectionReason.PERSONAL_DATA,
                                 redacted_body="My GP [name removed] said so.", redacted_quote="only be used")
    services.decide_comment(comment, decision, world["alice"], comment.version, utcnow())
    db.session.commit()
    assert comment.body == original_body and comment.quote == original_quote
    assert comment.shown_body == "My GP [name removed] said so."
    assert comment.shown_quote == "only be used"
    assert decisions_of(comment)[0].reason is RejectionReason.PERSONAL_DATA


def test_the_history_says_what_each_decision_changed_in_words_that_make_sense(world):
    comment, alice = world["comments"][0], world["alice"]
    for decision in (
            services.Decision(ModerationState.REDACTED, reason=RejectionReason.PERSONAL_DATA, redacted_body="[a]"),
            services.Decision(ModerationState.REDACTED, reason=RejectionReason.PERSONAL_DATA, redacted_body="[b]"),
            DUPLICATE, services.Decision(ModerationState.REJECTED, reason=RejectionReason.SPAM)):
        services.decide_comment(comment, decision, alice, comment.version, utcnow())
    assert [d.change_in_words for d in decisions_of(comment)] == [
        "changed it from new to redacted", "changed the redaction", "changed it from redacted to rejected",
        "changed the rejection"]


def test_a_redaction_must_change_something_and_say_why(world):
    comment = world["comments"][0]
    same = services.Decision(ModerationState.REDACTED, reason=RejectionReason.PERSONAL_DATA,
                             redacted_body=comment.body, redacted_quote=comment.quote)
    with pytest.raises(services.InvalidInput, match="same as the original"):
        services.decide_comment(comment, same, world["alice"], comment.version, utcnow())
    no_reason = services.Decision(ModerationState.REDACTED, redacted_body="Shorter.")
    with pytest.raises(services.InvalidInput, match="Select why the comment is redacted"):
        services.decide_comment(comment, no_reason, world["alice"], comment.version, utcnow())
    empty = services.Decision(ModerationState.REDACTED, reason=RejectionReason.OFFENSIVE, redacted_body=" ")
    with pytest.raises(services.InvalidInput, match="Enter the redacted comment"):
        services.decide_comment(comment, empty, world["alice"], comment.version, utcnow())
    assert comment.moderation_state is ModerationState.NEW


def test_clearing_the_quote_in_a_redaction_withholds_it(world):
    comment = world["comments"][0]
    decision = services.Decision(ModerationState.REDACTED, reason=RejectionReason.PERSONAL_DATA,
                                 redacted_body=comment.body, redacted_quote="")
    services.decide_comment(comment, decision, world["alice"], comment.version, utcnow())
    assert comment.redacted_quote == "" and not comment.shown_quote
    assert comment.quote == "only be used in research"


def test_a_draft_comment_cannot_be_moderated(world, make_user, make_participation):
    participation = make_participation(make_user(), world["consultation"])
    section = sections_of(world["consultation"])["1.1"]
    draft = comment_services.save_draft(participation, comment_services.CommentTargetRef(
        section.document, section.chapter, section), "Not sent yet", None, utcnow())
    with pytest.raises(services.InvalidInput, match="Only submitted comments"):
        services.decide_comment(draft, ACCEPT, world["alice"], draft.version, utcnow())


def test_a_stale_version_is_refused_naming_who_changed_it(world):
    comment, alice, bob = world["comments"][0], world["alice"], world["bob"]
    opened_version = comment.version
    at = utcnow()
    services.decide_comment(comment, ACCEPT, bob, opened_version, at)
    db.session.commit()
    with pytest.raises(services.StaleComment) as stale:
        services.decide_comment(comment, DUPLICATE, alice, opened_version, utcnow())
    assert stale.value.change == services.Change("Bob Staff", at)
    assert stale.value.comment is comment
    assert "changed by Bob Staff since you opened it" in str(stale.value)
    db.session.rollback()
    assert comment.moderation_state is ModerationState.ACCEPTED
    assert [d.actor_id for d in decisions_of(comment)] == [bob.id]


def test_a_true_race_is_caught_by_the_version_column(world):
    """Both requests read version 1; the other commits first, so this flush matches no row."""
    comment, alice, bob = world["comments"][0], world["alice"], world["bob"]
    read_version = comment.version
    bump_behind_the_orm(comment, bob)
    assert comment.version == read_version  # this session has not seen the other save
    with pytest.raises(services.StaleComment) as stale:
        services.decide_comment(comment, DUPLICATE, alice, read_version, utcnow())
    assert stale.value.change.by == "Bob Staff"
    # The service undid only its own savepoint: the other save stands, and is what the error carries.
    assert stale.value.comment.version == read_version + 1
    assert comment.moderation_state is ModerationState.ACCEPTED
    assert comment.rejection_reason is None
    assert decisions_of(comment) == [] and audit_events(comment) == []


# --- Bulk decisions --------------------------------------------------------------------


def test_bulk_reject_changes_each_audits_each_and_reports_the_rest(world):
    consultation, alice, bob = world["consultation"], world["alice"], world["bob"]
    first, second, third = world["comments"]
    seen = {c.id: c.version for c in world["comments"]}
    services.decide_comment(second, ACCEPT, bob, second.version, utcnow())  # after alice loaded the queue
    services.decide_comment(third, DUPLICATE, alice, third.version, utcnow())
    db.session.commit()
    seen[third.id] = third.version  # she saw this one already rejected
    outcome = services.bulk_decide(consultation.id, seen, DUPLICATE, alice, utcnow())
    db.session.commit()
    assert outcome.changed == [first]
    assert [(c.comment, c.change.by) for c in outcome.conflicts] == [(second, "Bob Staff")]
    assert outcome.unchanged == [third]
    assert first.moderation_state is ModerationState.REJECTED
    assert second.moderation_state is ModerationState.ACCEPTED  # bob's decision stands
    assert [e.action for e in audit_events(first)] == ["comment.reject"]
    assert [e.action for e in audit_events(second)] == ["comment.accept"]


def test_a_bulk_accept_leaves_a_rejection_as_it_is_even_for_an_admin(world, make_user):
    consultation, alice, bob = world["consultation"], world["alice"], world["bob"]
    first, second, third = world["comments"]
    services.decide_comment(second, services.Decision(ModerationState.REJECTED, reason=RejectionReason.SPAM),
                            bob, second.version, utcnow())
    db.session.commit()
    for actor in (alice, make_user(name="Ada Admin", role=Role.ADMIN)):
        outcome = services.bulk_decide(consultation.id, {c.id: c.version for c in world["comments"]}, ACCEPT,
                                       actor, utcnow())
        assert outcome.refused == [second] and second not in outcome.changed
        assert second.moderation_state is ModerationState.REJECTED
        assert second.rejection_reason is RejectionReason.SPAM and second.moderated_by == bob
    assert [d.to_state for d in decisions_of(second)] == [ModerationState.REJECTED]
    assert [e.action for e in audit_events(second)] == ["comment.reject"]
    assert first.moderation_state is third.moderation_state is ModerationState.ACCEPTED


def test_bulk_refuses_comments_of_another_consultation_and_changes_nothing(world, make_consultation,
                                                                          make_submitted_comments):
    [elsewhere] = make_submitted_comments(make_consultation())
    mine = world["comments"][0]
    with pytest.raises(services.InvalidSelection):
        services.bulk_decide(world["consultation"].id, {mine.id: mine.version, elsewhere.id: elsewhere.version},
                             ACCEPT, world["alice"], utcnow())
    db.session.rollback()
    assert mine.moderation_state is ModerationState.NEW and elsewhere.moderation_state is ModerationState.NEW


def test_bulk_needs_a_reason_to_reject_and_cannot_redact(world):
    ids = {c.id: c.version for c in world["comments"]}
    with pytest.raises(services.InvalidInput, match="Select why"):
        services.bulk_decide(world["consultation"].id, ids, services.Decision(ModerationState.REJECTED),
                             world["alice"], utcnow())
    with pytest.raises(services.InvalidInput, match="one at a time"):
        services.bulk_decide(world["consultation"].id, ids, services.Decision(
            ModerationState.REDACTED, reason=RejectionReason.OFFENSIVE, redacted_body="x"), world["alice"],
            utcnow())
    assert all(c.moderation_state is ModerationState.NEW for c in world["comments"])


def test_a_race_during_bulk_leaves_every_comment_as_it_was(world):
    comments, alice, bob = world["comments"], world["alice"], world["bob"]
    versions = {c.id: c.version for c in comments}
    bump_behind_the_orm(comments[1], bob)
    with pytest.raises(services.SelectionChanged):
        services.bulk_decide(world["consultation"].id, versions, DUPLICATE, alice, utcnow())
    states = [db.session.execute(select(Comment.moderation_state).where(Comment.id == c.id)).scalar_one()
              for c in comments]
    assert states == [ModerationState.NEW, ModerationState.ACCEPTED, ModerationState.NEW]
    assert db.session.scalar(select(func.count()).select_from(ModerationDecision)) == 0


# --- Themes -----------------------------------------------------------------------------


def test_theme_names_are_unique_per_consultation_whatever_their_case(world, make_consultation):
    consultation, alice = world["consultation"], world["alice"]
    theme = services.create_theme(consultation.id, "  Cost   of treatment ", "Money", alice)
    assert theme.name == "Cost of treatment"
    with pytest.raises(services.DuplicateThemeName) as duplicate:
        services.create_theme(consultation.id, "cost of TREATMENT", "", alice)
    assert "already a theme called ‘Cost of treatment’" in str(duplicate.value)  # as it is written, not as typed
    assert services.create_theme(make_consultation().id, "Cost of treatment", "", alice).id != theme.id
    with pytest.raises(services.InvalidInput, match="Enter a name"):
        services.create_theme(consultation.id, "   ", "", alice)
    assert [e.action for e in audit_events(theme)] == ["theme.create"]


@pytest.mark.parametrize("name,message", [
    ("\u200b\u200d\ufeff", "Enter a name for the theme"),  # invisible alone: it would list as a blank theme
    ("Cost\u202e", "The theme name must not include hidden characters that change the direction of text"),
])
def test_a_theme_name_that_would_not_read_as_typed_is_refused(world, name, message):
    with pytest.raises(services.InvalidInput, match=message):
        services.create_theme(world["consultation"].id, name, "", world["alice"])
    with pytest.raises(services.InvalidInput, match=message.replace("the theme", "this view").replace(
            "The theme name", "The name")):
        services.save_view(world["alice"], world["consultation"], name, "flag=yes")
    assert services.create_theme(world["consultation"].id, "Co\u200bst", "", world["alice"]).name == "Cost"


def test_renaming_checks_duplicates_and_the_version(world):
    consultation, alice, bob = world["consultation"], world["alice"], world["bob"]
    cost = services.create_theme(consultation.id, "Cost", "", alice)
    services.create_theme(consultation.id, "Safety", "", alice)
    db.session.commit()
    opened = cost.version
    with pytest.raises(services.DuplicateThemeName):
        services.update_theme(cost, "SAFETY", "", alice, opened)
    assert services.update_theme(cost, "cost", "What it costs", alice, opened) is True  # a change of case is fine
    db.session.commit()
    assert (cost.name, cost.description) == ("cost", "What it costs")
    with pytest.raises(services.StaleTheme) as stale:
        services.update_theme(cost, "Costs", "", bob, opened)
    assert stale.value.change.by == "Alice Staff"
    assert [e.action for e in audit_events(cost)] == ["theme.create", "theme.update"]


def test_tags_record_provenance_and_are_not_doubled(world):
    comment, alice = world["comments"][0], world["alice"]
    cost = services.create_theme(world["consultation"].id, "Cost", "", alice)
    safety = services.create_theme(world["consultation"].id, "Safety", "", alice)
    now = utcnow()
    tag = services.tag_comment(comment, cost, alice, now)
    suggested = services.tag_comment(comment, safety, None, now, source=TagSource.SYSTEM)
    assert (tag.source, tag.tagged_by_id, tag.tagged_at) == (TagSource.PERSON, alice.id, now)
    assert (suggested.source, suggested.tagged_by_id) == (TagSource.SYSTEM, None)
    with pytest.raises(services.NothingToChange, match="already has the theme"):
        services.tag_comment(comment, cost, alice, now)
    services.untag_comment(comment, cost, alice)
    assert db.session.get(CommentTheme, (comment.id, cost.id)) is None
    actions = [(e.action, (e.after or e.before)["theme"]) for e in audit_events(comment)]
    assert actions == [("comment.tag", "Cost"), ("comment.tag", "Safety"), ("comment.untag", "Cost")]


def test_a_theme_of_another_consultation_cannot_be_used(world, make_consultation):
    other = services.create_theme(make_consultation().id, "Elsewhere", "", world["alice"])
    with pytest.raises(services.InvalidInput):
        services.tag_comment(world["comments"][0], other, world["alice"], utcnow())
    with pytest.raises(services.InvalidInput):
        services.merge_themes(services.create_theme(world["consultation"].id, "Here", "", world["alice"]), other,
                              world["alice"])


def test_merging_moves_tags_keeps_the_earliest_provenance_and_removes_duplicates(world):
    consultation, alice, bob = world["consultation"], world["alice"], world["bob"]
    first, second, third = world["comments"]
    costs = services.create_theme(consultation.id, "Costs", "", alice)
    cost = services.create_theme(consultation.id, "Cost", "", alice)
    early, late = utcnow() - timedelta(hours=2), utcnow()
    services.tag_comment(first, costs, bob, early)  # on both: bob tagged "Costs" first
    services.tag_comment(first, cost, alice, late)
    services.tag_comment(second, costs, bob, late)  # only on the source
    services.tag_comment(third, cost, alice, early)  # only on the target
    db.session.commit()
    costs_id = costs.id

    assert services.merge_themes(costs, cost, alice) == 2
    db.session.commit()

    assert db.session.get(Theme, costs_id) is None
    tags = {t.comment_id: t for t in db.session.scalars(select(CommentTheme))}
    assert set(tags) == {first.id, second.id, third.id}
    assert all(t.theme_id == cost.id for t in tags.values())
    assert (tags[first.id].tagged_by_id, tags[first.id].tagged_at) == (bob.id, early)
    assert (tags[second.id].tagged_by_id, tags[second.id].tagged_at) == (bob.id, late)
    assert (tags[third.id].tagged_by_id, tags[third.id].tagged_at) == (alice.id, early)
    [merge] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "theme.merge"))
    assert merge.object_id == str(costs_id) and merge.after["merged_into"] == "Cost"
    assert merge.after["already_in_target"] == 1


def test_merging_a_theme_into_itself_is_refused(world):
    theme = services.create_theme(world["consultation"].id, "Cost", "", world["alice"])
    with pytest.raises(services.InvalidInput, match="different theme"):
        services.merge_themes(theme, theme, world["alice"])


def test_deleting_needs_the_theme_unused_or_a_theme_to_move_its_comments_to(world):
    consultation, alice = world["consultation"], world["alice"]
    unused = services.create_theme(consultation.id, "Unused", "", alice)
    used = services.create_theme(consultation.id, "Used", "", alice)
    kept = services.create_theme(consultation.id, "Kept", "", alice)
    for comment in world["comments"][:2]:
        services.tag_comment(comment, used, alice, utcnow())
    db.session.commit()
    unused_id, used_id = unused.id, used.id

    assert services.delete_theme(unused, alice) == 0
    db.session.commit()
    with pytest.raises(services.ThemeInUse) as in_use:
        services.delete_theme(used, alice)
    assert "is on 2 comments" in str(in_use.value)
    db.session.rollback()
    assert db.session.get(Theme, used_id) is not None
    assert services.delete_theme(db.session.get(Theme, used_id), alice, reassign_to=kept) == 2
    db.session.commit()

    assert db.session.get(Theme, unused_id) is None and db.session.get(Theme, used_id) is None
    assert services.comment_ids_with_theme(kept) == sorted(c.id for c in world["comments"][:2])
    deleted = list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "theme.delete")
                                      .order_by(AuditEvent.id)))
    assert [e.object_id for e in deleted] == [str(unused_id), str(used_id)]
    assert deleted[1].after["reassigned_to"] == "Kept"


def test_bulk_tagging_reports_comments_that_already_have_the_theme(world):
    consultation, alice = world["consultation"], world["alice"]
    theme = services.create_theme(consultation.id, "Cost", "", alice)
    services.tag_comment(world["comments"][0], theme, alice, utcnow())
    outcome = services.bulk_tag(consultation.id, [c.id for c in world["comments"]], theme, alice, utcnow())
    assert outcome.unchanged == world["comments"][:1]
    assert outcome.changed == world["comments"][1:]
    assert len(services.comment_ids_with_theme(theme)) == 3


# --- Responses ----------------------------------------------------------------------------


def test_a_response_goes_from_draft_to_agreed_with_its_version_checked(world):
    comment, alice, bob = world["comments"][0], world["alice"], world["bob"]
    response = services.save_response(comment, "We will look again.", ResponseState.DRAFT, alice, None, utcnow())
    db.session.commit()
    opened = response.version
    services.save_response(comment, "We have changed 1.1.", ResponseState.AGREED, bob, opened, utcnow())
    db.session.commit()
    assert (response.state, response.text, response.updated_by_id) == (ResponseState.AGREED,
                                                                       "We have changed 1.1.", bob.id)
    with pytest.raises(services.StaleResponse) as stale:
        services.save_response(comment, "Alice's words", ResponseState.DRAFT, alice, opened, utcnow())
    assert stale.value.change.by == "Bob Staff"
    assert [e.action for e in audit_events(response)] == ["response.draft", "response.agree"]


def test_a_stale_version_of_your_own_making_says_it_was_you_not_your_name(world):
    """Two tabs, or a form sent twice: naming the person as if a colleague sends them looking for one."""
    comment, alice = world["comments"][0], world["alice"]
    opened_version = comment.version
    services.decide_comment(comment, ACCEPT, alice, opened_version, utcnow())
    db.session.commit()
    with pytest.raises(services.StaleComment) as stale:
        services.decide_comment(comment, DUPLICATE, alice, opened_version, utcnow())
    assert stale.value.by_you
    assert str(stale.value).startswith("You changed this comment in another tab or window, or sent the form twice")
    assert "Alice Staff" not in str(stale.value)
    db.session.rollback()

    response = services.save_response(comment, "First words", ResponseState.DRAFT, alice, None, utcnow())
    db.session.commit()
    opened = response.version
    services.save_response(comment, "Second words", ResponseState.DRAFT, alice, opened, utcnow())
    db.session.commit()
    with pytest.raises(services.StaleResponse) as stale:
        services.save_response(comment, "Third words", ResponseState.DRAFT, alice, opened, utcnow())
    assert str(stale.value).startswith("You changed the response to this comment in another tab or window")


def test_a_response_written_by_someone_else_meanwhile_is_not_overwritten(world):
    comment, alice, bob = world["comments"][0], world["alice"], world["bob"]
    services.save_response(comment, "Bob's response", ResponseState.DRAFT, bob, None, utcnow())
    db.session.commit()
    with pytest.raises(services.StaleResponse):
        services.save_response(comment, "Alice's response", ResponseState.DRAFT, alice, None, utcnow())
    db.session.rollback()
    assert services.find_response(comment.id).text == "Bob's response"


def test_a_response_race_is_caught_by_the_version_column(world):
    comment, alice, bob = world["comments"][0], world["alice"], world["bob"]
    response = services.save_response(comment, "First", ResponseState.DRAFT, bob, None, utcnow())
    db.session.commit()
    read_version = response.version
    db.session.execute(update(CommentResponse).where(CommentResponse.id == response.id)
                       .values(version=CommentResponse.version + 1, text="Bob again")
                       .execution_options(synchronize_session=False))
    with pytest.raises(services.StaleResponse) as stale:
        services.save_response(comment, "Alice", ResponseState.AGREED, alice, read_version, utcnow())
    assert stale.value.response.text == "Bob again"


def test_no_response_needed_requires_a_reason_and_keeps_any_draft(world):
    comment, alice = world["comments"][0], world["alice"]
    response = services.save_response(comment, "Draft words", ResponseState.DRAFT, alice, None, utcnow())
    with pytest.raises(services.InvalidInput, match="Explain why no response is needed"):
        services.mark_no_response_needed(comment, "  ", alice, response.version, utcnow())
    services.mark_no_response_needed(comment, "Repeats comment 2", alice, response.version, utcnow())
    assert (response.state, response.reason, response.text) == (ResponseState.NOT_NEEDED, "Repeats comment 2",
                                                                 "Draft words")
    assert audit_events(response)[-1].action == "response.not_needed"
    with pytest.raises(services.InvalidInput):
        services.save_response(comment, "x", ResponseState.NOT_NEEDED, alice, response.version, utcnow())


def test_one_response_applied_to_many_then_edited_on_its_own(world):
    consultation, alice = world["consultation"], world["alice"]
    first, second, third = world["comments"]
    services.save_response(third, "Already answered", ResponseState.AGREED, alice, None, utcnow())
    outcome = services.apply_response(consultation.id, [c.id for c in world["comments"]], "Thank you.",
                                      ResponseState.DRAFT, alice, utcnow())
    db.session.commit()
    assert outcome.changed == [first, second] and outcome.unchanged == [third]
    assert services.find_response(third.id).text == "Already answered"
    one = services.find_response(first.id)
    services.save_response(first, "Thank you. Section 1.1 now says so.", ResponseState.AGREED, alice,
                           one.version, utcnow())
    db.session.commit()
    assert services.find_response(first.id).text.endswith("now says so.")
    assert services.find_response(second.id).text == "Thank you."
    assert len(audit_events(services.find_response(second.id))) == 1


def test_a_response_applied_to_a_theme_reaches_every_comment_with_it(world):
    consultation, alice = world["consultation"], world["alice"]
    theme = services.create_theme(consultation.id, "Cost", "", alice)
    for comment in world["comments"][:2]:
        services.tag_comment(comment, theme, alice, utcnow())
    outcome = services.apply_response_to_theme(theme, "Cost is out of scope.", ResponseState.AGREED, alice,
                                               utcnow())
    assert len(outcome.changed) == 2
    assert services.find_response(world["comments"][2].id) is None
    empty = services.create_theme(consultation.id, "Empty", "", alice)
    with pytest.raises(services.InvalidInput, match="No comments have the theme"):
        services.apply_response_to_theme(empty, "x", ResponseState.DRAFT, alice, utcnow())


# --- Progress ------------------------------------------------------------------------------


def test_progress_counts_triaged_themed_and_answered(world, make_consultation, make_submitted_comments, make_user,
                                                     make_participation):
    consultation, alice = world["consultation"], world["alice"]
    first, second, third = world["comments"]
    more = make_submitted_comments(consultation, 2, kind="organisation")
    draft_owner = make_participation(make_user(), consultation)  # a draft is never counted
    section = sections_of(consultation)["2.1"]
    comment_services.save_draft(draft_owner, comment_services.CommentTargetRef(
        section.document, section.chapter, section), "Draft", None, utcnow())
    theme = services.create_theme(consultation.id, "Cost", "", alice)
    services.decide_comment(first, ACCEPT, alice, first.version, utcnow())
    services.decide_comment(second, DUPLICATE, alice, second.version, utcnow())
    services.tag_comment(first, theme, alice, utcnow())
    services.tag_comment(more[0], theme, alice, utcnow())
    services.save_response(first, "Agreed words", ResponseState.AGREED, alice, None, utcnow())
    services.save_response(second, "Draft words", ResponseState.DRAFT, alice, None, utcnow())
    services.mark_no_response_needed(third, "Duplicate", alice, None, utcnow())
    untouched = make_consultation()
    db.session.commit()

    progress = queries.progress_for([consultation.id, untouched.id])
    assert progress[consultation.id] == queries.Progress(submitted=5, triaged=2, themed=2, answered=2)
    assert progress[untouched.id] == queries.Progress()


def test_theme_usage_counts_per_participant_type(world, make_submitted_comments):
    consultation, alice = world["consultation"], world["alice"]
    orgs = make_submitted_comments(consultation, 2, kind="organisation")
    professional = make_submitted_comments(consultation, 1, individual_type=IndividualType.HEALTH_PROFESSIONAL)
    theme = services.create_theme(consultation.id, "Cost", "", alice)
    services.create_theme(consultation.id, "Unused", "", alice)
    for comment in [world["comments"][0], *orgs, *professional]:
        services.tag_comment(comment, theme, alice, utcnow())
    usage, columns = queries.theme_usage(consultation.id)
    by_name = {row.theme.name: row for row in usage}
    assert by_name["Cost"].total == 4 and by_name["Unused"].total == 0
    assert by_name["Cost"].by_type == {"individual:patient_or_carer": 1, "individual:health_professional": 1,
                                       "organisation:charity_or_patient_group": 2}
    assert [c.label for c in columns] == ["Individual (patient or carer)", "Individual (health or social care "
                                          "professional)", "Organisation (charity or patient group)"]


def test_the_race_helper_really_changes_the_row(world):
    """Guards the race tests: the bump must be visible to a fresh read but not to the session's copy."""
    comment = world["comments"][0]
    before = comment.version
    bump_behind_the_orm(comment, world["bob"])
    assert comment.version == before
    fresh = db.session.execute(select(Comment.version).where(Comment.id == comment.id)).scalar_one()
    assert fresh == before + 1


def test_services_never_commit(world, monkeypatch):
    """The view commits once; a service that committed would make 'nothing half-done' impossible."""
    committed = []
    monkeypatch.setattr(db.session, "commit", lambda: committed.append(True))
    comment = world["comments"][0]
    services.decide_comment(comment, ACCEPT, world["alice"], comment.version, utcnow())
    theme = services.create_theme(world["consultation"].id, "Cost", "", world["alice"])
    services.tag_comment(comment, theme, world["alice"], utcnow())
    services.save_response(comment, "Words", ResponseState.DRAFT, world["alice"], None, utcnow())
    assert committed == []
    db.session.rollback()
    assert db.session.get(Comment, comment.id).moderation_state is ModerationState.NEW


def test_a_theme_renamed_in_a_race_is_caught_by_the_version_column(world):
    theme = services.create_theme(world["consultation"].id, "Cost", "", world["bob"])
    db.session.commit()
    read_version = theme.version
    db.session.execute(update(Theme).where(Theme.id == theme.id)
                       .values(version=Theme.version + 1, name="Costs")
                       .execution_options(synchronize_session=False))
    with pytest.raises(services.StaleTheme) as stale:
        services.update_theme(theme, "Price", "", world["alice"], read_version)
    assert stale.value.theme.name == "Costs" and stale.value.change.by == "Bob Staff"


def test_merging_a_theme_someone_else_just_removed_changes_nothing(world):
    consultation, alice = world["consultation"], world["alice"]
    source = services.create_theme(consultation.id, "Costs", "", alice)
    target = services.create_theme(consultation.id, "Cost", "", alice)
    services.tag_comment(world["comments"][0], source, alice, utcnow())
    db.session.commit()
    db.session.execute(update(Theme).where(Theme.id == source.id).values(version=Theme.version + 1)
                       .execution_options(synchronize_session=False))
    with pytest.raises(services.ThemesChanged):
        services.merge_themes(source, target, alice)
    assert services.comment_ids_with_theme(source) == [world["comments"][0].id]
    assert services.comment_ids_with_theme(target) == []


def test_only_an_admin_may_accept_a_redacted_comment_which_would_publish_the_original(world, make_user):
    consultation, alice = world["consultation"], world["alice"]
    first, second = world["comments"][:2]
    for comment in (first, second):
        services.decide_comment(comment, services.Decision(
            ModerationState.REDACTED, reason=RejectionReason.PERSONAL_DATA, redacted_body="[removed]"),
            alice, comment.version, utcnow())
    db.session.commit()
    with pytest.raises(services.InvalidInput, match="Only an admin can accept a redacted comment"):
        services.decide_comment(first, ACCEPT, alice, first.version, utcnow())
    outcome = services.bulk_decide(consultation.id, {second.id: second.version}, ACCEPT, alice, utcnow())
    assert outcome.refused == [second] and outcome.changed == []
    assert second.moderation_state is ModerationState.REDACTED
    admin = make_user(name="Ada Admin", role=Role.ADMIN)
    services.decide_comment(first, ACCEPT, admin, first.version, utcnow())
    assert first.shown_body == first.body
