"""Fixtures shared by the whole suite.

The database is migrated once per run and pytest-xdist worker: SQLite in a
temporary file, or on PostgreSQL a database of the worker's own, created
beside the one TEST_DATABASE_URL names and dropped at the end. Two runs, or
two workers, therefore never touch each other's schema. Every test runs
inside a transaction that is rolled back, so tests never see each other's
rows.
"""

import contextvars
import os
import re
import shutil
import tempfile
from datetime import timedelta
from itertools import count
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy.orm import scoped_session, sessionmaker

from consult import create_app
from consult.accounts.models import Role, User
from consult.accounts.services import register_user
from consult.comments import services as comment_services
from consult.comments.models import IndividualType, OrganisationType, ParticipantKind
from consult.config import TestConfig
from consult.consultations.importing import parse_document
from consult.consultations.services import create_consultation, import_document
from consult.database import utcnow
from consult.extensions import db

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
GUIDANCE_SEED = SEEDS / "001_50bef06c426fe4d5.txt"
PASSWORD = "correct horse battery"

_sqlite_dir = tempfile.TemporaryDirectory(prefix="consult-tests-")


def run_label() -> str:
    """Names this process's databases: its xdist worker and its pid, unique on the machine."""
    return f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{os.getpid()}"


def database_url() -> str:
    """The suite's database for this process (see throwaway_database_url)."""
    return throwaway_database_url("suite", _sqlite_dir.name)


def throwaway_database_url(name: str, directory: str) -> str:
    """An empty database of this process's own, for the suite or for one live server.

    On PostgreSQL it sits beside the database TEST_DATABASE_URL names, as
    `<that>_<name>_<worker>_<pid>`; databases left behind by a run that was
    killed (its pid gone) are dropped on the way.
    """
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        path = Path(directory) / f"{name}.sqlite3"
        path.unlink(missing_ok=True)
        return f"sqlite:///{path}"
    url = sa.engine.make_url(base)
    database = f"{url.database}_{name}_{run_label()}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        _drop_abandoned_databases(connection, url.database)
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        connection.exec_driver_sql(f'CREATE DATABASE "{database}"')
    admin.dispose()
    _created_databases.append((base, database))
    return url.set(database=database).render_as_string(hide_password=False)


_created_databases: list[tuple[str, str]] = []
_OWN_DATABASE = re.compile(r"_(?:main|gw\d+)_(\d+)$")


def _drop_abandoned_databases(connection, prefix: str) -> None:
    names = connection.exec_driver_sql(
        "SELECT datname FROM pg_database WHERE datname LIKE %s", (prefix.replace("_", r"\_") + r"\_%",)
    ).scalars()
    for name in names:
        match = _OWN_DATABASE.search(name)
        if match and not Path(f"/proc/{match.group(1)}").exists():
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def drop_created_databases() -> None:
    for base, database in _created_databases:
        admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        admin.dispose()
    _created_databases.clear()


