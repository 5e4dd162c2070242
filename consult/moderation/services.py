"""Staff rules: moderation decisions, themes and responses, one at a time and in bulk.

Every function takes plain values and the acting user, raises a
ModerationError (a DomainError: the sentence to show, the field it is about
and the HTTP status) when a rule is broken, writes
an audit event for each change, flushes, and leaves the commit to the view.

Two staff members may work on the same comment at once. A form carries the
version of the row its user opened; a change made since is refused with
StaleComment or StaleResponse, naming who made it, and nothing is
overwritten. The explicit comparison catches the ordinary case (someone
saved while you were reading); the version column catches a true race
between two saves, where both read the same version.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from consult.access import can_see_original_of_redacted
from consult.audit.models import AuditEvent
from consult.audit.services import record, snapshot
from consult.comments.models import MAX_COMMENT_LENGTH, Comment
from consult.errors import DomainError
from consult.extensions import db
from consult.moderation import queries
from consult.moderation.models import CommentResponse, CommentTheme, ModerationDecision, Theme
from consult.moderation.states import ModerationState, RejectionReason, ResponseState, TagSource

THEME_NAME_MAX = 120
THEME_DESCRIPTION_MAX = 2000
NOTE_MAX = 2000
RESPONSE_MAX = MAX_COMMENT_LENGTH
# A redaction withholds something that must not be published; these are the reasons that can be.
REDACTION_REASONS = (RejectionReason.PERSONAL_DATA, RejectionReason.OFFENSIVE, RejectionReason.OTHER)

_COMMENT_FIELDS = ("moderation_state", "rejection_reason", "moderation_note", "redacted_body", "redacted_quote",
                   "moderated_by_id", "moderated_at", "version")
_THEME_FIELDS = ("consultation_id", "name", "description", "version")
_RESPONSE_FIELDS = ("comment_id", "state", "text", "reason", "updated_by_id", "version")
_DECISION_ACTIONS = {
    ModerationState.ACCEPTED: "comment.accept",
    ModerationState.REJECTED: "comment.reject",
    ModerationState.REDACTED: "comment.redact",
}


# --- Errors ------------------------------------------------------------------------


class ModerationError(DomainError):
    """A broken rule of the staff workspace, with the sentence to show the person who broke it."""


class InvalidInput(ModerationError):
    """What the person entered breaks a rule; the sentence goes beside the field it names."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message, field)


class NothingToChange(ModerationError):
    """The change asked for is already so."""

    status = 409

    def __init__(self, message: str):
        super().__init__(message)


class InvalidSelection(ModerationError):
    message = "Some of the selected comments are not in this consultation. Nothing has been changed."
    status = 404


@dataclass(frozen=True)
class Change:
    """Who last changed a row, and when (None when no record says)."""

    by: str
    at: datetime | None


class StaleVersion(ModerationError):
    """The row changed after the person opened it: carries who changed it. Nothing has been saved."""

    status = 409

    def __init__(self, subject: str, change: Change):
        self.change = change
        super().__init__(f"{subject} was changed by {change.by} since you opened it. "
                         "Your change has not been saved.")


class StaleComment(StaleVersion):
    """The comment changed after the person opened it: carries the current row and who changed it."""

    def __init__(self, comment: Comment, change: Change):
        self.comment = comment
        super().__init__("This comment", change)


class StaleResponse(StaleVersion):
    def __init__(self, comment: Comment, response: CommentResponse, change: Change):
        self.comment = comment
        self.response = response
        super().__init__("The response to this comment", change)


class StaleTheme(StaleVersion):
    def __init__(self, theme: Theme, change: Change):
        self.theme = theme
        super().__init__("This theme", change)


class SelectionChanged(ModerationError):
    message = ("Another member of staff changed some of these comments at the same moment. "
               "Nothing has been changed. Go back to the queue and try again.")
    status = 409


class DuplicateThemeName(ModerationError):
    field = "name"
    status = 409

    def __init__(self, name: str):
        self.name = name
        super().__init__(f"There is already a theme called ‘{name}’ in this consultation. "
                         "Choose a different name, or merge the two themes.")


class ThemesChanged(ModerationError):
    message = ("Another member of staff changed these themes at the same moment. Nothing has been changed. "
               "Check the themes and try again.")
    status = 409


