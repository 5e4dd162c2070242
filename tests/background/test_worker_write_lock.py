"""The worker's jobs on SQLite wait for the write lock as requests do, instead of failing while staff write.

SQLite in WAL mode refuses at once, whatever the busy timeout, a transaction
that read and then tries to write while another connection holds the write
lock or has committed since that read ("database is locked"). These tests
stand in for a member of staff saving a page at the moment a job has read and
is about to write: a second connection to the same database file writes
between the job's read and its write.
"""

import sqlite3
import threading
from datetime import timedelta

import pytest
from flask_migrate import upgrade
from sqlalchemy import event, select

from consult import create_app
from consult.background.models import BackgroundJob, JobState
from consult.background.services import clean_up_jobs
from consult.database import utcnow
from consult.extensions import db
from tests.conftest import make_test_config, new_consultation, throwaway_database_url

pytestmark = pytest.mark.own_database


@pytest.fixture
def sqlite_app(tmp_path):
    url = throwaway_database_url("worker-lock", str(tmp_path))
    if not url.startswith("sqlite"):
        pytest.skip("SQLite's write lock; PostgreSQL locks rows instead")
    application = create_app(make_test_config(url))
    with application.app_context():
        upgrade()
    yield application, url.removeprefix("sqlite:///")
    with application.app_context():
        db.engine.dispose()


def _stale_running_job(app) -> int:
    with app.app_context():
        consultation = new_consultation()
        job = BackgroundJob(kind="comments.xlsx", consultation_id=consultation.id, state=JobState.RUNNING,
                            started_at=utcnow() - timedelta(hours=2))
        db.session.add(job)
        db.session.commit()
        return job.id


def _staff_write_after_first_read(app, path: str, hold_seconds: float, table: str = "background_jobs") -> None:
    """Once the app has read `table`, another connection writes: it takes the write lock and commits
    `hold_seconds` later (at once if 0), as a request saving a page does."""
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=15)
    done = []

    def write(_connection, _cursor, statement, *_args) -> None:
        if done or not statement.lstrip().upper().startswith("SELECT") or table not in statement:
            return
        done.append(True)
        other.execute("BEGIN IMMEDIATE")
        other.execute("UPDATE consultations SET summary = summary || '.'")
        if hold_seconds:
            threading.Timer(hold_seconds, other.execute, ("COMMIT",)).start()
        else:
            other.execute("COMMIT")

    with app.app_context():
        event.listen(db.engine, "after_cursor_execute", write)


@pytest.mark.parametrize("hold_seconds", [0, 0.5], ids=["committed since the read", "holding the lock"])
def test_the_clean_up_waits_for_a_write_made_after_it_read(sqlite_app, hold_seconds):
    app, path = sqlite_app
    job_id = _stale_running_job(app)
    _staff_write_after_first_read(app, path, hold_seconds)

    with app.app_context():
        clean_up_jobs(app)
        db.session.commit()

    with app.app_context():
        job = db.session.scalar(select(BackgroundJob).where(BackgroundJob.id == job_id))
        assert job.state is JobState.FAILED
        assert job.error == "The worker stopped while preparing it."


@pytest.mark.parametrize("hold_seconds", [0, 0.5], ids=["committed since the read", "holding the lock"])
def test_a_page_that_reads_then_writes_waits_for_a_write_made_after_it_read(sqlite_app, hold_seconds):
    """Opening a comment records who is reading it, and a first look at the counts builds them: a GET that
    writes after reading must wait for a colleague's save, not fail with "database is locked"."""
    from consult.models import Consultation

    app, path = sqlite_app
    with app.app_context():
        consultation_id = new_consultation().id
        db.session.commit()
    _staff_write_after_first_read(app, path, hold_seconds, table="consultations")

    with app.test_request_context("/staff/", method="GET"):
        consultation = db.session.get(Consultation, consultation_id)
        consultation.title = "Read, then written"
        db.session.commit()
    with app.app_context():
        assert db.session.get(Consultation, consultation_id).title == "Read, then written"
