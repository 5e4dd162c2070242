"""`make bench`: the service against a bare Flask baseline, on SQLite (WAL) and on PostgreSQL.

For each database engine: seed the baseline and the service (through the app's
services), start both under gunicorn, sign the users in through the real form,
then measure each service scenario right after its baseline scenario (page, then
insert/save); stop both; judge the targets; profile in-process whatever missed
one. Then write bench/results/<engine>.json, rewrite the results section of
bench/README.md and print the tables.

Every run is bounded: wrk stops after --duration seconds or --max-requests
requests, whichever comes first, and every server and database it made is
removed on the way out, whatever the way out is.
"""

import argparse
import os
import platform
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import datetime, timezone
from pathlib import Path

from bench import load, profile, report, seed, servers
from bench.load import LoadSettings, Request

DATABASES = ("sqlite", "postgresql")
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--databases", default=os.environ.get("BENCH_DATABASES", ",".join(DATABASES)),
                        help="comma-separated engines to run: sqlite, postgresql (env BENCH_DATABASES)")
    parser.add_argument("--postgres-url", default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL),
                        help="an existing PostgreSQL database to connect to; bench_* databases are "
                             "created beside it and dropped afterwards (env BENCH_POSTGRES_URL)")
    parser.add_argument("--duration", type=int, default=10, help="seconds measured per scenario")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of unmeasured load first")
    parser.add_argument("--connections", type=int, default=4, help="concurrent wrk connections")
    parser.add_argument("--max-requests", type=int, default=50_000, help="request cap per scenario")
    parser.add_argument("--users", type=int, default=100, help="distinct signed-in users")
    parser.add_argument("--drafts", type=int, default=3, help="seeded drafts per user")
    parser.add_argument("--profile", choices=("missed", "all", "none"), default="missed",
                        help="profile the scenarios that missed a target (default), all, or none")
    parser.add_argument("--no-readme", action="store_true", help="leave bench/README.md as it is")
    args = parser.parse_args(argv)
    args.databases = [name.strip() for name in args.databases.split(",") if name.strip()]
    unknown = set(args.databases) - set(DATABASES)
    if unknown or not args.databases:
        parser.error(f"--databases takes {', '.join(DATABASES)}; got {', '.join(sorted(unknown)) or 'nothing'}")
    return args


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _stop_on_signal(signum, _frame):
    # SIGTERM or SIGHUP would end Python without running `finally`; an exception runs them,
    # so the servers' process groups are stopped and the bench databases dropped.
    raise SystemExit(128 + signum)


