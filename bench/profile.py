"""Where a slow endpoint's time goes: cProfile around the app in-process, driven by Flask's test client.

It runs after the load, against the same seeded database, with the servers
stopped so that the profile has the machine to itself. No network and no
gunicorn: what is left is the app's own work for one request, which is what a
missed target has to be explained by.

Two views of the same profile are kept: self time grouped by package (they add
up to the whole), and the cumulative time of the few functions that stand for a
kind of work (templates, SQL, commit, CSRF...), which overlap where one calls
the other. The full pstats listing goes beside the summary.
"""

import cProfile
import functools
import io
import multiprocessing
import pstats
import re
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from flask import before_render_template, template_rendered
from sqlalchemy import event

from bench.seed import PASSWORD, AppData, app_config

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

# (label, file path suffix, function name): the functions that stand for a kind of work.
MARKERS = [
    ("whole request (Flask wsgi_app)", "flask/app.py", "wsgi_app"),
    ("view function", "flask/app.py", "dispatch_request"),
    ("Jinja rendering (render_template)", "flask/templating.py", "_render"),
    ("ORM queries (Session._execute_internal: SQL + loading objects)", "sqlalchemy/orm/session.py",
     "_execute_internal"),
    ("ORM flush (INSERT/UPDATE)", "sqlalchemy/orm/session.py", "flush"),
    ("Core statement execution (_execute_context)", "sqlalchemy/engine/base.py", "_execute_context"),
    ("DB driver execute (do_execute)", "sqlalchemy/engine/default.py", "do_execute"),
    ("DB driver execute without parameters", "sqlalchemy/engine/default.py", "do_execute_no_params"),
    ("COMMIT (do_commit)", "sqlalchemy/engine/default.py", "do_commit"),
    ("blocked waiting for PostgreSQL's answer (psycopg wait)", "psycopg/connection.py", "wait"),
    ("connection checkout (pool, pre-ping)", "sqlalchemy/pool/base.py", "_checkout"),
    ("loading the signed-in user (Flask-Login)", "flask_login/login_manager.py", "_load_user"),
    ("CSRF check (Flask-WTF protect)", "flask_wtf/csrf.py", "protect"),
    ("form validation (validate_on_submit)", "flask_wtf/form.py", "validate_on_submit"),
    ("session cookie: open", "flask/sessions.py", "open_session"),
    ("session cookie: save", "flask/sessions.py", "save_session"),
    ("url_for", "flask/app.py", "url_for"),
]


@dataclass
class Profile:
    scenario: str
    database: str
    requests: int
    ms_per_request: float
    ms_per_request_profiled: float
    queries_per_request: float
    markers: list[dict]
    self_time_by_package: list[dict]
    statements_in_order: list[str]
    text_path: str
    phases_ms: dict
    write_lock: dict | None = None
    baseline_ms_per_request: float | None = None

    def to_dict(self) -> dict:
        return self.__dict__.copy()


def _signed_in_client(app, email: str):
    client = app.test_client()
    page = client.get("/account/sign-in")
    token = _CSRF.search(page.get_data(as_text=True)).group(1)
    response = client.post("/account/sign-in", data={"csrf_token": token, "email": email, "password": PASSWORD})
    assert response.status_code == 302, f"in-process sign-in answered {response.status_code}"
    return client