def pytest_sessionfinish(session):
    drop_created_databases()


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Keep `--dist loadgroup` sending each xdist_group to one worker.

    pytest-xdist marks a grouped test by appending `@<group>` to its nodeid,
    which its scheduler reads; it does so by setting `item._nodeid`, which
    pytest 9 no longer reads (a nodeid is now built from `item._id`), so
    every grouped test was scheduled on its own. Where the mark did not take,
    it is applied here the same way, through the structured id.
    """
    if not getattr(config.option, "loadgroup", False):
        return
    from _pytest.nodeid import NodeId

    for item in items:
        names = sorted({str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
                        for mark in item.iter_markers("xdist_group")})
        suffix = f"@{'_'.join(names)}"
        if names and not item.nodeid.endswith(suffix) and hasattr(item, "_id"):
            item._id = NodeId.parse(item.nodeid + suffix)


@pytest.fixture(autouse=True)
def password_hash_method(request, app):
    """The suite hashes with one quick round; tests about the real hash opt back in to scrypt."""
    if request.node.get_closest_marker("real_password_hash") is None:
        yield
        return
    quick = app.config["PASSWORD_HASH_METHOD"]
    app.config["PASSWORD_HASH_METHOD"] = "scrypt"
    try:
        yield
    finally:
        app.config["PASSWORD_HASH_METHOD"] = quick


class IsolatedClient(FlaskClient):
    """Each request runs with its own app context, session and `g`, as in production.

    Without this, a request made while a test holds an app context would
    share the test's session and `g` (Flask reuses a pushed app context),
    and a view's rollback or a cached CSRF token would leak between them.
    """

    def open(self, *args, **kwargs):
        def isolated():
            response = super(IsolatedClient, self).open(*args, **kwargs)
            # A streamed body is read in the context that made it, as a server would.
            if not response.is_sequence:
                response.make_sequence()
            return response

        return contextvars.Context().run(isolated)


def make_test_config(url: str, **overrides) -> type:
    return type("SuiteConfig", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": url, **overrides})


@pytest.fixture(scope="session", autouse=True)
def _downloads_left_behind():
    """The files this test process prepared go with it: the folder is its own (TestConfig names it by pid)."""
    yield
    shutil.rmtree(TestConfig.DOWNLOADS_DIRECTORY, ignore_errors=True)


@pytest.fixture(scope="session")
def app():
    url = database_url()
    application = create_app(make_test_config(url))
    application.test_client_class = IsolatedClient
    with application.app_context():
        upgrade()
    yield application
    with application.app_context():
        db.engine.dispose()


class session_on:  # noqa: N801 - used like a function: `with session_on(connection):`
    """db.session bound to `connection`: commits release a savepoint, never the connection's transaction."""

    def __init__(self, connection):
        self.connection = connection

    def __enter__(self):
        self.original = db.session
        db.session = scoped_session(
            sessionmaker(bind=self.connection, join_transaction_mode="create_savepoint"),
            scopefunc=self.original.registry.scopefunc,
        )
        return db.session

    def __exit__(self, *exc_info):
        db.session.remove()
        db.session = self.original


@pytest.fixture(scope="module")
def module_database(app):
    """One connection whose outer transaction lasts the whole module, for data built once per module.

    A module opts in by using this fixture (for instance with
    `pytestmark = pytest.mark.usefixtures("module_database")`) and builds its
    data in module-scoped fixtures inside `session_on(module_database)`.
    Each of its tests then runs in a SAVEPOINT of this transaction that is
    rolled back afterwards (see db_session), so every test sees exactly the
    module's data and never another test's writes; the data itself is rolled
    back when the module ends.
    """
    with app.app_context():
        engine = db.engine
    connection = engine.connect()
    outer = connection.begin()
    try:
        yield connection
    finally:
        outer.rollback()
        connection.close()


@pytest.fixture(autouse=True)
def db_session(request, app):
    """Each test's writes go to a transaction that is rolled back afterwards.

    Views commit as usual; with create_savepoint those commits only release
    a savepoint inside the test's transaction. In a module that uses
    module_database, the test's transaction is a SAVEPOINT on the module's
    connection, so the module's data is there and the test's writes are not
    kept.
    """
    if "live_server" in request.fixturenames or request.node.get_closest_marker("own_database"):
        yield None  # a live server commits for real, elsewhere
        return
    shared = "module_database" in request.fixturenames
    with app.app_context():
        if shared:
            connection = request.getfixturevalue("module_database")
            transaction = connection.begin_nested()
        else:
            connection = db.engine.connect()
            transaction = connection.begin()
        try:
            with session_on(connection) as session:
                yield session
        finally:
            if transaction.is_active:
                transaction.rollback()
            if not shared:
                connection.close()


@pytest.fixture
def app_context(app):
    with app.app_context():
        yield


@pytest.fixture
def client(app):
    return app.test_client()


_unique = count(1)


# Factories commit (releasing their savepoint), so their rows are settled
# before any request runs; the outer transaction still rolls everything back.