class ThemeInUse(ModerationError):
    field = "reassign_to"
    status = 409

    def __init__(self, theme: Theme, used: int):
        self.theme = theme
        self.used = used
        comments = "1 comment" if used == 1 else f"{used} comments"
        super().__init__(f"‘{theme.name}’ is on {comments}. Choose a theme to move "
                         f"{'it' if used == 1 else 'them'} to before you delete it.")


# --- Who changed what ----------------------------------------------------------------


def last_change(obj) -> Change:
    """Who last changed a row, from its audit trail."""
    event = db.session.scalar(
        select(AuditEvent)
        .where(AuditEvent.object_type == type(obj).__tablename__, AuditEvent.object_id == str(obj.id))
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc()).limit(1)
    )
    if event is None:
        return Change("another member of staff", None)
    return Change(event.actor.name if event.actor else "the system", event.occurred_at)


def last_comment_change(comment: Comment) -> Change:
    """Who last moderated the comment (its version only moves on a decision), else its audit trail."""
    if comment.moderated_by is not None:
        return Change(comment.moderated_by.name, comment.moderated_at)
    return last_change(comment)


def _require_submitted(comment: Comment) -> None:
    if comment.is_draft:
        raise InvalidInput("Only submitted comments can be moderated.")


def _check_comment_version(comment: Comment, expected_version: int) -> None:
    if comment.version != expected_version:
        raise StaleComment(comment, last_comment_change(comment))


def _text(value: str | None) -> str:
    return (value or "").replace("\r\n", "\n").strip()


# --- Moderation decisions --------------------------------------------------------------


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
    note = _text(decision.note)
    if len(note) > NOTE_MAX:
        raise InvalidInput(f"The note must be {NOTE_MAX:,} characters or fewer.", "note")
    if decision.state is ModerationState.ACCEPTED:
        return Decision(ModerationState.ACCEPTED, note=note)
    if decision.state is ModerationState.REJECTED:
        if decision.reason is None:
            raise InvalidInput("Select why the comment is rejected", "reason")
        if decision.reason is RejectionReason.OTHER and not note:
            raise InvalidInput("Explain why the comment is rejected", "note")
        return Decision(ModerationState.REJECTED, reason=decision.reason, note=note)
    if decision.state is ModerationState.REDACTED:
        if comment is None:
            raise InvalidInput("Redact comments one at a time, from the comment's own page.")
        if decision.reason not in REDACTION_REASONS:
            raise InvalidInput("Select why the comment is redacted", "reason")
        if decision.reason is RejectionReason.OTHER and not note:
            raise InvalidInput("Explain why the comment is redacted", "note")
        body = _text(decision.redacted_body)
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


def would_reveal_original(comment: Comment, decision: Decision, actor) -> bool:
    """Accepting a redacted comment publishes its original, which only admins may see, so only they may."""
    return (comment.moderation_state is ModerationState.REDACTED and decision.state is ModerationState.ACCEPTED
            and not can_see_original_of_redacted(actor))