def profile_endpoint(scenario: str, database: str, database_url: str, data: AppData, out_dir: Path,
                     requests: int = 200, users: int = 5) -> Profile:
    """Profile `requests` requests of one scenario, after a warm-up, and write the listing."""
    from consult import create_app
    from consult.extensions import db

    app = create_app(app_config(database_url))
    with app.app_context():
        engine = db.engine
    # Requests are sent outside any app context, so that each gets its own as under gunicorn:
    # a shared one would keep the signed-in user and the session's objects from request to request.
    emails = [data.staff_email] if scenario == "triage_queue" else data.emails[:users]
    clients = [_signed_in_client(app, email) for email in emails]
    send = _sender(scenario, data, clients)
    for number in range(20):  # warm-up: compiled templates, statement cache, pool
        send(number)
    with _phase_clock(app, engine, ENDPOINTS[scenario]) as phases:
        started = time.perf_counter()
        for number in range(requests):
            send(number)
        plain_ms = (time.perf_counter() - started) * 1000 / requests
    phases_ms = {name: round(seconds * 1000 / requests, 2) for name, seconds in phases.items()}
    phases_ms["view_without_rendering"] = round(phases_ms["view"] - phases_ms["rendering"], 2)
    phases_ms["outside_the_view"] = round(plain_ms - phases_ms["view"], 2)

    statements = Counter()

    def count(_conn, _cursor, statement, *_args) -> None:
        statements[statement] += 1

    event.listen(engine, "before_cursor_execute", count)
    profiler = cProfile.Profile()
    started = time.perf_counter()
    for number in range(requests):
        send(number, profiler)
    profiled_ms = (time.perf_counter() - started) * 1000 / requests
    event.remove(engine, "before_cursor_execute", count)
    sequence = _statements_of_one_request(engine, send, requests)
    engine.dispose()
    write_lock = None
    if scenario == "comment_save" and engine.dialect.name == "sqlite":
        write_lock = write_lock_contention(database_url, data)

    stats = pstats.Stats(profiler)
    total = _cumulative(stats, "flask/app.py", "wsgi_app") or 1e-9
    markers = []
    for label, path, function in MARKERS:
        seconds = _cumulative(stats, path, function)
        if seconds:
            markers.append({"work": label, "ms_per_request": round(seconds * 1000 / requests, 2),
                            "share": round(seconds / total, 3)})
    by_package = _self_time_by_package(stats, total, requests)
    out_dir.mkdir(exist_ok=True)
    text_path = out_dir / f"profile-{database}-{scenario}.txt"
    _write_listing(text_path, scenario, database, requests, plain_ms, profiled_ms,
                   sum(statements.values()) / requests, markers, by_package, profiler, sequence, write_lock,
                   phases_ms)
    return Profile(scenario, database, requests, round(plain_ms, 2), round(profiled_ms, 2),
                   round(sum(statements.values()) / requests, 1), markers, by_package,
                   [_short(statement) for statement in sequence], text_path.name, phases_ms, write_lock)


ENDPOINTS = {"document_page": "consultations.document", "triage_queue": "moderation.queue",
             "comment_save": "comments.comment_on_section"}


@contextmanager
def _phase_clock(app, engine, endpoint: str):
    """Wall time in the view, in rendering and in executing SQL, timed without a profiler's distortion.

    The view function is wrapped in this app instance only; Flask's render signals
    bracket render_template; the cursor events bracket each statement's execution in
    the driver (fetching rows and building objects is not in it).
    """
    totals = {"view": 0.0, "rendering": 0.0, "sql": 0.0}
    marks = {}
    original = app.view_functions[endpoint]

    @functools.wraps(original)
    def timed_view(*args, **kwargs):
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            totals["view"] += time.perf_counter() - started

    renders: list[float] = []  # a page may render a template inside another: only the outermost is counted

    def render_started(_sender, **_extra) -> None:
        renders.append(time.perf_counter())

    def render_finished(_sender, **_extra) -> None:
        started = renders.pop()
        if not renders:
            totals["rendering"] += time.perf_counter() - started

    def sql_started(*_args) -> None:
        marks["sql"] = time.perf_counter()

    def sql_finished(*_args) -> None:
        totals["sql"] += time.perf_counter() - marks.pop("sql")

    app.view_functions[endpoint] = timed_view
    before_render_template.connect(render_started, app)
    template_rendered.connect(render_finished, app)
    event.listen(engine, "before_cursor_execute", sql_started)
    event.listen(engine, "after_cursor_execute", sql_finished)
    try:
        yield totals
    finally:
        app.view_functions[endpoint] = original
        before_render_template.disconnect(render_started, app)
        template_rendered.disconnect(render_finished, app)
        event.remove(engine, "before_cursor_execute", sql_started)
        event.remove(engine, "after_cursor_execute", sql_finished)


