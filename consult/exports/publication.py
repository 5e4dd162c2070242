"""Publishing the comments and responses once a consultation has closed.

Publication is a recorded, audited act that can be withdrawn. What the
public reads is decided here, once: accepted and redacted comments only,
organisations named, individuals named only with consent, no emails.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from itertools import chain

from sqlalchemy import Select, event, func, inspect, or_, select, update
from sqlalchemy.orm import Session

from consult.audit.services import record, snapshot
from consult.background import services as background
from consult.comments.models import Comment, CommentStatus, ParticipantKind, Participation
from consult.consultations.models import Consultation, ConsultationStatus
from consult.errors import DomainError
from consult.exports.memo import Memo
from consult.exports.paging import Page, Part, document_parts, keyset_page
from consult.exports.rows import ExportItem, comments_select
from consult.extensions import db
from consult.moderation import counters
from consult.moderation.models import CommentResponse
from consult.moderation.states import PUBLIC_STATES, ModerationState, ResponseState

PUBLISHED_COLUMNS = ["Comment number", "Stakeholder", "Stakeholder type", "Section number", "Section heading",
                     "Selected text", "Comment", "Tobacco industry links", "Response", "Question text",
                     "Yes/No answer", "Answer text"]


class PublicationRefused(DomainError):
    """Publishing or withdrawing that the consultation's state does not allow now."""

    status = 409


class PublicationCountsChanged(PublicationRefused):
    """The comments changed between the check page and the confirmation: nothing was done."""

    def __init__(self, now: "PublicationCounts"):
        super().__init__(
            "The numbers changed since you checked them, so nothing was done. "
            f"{now.public} {_comments(now.public)} would now be public. Check the numbers again before you confirm.")


def _comments(n: int) -> str:
    return "comment" if n == 1 else "comments"


@dataclass(frozen=True)
class PublicationCounts:
    """What publishing shows the public, as staff check it before they confirm.

    public: accepted and redacted comments; no_agreed_response: those among
    them without an agreed response (their Response column is empty to the
    public); redacted: those published with words withheld; named_individuals:
    individuals who agreed to be named with a public comment or a public
    answer (everyone named on the published pages and files);
    answers_waiting: submitted answers whose words staff have not yet
    moderated, which publishing leaves out (questions.moderation);
    comments_waiting: submitted comments still waiting for a triage
    decision, which publishing leaves out until they are accepted or
    redacted.
    """

    public: int
    no_agreed_response: int
    redacted: int
    named_individuals: int
    answers_waiting: int = 0
    comments_waiting: int = 0

    FIELDS = ("public", "no_agreed_response", "redacted", "named_individuals", "answers_waiting",
              "comments_waiting")

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.FIELDS}


def publication_counts(consultation: Consultation) -> PublicationCounts:
    """The numbers on the check page, cheap at 100,000 comments.

    Public, redacted, those with an agreed response and those still waiting
    for triage come from the consultation's running counts (one small read). The named individuals
    and the answers waiting are COUNT statements that the indexes on
    participations (consultation), comments (participation), answers
    (participation, question) and answers (question, state) serve; they run
    only when staff open the check page or confirm, never on a page the
    public or the committee reads.
    """
    counts = counters.read([consultation.id], ["state", "pub_agreed"])[consultation.id]
    accepted = counts["state", ModerationState.ACCEPTED.value]
    redacted = counts["state", ModerationState.REDACTED.value]
    waiting = counts["state", ModerationState.NEW.value]
    agreed = counts["pub_agreed", "total"]
    from consult.questions.exports import has_published_answer
    from consult.questions.moderation import waiting_count

    public = [Comment.status == CommentStatus.SUBMITTED, Comment.moderation_state.in_(PUBLIC_STATES)]
    # The participation names the consultation: the comments are found by participation alone. Asked for
    # the consultation too, SQLite walked each participation's consultation (19 s at 100,000 comments).
    # A name is published beside a public answer as beside a public comment, so either one counts.
    named = db.session.scalar(
        select(func.count()).select_from(Participation).where(
            Participation.consultation_id == consultation.id, Participation.kind == ParticipantKind.INDIVIDUAL,
            Participation.publish_name.is_(True),
            or_(select(Comment.id).where(Comment.participation_id == Participation.id, *public).exists(),
                has_published_answer()))) or 0

    return PublicationCounts(public=accepted + redacted, no_agreed_response=accepted + redacted - agreed,
                             redacted=redacted, named_individuals=named,
                             answers_waiting=waiting_count(consultation.id), comments_waiting=waiting)


def _check_unchanged(consultation: Consultation, seen: PublicationCounts) -> PublicationCounts:
    now = publication_counts(consultation)
    if now != seen:
        raise PublicationCountsChanged(now)
    return now


def publish_comments(consultation: Consultation, actor, now: datetime, seen: PublicationCounts) -> None:
    """Make the comments and responses public, exactly as staff checked them.

    Refused before the consultation closes, when already published, and when
    the counts differ from `seen` (what the check page showed), so nobody
    publishes what they did not see. The audit event keeps the counts.
    """
    if consultation.status_at(now) is not ConsultationStatus.CLOSED:
        raise PublicationRefused(
            "Comments can only be published after the consultation closes "
            f"(it closes at {consultation.closes_at:%H:%M} UTC on {consultation.closes_at:%d %B %Y}).")
    if consultation.published_at is not None:
        raise PublicationRefused("The comments and responses are already published.")
    counts = _check_unchanged(consultation, seen)
    before = snapshot(consultation, ["published_at"])
    consultation.published_at = now
    record(actor, "consultation.publish_comments", consultation, before,
           {**snapshot(consultation, ["published_at"]), **counts.as_dict()})
    db.session.flush()


