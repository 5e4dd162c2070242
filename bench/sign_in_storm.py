"""A sign-in storm beside people saving comments, with and without password-check slots.

    .venv/bin/python -m bench.sign_in_storm [--seconds 20] [--storm 12] [--savers 4]

The service runs under `gunicorn -w 2` on a SQLite database (a file, WAL) seeded through its own
services, with real scrypt hashes. Three phases, each measured for the same time:

1. quiet: the savers alone post comments, as fast as the server answers them;
2. storm, no limit (PASSWORD_CHECKS_AT_ONCE=0): as many threads as --storm sign in again and
   again with the right password, beside the savers;
3. storm, one slot (PASSWORD_CHECKS_AT_ONCE=1): the same, with one of the two workers kept free of
   password checks (see consult/accounts/password_slots.py).

It prints, per phase, the savers' rate and latency (p50, p95, p99) and the storm's sign-ins
completed and asked to wait. The figure that matters is the savers' p99 under the storm,
against the quiet phase of the same run. Redis must be reachable (REDIS_URL, default
redis://127.0.0.1:6379/0): the slots live there.
"""

import argparse
import os
import statistics
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from tempfile import TemporaryDirectory

import requests

from bench import seed
from bench.servers import gunicorn, server_environment


@dataclass
class Phase:
    name: str
    save_seconds: list[float] = field(default_factory=list)
    save_errors: int = 0
    sign_ins: int = 0
    asked_to_wait: int = 0
    sign_in_errors: int = 0
    seconds: float = 0.0

    def row(self) -> str:
        saves = sorted(self.save_seconds)

        def pct(share: float) -> float:
            return saves[min(len(saves) - 1, int(share * len(saves)))] * 1000 if saves else float("nan")

        rate = len(saves) / self.seconds if self.seconds else 0
        median = statistics.median(saves) * 1000 if saves else float("nan")
        return (f"| {self.name} | {rate:.1f}/s | {median:.0f} | {pct(0.95):.0f} | {pct(0.99):.0f} | "
                f"{self.save_errors} | {self.sign_ins / self.seconds:.1f}/s | {self.asked_to_wait} | "
                f"{self.sign_in_errors} |")


def _saver(base_url: str, user: seed.SignedInUser, sections: list[int], reference: str, phase: Phase,
           stop: threading.Event) -> None:
    http = requests.Session()
    http.headers["User-Agent"] = seed.USER_AGENT
    http.cookies.set("session", user.cookie)
    number = 0
    while not stop.is_set():
        number += 1
        path = f"/consultations/{reference}/sections/{sections[number % len(sections)]}/comment"
        started = time.perf_counter()
        response = http.post(base_url + path, allow_redirects=False, timeout=60,
                             data={"csrf_token": user.csrf_token, "body": f"Saved under a storm, {number}."})
        if response.status_code == 302:
            phase.save_seconds.append(time.perf_counter() - started)
        else:
            phase.save_errors += 1


def _stormer(base_url: str, emails: list[str], phase: Phase, stop: threading.Event, lock: threading.Lock) -> None:
    number = 0
    while not stop.is_set():
        number += 1
        with requests.Session() as http:
            http.headers["User-Agent"] = seed.USER_AGENT
            token = seed._token(http.get(base_url + "/account/sign-in", timeout=60))
            response = http.post(base_url + "/account/sign-in", allow_redirects=False, timeout=60,
                                 data={"csrf_token": token, "email": emails[number % len(emails)],
                                       "password": seed.PASSWORD})
        with lock:
            if response.status_code == 302:
                phase.sign_ins += 1
            elif response.status_code == 503:
                phase.asked_to_wait += 1
            else:
                phase.sign_in_errors += 1


def _phase(name: str, base_url: str, data: seed.AppData, savers: list[seed.SignedInUser], storm: int,
           seconds: float) -> Phase:
    phase, stop, lock = Phase(name), threading.Event(), threading.Lock()
    threads = [threading.Thread(target=_saver, args=(base_url, user, data.section_ids, data.reference, phase, stop))
               for user in savers]
    stormers = data.emails[len(savers):]
    threads += [threading.Thread(target=_stormer, args=(base_url, stormers, phase, stop, lock))
                for _ in range(storm)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    phase.seconds = time.monotonic() - started
    return phase


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="how long each phase is measured")
    parser.add_argument("--storm", type=int, default=12, help="threads signing in again and again")
    parser.add_argument("--savers", type=int, default=4, help="threads saving comments")
    args = parser.parse_args()

    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    with TemporaryDirectory(prefix="consult-storm-") as directory:
        database_url = f"sqlite:///{Path(directory) / 'storm.sqlite3'}"
        print("Seeding (real scrypt hashes)...", flush=True)
        data = seed.seed_app(database_url, users=args.savers + 20, drafts_per_user=1)
        phases = []
        for name, slots, storm in [("quiet", "0", 0), ("storm, no limit", "0", args.storm),
                                   ("storm, one slot", "1", args.storm)]:
            env = {**server_environment(database_url), "REDIS_URL": redis_url, "PASSWORD_CHECKS_AT_ONCE": slots,
                   "RATELIMIT_KEY_PREFIX": f"storm-{uuid.uuid4().hex[:8]}"}
            with gunicorn(f"storm-{slots}", "wsgi:app", env, Path(directory), "/healthz") as server:
                # One at a time: with one slot, parallel sign-ins here would be asked to wait as well.
                savers = seed.sign_in_all(server.url, seed.AppData(
                    data.reference, data.document_id, data.section_ids, data.emails[:args.savers]), parallel=1)
                print(f"Measuring: {name}...", flush=True)
                phases.append(_phase(name, server.url, data, savers, storm, args.seconds))

    load = os.getloadavg()
    print(f"\n{args.savers} savers, {args.storm} storm threads, {args.seconds:.0f} s per phase, gunicorn -w 2, "
          f"SQLite; load average after: {load[0]:.1f}\n")
    print("| phase | saves | p50 ms | p95 ms | p99 ms | save errors | sign-ins | asked to wait | other |")
    print("|---|---|---|---|---|---|---|---|---|")
    for phase in phases:
        print(phase.row())


if __name__ == "__main__":
    main()