def baseline_ms_per_request(database_url: str, scenario: str, requests: int = 200) -> float:
    """The baseline's matching route, timed the same way in-process: the floor for the same job."""
    from bench.baseline_app import create_app, db

    app = create_app(database_url)
    client = app.test_client()
    page = scenario in ("document_page", "triage_queue")

    def send(number: int) -> None:
        if page:
            response = client.get("/items")
        else:
            response = client.post("/items", data={"title": f"Timed {number}", "body": "In-process insert."})
        assert response.status_code == (200 if page else 302), response.status_code

    for number in range(20):
        send(number)
    started = time.perf_counter()
    for number in range(requests):
        send(number)
    elapsed_ms = (time.perf_counter() - started) * 1000 / requests
    with app.app_context():
        db.engine.dispose()
    return round(elapsed_ms, 2)


def _statements_of_one_request(engine, send, number: int) -> list[str]:
    """The statements of one more request, in the order they ran: what each round trip is for."""
    sequence: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        sequence.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        send(number)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return sequence


def _short(statement: str, width: int = 160) -> str:
    statement = " ".join(statement.split())
    return statement if len(statement) <= width else statement[:width - 1] + "…"


def _sender(scenario: str, data: AppData, clients):
    """A function that sends request number n of the scenario, under the profiler if given one."""
    if scenario in ("document_page", "triage_queue"):
        path = (f"/consultations/{data.reference}/documents/{data.document_id}" if scenario == "document_page"
                else f"/staff/consultations/{data.queue_reference}/comments")

        def send(number: int, profiler=None):
            client = clients[number % len(clients)]
            if profiler:
                profiler.enable()
            response = client.get(path)
            if profiler:
                profiler.disable()
            assert response.status_code == 200, response.status_code
        return send

    if scenario == "comment_save":
        tokens = []
        for client in clients:
            form = client.get(f"/consultations/{data.reference}/sections/{data.section_ids[0]}/comment")
            tokens.append(_CSRF.search(form.get_data(as_text=True)).group(1))

        def send(number: int, profiler=None):
            index = number % len(clients)
            client = clients[index]
            section = data.section_ids[number % len(data.section_ids)]
            if profiler:
                profiler.enable()
            response = client.post(f"/consultations/{data.reference}/sections/{section}/comment",
                                   data={"csrf_token": tokens[index], "body": f"Profiled comment {number}."})
            if profiler:
                profiler.disable()
            assert response.status_code == 302, response.status_code
            with client.session_transaction() as session:  # as under load: no flash piles up
                session.pop("_flashes", None)
        return send

    raise ValueError(f"no profile for scenario {scenario}")


def write_lock_contention(database_url: str, data: AppData, requests: int = 100) -> dict:
    """SQLite only: how long saves wait for the database's single write lock.

    A profile of one request at a time cannot show waiting for a lock. So the
    save is also run in one process alone, then in two processes at once (as two
    gunicorn workers would), timing every BEGIN IMMEDIATE: with WAL, that
    statement returns only when this connection holds the write lock.
    """
    alone = _run_savers(database_url, data, processes=1, requests=requests)
    together = _run_savers(database_url, data, processes=2, requests=requests)
    return {"one_process": alone, "two_processes": together}