def withdraw_publication(consultation: Consultation, actor, seen: PublicationCounts) -> None:
    """Take the published comments down again, as checked; the record of both acts stays in the audit trail.

    The files of them prepared for the public go too (they are refused from now on whatever happens to them).
    """
    if consultation.published_at is None:
        raise PublicationRefused("The comments and responses are not published.")
    counts = _check_unchanged(consultation, seen)
    before = {**snapshot(consultation, ["published_at"]), **counts.as_dict()}
    consultation.published_at = None
    record(actor, "consultation.withdraw_comments", consultation, before, snapshot(consultation, ["published_at"]))
    db.session.flush()
    background.discard_unpublished_files(consultation.id)


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
        item.quote, item.body, tobacco_declaration(item), published_response(item), "", "", "",
    ]


def published_rows(items: Iterable[ExportItem], answers: Iterable[tuple[str, str, str, str, str]]) -> Iterator[list]:
    """The public download's rows: every published comment, then every published answer to the questions."""
    for item in items:
        yield published_values(item)
    for question, stakeholder, participant_type, yes_no, text in answers:
        yield ["", stakeholder, participant_type, "", "", "", "", "", "", question, yes_no, text]


# The public page of published comments is read far more often than it
# changes. What it shows is therefore memoised per process under the
# consultation's id, published_at and published_revision: a publish or
# withdrawal changes published_at (or makes the page 404), and any later
# change to what the page shows moves published_revision (below), so a stale
# entry is never read again and simply ages out. The key comes from the
# database row every request loads anyway, so processes need not tell each
# other anything, and no cache service sits on the path.
_published_memo: Memo = Memo(size=256)

# What staff change on a submitted comment that the public pages show. A draft's own words change as its
# author edits it, but no draft is ever published, so a draft's edit moves nothing and costs no statement.
_COMMENT_FIELDS_SHOWN = ("moderation_state", "redacted_body", "redacted_quote")
# What the pages show of a submitted response's author, which only erasing their account changes afterwards.
_PARTICIPATION_FIELDS_SHOWN = ("publish_name", "tobacco_details", "organisation_name")
_CHANGED = "publication.changed_comment_ids"
_CHANGED_CONSULTATIONS = "publication.changed_consultation_ids"


def _changed(obj, fields: tuple[str, ...]) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in fields)


@event.listens_for(Session, "before_flush")
def _note_changes_to_what_is_published(session: Session, flush_context, instances) -> None:
    """Note what a flush changes of what the public pages show: a decision, a redaction, a response, or an
    author's name or declaration taken back when their account is erased."""
    comments, consultations = set(), set()
    for obj in chain(session.new, session.dirty, session.deleted):
        if isinstance(obj, CommentResponse):
            comments.add(obj.comment_id)
        elif isinstance(obj, Comment) and obj.id is not None and obj in session.dirty:
            if _changed(obj, _COMMENT_FIELDS_SHOWN):
                comments.add(obj.id)
        elif isinstance(obj, Participation) and obj in session.dirty and obj.is_submitted:
            if _changed(obj, _PARTICIPATION_FIELDS_SHOWN):
                consultations.add(obj.consultation_id)
    comments.discard(None)
    if comments:
        session.info.setdefault(_CHANGED, set()).update(comments)
    if consultations:
        session.info.setdefault(_CHANGED_CONSULTATIONS, set()).update(consultations)


@event.listens_for(Session, "after_flush")
def _move_published_revision(session: Session, flush_context) -> None:
    """In the same transaction, move the revision of each published consultation those comments belong to.

    One UPDATE, and none before publication, so moderation of a consultation
    not yet published takes no lock on its row.
    """
    comments = session.info.pop(_CHANGED, None)
    consultations = session.info.pop(_CHANGED_CONSULTATIONS, None)
    if not comments and not consultations:
        return
    concerned = or_(Consultation.id.in_(sorted(consultations or ())),
                    Consultation.id.in_(select(Comment.consultation_id).where(Comment.id.in_(sorted(comments or ())))))
    session.execute(
        update(Consultation).where(Consultation.published_at.is_not(None), concerned)
        .values(published_revision=Consultation.published_revision + 1)
        .execution_options(synchronize_session=False))


@event.listens_for(Session, "after_rollback")
def _forget_noted_changes(session: Session) -> None:
    session.info.pop(_CHANGED, None)
    session.info.pop(_CHANGED_CONSULTATIONS, None)


def clear_published_cache() -> None:
    _published_memo.clear()


def _published(query: Select) -> Select:
    return query.where(Comment.status == CommentStatus.SUBMITTED,
                       Comment.moderation_state.in_(PUBLIC_STATES))


def published_comments_query(consultation: Consultation) -> Select:
    return _published(comments_select().where(Comment.consultation_id == consultation.id))


def _cache_key(consultation: Consultation, *rest) -> tuple:
    return (consultation.id, consultation.published_at.isoformat(), consultation.published_revision, *rest)


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

    return _published_memo.get(_cache_key(consultation, "parts"), count)


def published_page(consultation: Consultation, key: str | None, after: int | None,
                   before: int | None) -> Page | None:
    """A page of at most PAGE_SIZE published comments in document order, by keyset; None for an unknown part."""
    parts = list(published_parts(consultation))
    if key is not None and key not in {part.key for part in parts}:
        return None
    return _published_memo.get(_cache_key(consultation, "page", key, after, before),
                               lambda: keyset_page(published_comments_query(consultation), parts, key, after, before))
