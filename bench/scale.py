"""How each page's cost grows with the consultation: 1k, 10k and 100k submitted comments.

    .venv/bin/python -m bench.scale [--sizes 1000,10000,100000] [--databases sqlite,postgresql]
                                    [--repeat 15] [--pages published,queue,...]

For every size and database it seeds one closed, published consultation with
the export benchmark's seeder (`bench.exports.seed`: 60 sections, eight
themes, half the comments answered, and half of them in one mail campaign),
then, in one process per size so that
memory is the pages' own, requests each page in-process through the real app
as the person who would see it (anonymous, staff or an assigned committee
member), after one warm-up request:

- CPU ms: the process's CPU time per request (`time.process_time`), median;
- wall ms: p50 and p95 of the request's wall time;
- KB: the size of the response body;
- RSS MB: peak resident memory above the child's idle level across the page's requests.

It prints one table per database and writes bench/results/scale-<engine>.json.
The target (issue: "every page at 100k comments <= 50 ms of CPU and <= 150 ms
wall p95 ... and its cost from 1k to 100k grows by at most 2x") is printed
beside each page: the growth column is CPU at the largest size over CPU at
the smallest.
"""

import argparse
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time

from bench.exports import DEFAULT_POSTGRES_URL, RESULTS, _reset_peak, _status_mb, seed

CPU_TARGET_MS = 50
WALL_TARGET_MS = 150
GROWTH_TARGET = 2.0

# name: (who asks, path template); {ref}, {theme}, {number} are filled in per run.
PAGES = {
    "published": ("anonymous", "/consultations/{ref}/published-comments"),
    "review": ("committee", "/staff/consultations/{ref}/review"),
    "theme drill-down": ("committee", "/staff/consultations/{ref}/review?theme={theme}"),
    "section drill-down": ("committee", "/staff/consultations/{ref}/review?section={section}"),
    "queue": ("staff", "/staff/consultations/{ref}/comments"),
    "queue filtered": ("staff", "/staff/consultations/{ref}/comments?q=pain&state=accepted"),
    "comment": ("staff", "/staff/consultations/{ref}/comments/{number}"),
    "themes": ("staff", "/staff/consultations/{ref}/themes"),
    "dashboard": ("staff", "/staff/"),
    "audit": ("admin", "/admin/audit"),
    "queue flagged": ("staff", "/staff/consultations/{ref}/comments?flag=yes"),
    "comment in a search": ("staff",
                            "/staff/consultations/{ref}/comments/{number}?q=pain&state=accepted&theme={theme}"),
    "theme answer": ("staff", "/staff/consultations/{ref}/themes/{theme}/response"),
    "publication check": ("staff", "/staff/consultations/{ref}/publication/withdraw"),
    "campaigns": ("staff", "/staff/consultations/{ref}/campaigns"),
    "campaign": ("staff", "/staff/consultations/{ref}/campaigns/{campaign}"),
}

# One comment in this many is a copy of the mail campaign's letter.
CAMPAIGN_EVERY = 2