def _run_savers(database_url: str, data: AppData, processes: int, requests: int) -> dict:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(processes)
    queue = context.Queue()
    workers = [context.Process(target=_save_timing_the_lock,
                               args=(database_url, data, index, requests, barrier, queue))
               for index in range(processes)]
    for worker in workers:
        worker.start()
    try:
        outcomes = _collect(queue, workers, timeout=180)
    finally:
        for worker in workers:
            worker.join(timeout=30)
            if worker.is_alive():
                worker.kill()
                worker.join()
    errors = [o["error"] for o in outcomes if "error" in o]
    if errors:
        raise RuntimeError(f"lock-wait run failed: {errors}")
    waits = sorted(w for o in outcomes for w in o["waits"])
    durations = sorted(d for o in outcomes for d in o["durations"])
    elapsed = max(o["elapsed"] for o in outcomes)
    return {
        "processes": processes,
        "saves": len(durations),
        "saves_per_s": round(len(durations) / elapsed, 1),
        "save_ms": {"p50": _ms(durations, 50), "p95": _ms(durations, 95), "p99": _ms(durations, 99),
                    "max": round(durations[-1] * 1000, 1)},
        "begin_immediate_per_save": round(len(waits) / len(durations), 2),
        "lock_wait_ms": {"p50": _ms(waits, 50), "p95": _ms(waits, 95), "p99": _ms(waits, 99),
                         "max": round(waits[-1] * 1000, 1)},
        "share_of_save_time_waiting": round(sum(waits) / sum(durations), 3),
    }


def _collect(queue, workers, timeout: float) -> list[dict]:
    """One outcome per worker; a worker that died without reporting fails the run at once."""
    import queue as queues

    outcomes = []
    deadline = time.monotonic() + timeout
    while len(outcomes) < len(workers):
        try:
            outcomes.append(queue.get(timeout=1))
        except queues.Empty:
            if time.monotonic() > deadline:
                raise RuntimeError("lock-wait run did not finish in time") from None
            if all(not worker.is_alive() for worker in workers) and queue.empty():
                codes = [worker.exitcode for worker in workers]
                raise RuntimeError(f"lock-wait workers exited without reporting (exit codes {codes})") from None
    return outcomes


def _ms(sorted_seconds: list[float], percentile: int) -> float:
    index = min(len(sorted_seconds) - 1, round(percentile / 100 * (len(sorted_seconds) - 1)))
    return round(sorted_seconds[index] * 1000, 1)


def _save_timing_the_lock(database_url, data, index, requests, barrier, queue) -> None:
    """One saver process: sign in, wait for the others, save `requests` drafts timing the lock."""
    try:
        from consult import create_app
        from consult.extensions import db

        app = create_app(app_config(database_url))
        with app.app_context():
            engine = db.engine
        waits: list[float] = []
        began = [0.0]

        def before(_conn, _cursor, statement, *_args) -> None:
            if statement == "BEGIN IMMEDIATE":
                began[0] = time.perf_counter()

        def after(_conn, _cursor, statement, *_args) -> None:
            if statement == "BEGIN IMMEDIATE":
                waits.append(time.perf_counter() - began[0])

        client = _signed_in_client(app, data.emails[-1 - index])
        send = _sender("comment_save", data, [client])
        send(0)  # warm-up
        event.listen(engine, "before_cursor_execute", before)
        event.listen(engine, "after_cursor_execute", after)
        barrier.wait(timeout=120)
        durations = []
        started = time.perf_counter()
        for number in range(requests):
            request_started = time.perf_counter()
            send(number)
            durations.append(time.perf_counter() - request_started)
        queue.put({"waits": waits, "durations": durations, "elapsed": time.perf_counter() - started})
        engine.dispose()
    except Exception as error:  # reported by the parent, which would otherwise wait for nothing
        queue.put({"error": repr(error)})


def _cumulative(stats: pstats.Stats, path: str, function: str) -> float:
    """Cumulative seconds of a function, summed over every code object that matches."""
    return sum(ct for (filename, _line, name), (_cc, _nc, _tt, ct, _callers) in stats.stats.items()
               if name == function and filename.replace("\\", "/").endswith(path))


