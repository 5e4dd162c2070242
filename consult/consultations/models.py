import enum
from datetime import datetime, timedelta

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consult.database import TimestampMixin, UTCDateTime, utcnow
from consult.extensions import db


class ConsultationStatus(enum.Enum):
    DRAFT = "draft"
    UPCOMING = "upcoming"
    OPEN = "open"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return {"draft": "Draft", "upcoming": "Opens soon", "open": "Open for comments",
                "closed": "Closed"}[self.value]


MAX_LATE_GRACE_SECONDS = 600
DEFAULT_LATE_GRACE_SECONDS = 15


class Consultation(TimestampMixin, db.Model):
    __tablename__ = "consultations"
    __table_args__ = (
        CheckConstraint("closes_at > opens_at", name="closes_after_opens"),
        CheckConstraint(f"late_grace_seconds BETWEEN 0 AND {MAX_LATE_GRACE_SECONDS}", name="late_grace_in_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # A response that reaches the service this long after closes_at is still taken: it was
    # sent in time but waited behind others at the deadline. Pages still say it closed.
    late_grace_seconds: Mapped[int] = mapped_column(Integer, default=DEFAULT_LATE_GRACE_SECONDS)
    # Held back by staff: not listed and not reachable by the public.
    is_draft: Mapped[bool] = mapped_column(default=False)
    # Comment numbers (HTE1001-0042) are handed out from here at submission.
    last_comment_number: Mapped[int] = mapped_column(Integer, default=0)
    # Set when staff publish the comments and responses; cleared on withdrawal.
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Moves whenever what the published pages show changes after publication (a decision, a redaction, a
    # response), so every process's kept copy of those pages is replaced (exports.publication).
    published_revision: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}

    documents: Mapped[list["Document"]] = relationship(
        back_populates="consultation", order_by="Document.position", cascade="all, delete-orphan"
    )

    def status_at(self, moment: datetime) -> ConsultationStatus:
        """The status follows from the dates; the deadline is the server's clock, not the page's."""
        if self.is_draft:
            return ConsultationStatus.DRAFT
        if moment < self.opens_at:
            return ConsultationStatus.UPCOMING
        if moment >= self.closes_at:
            return ConsultationStatus.CLOSED
        return ConsultationStatus.OPEN

    @property
    def status(self) -> ConsultationStatus:
        return self.status_at(utcnow())

    def is_open_at(self, moment: datetime) -> bool:
        return self.status_at(moment) is ConsultationStatus.OPEN

    def accepts_responses_at(self, arrived_at: datetime) -> bool:
        """Whether a write that reached the service at `arrived_at` is taken: open, or within the grace."""
        if self.is_draft or arrived_at < self.opens_at:
            return False
        return arrived_at < self.closes_at + timedelta(seconds=self.late_grace_seconds or 0)


class CommitteeAssignment(db.Model):
    """A committee member may read this consultation's comments, themes and outputs."""

    __tablename__ = "committee_assignments"

    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Document(TimestampMixin, db.Model):
    __tablename__ = "documents"
    __table_args__ = (UniqueConstraint("consultation_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    position: Mapped[int] = mapped_column(Integer, default=1)
    numbers_generated: Mapped[bool] = mapped_column(default=False)

    consultation: Mapped[Consultation] = relationship(back_populates="documents")
    chapters: Mapped[list["Chapter"]] = relationship(
        back_populates="document", order_by="Chapter.position", cascade="all, delete-orphan"
    )


class Chapter(db.Model):
    __tablename__ = "chapters"
    __table_args__ = (UniqueConstraint("document_id", "position"), UniqueConstraint("document_id", "anchor"))

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    number: Mapped[str | None] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer)
    anchor: Mapped[str] = mapped_column(String(80))

    document: Mapped[Document] = relationship(back_populates="chapters")
    sections: Mapped[list["Section"]] = relationship(
        back_populates="chapter", order_by="Section.position", cascade="all, delete-orphan"
    )

    @property
    def label(self) -> str:
        return f"{self.number} {self.title}" if self.number else self.title


class Section(db.Model):
    __tablename__ = "sections"
    __table_args__ = (
        UniqueConstraint("document_id", "number"),
        UniqueConstraint("document_id", "anchor"),
        UniqueConstraint("document_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Kept beside chapter_id so that a document's sections load in one query.
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    chapter_id: Mapped[int] = mapped_column(ForeignKey("chapters.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(20))
    heading: Mapped[str | None] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    # Position in the whole document, so "document order" is one ORDER BY.
    position: Mapped[int] = mapped_column(Integer)
    anchor: Mapped[str] = mapped_column(String(80))

    chapter: Mapped[Chapter] = relationship(back_populates="sections")
    document: Mapped[Document] = relationship()


def anchor_for(kind: str, number: str | None, title: str = "") -> str:
    """A stable fragment id from the number, so links survive re-rendering and re-import."""
    if number:
        return f"{kind}-{number.replace('.', '-')}"
    slug = "".join(ch if ch.isalnum() else "-" for ch in title.lower()).strip("-")
    while "--" in slug:
        slug = slug.replace("--", "-")
    return f"{kind}-{slug[:60] or 'untitled'}"
