"""What `make run` starts: the app, the queue worker and the mail catcher, read at /dev/mail.

The launcher (consult.devserver) runs as a new user would run it, on a
database and ports of its own; a registration's email must travel through
the outbox, the worker (or, without Redis, the launcher's own delivery)
and real SMTP into the catcher, and be readable, link and all, at /dev/mail.
"""

import html
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import throwaway_database_url
from tests.live.test_rate_limits_redis import _free_port
from tests.liveserver import Visitor

pytestmark = pytest.mark.live
ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "a long enough password"


def _children(pid: int) -> list[int]:
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def _wait_until_up(url: str, launcher: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert launcher.poll() is None, launcher.stdout.read().decode()[-3000:]
        try:
            if requests.get(url + "/healthz", timeout=2).status_code in (200, 503):
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.3)
    raise AssertionError("the development stack did not start")


@pytest.fixture
def dev_stack(tmp_path):
    port, mail_port = _free_port(), _free_port()
    env = {**os.environ, "CONSULT_ENV": "development", "DATABASE_URL": throwaway_database_url("devstack", str(tmp_path)),
           "MAIL_PORT": str(mail_port), "MAIL_CATCHER_DIRECTORY": str(tmp_path / "mail"),
           "QUEUE_NAME": f"consult-devstack-{os.getpid()}",
           "RATELIMIT_KEY_PREFIX": f"consult-devstack-{os.getpid()}", "MAIL_SWEEP_SECONDS": "2"}
    # No PUBLIC_URL, as for `make run PORT=…`: the email's link must follow the port it serves on.
    for key in ("MAIL_SERVER", "RATELIMIT_STORAGE_URI", "PUBLIC_URL"):
        env.pop(key, None)
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env,
                   check=True, capture_output=True)
    launcher = subprocess.Popen([sys.executable, "-m", "consult.devserver", "--port", str(port)], cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        _wait_until_up(f"http://127.0.0.1:{port}", launcher)
        yield f"http://127.0.0.1:{port}", tmp_path / "mail", launcher
    finally:
        if launcher.poll() is None:
            launcher.send_signal(signal.SIGTERM)
            launcher.wait(timeout=30)
        launcher.stdout.close()


def _mail_at_dev_mail(url: str, to: str, subject: str) -> str:
    """The page /dev/mail shows for the newest message to `to` with `subject`, once it has arrived."""
    deadline = time.monotonic() + 45
    while time.monotonic() < deadline:
        listing = requests.get(url + "/dev/mail/", timeout=10).text
        for link in re.findall(r'href="(/dev/mail/\?message=[^"]+)"', listing):
            page = requests.get(url + html.unescape(link), timeout=10).text
            if to in page and subject in page:
                return page
        time.sleep(0.5)
    raise AssertionError(f"no '{subject}' to {to} at /dev/mail")


def test_make_run_lets_a_new_user_read_their_email_at_dev_mail(dev_stack):
    url, mail_directory, launcher = dev_stack
    helpers = _children(launcher.pid)
    assert len(helpers) >= 3  # the catcher, the worker (or a Redis of its own) and the app

    person = Visitor(url)
    response = person.post("/account/register", {"name": "New Person", "email": "new.person@example.org",
                                                  "password": PASSWORD, "confirm": PASSWORD})
    assert response.status_code == 302

    page = _mail_at_dev_mail(url, "new.person@example.org", "Confirm your email address")
    link = html.unescape(re.search(rf'href="({re.escape(url)}/account/verify-email\?token=[^"]+)"', page).group(1))
    assert person.http.get(link, allow_redirects=False, timeout=30).status_code == 302
    assert "has been confirmed" in person.get("/consultations/").text
    assert list(mail_directory.glob("*.eml"))  # also kept as files, as the README says

    launcher.send_signal(signal.SIGTERM)
    launcher.wait(timeout=30)
    time.sleep(0.5)
    assert all(not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()
               for pid in helpers)  # Ctrl-C (or SIGTERM) stops every process it started
