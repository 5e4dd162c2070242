"""Two app instances sharing Redis enforce one limit on organisation code attempts between them.

Each instance is its own process, as in production, so nothing but Redis
can carry the count from one to the other.
"""

import os
import subprocess
import sys
import uuid

import pytest

from tests.live.test_rate_limits_redis import REDIS_URL, ROOT, _free_port, _redis_or_skip, _wait_for
from tests.liveserver import Visitor

pytestmark = pytest.mark.live
DEMO_OPEN = "HTE1001"  # the demo's open consultation (consult/demo/content/consultations.json)
DEMO_STAKEHOLDER = ("stakeholder@example.org", "demo-password-2026")


@pytest.fixture
def two_instances(tmp_path):
    store = _redis_or_skip()
    prefix = f"consult-test-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "CONSULT_ENV": "development", "SECRET_KEY": "shared-secret-for-both",
           "DATABASE_URL": f"sqlite:///{tmp_path}/shared.sqlite3", "RATELIMIT_STORAGE_URI": REDIS_URL,
           "RATELIMIT_KEY_PREFIX": prefix, "ORGANISATION_CODE_ATTEMPTS_PER_USER": "4 per hour"}
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run([*flask, "demo", "load"], cwd=ROOT, env=env, check=True, capture_output=True)
    processes, urls = [], []
    try:
        for _ in range(2):
            port = _free_port()
            process = subprocess.Popen([*flask, "run", "--host", "127.0.0.1", "--port", str(port)],
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


def test_code_attempts_are_counted_across_instances(two_instances):
    first, second = (Visitor(url) for url in two_instances)
    for visitor in (first, second):
        visitor.sign_in(*DEMO_STAKEHOLDER)
    page = f"/consultations/{DEMO_OPEN}/organisation/code"
    statuses = [visitor.post(page, {"code": "9999 9999 9999"}).status_code
                for visitor in [first, second, first, second, first, second]]
    assert statuses == [200, 200, 200, 200, 429, 429]
    assert "You have tried a lot of organisation codes" in second.post(page, {"code": "9999 9999 9999"}).text
