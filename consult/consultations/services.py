"""Reading and building consultations: the public list, one draft document, imports."""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import selectinload

from consult.consultations.importer import DocumentFormatError, ParsedDocument
from consult.consultations.models import (
    Chapter,
    Consultation,
    ConsultationStatus,
    Document,
    Section,
    anchor_for,
)
from consult.extensions import db


class DuplicateReference(Exception):
    def __init__(self, reference: str):
        self.reference = reference
        super().__init__(f"A consultation with reference {reference} already exists.")


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
