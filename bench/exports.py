"""Export benchmark: 100,000 comments on 60 sections, with themes and responses.

    .venv/bin/python -m bench.exports [--comments 100000] [--databases sqlite,postgresql] [--kinds xlsx,csv,docx]

For each database it seeds the comments in bulk, then, each in a fresh child
process so that peak memory is the export's own, it builds:

- the comments workbook (.xlsx) through exports.services, as a download does;
- the comments CSV, streamed line by line;
- the Word table by section (.docx), streamed as WordprocessingML;
- and, for xlsx and CSV, a bare baseline in the same child: the same number
  of rows, each the export's own first row (same width and text), written
  straight to xlsxwriter (constant_memory) / csv from Python lists, no database.

It prints seconds, rows, and peak RSS above the child's idle RSS (after the
app and database connection are up), and the ratio to the baseline, then
writes bench/results/exports-<engine>.json. Targets: xlsx <= 1.2x its
baseline, CSV <= 1.5x its baseline, Word <= 20 s; peak RSS <= 150 MB above
idle for every export. The load average is printed with the results, as the
ratios depend on the machine being otherwise idle.
"""

import argparse
import json
import multiprocessing
import os
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

RESULTS = Path(__file__).parent / "results"
RATIO_TARGETS = {"xlsx": 1.2, "csv": 1.5}
SECONDS_TARGETS = {"docx": 20.0}
KINDS = ("xlsx", "csv", "docx")
RSS_TARGET_MB = 150
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def _reset_peak() -> None:
    """Linux resets the peak RSS (VmHWM) to the current RSS when 5 is written here."""
    Path("/proc/self/clear_refs").write_text("5")