def new_user(name: str = "Alex Stakeholder", email: str | None = None, role: Role = Role.STAKEHOLDER,
             password: str = PASSWORD) -> User:
    user = register_user(email or f"user{next(_unique)}@example.org", name, password, role)
    db.session.commit()
    return user


@pytest.fixture
def make_user(app_context):
    return new_user


SAMPLE_DRAFT = """# Sample draft guidance

## 1 Recommendations

### What we recommend

1.1 The procedure should only be used in research.

1.2 Further studies should report quality of life.

## 2 The procedure

2.1 A thin probe is passed through the skin and cooled with gas.

2.2 The procedure can be repeated if pain returns.
"""


def new_consultation(reference: str | None = None, state: str = "open", text: str | None = None,
                     title: str = "Sample consultation"):
    """A consultation with one imported document; `state` sets its dates around now."""
    now = utcnow()
    opens_at, closes_at = {
        "open": (now - timedelta(days=5), now + timedelta(days=20)),
        "closed": (now - timedelta(days=30), now - timedelta(days=1)),
        "upcoming": (now + timedelta(days=3), now + timedelta(days=30)),
    }[state]
    consultation = create_consultation(reference or f"TST{next(_unique):04d}", title,
                                       "A summary of the consultation.", opens_at, closes_at)
    import_document(consultation, parse_document(text if text is not None else SAMPLE_DRAFT))
    db.session.commit()
    return consultation


@pytest.fixture
def make_consultation(app_context):
    """new_consultation: a consultation with one imported document; `state` sets its dates around now."""
    return new_consultation


def sections_of(consultation) -> dict:
    return {s.number: s for d in consultation.documents for c in d.chapters for s in c.sections}


def new_participation(user, consultation, kind: str = "individual", **answers):
    if kind == "organisation":
        choice = comment_services.ParticipationChoice(
            kind=ParticipantKind.ORGANISATION,
            organisation_name=answers.get("organisation_name", "Foot Health Charity"),
            organisation_type=answers.get("organisation_type", OrganisationType.CHARITY_OR_PATIENT_GROUP),
            has_tobacco_links=answers.get("has_tobacco_links", False),
            tobacco_details=answers.get("tobacco_details", ""),
        )
    else:
        choice = comment_services.ParticipationChoice(
            kind=ParticipantKind.INDIVIDUAL,
            individual_type=answers.get("individual_type", IndividualType.PATIENT_OR_CARER),
        )
    participation = comment_services.choose_participation(user, consultation, choice, utcnow())
    db.session.commit()
    return participation


@pytest.fixture
def make_participation(app_context):
    return new_participation


@pytest.fixture
def login(client):
    """Sign a user in on the test client, as the sign-in page would."""

    def sign_in(user: User):
        with client.session_transaction() as session:
            session["_user_id"] = user.get_id()
            session["_fresh"] = True
        return user

    return sign_in


@pytest.fixture
def login_as(make_user, login):
    def sign_in_as(role: Role = Role.STAKEHOLDER, **kwargs) -> User:
        return login(make_user(role=role, **kwargs))

    return sign_in_as


_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token_from(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


@pytest.fixture
def csrf(client):
    """A valid CSRF token for the client's current session."""

    def token(path: str = "/account/register") -> str:
        response = client.get(path)
        if response.status_code == 302:  # signed in: any page with the sign-out form will do
            response = client.get("/consultations/")
        return csrf_token_from(response.get_data(as_text=True))

    return token


@pytest.fixture
def post_form(client, csrf):
    """POST a form with a valid CSRF token, as the browser would after loading the page."""

    def post(url: str, data: dict | None = None, **kwargs):
        payload = {"csrf_token": csrf(), **(data or {})}
        return client.post(url, data=payload, **kwargs)

    return post


@pytest.fixture(scope="session")
def live_server():
    from tests.liveserver import running_server

    with running_server() as server:
        yield server
