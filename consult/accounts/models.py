import enum
import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from consult.database import TimestampMixin, UTCDateTime, enum_type
from consult.extensions import db


class Role(enum.Enum):
    STAKEHOLDER = "stakeholder"
    STAFF = "staff"
    COMMITTEE = "committee"
    ADMIN = "admin"


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


class User(UserMixin, TimestampMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased, so the unique constraint makes emails case-insensitive.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(
        enum_type(Role, "role"),
        default=Role.STAKEHOLDER,
    )
    # Part of the login cookie: changing it signs the user out everywhere else.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    # Kept for the retention job (consult.privacy): an account unused for years is anonymised.
    last_signed_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set once, when the person's email and name were erased (see consult.privacy.services).
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # None until the person follows the link sent to their address; until then they may draft but not submit.
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set by an admin: a deactivated account cannot sign in, and its sessions have ended.
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def is_active(self) -> bool:
        """Flask-Login refuses to sign in an inactive user."""
        return self.deactivated_at is None

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role.value}>"


class SignInFailureCount(db.Model):
    """Sign-in attempts counted per bucket and time window, shared by every worker and instance.

    A bucket is an account as untrusted browsers reach it, or one trusted
    device of that account (see consult.accounts.throttling). It is stored
    as a hash, so the table holds no email address, and counts attempts at
    unknown emails just as it does at real ones.
    """

    __tablename__ = "sign_in_failures"
    __table_args__ = (CheckConstraint("attempts >= 0", name="attempts_not_negative"),)

    bucket: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    attempts: Mapped[int] = mapped_column(default=0)

    def __repr__(self) -> str:
        return f"<SignInFailureCount {self.bucket[:8]} {self.window_start:%Y-%m-%d %H:%M} {self.attempts}>"