def seed(database_url: str, comments: int, sections: int = 60, per_person: int = 20, campaign_every: int = 0) -> str:
    """Bulk-insert a consultation with `comments` submitted comments; returns its reference.

    With `campaign_every`, one comment in that many belongs to a single campaign, as a mail campaign's
    copies would (2: half the consultation).
    """
    from sqlalchemy import insert
    from werkzeug.security import generate_password_hash

    from consult import create_app
    from consult.config import TestConfig
    from consult.database import utcnow
    from consult.extensions import db
    from consult.models import Campaign, CampaignMember, Chapter, Comment, CommentResponse, CommentTheme, Consultation
    from consult.models import Document, Participation
    from consult.models import Section, Theme, User
    from consult.moderation.counters import recount_consultation

    config = type("BenchConfig", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": database_url})
    app = create_app(config)
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        now = utcnow()
        stamp = dict(created_at=now, updated_at=now)
        consultation = Consultation(reference="BEX0001", title="Export benchmark", summary="",
                                    opens_at=now - timedelta(days=30), closes_at=now - timedelta(days=1),
                                    last_comment_number=comments, version=1)
        db.session.add(consultation)
        document = Document(consultation=consultation, title="Benchmark draft", position=1)
        chapter = Chapter(document=document, number="1", title="Recommendations", position=1, anchor="chapter-1")
        db.session.add_all([document, chapter])
        db.session.flush()
        section_ids = []
        for index in range(sections):
            section = Section(document_id=document.id, chapter_id=chapter.id, number=f"1.{index + 1}",
                              heading="Heading" if index % 5 == 0 else None,
                              text=f"Section {index + 1} text. " * 20, position=index + 1,
                              anchor=f"section-1-{index + 1}")
            db.session.add(section)
            db.session.flush()
            section_ids.append(section.id)
        themes = [Theme(consultation_id=consultation.id, name=f"Theme {n}", version=1) for n in range(8)]
        db.session.add_all(themes)
        staff = User(email="bench-staff@example.org", name="Bench Staff", password_hash=generate_password_hash("x"),
                     session_token="x", **stamp)
        db.session.add(staff)
        db.session.flush()
        people = (comments + per_person - 1) // per_person
        db.session.execute(insert(User), [
            dict(email=f"bench{n}@example.org", name=f"Person {n}", password_hash="x", session_token=f"t{n}",
                 role="stakeholder", **stamp) for n in range(people)])
        user_ids = [row[0] for row in db.session.execute(
            User.__table__.select().with_only_columns(User.id).where(User.email.like("bench%@example.org"))
            .order_by(User.id))]
        db.session.execute(insert(Participation), [
            dict(user_id=user_id, consultation_id=consultation.id,
                 kind="organisation" if n % 4 == 0 else "individual",
                 individual_type=None if n % 4 == 0 else "patient_or_carer",
                 organisation_name=f"Organisation {n}" if n % 4 == 0 else None,
                 organisation_type="charity_or_patient_group" if n % 4 == 0 else None,
                 has_tobacco_links=False, tobacco_details="", other_interests="", publish_name=n % 2 == 0,
                 submitted_at=now - timedelta(days=2), receipt_reference=f"BEX0001-R{n}", **stamp)
            for n, user_id in enumerate(user_ids)])
        participation_ids = [row[0] for row in db.session.execute(
            Participation.__table__.select().with_only_columns(Participation.id)
            .where(Participation.consultation_id == consultation.id).order_by(Participation.id))]
        batch = 5000
        for start in range(0, comments, batch):
            rows = []
            for number in range(start + 1, min(start + batch, comments) + 1):
                rows.append(dict(
                    participation_id=participation_ids[(number - 1) // per_person], consultation_id=consultation.id,
                    document_id=document.id, chapter_id=chapter.id, section_id=section_ids[number % sections],
                    target="section", quote=None, status="submitted", number=number,
                    body=f"Comment {number}: " + "the evidence on pain relief needs longer follow-up. " * 4,
                    submitted_at=now - timedelta(days=2), moderation_state="accepted", moderation_note="",
                    version=1, **stamp))
            db.session.execute(insert(Comment), rows)
        comment_ids = [row[0] for row in db.session.execute(
            Comment.__table__.select().with_only_columns(Comment.id)
            .where(Comment.consultation_id == consultation.id).order_by(Comment.id))]
        theme_ids = [theme.id for theme in themes]
        for start in range(0, len(comment_ids), batch):
            chunk = comment_ids[start:start + batch]
            db.session.execute(insert(CommentTheme), [
                dict(comment_id=cid, theme_id=theme_ids[cid % len(theme_ids)], source="person",
                     tagged_by_id=staff.id, tagged_at=now) for cid in chunk])
            db.session.execute(insert(CommentResponse), [
                dict(comment_id=cid, state="agreed", text="Thank you for your comment. The committee considered it.",
                     reason="", updated_by_id=staff.id, version=1, **stamp) for cid in chunk if cid % 2 == 0])
        if campaign_every:
            campaign = Campaign(consultation_id=consultation.id, name="Mail campaign")
            db.session.add(campaign)
            db.session.flush()
            members = comment_ids[::campaign_every]
            for start in range(0, len(members), batch):
                db.session.execute(insert(CampaignMember), [
                    dict(comment_id=cid, campaign_id=campaign.id, method="identical", score={}, placed_by_staff=False)
                    for cid in members[start:start + batch]])
        recount_consultation(consultation.id)  # rows went in directly, so no service counted them
        if db.engine.dialect.name == "postgresql":
            # As autovacuum would soon after a real import: pages are planned on the rows now there.
            db.session.execute(db.text("ANALYZE"))
        db.session.commit()
        db.engine.dispose()
    return "BEX0001"


def _measure(database_url: str, kind: str, queue) -> None:
    """Runs in a child process: one export, timed, with its peak memory above idle."""
    from sqlalchemy import select

    from consult import create_app
    from consult.config import TestConfig
    from consult.exports import services
    from consult.exports.rows import comments_select, export_comments, in_document_order, publishable
    from consult.extensions import db
    from consult.models import Comment, Consultation

    config = type("BenchConfig", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": database_url})
    app = create_app(config)
    with app.app_context(), tempfile.TemporaryDirectory() as directory:
        consultation = db.session.scalar(select(Consultation).where(Consultation.reference == "BEX0001"))
        query = in_document_order(publishable(comments_select().where(Comment.consultation_id == consultation.id)))
        first = export_comments(query.limit(1))
        sample = next(first).values(True)
        first.close()
        db.session.rollback()
        _reset_peak()
        idle = _status_mb("VmRSS")
        started = time.perf_counter()
        if kind == "xlsx":
            rows = services.write_comments_workbook(export_comments(query), str(Path(directory) / "c.xlsx"), True)
        elif kind == "csv":
            counted = [0]

            def items():
                for item in export_comments(query):
                    counted[0] += 1
                    yield item

            for _ in services.comments_csv(items(), True):
                pass
            rows = counted[0]
        else:
            rows = services.write_word_table(export_comments(query), str(Path(directory) / "t.docx"), "section",
                                             "BEX0001 Export benchmark: consultation comments and responses")
        seconds = time.perf_counter() - started
        peak = _status_mb("VmHWM") - idle
        baseline = _baseline(kind, rows, Path(directory), sample) if kind in RATIO_TARGETS else None
        with_query = _baseline_with_query(kind, query, Path(directory)) if kind in RATIO_TARGETS else None
    queue.put({"kind": kind, "rows": rows, "seconds": seconds, "rss_above_idle_mb": peak,
               "baseline_seconds": baseline, "query_and_writer_seconds": with_query})


def _baseline_with_query(kind: str, query, directory: Path) -> float:
    """The export's own query read as plain tuples straight into the raw writer, nothing else: the floor
    for reading these rows from this database and writing them (reported beside the ratio, not judged)."""
    import csv
    import io

    import xlsxwriter

    from consult.extensions import db

    started = time.perf_counter()
    result = db.session.connection().execute(query.execution_options(yield_per=1000))
    if kind == "xlsx":
        book = xlsxwriter.Workbook(str(directory / "floor.xlsx"), {"constant_memory": True})
        sheet = book.add_worksheet()
        for index, row in enumerate(result):
            for column, value in enumerate(row):
                if value is not None:
                    sheet.write_string(index, column, str(value))
        book.close()
    else:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for row in result:
            writer.writerow(row)
            buffer.seek(0)
            buffer.truncate()
    db.session.rollback()
    return time.perf_counter() - started


def _baseline(kind: str, rows: int, directory: Path, sample: list) -> float:
    """The same number of the export's own rows written from Python lists: the floor for this machine."""
    import csv
    import io

    import xlsxwriter

    row = ["" if value is None else value.strftime("%Y-%m-%d %H:%M") if hasattr(value, "year") else str(value)
           for value in sample]
    started = time.perf_counter()
    if kind == "xlsx":
        book = xlsxwriter.Workbook(str(directory / "baseline.xlsx"), {"constant_memory": True})
        sheet = book.add_worksheet()
        for index in range(rows + 1):
            for column, value in enumerate(row):
                sheet.write_string(index, column, value)
        book.close()
    else:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for _ in range(rows + 1):
            writer.writerow(row)
            buffer.seek(0)
            buffer.truncate()
    return time.perf_counter() - started


def run(database_url: str, kind: str) -> dict:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=_measure, args=(database_url, kind, queue))
    child.start()
    child.join(timeout=900)
    if child.exitcode != 0:
        raise RuntimeError(f"the {kind} export child failed (exit code {child.exitcode}); see its traceback above")
    return queue.get(timeout=10)


def _database(engine: str, directory: str, postgres_url: str) -> str:
    if engine == "sqlite":
        return f"sqlite:///{directory}/exports.sqlite3"
    import sqlalchemy as sa

    url = sa.engine.make_url(postgres_url)
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql('DROP DATABASE IF EXISTS "bench_exports" WITH (FORCE)')
        connection.exec_driver_sql('CREATE DATABASE "bench_exports"')
    admin.dispose()
    return url.set(database="bench_exports").render_as_string(hide_password=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.exports", description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=100_000)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--kinds", default=",".join(KINDS), help="which exports: xlsx,csv,docx")
    parser.add_argument("--postgres-url", default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL))
    args = parser.parse_args(argv)
    RESULTS.mkdir(exist_ok=True)
    failed = False
    print(f"load average {' '.join(f'{value:.2f}' for value in os.getloadavg())} on {os.cpu_count()} CPUs")
    print(f"{'engine':<11}{'export':<7}{'rows':>8}{'seconds':>9}{'baseline s':>12}{'ratio':>7}{'target':>9}"
          f"{'RSS +MB':>9}  verdict")
    for engine in [name.strip() for name in args.databases.split(",") if name.strip()]:
        with tempfile.TemporaryDirectory() as directory:
            url = _database(engine, directory, args.postgres_url)
            started = time.perf_counter()
            seed(url, args.comments)
            seeded = time.perf_counter() - started
            results = {"engine": engine, "comments": args.comments, "seed_seconds": seeded,
                       "load_average": os.getloadavg(), "exports": []}
            for kind in [name.strip() for name in args.kinds.split(",") if name.strip()]:
                result = run(url, kind)
                if kind in RATIO_TARGETS:
                    result["ratio_to_baseline"] = result["seconds"] / result["baseline_seconds"]
                    ok, target = result["ratio_to_baseline"] <= RATIO_TARGETS[kind], f"{RATIO_TARGETS[kind]}x"
                else:
                    ok, target = result["seconds"] <= SECONDS_TARGETS[kind], f"{SECONDS_TARGETS[kind]:.0f} s"
                ok = ok and result["rss_above_idle_mb"] <= RSS_TARGET_MB
                failed |= not ok
                result["pass"] = ok
                results["exports"].append(result)
                baseline = f"{result['baseline_seconds']:.2f}" if result["baseline_seconds"] else "-"
                ratio = f"{result['ratio_to_baseline']:.2f}" if "ratio_to_baseline" in result else "-"
                floor = result.get("query_and_writer_seconds")
                print(f"{engine:<11}{kind:<7}{result['rows']:>8}{result['seconds']:>9.2f}{baseline:>12}{ratio:>7}"
                      f"{target:>9}{result['rss_above_idle_mb']:>9.1f}  {'PASS' if ok else 'MISS'}"
                      + (f"  (query + raw writer: {floor:.2f} s, ratio {result['seconds'] / floor:.2f})"
                         if floor else ""), flush=True)
            results["load_average_after"] = os.getloadavg()
            (RESULTS / f"exports-{engine}.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    if failed:
        print("Some export targets were missed; see the MISS rows above.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
