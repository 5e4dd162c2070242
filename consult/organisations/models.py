"""Organisations, their commenting leads, and the code a lead shares with colleagues."""

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consult.accounts.models import User
from consult.comments.models import OrganisationType
from consult.consultations.models import Consultation
from consult.database import TimestampMixin, enum_type
from consult.extensions import db
from consult.text import NAME_KEY_LENGTH

CODE_LENGTH = 12


class Organisation(TimestampMixin, db.Model):
    """An organisation that responds to consultations through its commenting leads.

    `name_key` is the name in the one form names are compared in
    (consult.text.name_key), so "Foot Health UK", "foot health uk " and
    "Fοot Health UK" with a Greek omicron are one organisation.
    """

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(NAME_KEY_LENGTH), unique=True)
    type: Mapped[OrganisationType] = mapped_column(enum_type(OrganisationType, "organisation_type"))

    leads: Mapped[list["OrganisationLead"]] = relationship(back_populates="organisation")

    @property
    def description(self) -> str:
        return f"{self.name} ({self.type.in_sentence})"


class OrganisationLead(TimestampMixin, db.Model):
    """An account that staff have made the commenting lead of one organisation.

    The primary key on `user_id` is what makes "one organisation per lead" true.
    """

    __tablename__ = "organisation_leads"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    marked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    organisation: Mapped[Organisation] = relationship(back_populates="leads")


class OrganisationCode(TimestampMixin, db.Model):
    """The one code an organisation's colleagues use to comment on one consultation.

    Unique per organisation and consultation (asking again finds the same
    row), and unique across the service, so a code names exactly one pair.
    """

    __tablename__ = "organisation_codes"
    __table_args__ = (
        UniqueConstraint("organisation_id", "consultation_id"),
        CheckConstraint(f"length(code) = {CODE_LENGTH} AND substr(code, 1, 1) != '0'", name="code_shape"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id"), index=True)
    code: Mapped[str] = mapped_column(String(CODE_LENGTH), unique=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    organisation: Mapped[Organisation] = relationship()
    consultation: Mapped[Consultation] = relationship()

    @property
    def shown(self) -> str:
        """'1234 5678 9012': how a person reads and repeats the code."""
        return " ".join(self.code[i:i + 4] for i in range(0, CODE_LENGTH, 4))
