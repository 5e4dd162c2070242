"""Moderation decisions: accept, reject or redact a comment, one at a time or many at once.

Two staff members may work on the same comment at once. A form carries the
version of the row its user opened; a change made since is refused with
StaleComment, naming who made it, and nothing is overwritten. The explicit
comparison catches the ordinary case (someone saved while you were reading);
the version column catches a true race between two saves, where both read
the same version.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from consult.access import can_see_original_of_redacted
from consult.audit.services import record, snapshot
from consult.comments.models import MAX_COMMENT_LENGTH, Comment
from consult.extensions import db
from consult.moderation.models import ModerationDecision
from consult.moderation.services.common import (
    REDACTION_REASONS,
    BulkOutcome,
    already_decided,
    check_note,
    clean_text,
    conflict_of,
    last_comment_change,
    require_reason,
    require_submitted,
    selected_comments,
    write_decision,
)
from consult.moderation.services.errors import InvalidInput, NothingToChange, SelectionChanged, StaleComment
from consult.moderation.states import ModerationState, RejectionReason

_COMMENT_FIELDS = ("moderation_state", "rejection_reason", "moderation_note", "redacted_body", "redacted_quote",
                   "moderated_by_id", "moderated_at", "version")
_DECISION_ACTIONS = {
    ModerationState.ACCEPTED: "comment.accept",
    ModerationState.REJECTED: "comment.reject",
    ModerationState.REDACTED: "comment.redact",
}


def _check_comment_version(comment: Comment, expected_version: int, actor) -> None:
    if comment.version != expected_version:
        raise StaleComment(comment, last_comment_change(comment), actor)


@dataclass(frozen=True)
class Decision:
    """What a member of staff decided about a comment, as plain values."""

    state: ModerationState
    reason: RejectionReason | None = None
    note: str = ""
    redacted_body: str | None = None
    # None keeps the original quote; "" withholds the quote altogether.
    redacted_quote: str | None = None

    @property
    def action(self) -> str:
        return _DECISION_ACTIONS[self.state]


def clean_decision(decision: Decision, comment: Comment | None = None) -> Decision:
    """The decision with its text tidied, or InvalidInput naming what is missing.

    A rejection needs a reason; a redaction needs a reason, the redacted copy
    (which must differ from the original) and, for 'other', an explanation.
    """
    note = clean_text(decision.note)
    check_note(note)
    if decision.state is ModerationState.ACCEPTED:
        return Decision(ModerationState.ACCEPTED, note=note)
    if decision.state is ModerationState.REJECTED:
        require_reason(decision.reason, note, "the comment is rejected")
        return Decision(ModerationState.REJECTED, reason=decision.reason, note=note)
    if decision.state is ModerationState.REDACTED:
        if comment is None:
            raise InvalidInput("Redact comments one at a time, from the comment's own page.")
        require_reason(decision.reason, note, "the comment is redacted", REDACTION_REASONS)
        body = clean_text(decision.redacted_body)
        if not body:
            raise InvalidInput("Enter the redacted comment", "redacted_body")
        if len(body) > MAX_COMMENT_LENGTH:
            raise InvalidInput(f"The redacted comment must be {MAX_COMMENT_LENGTH:,} characters or fewer.",
                               "redacted_body")
        quote = None
        if comment.quote is not None and decision.redacted_quote is not None:
            quote = " ".join(decision.redacted_quote.split())
            if quote == comment.quote:
                quote = None
        if body == comment.body and quote is None:
            raise InvalidInput("The redacted comment is the same as the original. Remove the words that must "
                               "not be published, or accept the comment instead.", "redacted_body")
        return Decision(ModerationState.REDACTED, reason=decision.reason, note=note, redacted_body=body,
                        redacted_quote=quote)
    raise InvalidInput("Choose whether to accept, reject or redact the comment.", "state")


def _same_as_now(comment: Comment, decision: Decision) -> bool:
    if comment.moderation_state is not decision.state:
        return False
    if decision.state is ModerationState.ACCEPTED:
        return True
    if decision.state is ModerationState.REJECTED:
        return comment.rejection_reason is decision.reason and comment.moderation_note == decision.note
    return comment.redacted_body == decision.redacted_body and comment.redacted_quote == decision.redacted_quote


def _latest_reason(comment: Comment) -> RejectionReason | None:
    """The reason given with the comment's latest decision: a redaction's is kept there, not on the comment."""
    return db.session.scalar(
        select(ModerationDecision.reason).where(ModerationDecision.comment_id == comment.id)
        .order_by(ModerationDecision.decided_at.desc(), ModerationDecision.id.desc()).limit(1))


def _exactly_as_now(comment: Comment, decision: Decision) -> bool:
    """Whether the comment already holds this decision in full, a redaction's reason and note included."""
    if not _same_as_now(comment, decision):
        return False
    return decision.state is not ModerationState.REDACTED or (
        comment.moderation_note == decision.note and _latest_reason(comment) is decision.reason)


def _already(comment: Comment, decision: Decision) -> NothingToChange:
    return already_decided("comment", decision.state, decision.state is ModerationState.REDACTED,
                           comment.reference)


