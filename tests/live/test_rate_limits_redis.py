"""Two app instances enforce one limit between them: on sign-ins and on organisation codes.

Each instance is its own process, as in production. Failed sign-ins per
account are counted in the database they share; attempts per network
address and organisation code attempts per person are counted in Redis,
which nothing else carries between them.

The two instances (and their database, holding the demo) are started once
for the module; each test starts from empty counts in Redis and uses
accounts no other test here touches, so the database needs no reset.
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

# One worker runs the module, so the two instances start once (see `instances`).
pytestmark = [pytest.mark.live, pytest.mark.xdist_group("redis-instances")]
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


DEMO_OPEN = "HTE1001"  # the demo's open consultation (consult/demo/content/consultations.json)
DEMO_STAKEHOLDER = ("stakeholder@example.org", "demo-password-2026")


@pytest.fixture(scope="module")
def instances(tmp_path_factory):
    """Two instances of the app over one database with the demo, sharing Redis, with low limits."""
    store = _redis_or_skip()
    prefix = f"consult-test-{uuid.uuid4().hex[:8]}"
    database = tmp_path_factory.mktemp("instances") / "shared.sqlite3"
    env = {**os.environ, "CONSULT_ENV": "development", "SECRET_KEY": "shared-secret-for-both",
           "DATABASE_URL": f"sqlite:///{database}", "RATELIMIT_STORAGE_URI": REDIS_URL,
           "RATELIMIT_KEY_PREFIX": prefix, "FAILED_SIGN_INS_PER_ACCOUNT": "4 per hour",
           "SIGN_IN_ATTEMPTS_PER_ADDRESS": "8 per hour", "ORGANISATION_CODE_ATTEMPTS_PER_USER": "4 per hour"}
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run([*flask, "demo", "load"], cwd=ROOT, env=env, check=True, capture_output=True)
    ports = [_free_port()]
    while len(ports) < 2:
        ports += {_free_port()} - set(ports)
    processes = []
    try:
        for port in ports:  # both start at once; each is waited for below
            processes.append(subprocess.Popen([*flask, "run", "--host", "127.0.0.1", "--port", str(port)],
                                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
        for port, process in zip(ports, processes):
            _wait_for(port, process)
        yield store, prefix, [f"http://127.0.0.1:{port}" for port in ports]
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)
            process.stderr.close()
        _forget_counts(store, prefix)


def _forget_counts(store: redis.Redis, prefix: str) -> None:
    # Flask-Limiter puts its own words before the prefix: LIMITS:LIMITER/<prefix>/...
    for key in store.scan_iter(f"*{prefix}*"):
        store.delete(key)


@pytest.fixture
def two_instances(instances):
    """The module's two instances, with every count kept in Redis back at zero."""
    store, prefix, urls = instances
    _forget_counts(store, prefix)
    return urls


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


def test_code_attempts_are_counted_across_instances(two_instances):
    first, second = (Visitor(url) for url in two_instances)
    for visitor in (first, second):
        visitor.sign_in(*DEMO_STAKEHOLDER)
    page = f"/consultations/{DEMO_OPEN}/organisation/code"
    statuses = [visitor.post(page, {"code": "9999 9999 9999"}).status_code
                for visitor in [first, second, first, second, first, second]]
    assert statuses == [200, 200, 200, 200, 429, 429]
    assert "You have tried a lot of organisation codes" in second.post(page, {"code": "9999 9999 9999"}).text