class Bench:
    def __init__(self, args: argparse.Namespace, wrk: str, workdir: Path):
        self.args = args
        self.wrk = wrk
        self.workdir = workdir
        self.settings = LoadSettings(duration_s=args.duration, warmup_s=args.warmup,
                                     connections=args.connections, max_requests=args.max_requests)

    def measure(self, server: servers.Server, scenario: str, requests: list[Request],
                expected_status: int) -> load.LoadResult:
        """An unmeasured warm-up (templates compiled, pools filled in both workers), then the run."""
        warmup = load.run(self.wrk, scenario + "-warmup", server.url, requests, expected_status,
                          self.settings, self.workdir, duration_s=self.settings.warmup_s)
        result = load.run(self.wrk, scenario, server.url, requests, expected_status, self.settings, self.workdir)
        result.extra["warmup_statuses"] = warmup.statuses
        log(f"  {scenario}: {result.rate:.1f} req/s, p50 {result.p50_ms:.1f} ms, p95 {result.p95_ms:.1f} ms, "
            f"p99 {result.p99_ms:.1f} ms, {result.errors} errors, statuses {result.statuses}")
        return result

    def run_database(self, database: str) -> dict:
        started = time.monotonic()
        load_before = os.getloadavg()[0]
        if load_before > 1.0:
            log(f"[{database}] WARNING: load average {load_before:.2f} before the run: other work on this "
                "machine competes for its two cores and will lower every figure, the baseline's too")
        with ExitStack() as stack:
            if database == "sqlite":
                urls = stack.enter_context(seed.sqlite_databases(["consult", "baseline"]))
                version = f"SQLite {sqlite3.sqlite_version} (WAL)"
            else:
                urls = stack.enter_context(seed.postgres_databases(
                    self.args.postgres_url, ["bench_consult", "bench_baseline"]))
                urls = {"consult": urls["bench_consult"], "baseline": urls["bench_baseline"]}
                version = f"PostgreSQL {seed.postgres_reachable(self.args.postgres_url)}"
            log(f"[{database}] seeding the baseline, and {self.args.users} users through the app's services")
            seed.seed_baseline(urls["baseline"])
            data = seed.seed_app(urls["consult"], self.args.users, self.args.drafts)
            with ExitStack() as running:  # servers stop here; the databases stay for the profiles
                baseline = running.enter_context(servers.gunicorn(
                    f"baseline-{database}", "bench.baseline_app:create_app()",
                    servers.server_environment(urls["baseline"]), self.workdir, "/items"))
                service = running.enter_context(servers.gunicorn(
                    f"consult-{database}", "wsgi:app",
                    servers.server_environment(urls["consult"]), self.workdir, "/consultations/"))
                log(f"[{database}] signing {len(data.emails)} users in through the sign-in form")
                users = seed.sign_in_all(service.url, data)

                # Each project scenario runs right after its baseline, so that both see the same machine.
                results = {}
                results["baseline_page"] = self.measure(baseline, "baseline_page", [Request("GET", "/items")], 200)
                page = f"/consultations/{data.reference}/documents/{data.document_id}"
                results["document_page"] = self.measure(
                    service, "document_page", [Request("GET", page, user.cookie) for user in users], 200)
                queue_page = f"/staff/consultations/{data.queue_reference}/comments"
                staff_cookie = seed.sign_in_staff(service.url, data)
                results["triage_queue"] = self.measure(
                    service, "triage_queue", [Request("GET", queue_page, staff_cookie)], 200)
                inserts = [Request("POST", "/items", body=seed.form_body(
                    {"title": f"Posted item {n}", "body": f"A row inserted under load, number {n}, send __N__."}))
                    for n in range(100)]
                results["baseline_insert"] = self.measure(baseline, "baseline_insert", inserts, 302)
                before = seed.count_comments(urls["consult"])
                results["comment_save"] = self.measure(service, "comment_save", self._saves(data, users), 302)
                self._check_saved(results["comment_save"], seed.count_comments(urls["consult"]) - before)

            scenarios = {name: result.to_dict() for name, result in results.items()}
            verdicts = report.evaluate(scenarios)
            to_profile = {"missed": report.missed_scenarios(verdicts), "all": list(report.BASELINE_FOR),
                          "none": []}[self.args.profile]
            profiles = []
            report.remove_profiles(database)  # a listing from an earlier run must not outlive its miss
            for scenario in to_profile:
                log(f"[{database}] profiling {scenario} in-process")
                found = profile.profile_endpoint(scenario, database, urls["consult"], data, report.RESULTS_DIR)
                found.baseline_ms_per_request = profile.baseline_ms_per_request(urls["baseline"], scenario)
                profiles.append(found.to_dict())

        return {
            "database": database,
            "environment": {**self._environment(version), "load_average_before": load_before},
            "settings": {**self.settings.__dict__, "workers": servers.WORKERS, "users": self.args.users,
                         "drafts_per_user": self.args.drafts, "document_sections": 60,
                         "baseline_rows": 50},
            "scenarios": scenarios,
            "targets": verdicts,
            "profiles": profiles,
            "seconds": round(time.monotonic() - started, 1),
        }

    @staticmethod
    def _saves(data: seed.AppData, users: list[seed.SignedInUser]) -> list[Request]:
        """Five comments per user on different sections, interleaved so that neighbours differ in user.

        Each send's words are its own (replay.lua numbers the __N__): the same words on the same section
        again are the same form sent twice, which the service keeps once.
        """
        requests = []
        for round_number in range(5):
            for number, user in enumerate(users):
                section = data.section_ids[(number * 7 + round_number * 13) % len(data.section_ids)]
                requests.append(Request(
                    "POST", f"/consultations/{data.reference}/sections/{section}/comment", user.cookie,
                    seed.form_body({"csrf_token": user.csrf_token, "quote": "",
                                    "body": f"Comment {round_number} from {user.email} under load, send __N__."})))
        return requests

    def _check_saved(self, result: load.LoadResult, written: int) -> None:
        """Every 302 must be a saved row: a redirect that saved nothing would flatter the figures.

        A few more rows than counted redirects is expected: requests still in flight
        when the warm-up and the measured run end are saved, but their answers are not read.
        """
        redirects = result.statuses.get("302", 0) + result.extra["warmup_statuses"].get("302", 0)
        in_flight = 2 * self.settings.connections
        result.extra["rows_written"] = written
        result.extra["rows_match_redirects"] = redirects <= written <= redirects + in_flight
        if not result.extra["rows_match_redirects"]:
            log(f"  WARNING: {redirects} saves answered 302 but {written} comment rows were written")

    def _environment(self, database_version: str) -> dict:
        return {
            "finished_at": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "commit": _commit(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(terse=True),
            "wrk": load.wrk_version(self.wrk),
            "database_version": database_version,
        }


def _commit() -> str:
    """The commit measured, marked when the working tree differs from it (read-only git). The run's own output
    (the results folder and this README's tables, written before this is asked) is not a difference."""
    root = Path(__file__).resolve().parent.parent

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=10).stdout.strip()

    try:
        commit = git("rev-parse", "--short", "HEAD") or "unknown"
        changed = git("status", "--porcelain", "--untracked-files=no", "--", ".", ":!bench/results",
                      ":!bench/README.md")
        return commit + (" with uncommitted changes" if changed else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    wrk = load.find_wrk()
    if wrk is None:
        print(load.INSTALL_HINT, file=sys.stderr)
        return 2
    if "postgresql" in args.databases and seed.postgres_reachable(args.postgres_url) is None:
        print(f"PostgreSQL is not reachable at {args.postgres_url}.\n"
              "Start it, point BENCH_POSTGRES_URL at a database on it, or run SQLite alone with "
              "BENCH_DATABASES=sqlite.", file=sys.stderr)
        return 2
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _stop_on_signal)

    runs = []
    with tempfile.TemporaryDirectory(prefix="consult-bench-work-") as workdir:
        bench = Bench(args, wrk, Path(workdir))
        for database in args.databases:
            runs.append(bench.run_database(database))
            log(f"[{database}] results in {report.write_json(runs[-1]).relative_to(report.BENCH_DIR.parent)}")

    markdown = report.results_markdown(runs)
    if not args.no_readme:
        report.rewrite_readme(markdown)
        log("results section of bench/README.md rewritten")
    print(markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
