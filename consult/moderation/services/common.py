"""What every moderation service shares: limits, who changed a row last, the chosen comments, and how a
change to a versioned row and a decision are checked and saved."""

from collections.abc import Callable, Container, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from consult.audit.models import AuditEvent
from consult.audit.services import record, snapshot
from consult.comments.models import MAX_COMMENT_LENGTH, Comment
from consult.extensions import db
from consult.moderation import queries
from consult.moderation.services.errors import (
    Change,
    InvalidInput,
    InvalidSelection,
    NothingToChange,
    SelectionChanged,
    StaleVersion,
)
from consult.moderation.states import RejectionReason
from consult.text import direction_controls_refused, has_direction_controls, one_line_name

THEME_NAME_MAX = 120
THEME_DESCRIPTION_MAX = 2000
NOTE_MAX = 2000
RESPONSE_MAX = MAX_COMMENT_LENGTH
# A redaction withholds something that must not be published; these are the reasons that can be.
REDACTION_REASONS = (RejectionReason.PERSONAL_DATA, RejectionReason.OFFENSIVE, RejectionReason.OTHER)


def last_change(obj) -> Change:
    """Who last changed a row, from its audit trail."""
    event = db.session.scalar(
        select(AuditEvent)
        .where(AuditEvent.object_type == type(obj).__tablename__, AuditEvent.object_id == str(obj.id))
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc()).limit(1)
    )
    if event is None:
        return Change("another member of staff", None)
    return Change(event.actor.name if event.actor else "the system", event.occurred_at, event.actor_id)


def last_comment_change(comment: Comment) -> Change:
    """Who last moderated the comment (its version only moves on a decision), else its audit trail."""
    if comment.moderated_by is not None:
        return Change(comment.moderated_by.name, comment.moderated_at, comment.moderated_by_id)
    return last_change(comment)


def require_submitted(comment: Comment) -> None:
    if comment.is_draft:
        raise InvalidInput("Only submitted comments can be moderated.")


def clean_text(value: str | None) -> str:
    return (value or "").replace("\r\n", "\n").strip()


def clean_name(name: str | None, limit: int, missing: str, what: str = "The name") -> str:
    """A name as consult.text.one_line_name keeps it; InvalidInput (`missing`) if empty (zero-width characters
    alone are empty), if over `limit`, or if it holds a character that changes the direction of text."""
    name = one_line_name(name)
    if not name:
        raise InvalidInput(missing, "name")
    if len(name) > limit:
        raise InvalidInput(f"{what} must be {limit} characters or fewer", "name")
    if has_direction_controls(name):
        raise InvalidInput(direction_controls_refused(what), "name")
    return name


def check_note(note: str) -> None:
    """The note staff leave with a decision fits its column."""
    if len(note) > NOTE_MAX:
        raise InvalidInput(f"The note must be {NOTE_MAX:,} characters or fewer.", "note")


def require_reason(reason: RejectionReason | None, note: str, why: str,
                   allowed: tuple[RejectionReason, ...] = tuple(RejectionReason)) -> None:
    """A decision that keeps words from the public says why, from `allowed`; 'other' needs the note to explain.

    `why` completes the sentences shown: "the comment is rejected" gives
    "Select why the comment is rejected".
    """
    if reason not in allowed:
        raise InvalidInput(f"Select why {why}", "reason")
    if reason is RejectionReason.OTHER and not note:
        raise InvalidInput(f"Explain why {why}", "note")


def already_decided(subject: str, state, with_text: bool, reference: str | None = None) -> NothingToChange:
    """The refusal of a decision that is already so: "This comment is already rejected.", or, naming it by its
    `reference`, "Comment C-0012 is already rejected. Nothing more was changed."."""
    so = f"is already {state.label.lower()}{' with that text' if with_text else ''}."
    if reference is None:
        return NothingToChange(f"This {subject} {so}")
    return NothingToChange(f"{subject.capitalize()} {reference} {so} Nothing more was changed.")


@contextmanager
def versioned_savepoint(row, stale: Callable[[], StaleVersion | NothingToChange]) -> Iterator[None]:
    """Write the block's changes in a savepoint and flush them, so that `row`'s version column can refuse a race.

    If another transaction saved `row` after it was read, the database
    changes nothing, none of the block is kept, `row` is read again (so that
    the error can name who changed it, or tell that it already is as asked)
    and `stale()` is raised.
    """
    try:
        with db.session.begin_nested():
            yield
            db.session.flush()
    except StaleDataError:
        db.session.refresh(row)
        raise stale() from None


Applied = TypeVar("Applied")


def write_decision(row, action: str, actor, audited: tuple[str, ...], apply: Callable[[], Applied],
                   stale: Callable[[], StaleVersion | NothingToChange]) -> Applied:
    """Apply a moderation decision to `row` (by calling `apply`) and audit it with before and after.

    The audit record is written in the same savepoint, so a decision that
    loses a race to another save leaves neither the change nor its record:
    `stale()` is raised instead (see versioned_savepoint).
    """
    before = snapshot(row, audited)
    with versioned_savepoint(row, stale):
        applied = apply()
        db.session.flush()
        record(actor, action, row, before, snapshot(row, audited))
    return applied


@dataclass
class Conflict:
    """A comment left alone because it changed since it was chosen: by someone else, or (`yours`) by the
    person acting, as when they send a confirmed bulk action again."""

    comment: Comment
    change: Change
    yours: bool = False


def conflict_of(comment: Comment, actor) -> Conflict:
    """The comment as changed since it was chosen, and whether `actor` (None: nobody known) changed it."""
    change = last_comment_change(comment)
    return Conflict(comment, change, yours=actor is not None and change.by_id == actor.id)


@dataclass
class BulkOutcome:
    """What a bulk action did: changed, left alone because it changed since it was chosen, already so, or left
    as it is because of its state (`refused`: see decisions.left_by_bulk)."""

    changed: list[Comment] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    unchanged: list[Comment] = field(default_factory=list)
    refused: list[Comment] = field(default_factory=list)


def selected_comments(consultation_id: int, comment_ids: Iterable[int]) -> list[Comment]:
    """The chosen comments of this consultation in number order; one that is not there refuses them all."""
    ids = set(comment_ids)
    if not ids:
        raise InvalidInput("Select at least one comment", "selected")
    found = queries.comments_by_id(consultation_id, ids)
    if len(found) != len(ids):
        raise InvalidSelection()
    return sorted(found.values(), key=lambda c: c.number)


def add_to_each(comments: list[Comment], already: Container[int], add: Callable[[Comment], object]) -> BulkOutcome:
    """Add something to each comment whose id is not in `already`, in one savepoint; the others are unchanged.

    Adding never overwrites what a comment has, so no version is checked.
    Something added by someone else since `already` was read breaks a unique
    constraint: then none of it is kept, and SelectionChanged is raised.
    """
    outcome = BulkOutcome()
    try:
        with db.session.begin_nested():
            for comment in comments:
                if comment.id in already:
                    outcome.unchanged.append(comment)
                    continue
                add(comment)
                outcome.changed.append(comment)
            db.session.flush()
    except IntegrityError:
        raise SelectionChanged() from None
    return outcome
