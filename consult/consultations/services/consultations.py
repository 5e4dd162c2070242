"""Consultations: finding them for the public and for staff, creating them and editing their details."""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from consult.accounts.models import User
from consult.audit.models import AuditEvent
from consult.audit.services import record, snapshot
from consult.consultations.models import (
    DEFAULT_LATE_GRACE_SECONDS,
    Chapter,
    Consultation,
    ConsultationStatus,
    Document,
)
from consult.errors import DomainError
from consult.extensions import db

EDITABLE_FIELDS = ("reference", "title", "summary", "opens_at", "closes_at", "late_grace_seconds", "is_draft")
_CHANGED_DETAILS_ACTIONS = ("consultation.create", "consultation.edit", "consultation.close")


class DuplicateReference(DomainError):
    field = "reference"
    status = 422

    def __init__(self, reference: str):
        self.reference = reference
        super().__init__(f"A consultation with the reference {reference} already exists; enter a different reference")


class ConsultationDatesInvalid(DomainError):
    message = "The closing date and time must be after the opening date and time"
    field = "closes_on"
    status = 422


CLOSING_TIME_PASSED = "The closing time must be in the future"
CLOSE_NOW_INSTEAD = ("The closing time must be in the future. To stop taking comments now, use ‘Close this "
                     "consultation now’ on its page")
CLOSED_TIME_MOVED = ("This consultation has closed: its closing time can only be moved into the future, "
                     "which opens it again")
REFERENCE_FIXED = ("The reference cannot be changed once the consultation has opened or has comments: comment "
                   "numbers, receipts and links already sent use it")
DRAFT_AFTER_OPENING = ("The consultation has opened, so it cannot be held as a draft again: people taking part "
                       "would lose their drafts, receipts and links. To stop taking comments early, use ‘Close "
                       "this consultation now’ on its page")
OPENING_TIME_AFTER_OPENING = ("The consultation has already opened, so the opening time cannot be in the future: "
                              "people may be part-way through their responses")


class DetailsFixed(DomainError):
    """A detail that people taking part already rely on, which opening the consultation fixed."""

    status = 422


def has_opened(consultation: Consultation, now: datetime) -> bool:
    """Public and past its opening time: people may have drafts, receipts and links to it."""
    return not consultation.is_draft and consultation.opens_at <= now


def reference_is_fixed(consultation: Consultation, now: datetime) -> bool:
    """The reference is in every comment number, receipt and emailed link once the consultation has opened
    or numbered a comment (staff enter paper responses before it opens), so it no longer changes."""
    return has_opened(consultation, now) or consultation.last_comment_number > 0


class EditConflict(DomainError):
    """Someone saved the consultation after this editor opened it; nothing was saved.

    `by_you` is true when that someone was the editor, in another tab or by
    sending the form twice, so the page does not send them looking for a colleague.
    """

    status = 409

    def __init__(self, consultation: Consultation, event: AuditEvent | None, actor=None):
        self.consultation = consultation
        self.event = event
        self.by_you = event is not None and actor is not None and event.actor_id == actor.id
        self.changed_by = event.actor.name if event is not None and event.actor is not None else "someone else"
        self.changed_at = event.occurred_at if event is not None else None
        # Closed now (services.closing), rather than edited: the page says so, not "changed".
        self.was_closed = event is not None and event.action == "consultation.close"
        super().__init__(f"{consultation.reference} was changed by {'you' if self.by_you else self.changed_by} "
                         "since it was opened.")


@dataclass(frozen=True)
class ConsultationDetails:
    """What staff set on a consultation; times are aware datetimes (stored as UTC)."""

    reference: str
    title: str
    summary: str
    opens_at: datetime
    closes_at: datetime
    is_draft: bool
    late_grace_seconds: int = DEFAULT_LATE_GRACE_SECONDS


def find_consultation(reference: str) -> Consultation | None:
    """Any consultation by reference, drafts included: for staff tools and the CLI."""
    return db.session.scalar(select(Consultation).where(Consultation.reference == reference.strip().upper()))


