"""Account rules: hashed passwords, case-insensitive unique emails, accounts made for someone,
session tokens that rotate."""

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash

from consult.accounts import services
from consult.accounts.models import Role, User
from consult.accounts.services import MIN_PASSWORD_LENGTH, EmailAlreadyRegistered
from consult.audit.models import AuditEvent
from consult.errors import DomainError
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


def test_a_name_is_stored_without_invisible_format_characters(app_context):
    user = services.register_user("zw@example.org", "\u200bPat\u200d Smith\ufeff", PASSWORD)
    assert user.name == "Pat Smith"


def test_a_name_that_changes_the_direction_of_text_is_refused(app_context):
    with pytest.raises(services.InvalidName, match="Full name must not include hidden characters"):
        services.register_user("rlo@example.org", "Pat \u202ehtimS", PASSWORD)
    assert users_with_email("rlo@example.org") == 0


@pytest.mark.parametrize("name", ["", "   ", "\u200b", "\u2060 \ufeff"])
def test_a_name_with_nothing_that_shows_is_refused(app_context, name):
    with pytest.raises(services.InvalidName, match="Enter your full name"):
        services.register_user("blank@example.org", name, PASSWORD)
    assert users_with_email("blank@example.org") == 0


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


# --- Accounts made for someone (the command line, an admin) ----------------------

def events_for(user: User) -> list[AuditEvent]:
    return list(db.session.scalars(
        select(AuditEvent).where(AuditEvent.object_type == "users", AuditEvent.object_id == str(user.id))
        .order_by(AuditEvent.id)))


def audit_count() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent))


def test_an_account_made_for_someone_is_recorded_as_done_by_the_system(make_user):
    user = services.create_account("First.Admin@Example.org", "First Admin", "a" * MIN_PASSWORD_LENGTH, Role.ADMIN)
    db.session.commit()

    assert (user.email, user.role) == ("first.admin@example.org", Role.ADMIN)
    assert check_password_hash(user.password_hash, "a" * MIN_PASSWORD_LENGTH)
    [event] = events_for(user)
    assert (event.actor_id, event.action, event.before) == (None, "user.create", None)
    assert event.after == {"role": "admin"}


def test_an_account_made_by_an_admin_names_the_admin(make_user):
    admin = make_user(role=Role.ADMIN)
    user = services.create_account("new@example.org", "New", "b" * 12, Role.STAFF, actor=admin)
    assert events_for(user)[0].actor_id == admin.id


def test_a_short_password_creates_nothing(make_user):
    before = audit_count()
    with pytest.raises(services.PasswordTooShort):
        services.create_account("short@example.org", "Short", "a" * (MIN_PASSWORD_LENGTH - 1), Role.ADMIN)
    assert db.session.scalar(select(User).where(User.email == "short@example.org")) is None
    assert audit_count() == before


def test_an_existing_email_creates_nothing_whatever_its_case(make_user):
    make_user(email="taken@example.org")
    before = audit_count()
    with pytest.raises(EmailAlreadyRegistered):
        services.create_account("TAKEN@example.org", "Other", "c" * 12, Role.ADMIN)
    assert audit_count() == before


@pytest.mark.parametrize("error, field, status", [
    (services.EmailAlreadyRegistered, "email", 409),
    (services.PasswordTooShort, "password", 400),
    (services.WrongPassword, "current_password", 400),
])
def test_account_errors_are_domain_errors_that_name_their_field(error, field, status):
    raised = error()
    assert isinstance(raised, DomainError)
    assert (raised.field, raised.status) == (field, status)
    assert str(raised)


def test_ending_all_sessions_invalidates_every_login_id_issued_before(make_user):
    user = make_user()
    old_login_id = user.get_id()
    services.end_all_sessions(user)
    assert services.load_user_from_session(old_login_id) is None
    assert services.load_user_from_session(user.get_id()) is user
