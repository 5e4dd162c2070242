"""Fixtures shared by the whole suite.

The database is migrated once per run (SQLite in a temporary file, or the
PostgreSQL named by TEST_DATABASE_URL) and every test runs inside a
transaction that is rolled back, so tests never see each other's rows.
"""

import contextvars
import os
import re
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
from consult.consultations.importer import parse_document
from consult.consultations.services import create_consultation, import_document
from consult.database import utcnow
from consult.extensions import db

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
GUIDANCE_SEED = SEEDS / "001_50bef06c426fe4d5.txt"
PASSWORD = "correct horse battery"

_sqlite_dir = tempfile.TemporaryDirectory(prefix="consult-tests-")


def database_url() -> str:
    return os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{_sqlite_dir.name}/suite.sqlite3"


def reset_database(url: str) -> None:
    """Leave the database empty so that the migrations build it from nothing."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
        return
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP SCHEMA public CASCADE")
        connection.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()


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


@pytest.fixture(scope="session")
def app():
    url = database_url()
    reset_database(url)
    application = create_app(make_test_config(url))
    application.test_client_class = IsolatedClient
    with application.app_context():
        upgrade()
    yield application
    with application.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def db_session(request, app):
    """Each test's writes go to a transaction that is rolled back afterwards.

    Views commit as usual; with create_savepoint those commits only release
    a savepoint inside the outer transaction.
    """
    if "live_server" in request.fixturenames:  # a live server commits for real, elsewhere
        yield None
        return
    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        original = db.session
        db.session = scoped_session(
            sessionmaker(bind=connection, join_transaction_mode="create_savepoint"),
            scopefunc=original.registry.scopefunc,
        )
        try:
            yield db.session
        finally:
            db.session.remove()
            db.session = original
            outer.rollback()
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


@pytest.fixture
def make_user(app_context):
    def make(name: str = "Alex Stakeholder", email: str | None = None, role: Role = Role.STAKEHOLDER,
             password: str = PASSWORD) -> User:
        user = register_user(email or f"user{next(_unique)}@example.org", name, password, role)
        db.session.commit()
        return user

    return make


SAMPLE_DRAFT = """# Sample draft guidance

## 1 Recommendations

### What we recommend

1.1 The procedure should only be used in research.

1.2 Further studies should report quality of life.

## 2 The procedure

2.1 A thin probe is passed through the skin and cooled with gas.

2.2 The procedure can be repeated if pain returns.
"""


@pytest.fixture
def make_consultation(app_context):
    """A consultation with one imported document; `state` sets its dates around now."""

    def make(reference: str | None = None, state: str = "open", text: str | None = None,
             title: str = "Sample consultation"):
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

    return make


def sections_of(consultation) -> dict:
    return {s.number: s for d in consultation.documents for c in d.chapters for s in c.sections}


@pytest.fixture
def make_participation(app_context):
    def make(user, consultation, kind: str = "individual", **answers):
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

    return make


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
