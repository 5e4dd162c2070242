"""The load generator: wrk, in a process of its own, replaying requests prepared in Python.

wrk rather than a Python generator: the machine has two cores, shared by the load
generator, two gunicorn workers and the database. wrk is an event loop in C
that spends microseconds per request, where a `requests`-based generator spends
about a millisecond of Python per request, which would take CPU from the server
and flatten exactly the differences being measured. wrk's one weakness here,
per-user cookies and CSRF tokens, needs no logic under load: Python signs
the users in beforehand and writes each request out in full, and replay.lua
sends them round-robin.
"""

import json
import shutil
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path

SCRIPT = Path(__file__).with_name("replay.lua")
INSTALL_HINT = (
    "The benchmark drives the servers with wrk, which is not installed.\n"
    "Install it with:  apt-get install wrk   (as root, or with sudo)\n"
    "and run `make bench` again. Nothing else is needed."
)


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    cookie: str = ""
    body: str = ""

    def line(self) -> str:
        fields = (self.method, self.path, self.cookie, self.body)
        if any(ch in value for value in fields for ch in "\t\r\n"):
            raise ValueError(f"request field contains a tab or newline: {fields!r}")
        return "\t".join(fields)


@dataclass(frozen=True)
class LoadSettings:
    """How hard and how long: every run is bounded both in time and in request count."""

    duration_s: int = 10
    warmup_s: int = 2
    connections: int = 4
    threads: int = 1
    max_requests: int = 50_000
    timeout_s: int = 5


@dataclass
class LoadResult:
    scenario: str
    expected_status: int
    requests: int
    duration_s: float
    rate: float
    p50_ms: float
    p90_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float
    statuses: dict[str, int]
    socket_errors: dict[str, int]
    errors: int
    http_errors: int
    unexpected_status: int
    capped: bool
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def find_wrk() -> str | None:
    return shutil.which("wrk")


def wrk_version(wrk: str) -> str:
    completed = subprocess.run([wrk, "--version"], capture_output=True, text=True, timeout=10)
    lines = (completed.stdout + completed.stderr).splitlines()
    return lines[0].split(" Copyright")[0].strip() if lines else "unknown"


def run(wrk: str, scenario: str, base_url: str, requests: list[Request], expected_status: int,
        settings: LoadSettings, workdir: Path, duration_s: int | None = None) -> LoadResult:
    """Send `requests` round-robin for the duration (or until the budget) and summarise.

    `errors` counts socket errors (connect, read, write, timeout) and every response
    whose status is not the one the scenario expects: a 4xx/5xx, and also a 200 where
    a 302 was expected, since a comment form shown again means nothing was saved.
    """
    if not requests:
        raise ValueError("no requests to send")
    duration_s = duration_s or settings.duration_s
    request_file = workdir / f"{scenario}.requests"
    request_file.write_text("\n".join(r.line() for r in requests) + "\n")
    budget = max(1, settings.max_requests // settings.threads)
    command = [wrk, f"-t{settings.threads}", f"-c{settings.connections}", f"-d{duration_s}s",
               f"--timeout={settings.timeout_s}s", "-s", str(SCRIPT), base_url, "--",
               str(request_file), str(budget)]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=duration_s + 60)
    if completed.returncode != 0:
        raise RuntimeError(f"wrk failed ({completed.returncode}): {completed.stderr or completed.stdout}")
    summary = _last_json_line(completed.stdout)
    return _result(scenario, expected_status, summary, budget * settings.threads)


def _last_json_line(output: str) -> dict:
    for line in reversed(output.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError(f"wrk printed no summary:\n{output}")


def _result(scenario: str, expected_status: int, summary: dict, budget: int) -> LoadResult:
    statuses = {str(k): v for k, v in sorted(summary["statuses"].items())}
    completed = summary["requests"]
    http_errors = sum(v for k, v in statuses.items() if not 200 <= int(k) < 400)
    unexpected = sum(v for k, v in statuses.items() if int(k) != expected_status)
    socket_errors = summary["socket_errors"]
    active_s = summary["active_us"] / 1e6 or summary["wrk_duration_us"] / 1e6
    latency = summary["latency_us"]
    return LoadResult(
        scenario=scenario,
        expected_status=expected_status,
        requests=completed,
        duration_s=round(active_s, 3),
        rate=round(completed / active_s, 1) if active_s else 0.0,
        p50_ms=latency["p50"] / 1000,
        p90_ms=latency["p90"] / 1000,
        p95_ms=latency["p95"] / 1000,
        p99_ms=latency["p99"] / 1000,
        max_ms=latency["max"] / 1000,
        mean_ms=round(latency["mean"] / 1000, 3),
        statuses=statuses,
        socket_errors=socket_errors,
        errors=unexpected + sum(socket_errors.values()),
        http_errors=http_errors,
        unexpected_status=unexpected,
        capped=completed >= budget,
    )
