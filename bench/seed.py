"""Databases and data for the benchmark, made the way real use makes them.

Rows are created through the app's own services (registration, choosing how to
take part, saving drafts), so that they carry every default, constraint and
side effect that real rows carry. Sign-in goes through the real sign-in form of
the running server, so the cookies under load are the ones a browser would hold.
"""

import random
import re
import tempfile
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import requests
import sqlalchemy as sa

# The same User-Agent for sign-in and for load: Flask-Login's session protection
# fingerprints it, and a mismatch would rewrite the session cookie on every request.
USER_AGENT = "consult-bench/1"
PASSWORD = "bench password 2026"
REFERENCE = "BENCH0001"
STAFF_EMAIL = "bench-triage@example.org"
# Submitted comments in the consultation whose triage queue is measured: the queue's cost must not depend
# on it, and ten thousand is enough to show it if it did while keeping seeding to seconds.
QUEUE_COMMENTS = 10_000

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

_WORDS = (
    "procedure evidence committee patients outcomes safety research pain quality life trial "
    "follow-up clinical recommendation adverse events treatment nerve imaging probe local "
    "anaesthetic specialist review register data consent service training audit longer "
    "studies efficacy symptoms relief mobility complications infection injury referral"
).split()


def document_markdown(sections: int = 60, chapters: int = 6, seed: int = 1) -> str:
    """A Markdown draft with `sections` numbered sections spread over `chapters` chapters.

    Generated rather than shipped so that the size is a parameter; seeded so that every
    run renders the same words. Sections run to about 60-90 words, like real guidance.
    """
    rng = random.Random(seed)
    per_chapter = -(-sections // chapters)

    def paragraph() -> str:
        words = [rng.choice(_WORDS) for _ in range(rng.randint(60, 90))]
        return (" ".join(words).capitalize()) + "."

    lines = ["# Benchmark draft guidance", ""]
    made = 0
    for chapter in range(1, chapters + 1):
        if made >= sections:
            break
        lines += [f"## {chapter} Chapter {chapter} of the draft", ""]
        for index in range(1, per_chapter + 1):
            if made >= sections:
                break
            if index % 5 == 1:
                lines += [f"### Topic {chapter}.{index // 5 + 1}", ""]
            lines += [f"{chapter}.{index} {paragraph()}", ""]
            made += 1
    return "\n".join(lines)


@dataclass(frozen=True)
class AppData:
    """What the load generator needs to know about the seeded app data."""

    reference: str
    document_id: int
    section_ids: list[int]
    emails: list[str]
    staff_email: str = ""
    queue_reference: str = ""


@dataclass(frozen=True)
class SignedInUser:
    """One user's signed-in session cookie and the CSRF token the comment form gave it."""

    email: str
    cookie: str
    csrf_token: str


def app_config(database_url: str) -> type:
    """The development settings pointed at the benchmark database, rate limits off as under load."""
    from consult.config import Config

    return type("BenchConfig", (Config,), {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "RATELIMIT_ENABLED": False,
    })


def seed_app(database_url: str, users: int, drafts_per_user: int, sections: int = 60) -> AppData:
    """Migrate an empty database and fill it: one open consultation, users, their drafts.

    Beside it, a closed consultation of QUEUE_COMMENTS submitted comments (the export
    benchmark's bulk seeder) for a staff member whose triage queue is measured.
    """
    from flask_migrate import upgrade

    from bench.exports import seed as seed_submitted
    from consult.accounts.models import Role

    from consult import create_app
    from consult.accounts.services import register_user
    from consult.comments import services as comments
    from consult.comments.models import IndividualType, ParticipantKind
    from consult.consultations.importing import parse_document
    from consult.consultations.services import create_consultation, import_document
    from consult.database import utcnow
    from consult.extensions import db

    queue_reference = seed_submitted(database_url, QUEUE_COMMENTS)
    app = create_app(app_config(database_url))
    with app.app_context():
        upgrade()
        now = utcnow()
        register_user(STAFF_EMAIL, "Bench Triage", PASSWORD, Role.STAFF)
        consultation = create_consultation(
            REFERENCE, "Benchmark consultation", "A generated draft for measuring the service.",
            now - timedelta(days=5), now + timedelta(days=30))
        document = import_document(consultation, parse_document(document_markdown(sections)))
        chapters = list(document.chapters)
        all_sections = [s for c in chapters for s in c.sections]
        assert len(all_sections) == sections, f"expected {sections} sections, parsed {len(all_sections)}"
        choice = comments.ParticipationChoice(
            kind=ParticipantKind.INDIVIDUAL, individual_type=IndividualType.HEALTH_PROFESSIONAL)
        emails = []
        for number in range(users):
            user = register_user(f"bench-user-{number:04d}@example.org", f"Bench User {number}", PASSWORD)
            participation = comments.choose_participation(user, consultation, choice, now)
            for draft in range(drafts_per_user):
                target = _draft_target(comments, document, chapters, all_sections, number, draft)
                comments.save_draft(participation, target, f"Seeded draft {draft + 1} from user {number}.",
                                    None, now)
            emails.append(user.email)
            if number % 20 == 19:
                db.session.commit()
        db.session.commit()
        data = AppData(REFERENCE, document.id, [s.id for s in all_sections], emails, STAFF_EMAIL, queue_reference)
        db.engine.dispose()
    return data


def _draft_target(comments, document, chapters, sections, user_number: int, draft: int):
    """Drafts land on the whole document, a chapter, then sections, so every counter on the page is used."""
    if draft == 0:
        return comments.CommentTargetRef(document=document)
    if draft == 1:
        return comments.CommentTargetRef(document=document, chapter=chapters[user_number % len(chapters)])
    section = sections[(user_number * 7 + draft) % len(sections)]
    return comments.CommentTargetRef(document=document, chapter=section.chapter, section=section)


def count_comments(database_url: str) -> int:
    """Rows in the comments table: proof that each 302 under load really saved a draft."""
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            return connection.execute(sa.text("SELECT count(*) FROM comments")).scalar_one()
    finally:
        engine.dispose()


def sign_in_all(base_url: str, data: AppData, parallel: int = 4) -> list[SignedInUser]:
    """Sign every seeded user in through the real form, then read its CSRF token off the comment form."""
    form_path = f"/consultations/{data.reference}/sections/{data.section_ids[0]}/comment"

    def sign_in(email: str) -> SignedInUser:
        with requests.Session() as http:
            http.headers["User-Agent"] = USER_AGENT
            token = _token(http.get(base_url + "/account/sign-in", timeout=30))
            response = http.post(base_url + "/account/sign-in", timeout=30, allow_redirects=False,
                                 data={"csrf_token": token, "email": email, "password": PASSWORD})
            if response.status_code != 302:
                raise RuntimeError(f"sign-in for {email} answered {response.status_code}")
            form = http.get(base_url + form_path, timeout=30, allow_redirects=False)
            if form.status_code != 200:
                raise RuntimeError(f"comment form for {email} answered {form.status_code}")
            return SignedInUser(email, http.cookies["session"], _token(form))

    with ThreadPoolExecutor(max_workers=parallel) as pool:
        return list(pool.map(sign_in, data.emails))


def sign_in_staff(base_url: str, data: AppData) -> str:
    """The seeded staff member's session cookie, signed in through the real form."""
    with requests.Session() as http:
        http.headers["User-Agent"] = USER_AGENT
        token = _token(http.get(base_url + "/account/sign-in", timeout=30))
        response = http.post(base_url + "/account/sign-in", timeout=30, allow_redirects=False,
                             data={"csrf_token": token, "email": data.staff_email, "password": PASSWORD})
        if response.status_code != 302:
            raise RuntimeError(f"sign-in for {data.staff_email} answered {response.status_code}")
        return http.cookies["session"]


def _token(response: requests.Response) -> str:
    match = _CSRF.search(response.text)
    if match is None:
        raise RuntimeError(f"no CSRF token on {response.url} ({response.status_code})")
    return match.group(1)


def form_body(fields: dict[str, str]) -> str:
    """A urlencoded form body, as a browser sends it."""
    return "&".join(f"{key}={quote(value, safe='')}" for key, value in fields.items())


def seed_baseline(database_url: str, rows: int = 50) -> None:
    """Create the baseline's one table with the rows its page shows."""
    from bench.baseline_app import Item, create_app, db

    app = create_app(database_url)
    with app.app_context():
        db.create_all()
        rng = random.Random(2)
        for number in range(rows):
            words = " ".join(rng.choice(_WORDS) for _ in range(20))
            db.session.add(Item(title=f"Item {number + 1}", body=words.capitalize() + "."))
        db.session.commit()
        db.engine.dispose()


# --- Databases ---------------------------------------------------------------

@contextmanager
def sqlite_databases(names: list[str]):
    """File databases in a throwaway directory (WAL needs a file), removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="consult-bench-") as directory:
        yield {name: f"sqlite:///{Path(directory) / name}.sqlite3" for name in names}


@contextmanager
def postgres_databases(admin_url: str, names: list[str]):
    """Fresh databases created beside the admin one, dropped afterwards even if the run fails."""
    base = sa.engine.make_url(admin_url)
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")

    def drop(name: str) -> None:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    try:
        urls = {}
        for name in names:
            drop(name)
            with admin.connect() as connection:
                connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
            urls[name] = base.set(database=name).render_as_string(hide_password=False)
        yield urls
    finally:
        for name in names:
            drop(name)
        admin.dispose()


def postgres_reachable(admin_url: str) -> str | None:
    """The server's version string, or None when it cannot be reached."""
    engine = sa.create_engine(admin_url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            return connection.exec_driver_sql("SHOW server_version").scalar_one()
    except sa.exc.OperationalError:
        return None
    finally:
        engine.dispose()
