"""Account rules: hashed passwords, case-insensitive unique emails, session tokens that rotate."""

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from consult.accounts import services
from consult.accounts.models import Role, User
from consult.extensions import db
from tests.conftest import PASSWORD


def users_with_email(email: str) -> int:
    return db.session.scalar(select(func.count()).select_from(User).where(User.email == email))


@pytest.mark.real_password_hash
def test_password_is_stored_as_a_scrypt_hash(app_context):
    user = services.register_user("hash@example.org", "Hash Person", PASSWORD)
    assert user.password_hash.startswith("scrypt:")
    assert PASSWORD not in user.password_hash


def test_email_is_stored_lower_case_and_name_trimmed(app_context):
    user = services.register_user("  Mixed.Case@Example.ORG ", "  Pat Smith  ", PASSWORD)
    assert (user.email, user.name, user.role) == ("mixed.case@example.org", "Pat Smith", Role.STAKEHOLDER)


def test_same_email_in_another_case_is_refused(app_context):
    services.register_user("a@example.org", "First", PASSWORD)
    with pytest.raises(services.EmailAlreadyRegistered):
        services.register_user("A@Example.org", "Second", PASSWORD)
    assert users_with_email("a@example.org") == 1


def test_database_refuses_a_duplicate_email(make_user):
    make_user(email="dup@example.org")
    with pytest.raises(IntegrityError):
        with db.session.begin_nested():
            db.session.add(User(email="dup@example.org", name="Copy", password_hash="x"))
    assert users_with_email("dup@example.org") == 1


def test_authenticate_accepts_the_email_in_any_case(make_user):
    user = make_user(email="case@example.org")
    assert services.authenticate("  CASE@example.ORG", PASSWORD) is user


@pytest.mark.parametrize("email, password", [
    ("known@example.org", "wrong password here"),
    ("unknown@example.org", PASSWORD),
])
def test_authenticate_refuses_a_wrong_password_or_unknown_email(make_user, email, password):
    make_user(email="known@example.org")
    assert services.authenticate(email, password) is None


def test_change_password_refuses_a_wrong_current_password(make_user):
    user = make_user()
    before = (user.password_hash, user.session_token)
    with pytest.raises(services.WrongPassword):
        services.change_password(user, "not my password", "a brand new password")
    assert (user.password_hash, user.session_token) == before
    assert services.authenticate(user.email, PASSWORD) is user


@pytest.mark.real_password_hash
def test_change_password_replaces_the_password_and_rotates_the_session_token(make_user):
    user = make_user()
    old_login_id = user.get_id()
    services.change_password(user, PASSWORD, "a brand new password")
    assert user.password_hash.startswith("scrypt:")
    assert services.authenticate(user.email, PASSWORD) is None
    assert services.authenticate(user.email, "a brand new password") is user
    assert user.get_id() != old_login_id
    assert services.load_user_from_session(old_login_id) is None
    assert services.load_user_from_session(user.get_id()) is user


@pytest.mark.parametrize("login_id", ["", "abc", "1", "1:", ":token", "999999:token"])
def test_malformed_or_unknown_login_ids_load_no_user(make_user, login_id):
    make_user()
    assert services.load_user_from_session(login_id) is None
