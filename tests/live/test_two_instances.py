"""Two production instances against one PostgreSQL and one Redis, as a second machine would run them.

Each instance is exactly what an operator starts: `python -m consult.serve` (gunicorn with its
config file, and a queue worker) with CONSULT_ENV=production. Nothing is shared between the two but
the database, Redis and the secret key, so every test here proves something only those can carry:
a session, a rate-limit count, a queued email, and a deadline surge dealt out between the two.
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from http.cookiejar import DefaultCookiePolicy
from pathlib import Path

import pytest
import redis
import requests
from aiosmtpd.controller import Controller
from flask_migrate import upgrade

from consult import create_app
from consult.accounts.services import register_user
from consult.extensions import db
from tests.live.surge import run_surge
from tests.liveserver import LiveServer, Visitor
from tests.mail.helpers import Inbox, free_port, wait_for

pytestmark = [pytest.mark.live, pytest.mark.own_database, pytest.mark.xdist_group("two-instances")]
ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
PASSWORD = "two instances password 2026"
FAILED_SIGN_IN_LIMIT = 4


class _LoopbackStandsInForTLS(DefaultCookiePolicy):
    """Production cookies are Secure. A TLS proxy is in front of every real instance; here the
    visitor talks plain HTTP to 127.0.0.1, so it sends Secure cookies there as a browser would
    through the proxy."""

    def return_ok_secure(self, cookie, request):
        return True


class _SessionBehindTLSProxy(requests.Session):
    def __init__(self):
        super().__init__()
        self.cookies.set_policy(_LoopbackStandsInForTLS())

    def prepare_request(self, request):
        # requests merges cookies into a jar of its own, with the default policy; ask ours instead.
        prepared = super().prepare_request(request)
        prepared.headers.pop("Cookie", None)
        prepared.prepare_cookies(self.cookies)
        return prepared


def _visitor(url: str) -> Visitor:
    visitor = Visitor(url)
    visitor.http = _SessionBehindTLSProxy()
    return visitor


def _postgres_or_skip() -> str:
    base = os.environ.get("TEST_DATABASE_URL", "")
    if not base.startswith("postgresql"):
        pytest.skip("Production runs on PostgreSQL: the two-instance test runs in the PostgreSQL pass.")
    return base


def _redis_or_skip() -> redis.Redis:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail(f"Redis is not reachable at {REDIS_URL}, and this run requires it.")
        pytest.skip(f"Redis is not reachable at {REDIS_URL}: two-instance test skipped.")
    return client


def _wait_until_healthy(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"instance exited early: {process.stderr.read().decode()[-3000:]}")
        try:
            if requests.get(f"{url}/healthz", timeout=5).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):
            pass  # still booting: a worker that is importing the app accepts, then answers late
        time.sleep(0.2)
    raise RuntimeError(f"instance at {url} did not become healthy")


def _stop_all(processes: list[subprocess.Popen]) -> list[str]:
    """Ask every instance to stop at once, then wait for each (each finishes its running job first);
    what each wrote to stderr."""
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    logs = []
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        logs.append(process.stderr.read().decode(errors="replace"))
        process.stderr.close()
    return logs


@pytest.fixture(scope="module")
def instances(tmp_path_factory):
    """Two `consult.serve` instances on their own ports, one database, one Redis, one SMTP server."""
    from tests.conftest import make_test_config, throwaway_database_url

    _postgres_or_skip()
    store = _redis_or_skip()
    database_url = throwaway_database_url("pair", str(tmp_path_factory.mktemp("pair")))
    seeding_app = create_app(make_test_config(database_url))
    with seeding_app.app_context():
        upgrade()

    inbox = Inbox("127.0.0.1", free_port())
    smtp = Controller(inbox, hostname="127.0.0.1", port=inbox.port)
    smtp.start()
    prefix = f"consult-pair-{uuid.uuid4().hex[:8]}"
    ports = [free_port(), free_port()]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    shared = {
        **os.environ, "CONSULT_ENV": "production", "SECRET_KEY": f"shared-secret-{prefix}",
        "DATABASE_URL": database_url, "REDIS_URL": REDIS_URL, "QUEUE_NAME": prefix,
        "RATELIMIT_KEY_PREFIX": prefix, "FAILED_SIGN_INS_PER_ACCOUNT": f"{FAILED_SIGN_IN_LIMIT} per hour",
        "SIGN_IN_ATTEMPTS_PER_ADDRESS": "10000 per hour",
        "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(inbox.port), "MAIL_FROM": "consult@example.org",
        "PUBLIC_URL": urls[0], "HOST": "127.0.0.1", "WEB_CONCURRENCY": "1", "LOG_REQUESTS": "0",
    }
    processes = []
    try:
        for port in ports:  # both boot at once; each is waited for below
            processes.append(subprocess.Popen([sys.executable, "-m", "consult.serve"], cwd=ROOT,
                                              env={**shared, "PORT": str(port)}, stdout=subprocess.DEVNULL,
                                              stderr=subprocess.PIPE, start_new_session=True))
        for url, process in zip(urls, processes, strict=True):
            _wait_until_healthy(url, process)
        yield {"urls": urls, "inbox": inbox, "server": LiveServer(urls[0], seeding_app, database_url)}
    finally:
        logs = _stop_all(processes)
        smtp.stop()
        for key in store.scan_iter(f"{prefix}*"):
            store.delete(key)
        for key in store.scan_iter(f"rq:*{prefix}*"):
            store.delete(key)
        with seeding_app.app_context():
            db.engine.dispose()
    # Both workers ran the jobs the tests queued (email, grouping, suggestions); none may have failed, as
    # when two ran the same consultation's analysis at once and inserted the same rows.
    failures = [line for log in logs for line in log.splitlines() if "exception raised while executing" in line]
    assert not failures, failures


def _account(instances, name: str) -> str:
    email = f"{name}-{uuid.uuid4().hex[:8]}@example.org"
    with instances["server"].app_context():
        register_user(email, name.title(), PASSWORD)
    return email


def test_both_instances_report_their_database_and_redis_healthy(instances):
    for url in instances["urls"]:
        health = requests.get(f"{url}/healthz", timeout=5)
        assert health.status_code == 200
        assert health.json() == {"status": "ok", "database": "ok", "redis": "ok"}


def test_a_session_from_one_instance_is_honoured_and_ended_on_the_other(instances):
    first, second = instances["urls"]
    email = _account(instances, "roaming")
    person = _visitor(first)
    person.sign_in(email, PASSWORD)

    person.base_url = second
    page = person.get("/account/your-data")
    assert page.status_code == 200 and email in page.text

    copied = _visitor(first)
    copied.http.cookies.update(person.http.cookies)
    assert person.post("/account/sign-out", token_from="/account/your-data").status_code == 302
    # The copy of the cookie, replayed on the other instance, no longer signs anyone in.
    replayed = copied.get("/account/your-data", allow_redirects=False)
    assert replayed.status_code == 302, replayed.text[:300]
    assert "/account/sign-in" in replayed.headers["Location"]


def test_failed_sign_ins_on_both_instances_meet_one_limit(instances):
    first, second = (_visitor(url) for url in instances["urls"])
    email = _account(instances, "targeted")
    attempt = {"email": email, "password": "not the password"}
    statuses = [visitor.post("/account/sign-in", attempt).status_code
                for visitor in [first, second] * FAILED_SIGN_IN_LIMIT]
    assert statuses == [200] * FAILED_SIGN_IN_LIMIT + [429] * FAILED_SIGN_IN_LIMIT
    assert "Too many failed sign-in attempts for this account" in second.post("/account/sign-in", attempt).text


def test_an_email_asked_for_on_one_instance_is_sent_once_and_its_link_works_on_the_other(instances):
    first, second = instances["urls"]
    inbox = instances["inbox"]
    email = _account(instances, "forgetful")
    asking = _visitor(first)
    assert asking.post("/account/forgot-password", {"email": email}).status_code == 302

    wait_for(lambda: inbox.to(email), timeout=30)
    time.sleep(1)  # both workers sweep for due email: give a second send the chance to show itself
    message = inbox.only(email)
    link = inbox.link_in(message, "/account/reset-password")
    assert link.startswith(first)

    path = link.removeprefix(first)
    resetting = _visitor(second)
    new_password = "a brand new password 2026"
    changed = resetting.post(path, {"new_password": new_password, "confirm": new_password})
    assert changed.status_code == 302 and changed.headers["Location"].endswith("/account/sign-in")
    _visitor(first).sign_in(email, new_password)


def test_a_deadline_surge_dealt_between_both_instances_loses_nothing(instances):
    # Two instances and their workers share two cores with the rest of a parallel suite, so a request sent
    # before the deadline can wait seconds for a CPU before the app stamps its arrival: the grace staff would
    # set for a busy service (up to 600 s) is set here to 5 s.
    report = run_surge(instances["server"], users=24, spread=1.5, lead=3.0, urls=instances["urls"],
                        make_visitor=_visitor, late_grace_seconds=5)
    assert report.ok, (report.summary(), report.other[:5], report.problems[:5])
    assert report.acknowledged, report.summary()
