import functools
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consult.accounts.models import User
from consult.consultations.models import Chapter, Consultation, Document, Section
from consult.database import IDS_NEVER_REUSED, LabelledEnum, TimestampMixin, UTCDateTime, enum_type
from consult.extensions import db
from consult.moderation.states import ModerationState, RejectionReason

MAX_COMMENT_LENGTH = 10_000


class ParticipantKind(LabelledEnum):
    INDIVIDUAL = ("individual", "As an individual")
    ORGANISATION = ("organisation", "On behalf of an organisation")


class ParticipantSubtype(LabelledEnum):
    """A kind of individual or organisation, whose label also reads inside a sentence."""

    @property
    def in_sentence(self) -> str:
        """'Charity or patient group' as it reads mid-sentence: 'charity or patient group'.

        Only the capital that starts the label goes. A first word with more
        capitals than that (an acronym: 'NHS or public body') and every later
        word stay as written, so proper nouns keep theirs.
        """
        first = self.label.split(" ", 1)[0]
        if first[1:] != first[1:].lower():
            return self.label
        return self.label[:1].lower() + self.label[1:]


class IndividualType(ParticipantSubtype):
    MEMBER_OF_PUBLIC = ("member_of_public", "Member of the public")
    PATIENT_OR_CARER = ("patient_or_carer", "Patient or carer")
    HEALTH_PROFESSIONAL = ("health_professional", "Health or social care professional")
    RESEARCHER = ("researcher", "Researcher")
    OTHER = ("other", "Other")


class OrganisationType(ParticipantSubtype):
    CHARITY_OR_PATIENT_GROUP = ("charity_or_patient_group", "Charity or patient group")
    PROFESSIONAL_BODY = ("professional_body", "Professional body")
    NHS_OR_PUBLIC_BODY = ("nhs_or_public_body", "NHS or public body")
    COMPANY_OR_INDUSTRY = ("company_or_industry", "Company or industry")
    OTHER = ("other", "Other")


@functools.cache  # a handful of combinations, asked once per row of every export
def participant_type_label(kind: "ParticipantKind", individual_type: "IndividualType | None" = None,
                           organisation_type: "OrganisationType | None" = None) -> str:
    """The one way every staff page, filter, chart and file names a participant's type.

    'Individual (patient or carer)', 'Organisation (charity or patient group)';
    without a subtype, 'Any individual' or 'Any organisation' (a filter's choice).
    """
    subtype = individual_type if kind is ParticipantKind.INDIVIDUAL else organisation_type
    noun = "Individual" if kind is ParticipantKind.INDIVIDUAL else "Organisation"
    return f"{noun} ({subtype.in_sentence})" if subtype else f"Any {noun.lower()}"


class OrganisationRole(LabelledEnum):
    """How a participation on behalf of an organisation stands in its one response."""

    LEAD = ("lead", "Commenting lead")
    COLLEAGUE = ("colleague", "Colleague")


