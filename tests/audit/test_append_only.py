"""The audit trail is append-only: the ORM, the database and the code all refuse to change it."""

import inspect
import re
import sys
from pathlib import Path

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError

from consult.accounts.models import Role
from consult.audit.models import AuditEvent, AuditIsAppendOnly
from consult.audit.services import record
from consult.extensions import db

CONSULT = Path(__file__).resolve().parents[2] / "consult"

# Code that would change or remove audit rows, however it is spelled.
FORBIDDEN = [
    re.compile(r"\bdelete\(\s*AuditEvent\b"),
    re.compile(r"\bupdate\(\s*AuditEvent\b"),
    re.compile(r"\bAuditEvent\s*\)\s*\.\s*(delete|update)\s*\("),
    re.compile(r"\b(DELETE\s+FROM|UPDATE)\s+[\"']?audit_events\b", re.IGNORECASE),
    re.compile(r"\bTRUNCATE\b[^\n]*\baudit_events\b", re.IGNORECASE),
]


@pytest.fixture
def event(app_context, make_user):
    actor = make_user(role=Role.ADMIN)
    made = record(actor, "user.change_role", actor, {"role": "staff"}, {"role": "admin"})
    db.session.commit()
    return made


def stored(event_id: int) -> tuple | None:
    """The row as the database holds it, bypassing the session's copy."""
    row = db.session.execute(
        text("SELECT action, object_id FROM audit_events WHERE id = :id"), {"id": event_id}).first()
    return tuple(row) if row else None


# --- (a) the ORM -----------------------------------------------------------------

def test_the_orm_refuses_to_update_an_event(event):
    event.action = "tampered"
    with pytest.raises(AuditIsAppendOnly):
        db.session.flush()
    db.session.rollback()
    assert stored(event.id) == ("user.change_role", str(event.actor_id))


def test_the_orm_refuses_to_delete_an_event(event):
    db.session.delete(event)
    with pytest.raises(AuditIsAppendOnly):
        db.session.flush()
    db.session.rollback()
    assert stored(event.id) is not None


# --- (b) the database, whatever the client ---------------------------------------

RAW_CHANGES = [
    "UPDATE audit_events SET action = 'tampered' WHERE id = :id",
    "UPDATE audit_events SET after = NULL",
    "DELETE FROM audit_events WHERE id = :id",
    "DELETE FROM audit_events",
]


@pytest.mark.parametrize("statement", RAW_CHANGES)
def test_the_database_refuses_raw_sql_that_changes_the_trail(event, statement):
    # A savepoint, so that the refused statement does not spoil the test's transaction.
    with pytest.raises(DBAPIError, match="append-only"):
        with db.session.begin_nested():
            db.session.execute(text(statement), {"id": event.id})
    assert stored(event.id) == ("user.change_role", str(event.actor_id))


@pytest.mark.parametrize("statement", [
    lambda event_id: update(AuditEvent).where(AuditEvent.id == event_id).values(action="tampered")
    .execution_options(synchronize_session=False),
    lambda event_id: delete(AuditEvent).where(AuditEvent.id == event_id)
    .execution_options(synchronize_session=False),
], ids=["bulk update", "bulk delete"])
def test_the_database_refuses_bulk_statements_that_skip_the_orm_guard(event, statement):
    with pytest.raises(DBAPIError, match="append-only"):
        with db.session.begin_nested():
            db.session.execute(statement(event.id))
    assert stored(event.id) == ("user.change_role", str(event.actor_id))


@pytest.mark.parametrize("statement", ["TRUNCATE audit_events", "TRUNCATE TABLE audit_events CASCADE"])
def test_postgresql_refuses_to_truncate_the_trail(event, statement):
    if db.session.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite has no TRUNCATE.")
    with pytest.raises(DBAPIError, match="append-only"):
        with db.session.begin_nested():
            db.session.execute(text(statement))
    assert stored(event.id) == ("user.change_role", str(event.actor_id))


def test_appending_still_works_after_a_refusal(event):
    with pytest.raises(DBAPIError):
        with db.session.begin_nested():
            db.session.execute(text("DELETE FROM audit_events"))
    record(None, "user.create", "after-refusal")
    db.session.commit()
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.object_id == "after-refusal")) == "user.create"


# --- (c) no route, service or command changes the trail ---------------------------

def test_no_admin_route_accepts_delete_put_or_patch(app):
    admin_rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("admin.")]
    assert admin_rules, "no admin routes found"
    for rule in admin_rules:
        assert not rule.methods & {"DELETE", "PUT", "PATCH"}, rule.rule


def _forbidden_calls(source: str) -> list[str]:
    return [match.group(0) for pattern in FORBIDDEN for match in pattern.finditer(source)]


def test_the_check_recognises_code_that_would_change_the_trail():
    """The static check below is only worth something if it catches each spelling."""
    for sample in ["db.session.execute(delete(AuditEvent).where(AuditEvent.id == 1))",
                   "db.session.execute(update(AuditEvent).values(action='x'))",
                   "db.session.query(AuditEvent).delete()",
                   "db.session.query(AuditEvent ).update({'action': 'x'})",
                   'connection.exec_driver_sql("DELETE FROM audit_events")',
                   "text('update audit_events set action = 1')",
                   'op.execute("TRUNCATE TABLE audit_events")']:
        assert _forbidden_calls(sample), sample
    assert _forbidden_calls("select(AuditEvent).where(AuditEvent.action == 'delete')") == []


def test_no_view_behind_a_post_route_deletes_or_updates_audit_events(app):
    post_rules = [rule for rule in app.url_map.iter_rules() if "POST" in rule.methods]
    assert post_rules
    for rule in post_rules:
        view = app.view_functions[rule.endpoint]
        module = sys.modules[view.__module__]
        assert _forbidden_calls(inspect.getsource(module)) == [], (rule.rule, view.__module__)


def test_no_code_in_the_application_deletes_or_updates_audit_events():
    files = sorted(CONSULT.rglob("*.py"))
    assert len(files) > 20, "the application source was not found"
    found = {str(path.relative_to(CONSULT)): calls for path in files
             if (calls := _forbidden_calls(path.read_text(encoding="utf-8")))}
    assert found == {}
