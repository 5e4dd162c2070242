"""Reading and building consultations: the public list, one draft document, imports."""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from consult.accounts.models import Role, User
from consult.audit.models import AuditEvent
from consult.audit.services import record, snapshot
from consult.consultations.importing import DocumentFormatError, ParsedDocument
from consult.consultations.models import (
    Chapter,
    CommitteeAssignment,
    Consultation,
    ConsultationStatus,
    Document,
    Section,
    anchor_for,
)
from consult.errors import DomainError
from consult.extensions import db


# Statuses: 422 for a typed value the service cannot accept (the page shows the form again, as for its
# own checks), 409 for a clash with what is saved now.


class DuplicateReference(DomainError):
    field = "reference"
    status = 422

    def __init__(self, reference: str):
        self.reference = reference
        super().__init__(f"A consultation with the reference {reference} already exists; enter a different reference")


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


def load_document(consultation: Consultation, document_id: int) -> Document | None:
    """One document of this consultation with all its chapters and sections, in three queries."""
    return db.session.scalar(
        select(Document)
        .where(Document.id == document_id, Document.consultation_id == consultation.id)
        .options(selectinload(Document.chapters).selectinload(Chapter.sections))
    )


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


def import_document(consultation: Consultation, parsed: ParsedDocument) -> Document:
    """Store a parsed draft as the consultation's next document, all or nothing.

    A draft the database refuses (two chapters with the same number, say)
    leaves no rows behind and raises DocumentFormatError saying so.
    """
    position = 1 + max((d.position for d in consultation.documents), default=0)
    try:
        # Built inside the savepoint so that a refusal takes every row of it away.
        with db.session.begin_nested():
            document = _build_document(consultation, parsed, position)
            db.session.add(document)
    except (IntegrityError, DataError) as error:
        reason = str(error.orig).strip().splitlines()[0]
        raise DocumentFormatError(
            f"The draft could not be stored, so nothing was imported ({reason}). Check that no chapter "
            "or section number is used twice and that titles and headings are under 300 characters."
        ) from None
    return document


def _build_document(consultation: Consultation, parsed: ParsedDocument, position: int) -> Document:
    document = Document(consultation=consultation, title=parsed.title, position=position,
                        numbers_generated=parsed.numbers_generated)
    section_position = 0
    anchors: set[str] = set()
    for chapter_position, parsed_chapter in enumerate(parsed.chapters, start=1):
        anchor = anchor_for("chapter", parsed_chapter.number, parsed_chapter.title)
        if anchor in anchors:  # two unnumbered chapters with one title, e.g. two "Appendix"
            anchor = f"{anchor}-{chapter_position}"
        anchors.add(anchor)
        chapter = Chapter(
            number=parsed_chapter.number, title=parsed_chapter.title, body=parsed_chapter.body,
            position=chapter_position, anchor=anchor,
        )
        document.chapters.append(chapter)
        for parsed_section in parsed_chapter.sections:
            section_position += 1
            chapter.sections.append(Section(
                document=document, number=parsed_section.number, heading=parsed_section.heading,
                text=parsed_section.text, position=section_position,
                anchor=anchor_for("section", parsed_section.number),
            ))
    return document


# Staff: building and editing consultations, importing drafts, assigning committees.
# Each takes the acting staff member, records an audit event, flushes and never commits.

EDITABLE_FIELDS = ("reference", "title", "summary", "opens_at", "closes_at", "is_draft")
_CHANGED_DETAILS_ACTIONS = ("consultation.create", "consultation.edit")

MAX_TITLE_CHARS = 300
MAX_CHAPTER_NUMBER_CHARS = 10
MAX_SECTION_NUMBER_CHARS = 20


@dataclass(frozen=True)
class ConsultationDetails:
    """What staff set on a consultation; times are aware datetimes (stored as UTC)."""

    reference: str
    title: str
    summary: str
    opens_at: datetime
    closes_at: datetime
    is_draft: bool


class ConsultationDatesInvalid(DomainError):
    message = "The closing date and time must be after the opening date and time"
    field = "closes_on"
    status = 422


class EditConflict(DomainError):
    """Someone saved the consultation after this editor opened it; nothing was saved."""

    status = 409

    def __init__(self, consultation: Consultation, event: AuditEvent | None):
        self.consultation = consultation
        self.event = event
        self.changed_by = event.actor.name if event is not None and event.actor is not None else "someone else"
        self.changed_at = event.occurred_at if event is not None else None
        super().__init__(f"{consultation.reference} was changed by {self.changed_by} since it was opened.")


