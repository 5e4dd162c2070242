"""Closing an open consultation now, rather than at the closing time staff set in advance."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.orm.exc import StaleDataError

from consult.accounts.models import User
from consult.audit.services import record, snapshot
from consult.consultations.models import Consultation, ConsultationStatus
from consult.consultations.services.consultations import EDITABLE_FIELDS, EditConflict, latest_details_change
from consult.errors import DomainError
from consult.extensions import db
from consult.uk_time import uk_datetime


class NotOpenToClose(DomainError):
    """The consultation is not open at the moment of asking, so there is nothing to close."""

    status = 409

    def __init__(self, consultation: Consultation, now: datetime):
        self.consultation = consultation
        self.consultation_status = consultation.status_at(now)
        name = f"Consultation {consultation.reference}"
        if self.consultation_status is ConsultationStatus.DRAFT:
            message = f"{name} is held as a draft, so it is not open for comments and there is nothing to close."
        elif self.consultation_status is ConsultationStatus.UPCOMING:
            message = (f"{name} has not opened yet: it opens at {uk_datetime(consultation.opens_at)}. "
                       "To change when it closes, edit its details.")
        else:
            message = f"{name} already closed at {uk_datetime(consultation.closes_at)}."
        super().__init__(message)


@dataclass(frozen=True)
class ClosingCounts:
    """Who a close affects: responses already in, and people whose drafts would stay unsent."""

    submitted_responses: int
    people_with_drafts: int


def check_closable(consultation: Consultation, now: datetime) -> None:
    """Raise NotOpenToClose unless the consultation is open for comments at `now`."""
    if consultation.status_at(now) is not ConsultationStatus.OPEN or now <= consultation.opens_at:
        raise NotOpenToClose(consultation, now)


def closing_counts(consultation: Consultation) -> ClosingCounts:
    """Submitted responses, and people with draft comments or answers they have not submitted, in one query.

    It counts participations, one row per person, and only asks whether each
    unsubmitted one has a draft (the comments and answers indexes on
    participation answer that), so no comment is loaded and the cost follows
    the number of people taking part. Drafts a colleague has sent to their
    organisation's lead are the lead's to submit, so they count for the lead.
    """
    from consult.comments.models import Comment, CommentStatus, Participation
    from consult.questions.models import Answer

    has_draft = or_(
        exists().where(Comment.participation_id == Participation.id, Comment.status == CommentStatus.DRAFT,
                       Comment.sent_to_lead_at.is_(None)),
        exists().where(Answer.participation_id == Participation.id, Answer.sent_to_lead_at.is_(None)),
    )
    submitted, with_drafts = db.session.execute(
        select(func.count(Participation.submitted_at),
               func.count(case((and_(Participation.submitted_at.is_(None), has_draft), 1))))
        .where(Participation.consultation_id == consultation.id)
    ).one()
    return ClosingCounts(submitted_responses=submitted or 0, people_with_drafts=with_drafts or 0)


def close_consultation(actor: User, consultation: Consultation, now: datetime) -> None:
    """Close an open consultation at `now`, the moment the request reached the service, and audit it.

    The closing time becomes `now` and the late grace 0: the grace is for
    responses sent before a deadline people knew of and queued behind others,
    and nobody was racing a close made now, so anything arriving after it is
    refused. Because the closing time is a detail staff edit, the version
    moves and an edit form opened before the close meets a conflict rather
    than silently reopening it; the audit event has the details before and after.

    Raises NotOpenToClose for a draft, a consultation not yet open, or one
    already closed. A second close (a replay, another tab, a colleague) finds
    it closed and is refused, naming when it closed; of two at once, the
    version column lets one write and the other re-reads and is refused.
    EditConflict is raised only if the row changed under it twice running.
    """
    for _attempt in range(2):
        check_closable(consultation, now)
        before = snapshot(consultation, EDITABLE_FIELDS)
        try:
            with db.session.begin_nested():
                consultation.closes_at = now
                consultation.late_grace_seconds = 0
        except StaleDataError:
            # Changed by another transaction since it was read; the rolled-back savepoint expired our
            # copy, so the next pass judges the row as it is now.
            continue
        record(actor, "consultation.close", consultation, before, snapshot(consultation, EDITABLE_FIELDS))
        return
    raise EditConflict(consultation, latest_details_change(consultation), actor)