def find_public_consultation(reference: str) -> Consultation | None:
    """A consultation the public may see: any that staff have not held back as a draft."""
    return db.session.scalar(
        select(Consultation)
        .where(Consultation.reference == reference.upper(), Consultation.is_draft.is_(False))
        .options(selectinload(Consultation.documents))
    )


def list_public_consultations(now: datetime) -> dict[ConsultationStatus, list[Consultation]]:
    """Public consultations grouped by status: open ones closing soonest first."""
    grouped: dict[ConsultationStatus, list[Consultation]] = {
        ConsultationStatus.OPEN: [], ConsultationStatus.UPCOMING: [], ConsultationStatus.CLOSED: []
    }
    for consultation in db.session.scalars(
        select(Consultation).where(Consultation.is_draft.is_(False)).order_by(Consultation.closes_at)
    ):
        grouped[consultation.status_at(now)].append(consultation)
    grouped[ConsultationStatus.CLOSED].reverse()
    return grouped


def create_consultation(reference: str, title: str, summary: str, opens_at: datetime,
                        closes_at: datetime, is_draft: bool = False) -> Consultation:
    """A new consultation; the reference is unique, which the database enforces."""
    consultation = Consultation(
        reference=reference.strip().upper(), title=title.strip(), summary=summary.strip(),
        opens_at=opens_at, closes_at=closes_at, is_draft=is_draft,
    )
    try:
        with db.session.begin_nested():
            db.session.add(consultation)
    except IntegrityError as error:
        if find_consultation(consultation.reference) is None:  # refused for another reason, such as the dates
            raise
        raise DuplicateReference(consultation.reference) from error
    return consultation


def list_all_consultations() -> list[tuple[Consultation, int]]:
    """Every consultation, drafts included, newest opening first, each with its number of documents."""
    document_count = (
        select(func.count(Document.id)).where(Document.consultation_id == Consultation.id).scalar_subquery()
    )
    rows = db.session.execute(
        select(Consultation, document_count).order_by(Consultation.opens_at.desc(), Consultation.id.desc())
    )
    return [(consultation, count) for consultation, count in rows]


def load_consultation_for_staff(reference: str) -> Consultation | None:
    """Any consultation by reference with its documents, chapters and sections loaded."""
    return db.session.scalar(
        select(Consultation)
        .where(Consultation.reference == reference.strip().upper())
        .options(selectinload(Consultation.documents).selectinload(Document.chapters).selectinload(Chapter.sections))
    )


def details_digest(consultation: Consultation) -> str:
    """A fingerprint of the staff-editable fields, to tell a real conflict from an unrelated update.

    The version also moves when a response is submitted (the comment counter
    lives on the consultation), which must not block an editor.
    """
    values = json.dumps(snapshot(consultation, EDITABLE_FIELDS), sort_keys=True, default=str)
    return hashlib.sha256(values.encode("utf-8")).hexdigest()


def latest_details_change(consultation: Consultation) -> AuditEvent | None:
    """The most recent create or edit of this consultation, to name who changed it."""
    return db.session.scalar(
        select(AuditEvent)
        .where(AuditEvent.object_type == Consultation.__tablename__,
               AuditEvent.object_id == str(consultation.id),
               AuditEvent.action.in_(_CHANGED_DETAILS_ACTIONS))
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
        .limit(1)
    )


def add_consultation(actor: User, details: ConsultationDetails, now: datetime) -> Consultation:
    """Create a consultation from staff-entered details and audit it.

    Raises ConsultationDatesInvalid when it would close before it opens or
    has already closed at `now` (a draft too: it would be closed the moment
    it is made public), and DuplicateReference when the reference is taken;
    nothing is added then.
    """
    _check_dates(details)
    _check_times_against_now(None, details, now)
    consultation = create_consultation(details.reference, details.title, details.summary,
                                       details.opens_at, details.closes_at, details.is_draft)
    consultation.late_grace_seconds = details.late_grace_seconds
    record(actor, "consultation.create", consultation, None, snapshot(consultation, EDITABLE_FIELDS))
    return consultation