class DocumentHasComments(DomainError):
    field = "target"
    status = 409

    def __init__(self, document: Document, count: int):
        self.document = document
        self.count = count
        noun = "comment" if count == 1 else "comments"
        super().__init__(
            f"“{document.title}” cannot be replaced because it has {count} {noun}; versioned drafts come "
            "later. Import the new draft as an additional document instead."
        )


class CommitteeAssignmentError(DomainError):
    field = "email"
    status = 422


class UnknownCommitteeMember(CommitteeAssignmentError):
    def __init__(self, email: str):
        super().__init__(f"There is no account with the email address {email}. "
                         "Check the address, or ask the person to create an account first.")


class NotACommitteeMember(CommitteeAssignmentError):
    def __init__(self, user: User):
        super().__init__(f"{user.name} ({user.email}) is not a committee member. "
                         "An admin can give them the committee role first.")


class AlreadyAssigned(CommitteeAssignmentError):
    status = 409

    def __init__(self, user: User):
        super().__init__(f"{user.name} ({user.email}) is already assigned to this consultation.")


class NotAssigned(CommitteeAssignmentError):
    field = "user_id"
    status = 409

    def __init__(self):
        super().__init__("That person is not assigned to this consultation, so there was nothing to remove.")


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


def add_consultation(actor: User, details: ConsultationDetails) -> Consultation:
    """Create a consultation from staff-entered details and audit it.

    Raises ConsultationDatesInvalid when it would close before it opens and
    DuplicateReference when the reference is taken; nothing is added then.
    """
    _check_dates(details)
    consultation = create_consultation(details.reference, details.title, details.summary,
                                       details.opens_at, details.closes_at, details.is_draft)
    record(actor, "consultation.create", consultation, None, snapshot(consultation, EDITABLE_FIELDS))
    return consultation


def edit_consultation(actor: User, consultation: Consultation, details: ConsultationDetails,
                      seen_version: int, seen_digest: str) -> bool:
    """Save staff edits unless someone else changed the details after this editor opened them.

    `seen_version` and `seen_digest` describe the consultation as the form
    showed it. A different version with the same details (a response was
    submitted meanwhile) is not a conflict; different details are, and raise
    EditConflict naming the last editor. A concurrent save that lands between
    this check and the write is caught by the version column. Returns whether
    anything changed; an unchanged save records no event.
    """
    _check_dates(details)
    for _attempt in range(2):
        if consultation.version != seen_version and details_digest(consultation) != seen_digest:
            raise EditConflict(consultation, latest_details_change(consultation))
        reference = details.reference.strip().upper()
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
    raise EditConflict(consultation, latest_details_change(consultation))


def _check_dates(details: ConsultationDetails) -> None:
    if details.closes_at <= details.opens_at:
        raise ConsultationDatesInvalid()


def check_parsed_document(parsed: ParsedDocument) -> None:
    """Refuse, before any preview, a draft whose titles or numbers the database could not hold."""
    if len(parsed.title) > MAX_TITLE_CHARS:
        raise DocumentFormatError(
            f"The document title is {len(parsed.title):,} characters long; it must be {MAX_TITLE_CHARS} "
            "or fewer. Shorten the title and upload the file again.")
    for chapter in parsed.chapters:
        if len(chapter.title) > MAX_TITLE_CHARS:
            raise DocumentFormatError(
                f"The chapter heading “{chapter.title[:60]}…” is longer than {MAX_TITLE_CHARS} characters. "
                "Shorten it and upload the file again.")
        if chapter.number and len(chapter.number) > MAX_CHAPTER_NUMBER_CHARS:
            raise DocumentFormatError(f"Chapter number {chapter.number[:20]} is too long.")
        for section in chapter.sections:
            if len(section.number) > MAX_SECTION_NUMBER_CHARS:
                raise DocumentFormatError(f"Section number {section.number[:30]} is too long.")
            if section.heading and len(section.heading) > MAX_TITLE_CHARS:
                raise DocumentFormatError(
                    f"The sub-heading above section {section.number} is longer than {MAX_TITLE_CHARS} "
                    "characters. Shorten it and upload the file again.")


def count_comments_on_document(document: Document) -> int:
    """Comments of any status (drafts included) made on the document or any part of it."""
    from consult.comments.models import Comment

    return db.session.scalar(select(func.count(Comment.id)).where(Comment.document_id == document.id))