def _prepare(database_url: str, comments: int) -> dict:
    """Seed, publish, and make the people who look at it; returns what the page paths need."""
    from sqlalchemy import select

    from consult import create_app
    from consult.accounts.models import Role
    from consult.accounts.services import register_user
    from consult.config import TestConfig
    from consult.database import utcnow
    from consult.extensions import db
    from consult.models import Campaign, CommitteeAssignment, Consultation, Section, Theme

    reference = seed(database_url, comments, campaign_every=CAMPAIGN_EVERY)
    app = create_app(type("BenchConfig", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": database_url}))
    with app.app_context():
        consultation = db.session.scalar(select(Consultation).where(Consultation.reference == reference))
        consultation.published_at = utcnow()
        people = {role: register_user(f"scale-{role.value}@example.org", f"Scale {role.value}", "x" * 12, role)
                  for role in (Role.STAFF, Role.COMMITTEE, Role.ADMIN)}
        db.session.flush()
        db.session.add(CommitteeAssignment(consultation_id=consultation.id, user_id=people[Role.COMMITTEE].id))
        theme = db.session.scalar(select(Theme.id).where(Theme.consultation_id == consultation.id).limit(1))
        section = db.session.scalar(select(Section.id).order_by(Section.position).limit(1))
        campaign = db.session.scalar(select(Campaign.id).where(Campaign.consultation_id == consultation.id))
        db.session.commit()
        ids = {role.value: user.get_id() for role, user in people.items()}
        db.engine.dispose()
    return {"ref": reference, "theme": theme, "section": section, "number": comments // 2, "users": ids,
            "campaign": campaign}


def _measure(database_url: str, context: dict, pages: list[str], repeat: int, queue) -> None:
    """Runs in a child process: each page, warmed up once, then timed `repeat` times."""
    from consult import create_app
    from consult.config import TestConfig

    app = create_app(type("BenchConfig", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": database_url,
                                                        "WTF_CSRF_ENABLED": False}))
    results = {}
    for name in pages:
        who, template = PAGES[name]
        path = template.format(**context)
        client = app.test_client()
        if who != "anonymous":
            with client.session_transaction() as session:
                session["_user_id"] = context["users"][who]
                session["_fresh"] = True
        first = client.get(path)
        if first.status_code != 200:
            results[name] = {"error": f"{first.status_code} on {path}"}
            continue
        idle = _status_mb("VmRSS")
        _reset_peak()
        cpu, wall, size = [], [], len(first.get_data())
        for _ in range(repeat):
            started_cpu, started = time.process_time(), time.perf_counter()
            response = client.get(path)
            body = response.get_data()
            wall.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
            size = len(body)
        wall.sort()
        results[name] = {
            "path": path, "cpu_ms": round(statistics.median(cpu), 1),
            "wall_p50_ms": round(wall[len(wall) // 2], 1),
            "wall_p95_ms": round(wall[min(len(wall) - 1, int(len(wall) * 0.95))], 1),
            "kb": round(size / 1024, 1), "rss_mb": round(max(0.0, _status_mb("VmHWM") - idle), 1),
        }
    queue.put(results)


def _fresh_database(engine: str, directory: str, name: str) -> tuple[str, callable]:
    if engine == "sqlite":
        return f"sqlite:///{directory}/{name}.sqlite3", lambda: None
    import sqlalchemy as sa

    base = sa.engine.make_url(os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL))
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    database = f"bench_scale_{name}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        connection.exec_driver_sql(f'CREATE DATABASE "{database}"')

    def drop():
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        admin.dispose()

    return base.set(database=database).render_as_string(hide_password=False), drop


def run(engine: str, sizes: list[int], pages: list[str], repeat: int) -> dict:
    by_size = {}
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as directory:
        for size in sizes:
            url, drop = _fresh_database(engine, directory, f"c{size}")
            try:
                started = time.perf_counter()
                context = _prepare(url, size)
                print(f"  {engine}: seeded {size:,} comments in {time.perf_counter() - started:.0f} s", flush=True)
                queue = multiprocessing.get_context("spawn").Queue()
                child = multiprocessing.get_context("spawn").Process(
                    target=_measure, args=(url, context, pages, repeat, queue))
                child.start()
                by_size[size] = queue.get()
                child.join()
            finally:
                drop()
    return by_size


def table(engine: str, by_size: dict, pages: list[str]) -> str:
    sizes = sorted(by_size)
    head = "| page | " + " | ".join(f"{s // 1000}k CPU ms" for s in sizes) + \
        f" | {sizes[-1] // 1000}k wall p95 ms | {sizes[-1] // 1000}k KB | {sizes[-1] // 1000}k RSS MB | growth | target |"
    lines = [f"### {engine}", "", head, "|" + "---|" * (len(sizes) + 6)]
    for name in pages:
        cells = [by_size[s].get(name, {}) for s in sizes]
        if any("error" in c for c in cells):
            lines.append(f"| {name} | " + " | ".join(c.get("error", "") for c in cells) + " |||||")
            continue
        largest = cells[-1]
        growth = largest["cpu_ms"] / cells[0]["cpu_ms"] if cells[0]["cpu_ms"] else float("inf")
        met = (largest["cpu_ms"] <= CPU_TARGET_MS and largest["wall_p95_ms"] <= WALL_TARGET_MS
               and growth <= GROWTH_TARGET)
        lines.append(f"| {name} | " + " | ".join(f"{c['cpu_ms']:.1f}" for c in cells)
                     + f" | {largest['wall_p95_ms']:.1f} | {largest['kb']:.0f} | {largest['rss_mb']:.1f}"
                     + f" | {growth:.1f}× | {'met' if met else 'missed'} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--databases", default=os.environ.get("BENCH_DATABASES", "sqlite,postgresql"))
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--pages", default=",".join(PAGES))
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    pages = [p for p in args.pages.split(",") if p]
    unknown = set(pages) - set(PAGES)
    if unknown:
        parser.error(f"unknown pages: {', '.join(sorted(unknown))}")
    print(f"load average before: {os.getloadavg()[0]:.2f}", flush=True)
    RESULTS.mkdir(exist_ok=True)
    for engine in args.databases.split(","):
        by_size = run(engine, sizes, pages, args.repeat)
        record = {"engine": engine, "load_average": os.getloadavg()[0], "pages": by_size}
        (RESULTS / f"scale-{engine}.json").write_text(json.dumps(record, indent=2))
        print(table(engine, by_size, pages), flush=True)
        print(flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