def _package(filename: str) -> str:
    filename = filename.replace("\\", "/")
    if filename == "~":
        return "built-in (C) functions (on SQLite, the sqlite3 driver's work)"
    if "/site-packages/" in filename:
        return filename.split("/site-packages/", 1)[1].split("/", 1)[0].removesuffix(".py")
    if "/templates/" in filename or filename.endswith(".html"):
        return "compiled templates (the project's and GOV.UK's)"
    if "/consult/" in filename:
        return "consult (the app's own code)"
    if "/lib/python" in filename:
        return "python standard library"
    return filename


def _self_time_by_package(stats: pstats.Stats, total: float, requests: int) -> list[dict]:
    buckets: Counter = Counter()
    for (filename, _line, _name), (_cc, _nc, tt, _ct, _callers) in stats.stats.items():
        buckets[_package(filename)] += tt
    return [{"package": name, "ms_per_request": round(seconds * 1000 / requests, 2),
             "share": round(seconds / total, 3)}
            for name, seconds in buckets.most_common(12)]


def _write_listing(path: Path, scenario, database, requests, plain_ms, profiled_ms, queries,
                   markers, by_package, profiler: cProfile.Profile, sequence: list[str],
                   write_lock: dict | None, phases_ms: dict) -> None:
    out = io.StringIO()
    out.write(f"Profile of {scenario} on {database}: {requests} requests in-process (test client)\n")
    out.write(f"{plain_ms:.2f} ms per request without the profiler, {profiled_ms:.2f} ms under cProfile; "
              f"{queries:.1f} SQL statements per request\n")
    out.write(f"Without the profiler: {phases_ms['view_without_rendering']:.2f} ms in the view before rendering "
              f"(loading data through the ORM, the save and its commit), {phases_ms['rendering']:.2f} ms rendering "
              f"templates, {phases_ms['outside_the_view']:.2f} ms outside the view (session cookie, loading the "
              f"signed-in user, access rule, CSRF check, Flask and the test client). Across all of it, "
              f"{phases_ms['sql']:.2f} ms was spent in the database driver executing statements.\n\n")
    out.write("Cumulative time of the functions that stand for a kind of work (they overlap):\n")
    for marker in markers:
        out.write(f"  {marker['ms_per_request']:8.2f} ms  {marker['share']:6.1%}  {marker['work']}\n")
    out.write("\nSelf time by package (adds up to the whole):\n")
    for bucket in by_package:
        out.write(f"  {bucket['ms_per_request']:8.2f} ms  {bucket['share']:6.1%}  {bucket['package']}\n")
    out.write("\nThe SQL statements of one request, in the order they ran:\n")
    for number, statement in enumerate(sequence, start=1):
        out.write(f"  {number:3d}. {_short(statement, 240)}\n")
    if write_lock:
        out.write("\nSQLite's write lock: the same save in one process alone, then in two at once:\n")
        for run in write_lock.values():
            out.write(f"  {run['processes']} process(es): {run['saves_per_s']} saves/s in all; save p50 "
                      f"{run['save_ms']['p50']} ms, p99 {run['save_ms']['p99']} ms; "
                      f"{run['begin_immediate_per_save']} BEGIN IMMEDIATE per save, waiting p50 "
                      f"{run['lock_wait_ms']['p50']} ms, p95 {run['lock_wait_ms']['p95']} ms, p99 "
                      f"{run['lock_wait_ms']['p99']} ms; {run['share_of_save_time_waiting']:.0%} of save time "
                      "spent waiting for the lock\n")
    for order in ("cumulative", "tottime"):
        out.write(f"\n--- top 40 by {order} ---\n")
        listing = io.StringIO()
        pstats.Stats(profiler, stream=listing).sort_stats(order).print_stats(40)
        out.write(_shorten_paths(listing.getvalue()))
    path.write_text(out.getvalue())


def _shorten_paths(text: str) -> str:
    """Keep listings free of machine paths: site-packages/... and the project's own relative paths."""
    text = re.sub(r"\S*/site-packages/", "", text)
    project = str(Path(__file__).resolve().parent.parent) + "/"
    text = text.replace(project, "")
    return re.sub(r"\S*/lib/python3\.\d+/", "", text)
