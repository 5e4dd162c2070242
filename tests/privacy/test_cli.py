"""`flask privacy anonymise-inactive`: the retention job, as an operator runs it."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from consult.accounts.models import User
from consult.audit.models import AuditEvent
from consult.database import utcnow
from consult.extensions import db


@pytest.fixture
def run(app, app_context):
    def invoke(*args: str):
        return app.test_cli_runner().invoke(args=["privacy", "anonymise-inactive", *args])

    return invoke


@pytest.fixture
def accounts(make_user):
    """One account unused for four years, one for two, one signed in yesterday."""
    now = utcnow()
    made = {}
    for label, idle in [("four years", 4 * 366), ("two years", 2 * 366), ("yesterday", 1)]:
        user = make_user(name=label)
        user.created_at = user.last_signed_in_at = now - timedelta(days=idle)
        made[label] = user
    db.session.commit()
    return made


def anonymised(user) -> bool:
    db.session.expire_all()
    return db.session.get(User, user.id).anonymised_at is not None


def test_a_dry_run_counts_and_changes_nothing(run, accounts):
    result = run("--dry-run")
    assert result.exit_code == 0, result.output
    assert "1 stakeholder account(s) have had no activity since" in result.output
    assert "Dry run: nothing was changed." in result.output
    assert not any(anonymised(user) for user in accounts.values())
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_the_job_anonymises_accounts_past_the_configured_retention(run, accounts):
    result = run()
    assert result.exit_code == 0, result.output
    assert "Anonymised 1 account(s)." in result.output
    assert anonymised(accounts["four years"])
    assert not anonymised(accounts["two years"]) and not anonymised(accounts["yesterday"])
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.anonymise"))
    assert event.actor_id is None and event.after["reason"] == "no activity for 3 years"
    assert "Anonymised 0 account(s)." in run().output  # a second run finds nothing left to do


def test_years_can_be_given(run, accounts):
    result = run("--years", "1")
    assert "Anonymised 2 account(s)." in result.output
    assert anonymised(accounts["two years"]) and not anonymised(accounts["yesterday"])
    assert run("--years", "0").exit_code != 0
