"""Responses: the developer's answer to a comment, or why none is needed; for one comment or many.

A form carries the version of the response its user opened (None if there
was none); a change made since is refused with StaleResponse, naming who
made it. A response someone wrote is never replaced in bulk.
"""

from collections.abc import Callable, Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from consult.audit.services import record, snapshot
from consult.comments.models import Comment
from consult.extensions import db
from consult.moderation import queries
from consult.moderation.models import CommentResponse
from consult.moderation.services.common import (
    NOTE_MAX,
    RESPONSE_MAX,
    BulkOutcome,
    add_to_each,
    clean_text,
    require_submitted,
    selected_comments,
)
from consult.moderation.services.errors import Change, InvalidInput, NothingToChange, StaleResponse
from consult.moderation.states import ResponseState

_RESPONSE_FIELDS = ("comment_id", "state", "text", "reason", "updated_by_id", "version")


def find_response(comment_id: int) -> CommentResponse | None:
    return db.session.scalar(select(CommentResponse).where(CommentResponse.comment_id == comment_id))


def _response_change(response: CommentResponse) -> Change:
    return Change(response.updated_by.name, response.updated_at, response.updated_by_id)


def _already(comment: Comment, response: CommentResponse | None, state: ResponseState, text: str,
             reason: str) -> NothingToChange | None:
    """The refusal of a save the response already holds: the same state and text, or no response needed for
    the same reason. None if the save would change it."""
    if response is None or response.state is not state:
        return None
    if state is ResponseState.NOT_NEEDED:
        if response.reason != reason:
            return None
        return NothingToChange(f"Comment {comment.reference} is already marked as needing no response, for that "
                               "reason. Nothing more was changed.")
    if response.text != text:
        return None
    return NothingToChange(f"The response to comment {comment.reference} is already saved "
                           f"{'as a draft' if state is ResponseState.DRAFT else 'and agreed'}, with that text. "
                           "Nothing more was changed.")


def _check_response_version(comment: Comment, response: CommentResponse | None, expected_version: int | None,
                            actor, asked: Callable[[], tuple[ResponseState, str, str]]) -> None:
    """Refuse a save made on another version of the response than the one there now, naming who changed it.

    `expected_version` None means the person saw no response at all. When
    the response now is exactly what `asked()` gives (the state, text and
    reason of the save, checked), as when the form is sent twice, it is
    already so: NothingToChange.
    """
    current = response.version if response is not None else None
    if current == expected_version:
        return
    try:
        already = _already(comment, response, *asked())
    except InvalidInput:
        already = None
    raise already or StaleResponse(comment, response, _response_change(response) if response is not None
                                   else Change("another member of staff", None), actor)


def _clean_response_text(text: str) -> str:
    text = clean_text(text)
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


def _clean_reason(reason: str) -> str:
    """Why no response is needed, as a save would keep it, or InvalidInput."""
    reason = clean_text(reason)
    if not reason:
        raise InvalidInput("Explain why no response is needed", "reason")
    if len(reason) > NOTE_MAX:
        raise InvalidInput(f"The reason must be {NOTE_MAX:,} characters or fewer", "reason")
    return reason


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
        raise (_already(comment, current, state, text, reason)
               or StaleResponse(comment, current, _response_change(current), actor)) from None
    return response


def save_response(comment: Comment, text: str, state: ResponseState, actor, expected_version: int | None,
                  now: datetime) -> CommentResponse:
    """Write or change the developer's response to one comment, as a draft or agreed.

    `expected_version` is the response's version when the person opened it,
    or None if there was none then.
    """
    require_submitted(comment)
    response = find_response(comment.id)
    _check_response_version(comment, response, expected_version, actor,
                            lambda: (_require_written_state(state), _clean_response_text(text), ""))
    state = _require_written_state(state)
    text = _clean_response_text(text)
    if (already := _already(comment, response, state, text, "")) is not None:
        raise already
    return _write_response(comment, response, actor, state=state, text=text, reason="")


def mark_no_response_needed(comment: Comment, reason: str, actor, expected_version: int | None,
                            now: datetime) -> CommentResponse:
    """Record that a comment needs no response, and why. Any draft text is kept."""
    require_submitted(comment)
    response = find_response(comment.id)
    _check_response_version(comment, response, expected_version, actor,
                            lambda: (ResponseState.NOT_NEEDED, "", _clean_reason(reason)))
    reason = _clean_reason(reason)
    if (already := _already(comment, response, ResponseState.NOT_NEEDED, "", reason)) is not None:
        raise already
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
    comments = selected_comments(consultation_id, comment_ids)
    existing = queries.responses_by_comment(c.id for c in comments)
    created: list[CommentResponse] = []

    def add(comment: Comment) -> None:
        response = CommentResponse(comment_id=comment.id, state=state, text=text, reason="", updated_by=actor)
        db.session.add(response)
        created.append(response)

    outcome = add_to_each(comments, existing, add)
    for response in created:  # audited once flushed, as the record names the response's id and version
        record(actor, _RESPONSE_ACTIONS[state], response, None, snapshot(response, _RESPONSE_FIELDS))
    return outcome