def edit_consultation(actor: User, consultation: Consultation, details: ConsultationDetails,
                      seen_version: int, seen_digest: str, now: datetime) -> bool:
    """Save staff edits unless someone else changed the details after this editor opened them.

    `seen_version` and `seen_digest` describe the consultation as the form
    showed it. A different version with the same details (a response was
    submitted meanwhile) is not a conflict; different details are, and raise
    EditConflict naming the last editor. A concurrent save that lands between
    this check and the write is caught by the version column. Returns whether
    anything changed; an unchanged save records no event.

    Times are judged against `now` only where they change, so a closed
    consultation can still be renamed: ConsultationDatesInvalid is raised for
    a new closing time that has passed (which would end the consultation at
    once), and for a new opening time in the future once the public
    consultation has opened (which would stop taking responses from people
    part-way through one).
    """
    _check_dates(details)
    for _attempt in range(2):
        if consultation.version != seen_version and details_digest(consultation) != seen_digest:
            raise EditConflict(consultation, latest_details_change(consultation), actor)
        _check_times_against_now(consultation, details, now)
        reference = details.reference.strip().upper()
        _check_what_opening_fixed(consultation, details, reference, now)
        other = find_consultation(reference)
        if other is not None and other.id != consultation.id:
            raise DuplicateReference(reference)
        before = snapshot(consultation, EDITABLE_FIELDS)
        try:
            with db.session.begin_nested():
                consultation.reference = reference
                consultation.title = details.title.strip()
                consultation.summary = details.summary.strip()
                consultation.opens_at = details.opens_at
                consultation.closes_at = details.closes_at
                consultation.late_grace_seconds = details.late_grace_seconds
                consultation.is_draft = details.is_draft
        except StaleDataError:
            # Another transaction updated the row after we read it; the savepoint
            # rollback expired our copy, so the next pass compares against theirs.
            continue
        except IntegrityError as error:
            if find_consultation(reference) is not None:
                raise DuplicateReference(reference) from error
            raise
        after = snapshot(consultation, EDITABLE_FIELDS)
        if before == after:
            return False
        record(actor, "consultation.edit", consultation, before, after)
        return True
    raise EditConflict(consultation, latest_details_change(consultation), actor)


def _check_dates(details: ConsultationDetails) -> None:
    if details.closes_at <= details.opens_at:
        raise ConsultationDatesInvalid()


def _check_what_opening_fixed(saved: Consultation, details: ConsultationDetails, reference: str,
                              now: datetime) -> None:
    """Refuse a new reference, or a return to draft, that would break what people taking part hold."""
    if reference != saved.reference and reference_is_fixed(saved, now):
        raise DetailsFixed(REFERENCE_FIXED, field="reference")
    if details.is_draft and has_opened(saved, now):
        raise DetailsFixed(DRAFT_AFTER_OPENING, field="is_draft")


def _check_times_against_now(saved: Consultation | None, details: ConsultationDetails, now: datetime) -> None:
    """Refuse a closing or opening time that staff set or change to one that would lock people out.

    A closing time in the past would end an open consultation with no check of who it leaves out, and
    not at the moment staff chose: the message sends them to the close made for that.
    """
    if (saved is None or details.closes_at != saved.closes_at) and details.closes_at <= now:
        if saved is not None and saved.closes_at <= now:
            message = CLOSED_TIME_MOVED
        elif saved is not None and saved.is_open_at(now):
            message = CLOSE_NOW_INSTEAD
        else:
            message = CLOSING_TIME_PASSED
        raise ConsultationDatesInvalid(message, field="closes_on")
    if (saved is not None and not saved.is_draft and saved.opens_at <= now
            and details.opens_at != saved.opens_at and details.opens_at > now):
        raise ConsultationDatesInvalid(OPENING_TIME_AFTER_OPENING, field="opens_on")
