"""Work prepared by the worker while a person waits on a progress page: large downloads and bulk actions.

The request that asks for it writes a BackgroundJob row, commits, and puts a
job on the queue under the row's id. The worker's job marks the row running,
does the work, reports progress to the queue (report_progress) and marks the
row done or failed. A download is written to a temporary name beside its
final one and renamed only when complete, so no file is ever half there.

Nothing waits on the worker in silence: a queue that is down fails the row at
once, and a job no worker has started within JOB_PICKUP_SECONDS is reported
as such on its page.
"""

import logging
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO

from flask import Flask, current_app
from rq import Retry, get_current_job
from rq.job import Job
from sqlalchemy import and_, or_, select, update

from consult.access import can_review_consultation, is_staff
from consult.background.models import BackgroundJob, JobState
from consult.consultations.models import Consultation
from consult.database import utcnow
from consult.extensions import db
from consult.text import quantity

log = logging.getLogger(__name__)

# A download of a very large consultation may take minutes; a worker killed
# in the middle leaves a row that the clean-up fails after this long.
DOWNLOAD_TIMEOUT_SECONDS = 30 * 60
RETRIES = 2
PARTIAL = ".partial"
QUEUE_DOWN = ("Downloads are not being prepared at the moment. Try again later; if it keeps happening, "
              "tell the service team.")
WORKER_FAILED = "Something went wrong while preparing it."


def downloads_directory() -> Path:
    return Path(current_app.config["DOWNLOADS_DIRECTORY"])


def can_see_job(user, job: BackgroundJob) -> bool:
    """Staff, and the person who asked while they may still review the consultation; a file of published
    comments (asked for by nobody) is anyone's while the publication it was made from stands, and nobody's
    after (see publication_stands).

    Asking once is not enough: a committee member taken off the consultation, or staff whose role was
    changed, lose its files with their access, as they lose its pages.
    """
    if job.requested_by_id is None:
        return job.is_download and publication_stands(job)
    if is_staff(user):
        return True
    if not (user.is_authenticated and user.id == job.requested_by_id and job.is_download):
        return False
    return can_review_consultation(user, db.session.get(Consultation, job.consultation_id))


def publication_stands(job: BackgroundJob) -> bool:
    """Whether the consultation is still published as it was when this file of published comments was asked for.

    Withdrawn, the comments are not public, so neither is a file of them; published again, they are public as
    staff checked them that time, which a file made before may not match. A public file can only be asked for
    while the comments are published, so one asked for before the current publication is from an earlier one.
    A decision, redaction or response made since (which moves published_revision) outdates it too: a comment
    rejected after publication must not stay downloadable. The same rule as _outlived_its_publication.
    """
    published_at, revision = db.session.execute(
        select(Consultation.published_at, Consultation.published_revision)
        .where(Consultation.id == job.consultation_id)).one()
    return (published_at is not None and published_at <= job.created_at
            and job.published_revision in (None, revision))


def _outlived_its_publication():
    """publication_stands, negated, for a query of jobs joined to their consultation."""
    return and_(BackgroundJob.requested_by_id.is_(None),
                or_(Consultation.published_at.is_(None), Consultation.published_at > BackgroundJob.created_at,
                    BackgroundJob.published_revision != Consultation.published_revision))


def discard_unpublished_files(consultation_id: int | None = None) -> int:
    """Delete the files of published comments whose publication no longer stands (of one consultation, or of
    all), and forget them; returns how many. The caller commits.

    Withdrawing publication calls it, so the files go with the pages; the clean-up calls it too, for a file
    a worker finished after the withdrawal. Serving never depends on it: can_see_job refuses such a file first.
    """
    query = (select(BackgroundJob).join(Consultation, Consultation.id == BackgroundJob.consultation_id)
             .where(BackgroundJob.file_name != "", _outlived_its_publication()))
    if consultation_id is not None:
        query = query.where(BackgroundJob.consultation_id == consultation_id)
    return _discard_files(query)


def _discard_files(query) -> int:
    """The jobs `query` selects lose their files. Their names are read as stored now, not as this session
    last saw them: the worker that wrote a file did so in a session of its own."""
    jobs = db.session.scalars(query.execution_options(populate_existing=True)).all()
    for job in jobs:
        (downloads_directory() / job.file_name).unlink(missing_ok=True)
        job.file_name = ""
    db.session.flush()
    return len(jobs)