REVEAL_REFUSED = ("Only an admin can accept a redacted comment, because accepting it publishes the original "
                  "text. Change the redaction, or reject the comment, instead.")


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
    the database when two saves race; either way nothing is written.
    """
    _require_submitted(comment)
    _check_comment_version(comment, expected_version)
    decision = clean_decision(decision, comment)
    if would_reveal_original(comment, decision, actor):
        raise InvalidInput(REVEAL_REFUSED)
    if _same_as_now(comment, decision):
        raise NothingToChange(f"This comment is already {decision.state.label.lower()}"
                              f"{' with that text' if decision.state is ModerationState.REDACTED else ''}.")
    before = snapshot(comment, _COMMENT_FIELDS)
    try:
        with db.session.begin_nested():
            row = _apply_decision(comment, decision, actor, now)
            db.session.flush()
            record(actor, decision.action, comment, before, snapshot(comment, _COMMENT_FIELDS))
    except StaleDataError:
        db.session.refresh(comment)
        raise StaleComment(comment, last_comment_change(comment)) from None
    return row


@dataclass
class Conflict:
    comment: Comment
    change: Change


@dataclass
class BulkOutcome:
    """What a bulk action did: changed, left alone because someone else changed it, already so, or not allowed."""

    changed: list[Comment] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    unchanged: list[Comment] = field(default_factory=list)
    refused: list[Comment] = field(default_factory=list)


def _selected_comments(consultation_id: int, comment_ids: Iterable[int]) -> list[Comment]:
    ids = set(comment_ids)
    if not ids:
        raise InvalidInput("Select at least one comment", "selected")
    found = queries.comments_by_id(consultation_id, ids)
    if len(found) != len(ids):
        raise InvalidSelection()
    return sorted(found.values(), key=lambda c: c.number)


def bulk_decide(consultation_id: int, expected_versions: dict[int, int], decision: Decision, actor,
                now: datetime) -> BulkOutcome:
    """Accept or reject many comments in one transaction, each as of the version the person saw.

    A comment whose version has moved is reported as a conflict and left
    alone; one already decided this way is reported as unchanged; a redacted
    one that only an admin may accept is reported as refused. If two saves
    race, SelectionChanged is raised and nothing at all is written.
    """
    if decision.state not in (ModerationState.ACCEPTED, ModerationState.REJECTED):
        raise InvalidInput("Only accept and reject can be applied to many comments at once. "
                           "Redact comments one at a time.", "action")
    decision = clean_decision(decision)
    outcome = BulkOutcome()
    befores: list[tuple[Comment, dict]] = []
    try:
        with db.session.begin_nested():
            for comment in _selected_comments(consultation_id, expected_versions):
                if comment.version != expected_versions[comment.id]:
                    outcome.conflicts.append(Conflict(comment, last_comment_change(comment)))
                elif _same_as_now(comment, decision):
                    outcome.unchanged.append(comment)
                elif would_reveal_original(comment, decision, actor):
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


# --- Themes ------------------------------------------------------------------------


def _clean_theme_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise InvalidInput("Enter a name for the theme", "name")
    if len(name) > THEME_NAME_MAX:
        raise InvalidInput(f"The theme name must be {THEME_NAME_MAX} characters or fewer", "name")
    return name


def _clean_description(description: str) -> str:
    description = _text(description)
    if len(description) > THEME_DESCRIPTION_MAX:
        raise InvalidInput(f"The description must be {THEME_DESCRIPTION_MAX:,} characters or fewer", "description")
    return description


def _theme_named(consultation_id: int, name: str) -> Theme | None:
    """A theme with this name whatever its case: 'Cost' and 'cost' would read as one theme."""
    return db.session.scalar(select(Theme).where(Theme.consultation_id == consultation_id,
                                                 func.lower(Theme.name) == name.lower()).limit(1))


def _save_theme(theme: Theme) -> None:
    """Flush a new or renamed theme; the unique constraint settles a race between two names."""
    try:
        with db.session.begin_nested():
            db.session.add(theme)
    except IntegrityError:
        raise DuplicateThemeName(theme.name) from None


def create_theme(consultation_id: int, name: str, description: str, actor) -> Theme:
    """A new theme; names are unique within a consultation, ignoring case."""
    name = _clean_theme_name(name)
    description = _clean_description(description)
    if _theme_named(consultation_id, name) is not None:
        raise DuplicateThemeName(name)
    theme = Theme(consultation_id=consultation_id, name=name, description=description)
    _save_theme(theme)
    record(actor, "theme.create", theme, None, snapshot(theme, _THEME_FIELDS))
    return theme


def update_theme(theme: Theme, name: str, description: str, actor, expected_version: int) -> bool:
    """Rename or describe a theme as of the version the person opened; False if nothing changed."""
    if theme.version != expected_version:
        raise StaleTheme(theme, last_change(theme))
    name = _clean_theme_name(name)
    description = _clean_description(description)
    if name == theme.name and description == theme.description:
        return False
    other = _theme_named(theme.consultation_id, name)
    if other is not None and other.id != theme.id:
        raise DuplicateThemeName(name)
    before = snapshot(theme, _THEME_FIELDS)
    try:
        with db.session.begin_nested():
            theme.name, theme.description = name, description
            db.session.flush()
    except IntegrityError:
        raise DuplicateThemeName(name) from None
    except StaleDataError:
        db.session.refresh(theme)
        raise StaleTheme(theme, last_change(theme)) from None
    record(actor, "theme.update", theme, before, snapshot(theme, _THEME_FIELDS))
    return True


def _tags_of(theme: Theme) -> list[CommentTheme]:
    return list(db.session.scalars(select(CommentTheme).where(CommentTheme.theme_id == theme.id)))


def _move_tags(source: Theme, target: Theme) -> tuple[list[int], int]:
    """Every comment tagged `source` ends up tagged `target` once, with the earliest provenance of the two.

    Returns the ids of the comments moved and how many already carried both.
    """
    moved: list[int] = []
    duplicates = 0
    tags = _tags_of(source)
    existing = {tag.comment_id: tag for tag in db.session.scalars(
        select(CommentTheme).where(CommentTheme.theme_id == target.id,
                                   CommentTheme.comment_id.in_([t.comment_id for t in tags] or [-1])))}
    for tag in tags:
        kept = existing.get(tag.comment_id)
        if kept is None:
            db.session.add(CommentTheme(comment_id=tag.comment_id, theme_id=target.id, source=tag.source,
                                        tagged_by_id=tag.tagged_by_id, tagged_at=tag.tagged_at))
        else:
            duplicates += 1
            if tag.tagged_at < kept.tagged_at:
                kept.source, kept.tagged_by_id, kept.tagged_at = tag.source, tag.tagged_by_id, tag.tagged_at
        moved.append(tag.comment_id)
        db.session.delete(tag)
    db.session.flush()
    return sorted(moved), duplicates


def _require_other_theme(theme: Theme, target: Theme) -> None:
    if target.id == theme.id:
        raise InvalidInput("Choose a different theme", "target")
    if target.consultation_id != theme.consultation_id:
        raise InvalidInput("Choose a theme from this consultation", "target")


def merge_themes(source: Theme, target: Theme, actor) -> int:
    """Fold `source` into `target`: its comments move across and `source` is removed.

    A comment tagged with both keeps one tag, with whichever provenance is
    earlier. Returns how many comments were tagged with `source`. If someone
    else changes either theme at the same moment, nothing is changed.
    """
    _require_other_theme(source, target)
    before = snapshot(source, _THEME_FIELDS)
    try:
        with db.session.begin_nested():
            moved, duplicates = _move_tags(source, target)
            record(actor, "theme.merge", source, before,
                   {"merged_into_id": target.id, "merged_into": target.name, "comment_ids": moved,
                    "already_in_target": duplicates})
            db.session.delete(source)
            db.session.flush()
    except (IntegrityError, StaleDataError):
        raise ThemesChanged() from None
    return len(moved)


def delete_theme(theme: Theme, actor, reassign_to: Theme | None = None) -> int:
    """Remove a theme. One in use needs another theme to move its comments to; returns how many moved."""
    used = len(_tags_of(theme))
    if used and reassign_to is None:
        raise ThemeInUse(theme, used)
    if reassign_to is not None:
        _require_other_theme(theme, reassign_to)
    before = snapshot(theme, _THEME_FIELDS)
    try:
        with db.session.begin_nested():
            moved = _move_tags(theme, reassign_to)[0] if reassign_to is not None else []
            after = {"reassigned_to_id": reassign_to.id, "reassigned_to": reassign_to.name,
                     "comment_ids": moved} if reassign_to is not None else None
            record(actor, "theme.delete", theme, before, after)
            db.session.delete(theme)
            db.session.flush()
    except (IntegrityError, StaleDataError):
        raise ThemesChanged() from None
    return len(moved)


def _require_same_consultation(comment: Comment, theme: Theme) -> None:
    if comment.consultation_id != theme.consultation_id:
        raise InvalidInput("Choose a theme from this consultation", "theme")


def _tag_after(theme: Theme, tag: CommentTheme) -> dict:
    return {"theme_id": theme.id, "theme": theme.name, "source": tag.source.value,
            "tagged_by_id": tag.tagged_by_id, "tagged_at": tag.tagged_at.isoformat()}


def tag_comment(comment: Comment, theme: Theme, actor, now: datetime,
                source: TagSource = TagSource.PERSON) -> CommentTheme:
    """Put a theme on a comment, recording who (or the system) did it and when."""
    _require_submitted(comment)
    _require_same_consultation(comment, theme)
    if db.session.get(CommentTheme, (comment.id, theme.id)) is not None:
        raise NothingToChange(f"This comment already has the theme ‘{theme.name}’.")
    tag = CommentTheme(comment_id=comment.id, theme_id=theme.id, source=source,
                       tagged_by_id=actor.id if source is TagSource.PERSON and actor else None, tagged_at=now)
    try:
        with db.session.begin_nested():
            db.session.add(tag)
    except IntegrityError:
        raise NothingToChange(f"This comment already has the theme ‘{theme.name}’.") from None
    record(actor, "comment.tag", comment, None, _tag_after(theme, tag))
    return tag


def untag_comment(comment: Comment, theme: Theme, actor) -> None:
    """Take a theme off a comment; the audit trail keeps who had put it there."""
    _require_same_consultation(comment, theme)
    tag = db.session.get(CommentTheme, (comment.id, theme.id))
    if tag is None:
        raise NothingToChange(f"This comment does not have the theme ‘{theme.name}’.")
    record(actor, "comment.untag", comment, _tag_after(theme, tag), None)
    db.session.delete(tag)
    db.session.flush()


def bulk_tag(consultation_id: int, comment_ids: Iterable[int], theme: Theme, actor, now: datetime) -> BulkOutcome:
    """Tag many comments with one theme in one transaction; those already tagged are reported unchanged.

    Tagging adds and never overwrites, so a comment changed by someone else
    since it was selected is still tagged.
    """
    if theme.consultation_id != consultation_id:
        raise InvalidInput("Choose a theme from this consultation", "theme")
    comments = _selected_comments(consultation_id, comment_ids)
    tagged = set(db.session.scalars(select(CommentTheme.comment_id).where(
        CommentTheme.theme_id == theme.id, CommentTheme.comment_id.in_([c.id for c in comments]))))
    outcome = BulkOutcome()
    try:
        with db.session.begin_nested():
            for comment in comments:
                if comment.id in tagged:
                    outcome.unchanged.append(comment)
                    continue
                tag = CommentTheme(comment_id=comment.id, theme_id=theme.id, source=TagSource.PERSON,
                                   tagged_by_id=actor.id, tagged_at=now)
                db.session.add(tag)
                record(actor, "comment.tag", comment, None, _tag_after(theme, tag))
                outcome.changed.append(comment)
    except IntegrityError:
        raise SelectionChanged() from None
    return outcome


# --- Responses ----------------------------------------------------------------------


def find_response(comment_id: int) -> CommentResponse | None:
    return db.session.scalar(select(CommentResponse).where(CommentResponse.comment_id == comment_id))


def _response_change(response: CommentResponse) -> Change:
    return Change(response.updated_by.name, response.updated_at)


def _check_response_version(comment: Comment, response: CommentResponse | None,
                            expected_version: int | None) -> None:
    """`expected_version` None means the person saw no response at all."""
    current = response.version if response is not None else None
    if current != expected_version:
        raise StaleResponse(comment, response, _response_change(response) if response is not None
                            else Change("another member of staff", None))


def _clean_response_text(text: str) -> str:
    text = _text(text)
    if not text:
        raise InvalidInput("Enter the response", "text")
    if len(text) > RESPONSE_MAX:
        raise InvalidInput(f"The response must be {RESPONSE_MAX:,} characters or fewer", "text")
    return text


def _require_written_state(state: ResponseState | None) -> ResponseState:
    if state not in (ResponseState.DRAFT, ResponseState.AGREED):
        raise InvalidInput("Select whether the response is a draft or agreed", "state")
    return state


def check_response_input(text: str, state: ResponseState | None) -> tuple[str, ResponseState]:
    """The response text and state as a save would accept them, or InvalidInput."""
    return _clean_response_text(text), _require_written_state(state)


_RESPONSE_ACTIONS = {
    ResponseState.DRAFT: "response.draft",
    ResponseState.AGREED: "response.agree",
    ResponseState.NOT_NEEDED: "response.not_needed",
}


def _write_response(comment: Comment, response: CommentResponse | None, actor, *, state: ResponseState,
                    text: str, reason: str) -> CommentResponse:
    """Create or change the response inside a savepoint; a racing save raises StaleResponse."""
    before = snapshot(response, _RESPONSE_FIELDS) if response is not None else None
    try:
        with db.session.begin_nested():
            if response is None:
                response = CommentResponse(comment_id=comment.id)
                db.session.add(response)
            response.state, response.text, response.reason = state, text, reason
            response.updated_by = actor
            db.session.flush()
            record(actor, _RESPONSE_ACTIONS[state], response, before, snapshot(response, _RESPONSE_FIELDS))
    except (StaleDataError, IntegrityError):
        current = find_response(comment.id)
        if current is None:  # refused for another reason: not a race, so not ours to hide
            raise
        db.session.refresh(current)
        raise StaleResponse(comment, current, _response_change(current)) from None
    return response


def save_response(comment: Comment, text: str, state: ResponseState, actor, expected_version: int | None,
                  now: datetime) -> CommentResponse:
    """Write or change the developer's response to one comment, as a draft or agreed.

    `expected_version` is the response's version when the person opened it,
    or None if there was none then.
    """
    _require_submitted(comment)
    response = find_response(comment.id)
    _check_response_version(comment, response, expected_version)
    state = _require_written_state(state)
    text = _clean_response_text(text)
    if response is not None and response.state is state and response.text == text:
        raise NothingToChange("The response has not changed.")
    return _write_response(comment, response, actor, state=state, text=text, reason="")


def mark_no_response_needed(comment: Comment, reason: str, actor, expected_version: int | None,
                            now: datetime) -> CommentResponse:
    """Record that a comment needs no response, and why. Any draft text is kept."""
    _require_submitted(comment)
    response = find_response(comment.id)
    _check_response_version(comment, response, expected_version)
    reason = _text(reason)
    if not reason:
        raise InvalidInput("Explain why no response is needed", "reason")
    if len(reason) > NOTE_MAX:
        raise InvalidInput(f"The reason must be {NOTE_MAX:,} characters or fewer", "reason")
    if response is not None and response.state is ResponseState.NOT_NEEDED and response.reason == reason:
        raise NothingToChange("This comment is already marked as needing no response, for that reason.")
    return _write_response(comment, response, actor, state=ResponseState.NOT_NEEDED,
                           text=response.text if response is not None else "", reason=reason)


def apply_response(consultation_id: int, comment_ids: Iterable[int], text: str, state: ResponseState, actor,
                   now: datetime) -> BulkOutcome:
    """One response text for many comments, each then editable on its own.

    A comment that already has a response keeps it and is reported as
    unchanged: a response someone wrote is never replaced in bulk.
    """
    state = _require_written_state(state)
    text = _clean_response_text(text)
    comments = _selected_comments(consultation_id, comment_ids)
    existing = queries.responses_by_comment(c.id for c in comments)
    outcome = BulkOutcome()
    created: list[CommentResponse] = []
    try:
        with db.session.begin_nested():
            for comment in comments:
                if comment.id in existing:
                    outcome.unchanged.append(comment)
                    continue
                response = CommentResponse(comment_id=comment.id, state=state, text=text, reason="",
                                           updated_by=actor)
                db.session.add(response)
                created.append(response)
                outcome.changed.append(comment)
            db.session.flush()
            for response in created:
                record(actor, _RESPONSE_ACTIONS[state], response, None, snapshot(response, _RESPONSE_FIELDS))
    except IntegrityError:
        raise SelectionChanged() from None
    return outcome


def comment_ids_with_theme(theme: Theme) -> list[int]:
    return list(db.session.scalars(
        select(CommentTheme.comment_id).where(CommentTheme.theme_id == theme.id).order_by(CommentTheme.comment_id)))


def apply_response_to_theme(theme: Theme, text: str, state: ResponseState, actor, now: datetime) -> BulkOutcome:
    """Apply one response to every comment with this theme (those with a response keep theirs)."""
    ids = comment_ids_with_theme(theme)
    if not ids:
        raise InvalidInput(f"No comments have the theme ‘{theme.name}’ yet.", "text")
    return apply_response(theme.consultation_id, ids, text, state, actor, now)
