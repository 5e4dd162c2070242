"""Publishing the comments and responses once a consultation has closed.

Publication is a recorded, audited act that can be withdrawn. What the
public reads is decided here, once: accepted and redacted comments only,
organisations named, individuals named only with consent, no emails.
"""

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from threading import Lock

from sqlalchemy import Select, func, select

from consult.audit.services import record, snapshot
from consult.comments.models import Comment, CommentStatus
from consult.consultations.models import Chapter, Consultation, ConsultationStatus, Document, Section
from consult.exports.rows import ExportItem, comments_select, export_comments, in_document_order
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
PAGE_SIZE = 50
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


@dataclass(frozen=True, slots=True)
class PublishedPart:
    """One entry of the published page's index: a section, a chapter or a whole document, with its count."""

    key: str
    label: str
    count: int
    document_id: int
    chapter_id: int | None
    section_id: int | None


@dataclass(frozen=True, slots=True)
class PublishedPage:
    """One page of published comments; the cursors name the first and last comment shown."""

    items: tuple[ExportItem, ...]
    first: tuple[str, int] | None
    last: tuple[str, int] | None
    has_previous: bool
    has_next: bool


def _published(query: Select) -> Select:
    return query.where(Comment.status == CommentStatus.SUBMITTED,
                       Comment.moderation_state.in_([ModerationState.ACCEPTED, ModerationState.REDACTED]))


def published_comments_query(consultation: Consultation) -> Select:
    return _published(comments_select().where(Comment.consultation_id == consultation.id))


def _cache_key(consultation: Consultation, *rest) -> tuple:
    return (consultation.id, consultation.published_at.isoformat(), *rest)


def published_parts(consultation: Consultation) -> tuple[PublishedPart, ...]:
    """The parts of the documents that have published comments, in document order, with their counts.

    Counted once per publication (and per process), not on every page view.
    """
    def count():
        query = in_document_order(_published(
            select(Comment.document_id, Comment.chapter_id, Comment.section_id, Document.title, Chapter.number,
                   Chapter.title, Section.number, Section.heading, func.count(Comment.id))
            .select_from(Comment)
            .join(Document, Document.id == Comment.document_id)
            .outerjoin(Chapter, Chapter.id == Comment.chapter_id)
            .outerjoin(Section, Section.id == Comment.section_id)
            .where(Comment.consultation_id == consultation.id))
            .group_by(Comment.document_id, Comment.chapter_id, Comment.section_id, Document.title,
                      Document.position, Chapter.number, Chapter.title, Chapter.position, Section.number,
                      Section.heading, Section.position), number=False)
        parts = []
        for (document_id, chapter_id, section_id, document_title, chapter_number, chapter_title, section_number,
             section_heading, total) in db.session.execute(query):
            if section_id is not None:
                key = f"s{section_id}"
                label = f"Section {section_number}" + (f": {section_heading}" if section_heading else "")
            elif chapter_id is not None:
                key = f"c{chapter_id}"
                label = "Chapter: " + (f"{chapter_number} {chapter_title}" if chapter_number else chapter_title)
            else:
                key, label = f"d{document_id}", f"The whole document: {document_title}"
            parts.append(PublishedPart(key, label, total, document_id, chapter_id, section_id))
        return tuple(parts)

    return _memoised(_cache_key(consultation, "parts"), count)


def _part_rows(consultation: Consultation, part: PublishedPart, bound: int | None, forward: bool,
               limit: int) -> list[ExportItem]:
    """Up to `limit` comments of one part after (or before) comment number `bound`, walking the index."""
    query = published_comments_query(consultation).where(
        Comment.document_id == part.document_id,
        Comment.chapter_id.is_(None) if part.chapter_id is None else Comment.chapter_id == part.chapter_id,
        Comment.section_id.is_(None) if part.section_id is None else Comment.section_id == part.section_id)
    if bound is not None:
        query = query.where(Comment.number > bound if forward else Comment.number < bound)
    query = query.order_by(Comment.number if forward else Comment.number.desc()).limit(limit)
    return list(export_comments(query))


def _walk(consultation, parts, start: int, bound: int | None, forward: bool) -> tuple[list, bool]:
    """PAGE_SIZE comments from a position onwards (or backwards), and whether there are more beyond them."""
    found: list[tuple[PublishedPart, ExportItem]] = []
    index = start
    while 0 <= index < len(parts) and len(found) <= PAGE_SIZE:
        part = parts[index]
        found += [(part, item) for item in _part_rows(consultation, part, bound, forward,
                                                      PAGE_SIZE + 1 - len(found))]
        index, bound = index + (1 if forward else -1), None
    return found[:PAGE_SIZE], len(found) > PAGE_SIZE


def published_page(consultation: Consultation, part_key: str | None, after: int | None,
                   before: int | None) -> PublishedPage | None:
    """A page of at most PAGE_SIZE published comments in document order, by keyset, never by offset.

    Starts at the given part (the first when None), after comment number
    `after` or, going back, before comment number `before`. None when the
    part is not one of the published parts.
    """
    parts = published_parts(consultation)
    keys = [part.key for part in parts]
    if part_key is None:
        start = 0
    elif part_key in keys:
        start = keys.index(part_key)
    else:
        return None

    def read():
        if not parts:
            return PublishedPage((), None, None, False, False)
        if before is not None:
            found, more = _walk(consultation, parts, start, before, forward=False)
            found.reverse()
            has_previous, has_next = more, True
        else:
            found, more = _walk(consultation, parts, start, after, forward=True)
            has_previous, has_next = start > 0 or after is not None, more
        if not found:
            return PublishedPage((), None, None, False, False)
        (first_part, first), (last_part, last) = found[0], found[-1]
        return PublishedPage(tuple(item for _, item in found), (first_part.key, first.number),
                             (last_part.key, last.number), has_previous, has_next)

    return _memoised(_cache_key(consultation, "page", keys[start] if parts else None, after, before), read)