def reusable_job(consultation_id: int, kind: str, params: str, fingerprint: str, requester_id: int | None,
                 now: datetime) -> BackgroundJob | None:
    """The newest job the same person asked for, for the same data, still waiting, running or fresh."""
    query = (select(BackgroundJob)
             .where(BackgroundJob.consultation_id == consultation_id, BackgroundJob.kind == kind,
                    BackgroundJob.fingerprint == fingerprint, BackgroundJob.params == params,
                    BackgroundJob.state != JobState.FAILED,
                    or_(BackgroundJob.expires_at.is_(None), BackgroundJob.expires_at > now))
             .order_by(BackgroundJob.id.desc()).limit(1))
    query = query.where(BackgroundJob.requested_by_id.is_(None) if requester_id is None
                        else BackgroundJob.requested_by_id == requester_id)
    return db.session.scalar(query)


def create_job(kind: str, consultation_id: int, requester, params: str, fingerprint: str, total: int,
               download_name: str = "", mimetype: str = "", published_revision: int | None = None) -> BackgroundJob:
    """A new row, waiting for the worker; the caller commits, then calls enqueue_job.

    A file of published comments gives the publication's `published_revision` (see publication_stands).
    """
    job = BackgroundJob(kind=kind, consultation_id=consultation_id, params=params, fingerprint=fingerprint,
                        requested_by_id=getattr(requester, "id", None), total=total,
                        download_name=download_name, mimetype=mimetype, state=JobState.QUEUED,
                        published_revision=published_revision)
    db.session.add(job)
    db.session.flush()
    return job


def enqueue_job(job: BackgroundJob, function: Callable, *args, timeout: int = DOWNLOAD_TIMEOUT_SECONDS) -> bool:
    """Put the committed job's work on the queue, retried if it raises; a queue that is down fails the row.

    Returns whether it was queued. On failure the row is failed with a clear
    message and flushed: the caller commits it.
    """
    from consult.jobs import enqueue

    try:
        enqueue(function, job.id, *args, job_id=job.rq_id, retry=Retry(max=RETRIES), job_timeout=timeout)
    except Exception:
        log.warning("Could not queue background job %s", job.id, exc_info=True)
        job.state, job.error, job.finished_at = JobState.FAILED, QUEUE_DOWN, utcnow()
        db.session.flush()
        return False
    return True