def check_replaceable(document: Document) -> None:
    """Refuse, with DocumentHasComments, to replace a document once anyone has commented on it."""
    count = count_comments_on_document(document)
    if count:
        raise DocumentHasComments(document, count)


def add_document(actor: User, consultation: Consultation, parsed: ParsedDocument, filename: str) -> Document:
    """Import a parsed draft as the consultation's next document and audit it; all or nothing."""
    check_parsed_document(parsed)
    document = import_document(consultation, parsed)
    record(actor, "consultation.import_document", consultation, None,
           {**_document_summary(document, parsed), "filename": filename})
    return document


def replace_document(actor: User, consultation: Consultation, document: Document, parsed: ParsedDocument,
                     filename: str) -> Document:
    """Swap a document for a new draft in the same place, while nobody has commented on it.

    Raises DocumentHasComments once any comment, draft or submitted, exists:
    comments point at its sections. The old rows go and the new ones arrive
    in one savepoint, so a failure leaves the old document as it was.
    """
    if document.consultation_id != consultation.id:
        raise ValueError("The document belongs to another consultation.")
    check_parsed_document(parsed)
    check_replaceable(document)
    before = _document_summary(document)
    position = document.position
    try:
        with db.session.begin_nested():
            consultation.documents.remove(document)
            # The old rows must be gone before the new document takes its position.
            db.session.flush()
            replacement = _build_document(consultation, parsed, position)
            db.session.add(replacement)
    except IntegrityError as error:
        db.session.expire(consultation)
        count = count_comments_on_document(document)
        if count:  # a comment arrived while we were replacing
            raise DocumentHasComments(document, count) from error
        reason = str(error.orig).strip().splitlines()[0]
        raise DocumentFormatError(
            f"The draft could not be stored, so nothing was changed ({reason}). Check that no chapter "
            "or section number is used twice."
        ) from None
    except DataError as error:
        db.session.expire(consultation)
        reason = str(error.orig).strip().splitlines()[0]
        raise DocumentFormatError(f"The draft could not be stored, so nothing was changed ({reason}).") from None
    record(actor, "consultation.replace_document", consultation, before,
           {**_document_summary(replacement, parsed), "filename": filename})
    return replacement


def _document_summary(document: Document, parsed: ParsedDocument | None = None) -> dict:
    if parsed is not None:
        chapters = len(parsed.chapters)
        sections = sum(len(chapter.sections) for chapter in parsed.chapters)
    else:
        chapters = len(document.chapters)
        sections = sum(len(chapter.sections) for chapter in document.chapters)
    return {"document_id": document.id, "title": document.title, "position": document.position,
            "chapters": chapters, "sections": sections}


def list_committee_members(consultation: Consultation) -> list[User]:
    """The committee members assigned to the consultation, by name."""
    return list(db.session.scalars(
        select(User)
        .join(CommitteeAssignment, CommitteeAssignment.user_id == User.id)
        .where(CommitteeAssignment.consultation_id == consultation.id)
        .order_by(User.name, User.email)
    ))


def assign_committee_member(actor: User, consultation: Consultation, email: str) -> CommitteeAssignment:
    """Let a committee member (found by email) review this consultation; audited.

    Only accounts with the committee role can be assigned, each once; two
    staff assigning the same person at once end with one assignment, as the
    primary key refuses the second.
    """
    from consult.accounts.services import find_user_by_email

    user = find_user_by_email(email)
    if user is None:
        raise UnknownCommitteeMember(email.strip())
    if user.role is not Role.COMMITTEE:
        raise NotACommitteeMember(user)
    if db.session.get(CommitteeAssignment, (consultation.id, user.id)) is not None:
        raise AlreadyAssigned(user)
    assignment = CommitteeAssignment(consultation_id=consultation.id, user_id=user.id)
    try:
        with db.session.begin_nested():
            db.session.add(assignment)
    except IntegrityError as error:
        raise AlreadyAssigned(user) from error
    record(actor, "consultation.assign_committee_member", consultation, None,
           {"user_id": user.id, "email": user.email, "name": user.name})
    return assignment


def unassign_committee_member(actor: User, consultation: Consultation, user_id: int) -> User:
    """Stop a committee member reviewing this consultation; audited. Returns who was removed."""
    assignment = db.session.get(CommitteeAssignment, (consultation.id, user_id))
    if assignment is None:
        raise NotAssigned()
    user = db.session.get(User, user_id)
    db.session.delete(assignment)
    db.session.flush()
    record(actor, "consultation.unassign_committee_member", consultation,
           {"user_id": user.id, "email": user.email, "name": user.name}, None)
    return user
