"""Publishing the comments and responses once a consultation has closed.

Publication is a recorded, audited act that can be withdrawn. What the
public reads is decided here, once: accepted and redacted comments only,
organisations named, individuals named only with consent, no emails.
"""

from collections import OrderedDict
from dataclasses import replace
from datetime import datetime
from threading import Lock

from sqlalchemy import Select, func, select

from consult.audit.services import record, snapshot
from consult.comments.models import Comment, CommentStatus
from consult.consultations.models import Consultation, ConsultationStatus
from consult.exports.paging import Page, Part, document_parts, keyset_page
from consult.exports.rows import ExportItem, comments_select
from consult.errors import DomainError
from consult.extensions import db
from consult.moderation.states import ModerationState, ResponseState

PUBLISHED_COLUMNS = ["Comment number", "Stakeholder", "Stakeholder type", "Section number", "Section heading",
                     "Selected text", "Comment", "Tobacco industry links", "Response"]


class PublicationRefused(DomainError):
    """Publishing or withdrawing that the consultation's state does not allow now."""

    status = 409


def publish_comments(consultation: Consultation, actor, now: datetime) -> None:
    """Make the comments and responses public. Refused before the consultation closes."""
    if consultation.status_at(now) is not ConsultationStatus.CLOSED:
        raise PublicationRefused(
            "Comments can only be published after the consultation closes "
            f"(it closes at {consultation.closes_at:%H:%M} UTC on {consultation.closes_at:%d %B %Y}).")
    if consultation.published_at is not None:
        raise PublicationRefused("The comments and responses are already published.")
    before = snapshot(consultation, ["published_at"])
    consultation.published_at = now
    record(actor, "consultation.publish_comments", consultation, before, snapshot(consultation, ["published_at"]))
    db.session.flush()


def withdraw_publication(consultation: Consultation, actor) -> None:
    """Take the published comments down again; the record of both acts stays in the audit trail."""
    if consultation.published_at is None:
        raise PublicationRefused("The comments and responses are not published.")
    before = snapshot(consultation, ["published_at"])
    consultation.published_at = None
    record(actor, "consultation.withdraw_comments", consultation, before, snapshot(consultation, ["published_at"]))
    db.session.flush()




def tobacco_declaration(item: ExportItem) -> str:
    """As published alongside comments: the declared links, or that none were declared."""
    if item.has_tobacco_links:
        return f"Declared links with, or funding from, the tobacco industry: {item.tobacco_details}"
    return "None declared"


def published_response(item: ExportItem) -> str:
    """Only an agreed response is published; drafts and internal 'no response needed' reasons are not."""
    return item.response if item.response_state is ResponseState.AGREED else ""


def published_values(item: ExportItem) -> list:
    return [
        item.reference, item.stakeholder, item.participant_type, item.section_number,
        item.section_heading if item.section_number else (item.chapter_label or "Whole document"),
        item.quote, item.body, tobacco_declaration(item), published_response(item),
    ]


# The public page of published comments is read far more often than it
# changes, and it changes only when staff publish or withdraw. What it shows
# is therefore memoised per process under the consultation's id and
# published_at: a publish or withdrawal changes published_at (or makes the
# page 404), so a stale entry is never read again and simply ages out. The
# key comes from the database row every request loads anyway, so processes
# need not tell each other anything, and no cache service sits on the path.
_CACHE_ENTRIES = 256
_cache: OrderedDict = OrderedDict()
_cache_lock = Lock()


def _memoised(key: tuple, compute):
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    value = compute()
    with _cache_lock:
        _cache[key] = value
        while len(_cache) > _CACHE_ENTRIES:
            _cache.popitem(last=False)
    return value


def clear_published_cache() -> None:
    with _cache_lock:
        _cache.clear()


def _published(query: Select) -> Select:
    return query.where(Comment.status == CommentStatus.SUBMITTED,
                       Comment.moderation_state.in_([ModerationState.ACCEPTED, ModerationState.REDACTED]))


def published_comments_query(consultation: Consultation) -> Select:
    return _published(comments_select().where(Comment.consultation_id == consultation.id))


def _cache_key(consultation: Consultation, *rest) -> tuple:
    return (consultation.id, consultation.published_at.isoformat(), *rest)


def published_parts(consultation: Consultation) -> tuple[Part, ...]:
    """The parts of the documents that have published comments, in document order, with their counts.

    Counted once per publication (and per process), not on every page view.
    """
    def count():
        counts = dict(((document_id, chapter_id, section_id), total) for document_id, chapter_id, section_id, total
                      in db.session.execute(_published(
                          select(Comment.document_id, Comment.chapter_id, Comment.section_id, func.count(Comment.id))
                          .where(Comment.consultation_id == consultation.id))
                          .group_by(Comment.document_id, Comment.chapter_id, Comment.section_id)))
        return tuple(replace(part, count=counts[(part.document_id, part.chapter_id, part.section_id)])
                     for part in document_parts(consultation.id)
                     if (part.document_id, part.chapter_id, part.section_id) in counts)

    return _memoised(_cache_key(consultation, "parts"), count)


def published_page(consultation: Consultation, key: str | None, after: int | None,
                   before: int | None) -> Page | None:
    """A page of at most PAGE_SIZE published comments in document order, by keyset; None for an unknown part."""
    parts = list(published_parts(consultation))
    if key is not None and key not in {part.key for part in parts}:
        return None
    return _memoised(_cache_key(consultation, "page", key, after, before),
                     lambda: keyset_page(published_comments_query(consultation), parts, key, after, before))
