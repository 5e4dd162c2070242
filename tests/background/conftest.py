import shutil
from pathlib import Path

import pytest

from tests.exports.conftest import fresh_published_cache, moderated_consultation  # noqa: F401  shared fixtures
from consult.jobs import queue
from tests.mail.helpers import redis_or_skip


@pytest.fixture
def queue_ready(app):
    """Redis is there and this process's queue starts empty (other tests leave jobs nobody ran)."""
    connection = redis_or_skip(app)  # kept, for a test that points REDIS_URL at nothing
    queue(app, connection).empty()
    yield
    queue(app, connection).empty()


@pytest.fixture
def downloads_dir(app, tmp_path, monkeypatch) -> Path:
    """A directory of this test's own for prepared files, so a test can see every file left in it."""
    directory = tmp_path / "downloads"
    monkeypatch.setitem(app.config, "DOWNLOADS_DIRECTORY", str(directory))
    yield directory
    shutil.rmtree(directory, ignore_errors=True)
