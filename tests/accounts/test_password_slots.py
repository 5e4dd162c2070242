"""A sign-in storm takes at most PASSWORD_CHECKS_AT_ONCE workers of an instance; the rest stay free."""

import time
import uuid

import pytest

from consult.accounts import password_slots
from consult.accounts.password_slots import SLOT_SECONDS, TooManyPasswordChecks, password_check_slot
from consult.jobs import redis_connection
from tests.accounts.test_throttling import attempt, stored_attempts
from tests.conftest import PASSWORD
from tests.mail.helpers import redis_or_skip


@pytest.fixture
def one_slot(app, monkeypatch):
    """One password check at a time, in slots no other test process shares."""
    redis_or_skip(app)
    monkeypatch.setitem(app.config, "PASSWORD_CHECKS_AT_ONCE", 1)
    monkeypatch.setitem(app.config, "RATELIMIT_KEY_PREFIX", f"consult-test-{uuid.uuid4().hex[:8]}")
    yield
    with app.app_context():
        redis_connection().delete(password_slots._instance_key())


def test_a_sign_in_while_every_slot_is_busy_is_asked_to_wait_and_costs_nothing(app, client, make_user, one_slot):
    user = make_user()
    with app.app_context(), password_check_slot():  # another worker is checking a password
        busy = attempt(client, user.email, PASSWORD)
        with pytest.raises(TooManyPasswordChecks):
            with password_check_slot():
                pass

    assert busy.status_code == 503
    page = busy.get_data(as_text=True)
    assert "A lot of people are signing in right now" in page
    assert f'value="{user.email}"' in page  # what they typed is kept, but the password
    assert stored_attempts() == 0  # nothing was counted against the account
    assert client.get("/account/your-data").status_code == 302  # not signed in

    assert attempt(client, user.email, PASSWORD).status_code == 302  # the slot was given back


def test_a_slot_left_by_a_request_that_died_is_reclaimed(app, client, make_user, one_slot):
    user = make_user()
    with app.app_context():
        redis_connection().zadd(password_slots._instance_key(), {"died": time.time() - SLOT_SECONDS - 1})
    assert attempt(client, user.email, PASSWORD).status_code == 302


def test_without_redis_sign_in_goes_ahead_unlimited(app, client, make_user, one_slot, monkeypatch):
    user = make_user()
    with monkeypatch.context() as unreachable:
        unreachable.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:9/0")
        assert attempt(client, user.email, PASSWORD).status_code == 302


def test_wrong_passwords_still_give_their_slot_back(app, client, make_user, one_slot):
    user = make_user()
    for _ in range(3):
        assert attempt(client, user.email, "not the password").status_code == 200
    with app.app_context():
        assert redis_connection().zcard(password_slots._instance_key()) == 0
