"""Start and stop the servers under test: gunicorn, in its own process group, always cleaned up.

Each server gets a process group of its own, so that stopping it also stops the
workers gunicorn forked, even when the arbiter itself is stuck. The context
manager stops the group on every way out of the benchmark: success, an error, or
Ctrl-C (and SIGTERM, which __main__ turns into an exception). Nothing is left
listening after a run.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

REPO_ROOT = Path(__file__).resolve().parent.parent
WORKERS = 2


@dataclass(frozen=True)
class Server:
    name: str
    url: str
    pid: int
    log: Path


def free_port() -> int:
    """A port on 127.0.0.1 that nothing is listening on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_environment(database_url: str) -> dict[str, str]:
    """What the service is started with: development config, a real secret, no rate limits."""
    env = {key: value for key, value in os.environ.items()
           if key not in {"FLASK_APP", "FLASK_DEBUG", "TEST_DATABASE_URL"}}
    env.update({
        "DATABASE_URL": database_url,
        "SECRET_KEY": "bench-" + os.urandom(16).hex(),
        "CONSULT_ENV": "development",
        "RATELIMIT_ENABLED": "0",
        "PYTHONUNBUFFERED": "1",
    })
    return env


@contextmanager
def gunicorn(name: str, app_spec: str, env: dict[str, str], log_dir: Path, ready_path: str,
             workers: int = WORKERS, start_timeout: float = 60.0):
    """Run `gunicorn -w N -b 127.0.0.1:PORT app_spec` until the block ends."""
    port = free_port()
    log = log_dir / f"{name}.log"
    command = [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}",
               "--graceful-timeout", "5", app_spec]
    with open(log, "ab") as log_file:
        process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL,
                                   stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_until_ready(process, url + ready_path, log, start_timeout)
        yield Server(name, url, process.pid, log)
    finally:
        stop_group(process)


def _wait_until_ready(process: subprocess.Popen, url: str, log: Path, timeout: float) -> None:
    """Wait for the port to answer HTTP (any status below 500), or fail with the server's log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before it was ready:\n{_tail(log)}")
        try:
            if requests.get(url, timeout=2, allow_redirects=False).status_code < 500:
                return
        except (requests.ConnectionError, requests.Timeout):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server not ready after {timeout:.0f} s:\n{_tail(log)}")


def stop_group(process: subprocess.Popen, grace: float = 10.0) -> None:
    """SIGTERM the server's process group, then SIGKILL whatever is left of it."""
    group = process.pid  # start_new_session made the server the leader of its own group
    _signal_group(group, signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        _signal_group(group, signal.SIGKILL)
        process.wait()
    # Workers orphaned by an arbiter that died first are still in the group.
    _signal_group(group, signal.SIGKILL)


def _signal_group(group: int, signum: int) -> None:
    try:
        os.killpg(group, signum)
    except ProcessLookupError:
        pass


def _tail(log: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
