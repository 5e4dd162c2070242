import shutil
from pathlib import Path

import pytest

from consult.jobs import queue
from tests.exports.conftest import (  # noqa: F401  shared fixtures
    committee_member,
    fresh_published_cache,
    moderated_consultation,
)
from tests.mail.helpers import redis_or_skip


def _empty(jobs) -> None:
    """The queue and every registry of it: jobs nobody ran, and jobs a worker left started or failed,
    which a worker's start-up clean-up would otherwise retry inside the next test."""
    jobs.empty()
    for registry in (jobs.started_job_registry, jobs.failed_job_registry, jobs.scheduled_job_registry,
                     jobs.deferred_job_registry, jobs.finished_job_registry):
        jobs.connection.delete(registry.key)


@pytest.fixture
def queue_ready(app):
    """Redis is there and this process's queue starts empty (other tests leave jobs nobody ran)."""
    connection = redis_or_skip(app)  # kept, for a test that points REDIS_URL at nothing
    _empty(queue(app, connection))
    yield
    _empty(queue(app, connection))


@pytest.fixture
def downloads_dir(app, tmp_path, monkeypatch) -> Path:
    """A directory of this test's own for prepared files, so a test can see every file left in it."""
    directory = tmp_path / "downloads"
    monkeypatch.setitem(app.config, "DOWNLOADS_DIRECTORY", str(directory))
    yield directory
    shutil.rmtree(directory, ignore_errors=True)
