from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consult.accounts.models import User
from consult.comments.models import Participation
from consult.consultations.models import Consultation, Document
from consult.database import IDS_NEVER_REUSED, LabelledEnum, TimestampMixin, UTCDateTime, enum_type
from consult.extensions import db
from consult.moderation.states import RejectionReason

MAX_QUESTION_LENGTH = 1_000
MAX_ANSWER_LENGTH = 10_000


class QuestionKind(LabelledEnum):
    OPEN = ("open", "Open question, answered in the person's own words")
    YES_NO = ("yes_no", "Yes or no, with a box for further information")


class Declaration(LabelledEnum):
    """Declarations NICE asks only in some consultations; staff switch each on per consultation."""

    FORMAL_SUPPORT = ("formal_support", "Interest in formal support")

    @property
    def question_text(self) -> str:
        return {
            "formal_support": "Would your organisation be interested in formally supporting this guidance "
                              "when it is published?",
        }[self.value]


class Question(TimestampMixin, db.Model):
    """A question staff ask about the whole consultation, or about one of its documents.

    Positions are unique within the consultation, so two moves that race end
    with the database refusing one of them rather than two questions in one place.
    """

    __tablename__ = "questions"
    __table_args__ = (
        UniqueConstraint("consultation_id", "position"),
        UniqueConstraint("consultation_id", "declaration"),
        CheckConstraint("declaration IS NULL OR (kind = 'yes_no' AND document_id IS NULL)",
                        name="declaration_is_yes_no"),
        CheckConstraint(f"length(text) BETWEEN 1 AND {MAX_QUESTION_LENGTH}", name="text_length"),
        IDS_NEVER_REUSED,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id", ondelete="CASCADE"), index=True)
    # None: a question about the consultation as a whole.
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    kind: Mapped[QuestionKind] = mapped_column(enum_type(QuestionKind, "question_kind"))
    text: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer)
    # Set on a declaration staff switched on, rather than a question they wrote.
    declaration: Mapped[Declaration | None] = mapped_column(enum_type(Declaration, "declaration"))

    consultation: Mapped[Consultation] = relationship()
    document: Mapped[Document | None] = relationship()

    @property
    def is_yes_no(self) -> bool:
        return self.kind is QuestionKind.YES_NO

    def is_for(self, kind) -> bool:
        """Whether a participant of this kind is asked it: a declaration about formal support is for organisations."""
        from consult.comments.models import ParticipantKind

        return self.declaration is not Declaration.FORMAL_SUPPORT or kind is ParticipantKind.ORGANISATION

    @property
    def about(self) -> str:
        """What the question is about, as people read it: 'The whole consultation' or the document's title."""
        return self.document.title if self.document is not None else "The whole consultation"


class AnswerState(LabelledEnum):
    """Where a submitted answer's words stand with staff: only accepted and redacted words are published."""

    NEW = ("new", "Waiting for moderation")
    ACCEPTED = ("accepted", "Accepted")
    REDACTED = ("redacted", "Redacted")
    WITHHELD = ("withheld", "Withheld from publication")


class Answer(TimestampMixin, db.Model):
    """One participant's answer to one question: a draft until their response is submitted.

    Kept deliberately plain (who, which question, yes/no, text) so that an
    organisation's lead can later merge colleagues' answers into one; the
    unique constraint is what keeps it to one answer per question.
    """

    __tablename__ = "answers"
    __table_args__ = (
        UniqueConstraint("participation_id", "question_id"),
        CheckConstraint(f"length(text) <= {MAX_ANSWER_LENGTH}", name="text_length"),
        CheckConstraint("(moderation_state = 'redacted') = (redacted_text IS NOT NULL)",
                        name="redacted_has_text"),
        CheckConstraint("moderation_state NOT IN ('redacted', 'withheld') OR moderation_reason IS NOT NULL",
                        name="decided_words_have_reason"),
        # Staff read one question's answers a page at a time, waiting ones first; the publication
        # check counts the waiting ones. Both are range scans of this index.
        Index("ix_answers_question_state", "question_id", "moderation_state", "id"),
        IDS_NEVER_REUSED,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participation_id: Mapped[int] = mapped_column(ForeignKey("participations.id"))
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"), index=True)
    yes_no: Mapped[bool | None] = mapped_column()
    text: Mapped[str] = mapped_column(Text, default="")
    # A colleague's answer sent to their organisation's lead: from then on it is read-only,
    # and the lead's response takes it (or, where colleagues disagree, the one the lead chooses).
    sent_to_lead_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    # Staff moderation, as for comments: the participant's words are never changed; a redaction
    # is a copy published instead, and withheld words are not published at all.
    moderation_state: Mapped[AnswerState] = mapped_column(
        enum_type(AnswerState, "answer_state"), default=AnswerState.NEW, server_default=AnswerState.NEW.value)
    redacted_text: Mapped[str | None] = mapped_column(Text)
    moderation_reason: Mapped[RejectionReason | None] = mapped_column(enum_type(RejectionReason, "moderation_reason"))
    moderation_note: Mapped[str] = mapped_column(Text, default="")
    moderated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    moderated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")

    __mapper_args__ = {"version_id_col": version}

    participation: Mapped[Participation] = relationship()
    question: Mapped[Question] = relationship()
    moderated_by: Mapped[User | None] = relationship(foreign_keys=[moderated_by_id])

    @property
    def shown_text(self) -> str:
        """The words every output shows: the redacted copy, none when withheld, else as written."""
        if self.moderation_state is AnswerState.REDACTED:
            return self.redacted_text or ""
        return "" if self.moderation_state is AnswerState.WITHHELD else self.text

    @property
    def yes_no_label(self) -> str:
        return "" if self.yes_no is None else ("Yes" if self.yes_no else "No")