@dataclass(frozen=True)
class Status:
    """What a progress page shows: the state, how far, and whether the worker seems to be missing."""

    state: JobState
    done: int
    total: int
    stalled: bool
    error: str

    @property
    def percent(self) -> int:
        if self.state is JobState.DONE:
            return 100
        return min(99, self.done * 100 // self.total) if self.total else 0

    def text(self, unit: str) -> str:
        """'40% (2 of 5 rows)', `unit` given in the singular."""
        return f"{self.percent}% ({self.done:,} of {quantity(self.total, unit)})"

    def as_json(self, unit: str) -> dict:
        return {"state": self.state.value, "done": self.done, "total": self.total, "percent": self.percent,
                "text": self.text(unit), "stalled": self.stalled, "error": self.error}


def job_status(job: BackgroundJob, now: datetime) -> Status:
    """The row's state with the running job's progress from the queue (none if the queue cannot say)."""
    done = job.done if job.state is JobState.DONE else 0
    if job.state is JobState.RUNNING:
        done = _queue_progress(job)
    stalled = (job.state is JobState.QUEUED
               and job.created_at < now - timedelta(seconds=current_app.config["JOB_PICKUP_SECONDS"]))
    return Status(job.state, min(done, job.total) if job.total else done, job.total, stalled, job.error)


def _queue_progress(job: BackgroundJob) -> int:
    from consult.jobs import redis_connection

    try:
        meta = Job.fetch(job.rq_id, connection=redis_connection()).get_meta(refresh=False)
    except Exception:  # no such job any more, or a queue that is down cannot say how far; the row still can
        return 0
    return int((meta.get("progress") or {}).get("done", 0))


# --- the worker's side --------------------------------------------------------------


def start(job_id: int) -> BackgroundJob | None:
    """Mark the job running and commit; None if it is already done or gone (a duplicate run does nothing)."""
    job = db.session.get(BackgroundJob, job_id)
    if job is None or job.state is JobState.DONE:
        return None
    job.state, job.started_at, job.error = JobState.RUNNING, utcnow(), ""
    db.session.commit()
    return job


def _is_last_attempt() -> bool:
    running = get_current_job()
    return running is None or not running.retries_left


def fail(job_id: int, error: BaseException) -> None:
    """Record a failed attempt after a rollback: failed for good on the last attempt, else queued again."""
    db.session.rollback()
    final = _is_last_attempt()
    db.session.execute(update(BackgroundJob).where(BackgroundJob.id == job_id).values(
        state=JobState.FAILED if final else JobState.QUEUED, error=WORKER_FAILED,
        finished_at=utcnow() if final else None, updated_at=utcnow()))
    db.session.commit()
    log.warning("Background job %s failed%s: %s", job_id, "" if final else " (to be retried)", error,
                exc_info=error)


def prepare_file(job_id: int, suffix: str, build: Callable[[IO[bytes]], int]) -> str:
    """Run `build(handle)` into a temporary file and rename it into place only when it returns.

    `build` returns how many rows it wrote. On any error the temporary file
    is removed, the attempt is recorded (see fail) and the error re-raised so
    that RQ retries the job; no row ever names a file that is not complete.
    """
    job = start(job_id)
    if job is None:
        return "nothing to do"
    directory = downloads_directory()
    directory.mkdir(parents=True, exist_ok=True)
    name = f"{job.id}-{secrets.token_hex(8)}{suffix}"
    partial = directory / (name + PARTIAL)
    try:
        with open(partial, "wb") as handle:
            rows = build(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, directory / name)
    except BaseException as error:
        partial.unlink(missing_ok=True)
        fail(job_id, error)
        raise
    job = db.session.get(BackgroundJob, job_id)
    now = utcnow()
    job.state, job.done, job.file_name, job.size = JobState.DONE, rows, name, (directory / name).stat().st_size
    job.finished_at, job.expires_at = now, now + timedelta(seconds=current_app.config["DOWNLOAD_KEEP_SECONDS"])
    db.session.commit()
    return f"{rows} rows"


def file_path(job: BackgroundJob) -> Path | None:
    """The finished file, if the job has one that is still on disk."""
    if job.state is not JobState.DONE or not job.file_name:
        return None
    path = downloads_directory() / job.file_name
    return path if path.is_file() else None


def clean_up_jobs(app: Flask | None = None) -> int:
    """Delete expired files, files of withdrawn publications and leftovers of dead workers; fail rows whose
    worker died or whose job the queue dropped, so that asking again prepares a new one. Returns how many
    files were removed.

    Runs in the worker every MAIL_SWEEP_SECONDS (consult.jobs.periodic_tasks).
    """
    now = utcnow()
    removed = _discard_files(select(BackgroundJob).where(BackgroundJob.expires_at <= now,
                                                         BackgroundJob.file_name != ""))
    removed += discard_unpublished_files()
    stale = now - timedelta(seconds=DOWNLOAD_TIMEOUT_SECONDS)
    db.session.execute(update(BackgroundJob).where(
        BackgroundJob.state == JobState.RUNNING, BackgroundJob.started_at < stale).values(
        state=JobState.FAILED, error="The worker stopped while preparing it.", finished_at=now, updated_at=now))
    # The queue drops a job nobody started within JOB_TTL_SECONDS: its row will never move on its own.
    lost = now - timedelta(seconds=current_app.config["JOB_TTL_SECONDS"])
    db.session.execute(update(BackgroundJob).where(
        BackgroundJob.state == JobState.QUEUED, BackgroundJob.created_at < lost).values(
        state=JobState.FAILED, error=QUEUE_DOWN, finished_at=now, updated_at=now))
    db.session.commit()
    directory = downloads_directory()
    if directory.is_dir():
        kept = set(db.session.scalars(select(BackgroundJob.file_name).where(BackgroundJob.file_name != "")))
        db.session.rollback()
        # A partial file may belong to a job still running; a complete one may be about to be committed.
        for path in directory.iterdir():
            age = now.timestamp() - path.stat().st_mtime
            if path.name not in kept and age > (DOWNLOAD_TIMEOUT_SECONDS if path.name.endswith(PARTIAL) else 600):
                path.unlink(missing_ok=True)
                removed += 1
    return removed