def _unless_already(stale: StaleComment, decision: Decision) -> StaleComment | NothingToChange:
    """The refusal of a decision made on an older version of the comment.

    When the comment now holds exactly that decision (the form sent twice, at
    once or after Back, or a colleague deciding the same), it is already so and
    nothing more is to change; otherwise `stale`, naming who changed it.
    """
    try:
        decision = clean_decision(decision, stale.comment)
    except InvalidInput:
        return stale
    return _already(stale.comment, decision) if _exactly_as_now(stale.comment, decision) else stale


def would_reveal_original(comment: Comment, decision: Decision, actor) -> bool:
    """Accepting a redacted comment publishes its original, which only admins may see, so only they may."""
    return (comment.moderation_state is ModerationState.REDACTED and decision.state is ModerationState.ACCEPTED
            and not can_see_original_of_redacted(actor))


REVEAL_REFUSED = ("Only an admin can accept a redacted comment, because accepting it publishes the original "
                  "text. Change the redaction, or reject the comment, instead.")


def left_by_bulk(decision: Decision, actor) -> frozenset[ModerationState]:
    """The states of the comments a decision on many at once leaves as they are.

    A bulk accept never overturns a rejection: a person rejected that comment
    on its own, so only a decision on its own page may change it. Nor does it
    accept a redacted comment for anyone but an admin (would_reveal_original).
    The plan counts these states before anything changes, and bulk_decide
    leaves them, so what the confirmation says is what is done.
    """
    if decision.state is not ModerationState.ACCEPTED:
        return frozenset()
    if actor is not None and can_see_original_of_redacted(actor):
        return frozenset({ModerationState.REJECTED})
    return frozenset({ModerationState.REJECTED, ModerationState.REDACTED})


def _apply_decision(comment: Comment, decision: Decision, actor, now: datetime) -> ModerationDecision:
    from_state = comment.moderation_state
    comment.moderation_state = decision.state
    comment.rejection_reason = decision.reason if decision.state is ModerationState.REJECTED else None
    comment.moderation_note = decision.note
    redacting = decision.state is ModerationState.REDACTED
    comment.redacted_body = decision.redacted_body if redacting else None
    comment.redacted_quote = decision.redacted_quote if redacting else None
    comment.moderated_by = actor
    comment.moderated_at = now
    row = ModerationDecision(comment_id=comment.id, actor_id=actor.id, from_state=from_state,
                             to_state=decision.state, reason=decision.reason, note=decision.note, decided_at=now)
    db.session.add(row)
    return row


def decide_comment(comment: Comment, decision: Decision, actor, expected_version: int,
                   now: datetime) -> ModerationDecision:
    """Accept, reject or redact one submitted comment, as of the version the person opened.

    Records the decision in the comment's history, on the comment (who and
    when) and in the audit trail. Raises StaleComment if the comment changed
    since `expected_version`, whether that is seen before saving or only by
    the database when two saves race; either way nothing is written. A
    comment that already holds exactly this decision raises NothingToChange
    instead, stale or not, so a decision sent twice reads as done.
    """
    require_submitted(comment)
    try:
        _check_comment_version(comment, expected_version, actor)
    except StaleComment as stale:
        raise _unless_already(stale, decision) from None
    decision = clean_decision(decision, comment)
    if would_reveal_original(comment, decision, actor):
        raise InvalidInput(REVEAL_REFUSED)
    if _same_as_now(comment, decision):
        raise _already(comment, decision)
    return write_decision(comment, decision.action, actor, _COMMENT_FIELDS,
                          lambda: _apply_decision(comment, decision, actor, now),
                          stale=lambda: _unless_already(StaleComment(comment, last_comment_change(comment), actor),
                                                        decision))


def bulk_decide(consultation_id: int, expected_versions: dict[int, int], decision: Decision, actor,
                now: datetime) -> BulkOutcome:
    """Accept or reject many comments in one transaction, each as of the version the person saw.

    A comment whose version has moved is reported as a conflict and left
    alone; one already decided this way is reported as unchanged; one in a
    state the decision leaves as it is (left_by_bulk: a rejected comment, for
    an accept, and a redacted one unless an admin accepts it) is reported as
    refused. If two saves race, SelectionChanged is raised and nothing at all
    is written.
    """
    if decision.state not in (ModerationState.ACCEPTED, ModerationState.REJECTED):
        raise InvalidInput("Only accept and reject can be applied to many comments at once. "
                           "Redact comments one at a time.", "action")
    decision = clean_decision(decision)
    left = left_by_bulk(decision, actor)
    outcome = BulkOutcome()
    befores: list[tuple[Comment, dict]] = []
    try:
        with db.session.begin_nested():
            for comment in selected_comments(consultation_id, expected_versions):
                if comment.version != expected_versions[comment.id]:
                    outcome.conflicts.append(conflict_of(comment, actor))
                elif _same_as_now(comment, decision):
                    outcome.unchanged.append(comment)
                elif comment.moderation_state in left:
                    outcome.refused.append(comment)
                else:
                    befores.append((comment, snapshot(comment, _COMMENT_FIELDS)))
                    _apply_decision(comment, decision, actor, now)
                    outcome.changed.append(comment)
            db.session.flush()
            for comment, before in befores:
                record(actor, decision.action, comment, before, snapshot(comment, _COMMENT_FIELDS))
    except StaleDataError:
        raise SelectionChanged() from None
    return outcome
