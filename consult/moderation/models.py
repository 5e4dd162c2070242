from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consult.accounts.models import User
from consult.database import IDS_NEVER_REUSED, TimestampMixin, UTCDateTime, enum_type, utcnow
from consult.extensions import db
from consult.moderation.states import ModerationState, RejectionReason, ResponseState, TagSource


class Theme(TimestampMixin, db.Model):
    """A theme staff group comments under, per consultation."""

    __tablename__ = "themes"
    __table_args__ = (UniqueConstraint("consultation_id", "name"), IDS_NEVER_REUSED)

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    # What the comments under this theme say, written by staff for the committee's review and papers.
    summary: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}


class CommentTheme(db.Model):
    """One theme on one comment, with who put it there and when (its provenance)."""

    __tablename__ = "comment_themes"

    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id"), primary_key=True)
    theme_id: Mapped[int] = mapped_column(ForeignKey("themes.id"), primary_key=True, index=True)
    source: Mapped[TagSource] = mapped_column(enum_type(TagSource, "tag_source"), default=TagSource.PERSON)
    tagged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    tagged_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    theme: Mapped[Theme] = relationship()
    tagged_by: Mapped[User | None] = relationship()


class ModerationDecision(db.Model):
    """The history of a comment's moderation: every decision, never edited."""

    __tablename__ = "moderation_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id"), index=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    from_state: Mapped[ModerationState] = mapped_column(enum_type(ModerationState, "from_state"))
    to_state: Mapped[ModerationState] = mapped_column(enum_type(ModerationState, "to_state"))
    reason: Mapped[RejectionReason | None] = mapped_column(enum_type(RejectionReason, "rejection_reason"))
    note: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    actor: Mapped[User] = relationship()

    @property
    def change_in_words(self) -> str:
        """What the decision did, to follow the person's name in the history: 'changed it from new to accepted'.

        A decision in the state the comment was already in changed the
        redacted copy, or the reason or note of a rejection, not the state.
        """
        if self.from_state is self.to_state is ModerationState.REDACTED:
            return "changed the redaction"
        if self.from_state is self.to_state is ModerationState.REJECTED:
            return "changed the rejection"
        return f"changed it from {self.from_state.label.lower()} to {self.to_state.label.lower()}"


class CommentResponse(TimestampMixin, db.Model):
    """The developer's response to one comment (none until a row exists)."""

    __tablename__ = "comment_responses"
    __table_args__ = (
        CheckConstraint("state != 'not_needed' OR length(reason) > 0", name="not_needed_has_reason"),
        CheckConstraint("state = 'not_needed' OR length(text) > 0", name="response_has_text"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id"), unique=True)
    state: Mapped[ResponseState] = mapped_column(enum_type(ResponseState, "response_state"))
    text: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    updated_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}

    updated_by: Mapped[User] = relationship()


class ProgressCounter(db.Model):
    """One running count for a consultation, kept in step by the change that moves it.

    `dimension` says what is counted ("all", "state", "theme_type", "pub_theme",
    ...) and `key` which bucket; see consult/moderation/counters.py.
    """

    __tablename__ = "progress_counters"

    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id"), primary_key=True)
    dimension: Mapped[str] = mapped_column(String(20), primary_key=True)
    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, nullable=False)


class TriageMark(db.Model):
    """What staff leave on a comment while triaging it: a flag, a note, and who is reading it now.

    One row per comment, made the first time anyone marks or opens it. None of
    this is a moderation decision, so it never moves the comment's version:
    opening a comment must not make a colleague's decision on it stale.
    """

    __tablename__ = "triage_marks"
    __table_args__ = (
        CheckConstraint("NOT flagged OR (flagged_by_id IS NOT NULL AND flagged_at IS NOT NULL)",
                        name="flag_has_who_and_when"),
        CheckConstraint("note = '' OR (note_by_id IS NOT NULL AND note_at IS NOT NULL)",
                        name="note_has_who_and_when"),
        CheckConstraint("(reader_id IS NULL) = (reading_since IS NULL)", name="reader_has_since"),
        # The few flagged marks, so the queue's "flagged" filter starts from them, not from every comment.
        Index("ix_triage_marks_flagged", "comment_id", sqlite_where=text("flagged = 1"),
              postgresql_where=text("flagged")),
    )

    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id"), primary_key=True)
    flagged: Mapped[bool] = mapped_column(default=False)
    flagged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    flagged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    note: Mapped[str] = mapped_column(Text, default="")
    note_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Counted by hand, not a mapper version: reading a comment updates this row and must not make a note stale.
    note_version: Mapped[int] = mapped_column(Integer, default=0)
    reader_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    reading_since: Mapped[datetime | None] = mapped_column(UTCDateTime())

    flagged_by: Mapped[User | None] = relationship(foreign_keys=[flagged_by_id])
    note_by: Mapped[User | None] = relationship(foreign_keys=[note_by_id])
    reader: Mapped[User | None] = relationship(foreign_keys=[reader_id])


class SavedView(TimestampMixin, db.Model):
    """A set of queue filters a member of staff named, to open again from the dashboard. Theirs alone."""

    __tablename__ = "saved_views"
    __table_args__ = (UniqueConstraint("user_id", "consultation_id", "name"), IDS_NEVER_REUSED)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    query: Mapped[str] = mapped_column(Text, default="")  # the queue's query string, filters only
