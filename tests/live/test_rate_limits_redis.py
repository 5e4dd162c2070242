"""Two app instances enforce one sign-in limit between them.

Each instance is its own process, as in production. Failed sign-ins per
account are counted in the database they share; attempts per network
address are counted in Redis, which nothing else carries between them.
"""

import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import redis

from tests.liveserver import Visitor

pytestmark = pytest.mark.live
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
ROOT = Path(__file__).resolve().parents[2]


def _redis_or_skip() -> redis.Redis:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail(f"Redis is not reachable at {REDIS_URL}, and this run requires it.")
        pytest.skip(f"Redis is not reachable at {REDIS_URL}: shared rate-limit test skipped.")
    return client


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"instance exited early: {process.stderr.read().decode()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"instance on port {port} did not start")


@pytest.fixture
def two_instances(tmp_path):
    store = _redis_or_skip()
    prefix = f"consult-test-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "CONSULT_ENV": "development", "SECRET_KEY": "shared-secret-for-both",
           "DATABASE_URL": f"sqlite:///{tmp_path}/shared.sqlite3", "RATELIMIT_STORAGE_URI": REDIS_URL,
           "RATELIMIT_KEY_PREFIX": prefix, "FAILED_SIGN_INS_PER_ACCOUNT": "4 per hour",
           "SIGN_IN_ATTEMPTS_PER_ADDRESS": "8 per hour"}
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env,
                   check=True, capture_output=True)
    processes, urls = [], []
    try:
        for _ in range(2):
            port = _free_port()
            process = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "wsgi", "run", "--host", "127.0.0.1", "--port", str(port)],
                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            processes.append(process)
            _wait_for(port, process)
            urls.append(f"http://127.0.0.1:{port}")
        yield urls
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)
            process.stderr.close()
        for key in store.scan_iter(f"{prefix}*"):
            store.delete(key)


def test_failed_sign_ins_are_counted_across_instances(two_instances):
    first, second = (Visitor(url) for url in two_instances)
    attempt = {"email": "target@example.org", "password": "not the password"}
    statuses = []
    for visitor in [first, second, first, second, first, second]:
        statuses.append(visitor.post("/account/sign-in", attempt).status_code)
    assert statuses == [200, 200, 200, 200, 429, 429]
    refused = second.post("/account/sign-in", attempt)
    assert "Too many failed sign-in attempts for this account" in refused.text


def test_attempts_from_one_address_are_counted_across_instances_in_redis(two_instances):
    first, second = (Visitor(url) for url in two_instances)
    statuses = []
    for number, visitor in enumerate([first, second] * 5):
        # A different account each time, so only the per-address limit can refuse.
        attempt = {"email": f"someone{number}@example.org", "password": "not the password"}
        statuses.append(visitor.post("/account/sign-in", attempt))
    assert [response.status_code for response in statuses] == [200] * 8 + [429, 429]
    assert "Too many sign-in attempts from your network" in statuses[-1].text
