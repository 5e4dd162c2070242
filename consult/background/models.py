import enum
from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from consult.database import TimestampMixin, UTCDateTime, enum_type
from consult.extensions import db


class JobState(enum.Enum):
    QUEUED = "queued"  # on the queue, no worker has started it yet
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"  # gave up (after RQ's retries), or the queue was down when it was asked for


class BackgroundJob(TimestampMixin, db.Model):
    """A download prepared by the worker, or a bulk action it applies, and who asked for it.

    A download's file is written under DOWNLOADS_DIRECTORY to a temporary
    name and renamed to `file_name` only once it is complete, so a row that
    is DONE always names a whole file and no other state names one at all.
    `fingerprint` describes the data the file was built from: while it is
    unchanged, the same person asking again is given the same file.
    """

    __tablename__ = "background_jobs"
    __table_args__ = (Index("ix_background_jobs_reuse", "consultation_id", "kind", "fingerprint"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))  # comments.xlsx, table.docx, ..., or bulk
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id"))
    # Nobody, for a file of published comments that anyone may download.
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    params: Mapped[str] = mapped_column(Text, default="")  # the variant asked for: filters, grouping, columns
    fingerprint: Mapped[str] = mapped_column(String(200), default="")
    # A file of published comments is made from one state of the publication: the consultation's
    # published_revision when it was asked for. Any later decision makes the file outdated (services).
    published_revision: Mapped[int | None] = mapped_column(Integer)
    state: Mapped[JobState] = mapped_column(enum_type(JobState, "job_state"), default=JobState.QUEUED)
    total: Mapped[int] = mapped_column(Integer, default=0)  # rows or comments expected, for the progress bar
    done: Mapped[int] = mapped_column(Integer, default=0)  # rows written or comments changed, once finished
    file_name: Mapped[str] = mapped_column(String(200), default="")  # under DOWNLOADS_DIRECTORY, once complete
    download_name: Mapped[str] = mapped_column(String(200), default="")  # what the person's browser saves
    mimetype: Mapped[str] = mapped_column(String(100), default="")
    size: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str] = mapped_column(Text, default="")
    result: Mapped[list | None] = mapped_column(JSON)  # a bulk action's summary: [category, message] pairs
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)

    @property
    def is_download(self) -> bool:
        return self.kind != "bulk"

    @property
    def rq_id(self) -> str:
        """The queue's id for this job: one per row, so a retry or a second enqueue is the same job.

        The row's creation time is part of it: a row id can come round again (SQLite reuses the highest
        id after a rollback), and Redis must never mistake a new job for an old one it still remembers.
        """
        return f"background-{self.id}-{self.created_at:%Y%m%d%H%M%S%f}"

    def __repr__(self) -> str:
        return f"<BackgroundJob {self.id} {self.kind} {self.state.value}>"
