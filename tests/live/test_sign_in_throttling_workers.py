"""Two real worker processes share one count of failed sign-ins, and the owner still gets in.

gunicorn runs the app with two workers over one database (a SQLite file,
or PostgreSQL when TEST_DATABASE_URL is set) and the default settings: 20
failed sign-ins per account per hour. Nothing but the database can carry
the count from one worker to the other.
"""

import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import throwaway_database_url
from tests.live.test_rate_limits_redis import _free_port, _wait_for
from tests.liveserver import Visitor

pytestmark = pytest.mark.live
ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")
OWNER = "owner@example.org"
PASSWORD = "the owner's own passphrase"
LIMIT = 20  # Config.FAILED_SIGN_INS_PER_ACCOUNT
ATTEMPTS = 45


@pytest.fixture
def two_workers(tmp_path):
    database_url = throwaway_database_url("throttle", str(tmp_path))
    env = {**os.environ, "CONSULT_ENV": "development", "SECRET_KEY": "one-secret-for-both-workers",
           "DATABASE_URL": database_url, "CONSULT_USER_PASSWORD": PASSWORD}
    for key in ("FAILED_SIGN_INS_PER_ACCOUNT", "SIGN_IN_ATTEMPTS_PER_ADDRESS", "RATELIMIT_STORAGE_URI"):
        env.pop(key, None)
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run([*flask, "users", "create", OWNER, "--role", "stakeholder"], cwd=ROOT, env=env,
                   check=True, capture_output=True)
    port = _free_port()
    server = subprocess.Popen([str(GUNICORN), "--workers", "2", "--bind", f"127.0.0.1:{port}", "wsgi:app"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_for(port, server)
        yield f"http://127.0.0.1:{port}", database_url, server
    finally:
        server.terminate()
        server.wait(timeout=20)
        log = server.stderr.read().decode()
        server.stderr.close()
        assert "Traceback" not in log, log[-3000:]


def _workers_of(server: subprocess.Popen) -> int:
    """How many worker processes the gunicorn master has, once they have had time to start."""
    deadline = time.monotonic() + 30
    while True:
        workers = len(Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split())
        if workers >= 2 or time.monotonic() > deadline:
            return workers
        time.sleep(0.2)


def _guess(url: str, number: int) -> int:
    return Visitor(url).post("/account/sign-in", {"email": OWNER, "password": f"guess {number}"}).status_code


def _recorded_failures(database_url: str) -> int:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            # Summed: a run that crosses the end of an hour counts in two windows, both kept.
            return connection.execute(sa.text("SELECT COALESCE(SUM(attempts), 0) FROM sign_in_failures")).scalar()
    finally:
        engine.dispose()


def test_two_workers_check_at_most_the_limit_and_the_owner_still_signs_in(two_workers):
    url, database_url, server = two_workers
    assert _workers_of(server) == 2

    owner = Visitor(url)
    owner.sign_in(OWNER, PASSWORD)  # this browser becomes a trusted device of the account
    owner.post("/account/sign-out", token_from="/account/password")

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda number: _guess(url, number), range(ATTEMPTS)))
    checked = statuses.count(200)
    print(f"\n{checked} of {ATTEMPTS} wrong passwords were checked by two workers "
          f"({sa.engine.make_url(database_url).get_backend_name()}); the rest got 429.")
    assert set(statuses) <= {200, 429}, statuses
    assert checked <= LIMIT
    assert checked == _recorded_failures(database_url)

    stranger = Visitor(url).post("/account/sign-in", {"email": OWNER, "password": PASSWORD})
    assert stranger.status_code == 429
    assert re.search(r"cannot be signed in to from this browser until", stranger.text)
    assert int(stranger.headers["Retry-After"]) > 0

    owner.sign_in(OWNER, PASSWORD)
    assert owner.get("/account/password").status_code == 200
