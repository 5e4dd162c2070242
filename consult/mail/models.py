import enum
from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from consult.database import TimestampMixin, UTCDateTime, enum_type, utcnow
from consult.extensions import db


class OutboxStatus(enum.Enum):
    PENDING = "pending"  # waiting for its first attempt, or for a retry at next_attempt_at
    SENDING = "sending"  # claimed by a worker at claimed_at
    SENT = "sent"
    FAILED = "failed"  # gave up after the last attempt; an admin can retry it


class OutboxEmail(TimestampMixin, db.Model):
    """One email, written in the same transaction as the act that causes it.

    Nothing sends from a request: the worker claims a row with a conditional
    UPDATE (so two workers never both send it), sends it and marks it sent.
    """

    __tablename__ = "outbox_emails"
    __table_args__ = (Index("ix_outbox_emails_status_next_attempt_at", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))  # the template: verify_email, password_reset, ...
    to: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    status: Mapped[OutboxStatus] = mapped_column(enum_type(OutboxStatus, "outbox_status"),
                                                 default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"<OutboxEmail {self.id} {self.kind} {self.status.value}>"
