"""Documents: a parsed draft stored as chapters and numbered sections, all or nothing, and replaced while
nobody has commented on it."""

from sqlalchemy import func, select
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import selectinload

from consult.accounts.models import User
from consult.audit.services import record
from consult.consultations.importing import DocumentFormatError, ParsedDocument
from consult.consultations.models import Chapter, Consultation, Document, Section, anchor_for
from consult.errors import DomainError
from consult.extensions import db

MAX_TITLE_CHARS = 300
MAX_CHAPTER_NUMBER_CHARS = 10
MAX_SECTION_NUMBER_CHARS = 20


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


def load_document(consultation: Consultation, document_id: int) -> Document | None:
    """One document of this consultation with all its chapters and sections, in three queries."""
    return db.session.scalar(
        select(Document)
        .where(Document.id == document_id, Document.consultation_id == consultation.id)
        .options(selectinload(Document.chapters).selectinload(Chapter.sections))
    )


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