class Participation(TimestampMixin, db.Model):
    """How one user takes part in one consultation: chosen once, never changed.

    The unique constraint is what makes "once" true when two first choices
    race; no service offers an update.
    """

    __tablename__ = "participations"
    __table_args__ = (
        UniqueConstraint("user_id", "consultation_id"),
        CheckConstraint(
            "(kind = 'individual' AND individual_type IS NOT NULL AND organisation_name IS NULL"
            " AND organisation_type IS NULL)"
            " OR (kind = 'organisation' AND organisation_name IS NOT NULL"
            " AND organisation_type IS NOT NULL AND individual_type IS NULL)",
            name="kind_details",
        ),
        CheckConstraint("has_tobacco_links OR tobacco_details = ''", name="tobacco_details_only_with_links"),
        # An organisation's lead and colleagues: linked to it, and a colleague never submits.
        CheckConstraint("organisation_role IS NULL OR (kind = 'organisation' AND organisation_id IS NOT NULL)",
                        name="organisation_role_needs_organisation"),
        CheckConstraint("organisation_role IS NULL OR organisation_role = 'lead' OR submitted_at IS NULL",
                        name="colleague_never_submits"),
        # One response per organisation and consultation, however many leads it has.
        Index("uq_participations_one_submission_per_organisation", "organisation_id", "consultation_id",
              unique=True, sqlite_where=text("submitted_at IS NOT NULL"),
              postgresql_where=text("submitted_at IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id"), index=True)
    kind: Mapped[ParticipantKind] = mapped_column(enum_type(ParticipantKind, "participant_kind"))
    individual_type: Mapped[IndividualType | None] = mapped_column(enum_type(IndividualType, "individual_type"))
    organisation_name: Mapped[str | None] = mapped_column(String(200))
    organisation_type: Mapped[OrganisationType | None] = mapped_column(
        enum_type(OrganisationType, "organisation_type"))
    has_tobacco_links: Mapped[bool] = mapped_column(default=False)
    tobacco_details: Mapped[str] = mapped_column(Text, default="")
    other_interests: Mapped[str] = mapped_column(Text, default="")
    publish_name: Mapped[bool] = mapped_column(default=False)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    receipt_reference: Mapped[str | None] = mapped_column(String(40), unique=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    organisation_role: Mapped[OrganisationRole | None] = mapped_column(
        enum_type(OrganisationRole, "organisation_role"))

    user: Mapped[User] = relationship()
    consultation: Mapped[Consultation] = relationship()

    @property
    def type_label(self) -> str:
        """'Individual (patient or carer)': how staff, committee and published outputs name the type."""
        return participant_type_label(self.kind, self.individual_type, self.organisation_type)

    @property
    def description(self) -> str:
        """How the participant appears to themselves: 'On behalf of Foot Health UK (Charity…)'."""
        if self.kind is ParticipantKind.ORGANISATION:
            return f"On behalf of {self.organisation_name} ({self.organisation_type.in_sentence})"
        return f"As an individual ({self.individual_type.in_sentence})"

    @property
    def is_submitted(self) -> bool:
        return self.submitted_at is not None


class CommentTarget(LabelledEnum):
    DOCUMENT = ("document", "Whole document")
    CHAPTER = ("chapter", "Chapter")
    SECTION = ("section", "Section")


class CommentStatus(LabelledEnum):
    DRAFT = ("draft", "Draft")
    SUBMITTED = ("submitted", "Submitted")


class Comment(TimestampMixin, db.Model):
    __tablename__ = "comments"
    __table_args__ = (
        UniqueConstraint("consultation_id", "number"),
        CheckConstraint(
            "(target = 'document' AND chapter_id IS NULL AND section_id IS NULL)"
            " OR (target = 'chapter' AND chapter_id IS NOT NULL AND section_id IS NULL)"
            " OR (target = 'section' AND chapter_id IS NOT NULL AND section_id IS NOT NULL)",
            name="target_matches_ids",
        ),
        CheckConstraint("quote IS NULL OR target = 'section'", name="quote_only_on_section"),
        CheckConstraint(f"length(body) BETWEEN 1 AND {MAX_COMMENT_LENGTH}", name="body_length"),
        CheckConstraint("(status = 'submitted') = (number IS NOT NULL)", name="number_once_submitted"),
        CheckConstraint("moderation_state != 'rejected' OR rejection_reason IS NOT NULL",
                        name="rejection_has_reason"),
        CheckConstraint("moderation_state != 'redacted' OR redacted_body IS NOT NULL",
                        name="redaction_has_text"),
        UniqueConstraint("consultation_id", "external_id"),
        # A colleague's comment is copied once into each lead's response.
        UniqueConstraint("participation_id", "original_comment_id"),
        CheckConstraint("sent_to_lead_at IS NULL OR status = 'draft'", name="sent_to_lead_stays_draft"),
        IDS_NEVER_REUSED,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participation_id: Mapped[int] = mapped_column(ForeignKey("participations.id"), index=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id"), index=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    chapter_id: Mapped[int | None] = mapped_column(ForeignKey("chapters.id"), index=True)
    section_id: Mapped[int | None] = mapped_column(ForeignKey("sections.id"), index=True)
    target: Mapped[CommentTarget] = mapped_column(enum_type(CommentTarget, "comment_target"))
    quote: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[CommentStatus] = mapped_column(enum_type(CommentStatus, "comment_status"),
                                                  default=CommentStatus.DRAFT)
    # Handed out at submission, unique within the consultation, never reused.
    number: Mapped[int | None] = mapped_column(Integer)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Staff moderation. The original body is never changed: a redaction is a
    # copy shown downstream, and only admins see the original beside it.
    moderation_state: Mapped[ModerationState] = mapped_column(
        enum_type(ModerationState, "moderation_state"), default=ModerationState.NEW, index=True)
    rejection_reason: Mapped[RejectionReason | None] = mapped_column(enum_type(RejectionReason, "rejection_reason"))
    moderation_note: Mapped[str] = mapped_column(Text, default="")
    redacted_body: Mapped[str | None] = mapped_column(Text)
    redacted_quote: Mapped[str | None] = mapped_column(Text)
    moderated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    moderated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    # Responses sent on paper or by email and entered by staff: the sender's own id for the response.
    external_id: Mapped[str | None] = mapped_column(String(100))
    entered_by_staff: Mapped[bool] = mapped_column(default=False, server_default=false())
    # A colleague's comment, once sent to their organisation's lead, is read-only; the lead's
    # response holds an editable copy pointing back to it.
    sent_to_lead_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When a colleague's account is erased, their originals go and the lead's copies stay.
    original_comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="SET NULL"),
                                                            index=True)

    __mapper_args__ = {"version_id_col": version}

    participation: Mapped[Participation] = relationship()
    consultation: Mapped[Consultation] = relationship()
    document: Mapped[Document] = relationship()
    chapter: Mapped[Chapter | None] = relationship()
    section: Mapped[Section | None] = relationship()
    moderated_by: Mapped[User | None] = relationship(foreign_keys=[moderated_by_id])
    original_comment: Mapped["Comment | None"] = relationship(remote_side=[id], foreign_keys=[original_comment_id])

    def is_visible_to(self, user) -> bool:
        """Only the author sees a comment here; to anyone else it does not exist."""
        return user.is_authenticated and self.participation.user_id == user.id

    @property
    def is_draft(self) -> bool:
        return self.status is CommentStatus.DRAFT

    @property
    def is_sent_to_lead(self) -> bool:
        return self.sent_to_lead_at is not None

    @property
    def shown_body(self) -> str:
        """What everyone downstream of moderation reads: the redacted copy if there is one."""
        return self.redacted_body if self.moderation_state is ModerationState.REDACTED else self.body

    @property
    def shown_quote(self) -> str | None:
        if self.moderation_state is ModerationState.REDACTED and self.redacted_quote is not None:
            return self.redacted_quote
        return self.quote

    @property
    def reference(self) -> str | None:
        if self.number is None:
            return None
        return f"{self.consultation.reference}-{self.number:04d}"

    @property
    def target_label(self) -> str:
        if self.target is CommentTarget.SECTION:
            return f"Section {self.section.number}"
        if self.target is CommentTarget.CHAPTER:
            return f"Chapter: {self.chapter.label}"
        return "The whole document"
