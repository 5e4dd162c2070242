"""`flask users create EMAIL --role ROLE`, as an operator bootstraps the first admin."""

import pytest
from sqlalchemy import func, select

from consult.accounts.cli import PASSWORD_VARIABLE
from consult.accounts.models import Role, User
from consult.accounts.services import MIN_PASSWORD_LENGTH, authenticate
from consult.audit.models import AuditEvent
from consult.extensions import db

PASSWORD = "a long enough password"


@pytest.fixture(autouse=True)
def no_password_in_environment(monkeypatch):
    monkeypatch.delenv(PASSWORD_VARIABLE, raising=False)


@pytest.fixture
def users(app, app_context):
    def run(*args: str, input: str | None = None):
        return app.test_cli_runner().invoke(args=["users", *args], input=input)

    return run


def find(email: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.email == email))


def audit_count() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent))


def test_the_first_admin_is_created_with_a_hidden_confirmed_password(users):
    result = users("create", "First.Admin@Example.org", "--role", "admin", "--name", "First Admin",
                   input=f"{PASSWORD}\n{PASSWORD}\n")

    assert result.exit_code == 0, result.output
    assert "Created the admin account first.admin@example.org (First Admin)." in result.output
    assert result.output.count("Password") == 1 and "Repeat for confirmation" in result.output
    assert PASSWORD not in result.output  # hidden as it is typed
    user = find("first.admin@example.org")
    assert (user.name, user.role) == ("First Admin", Role.ADMIN)
    assert authenticate("first.admin@example.org", PASSWORD) is user


def test_creating_an_account_is_audited_as_a_system_action(users):
    users("create", "boot@example.org", "--role", "admin", input=f"{PASSWORD}\n{PASSWORD}\n")
    user = find("boot@example.org")
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.object_type == "users",
                                                          AuditEvent.object_id == str(user.id)))
    assert (event.actor_id, event.action) == (None, "user.create")
    assert event.after == {"role": "admin"}
    assert PASSWORD not in str(event.after)


def test_the_password_can_come_from_the_environment(users, monkeypatch):
    monkeypatch.setenv(PASSWORD_VARIABLE, PASSWORD)
    result = users("create", "ops@example.org", "--role", "staff", "--name", "Ops Person", input="")

    assert result.exit_code == 0, result.output
    assert "Password" not in result.output  # no prompt
    assert authenticate("ops@example.org", PASSWORD).role is Role.STAFF


@pytest.mark.parametrize("role", ["stakeholder", "staff", "committee", "admin", "ADMIN"])
def test_every_role_can_be_given(users, role):
    result = users("create", f"{role}@example.org", "--role", role, input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert find(f"{role.lower()}@example.org").role is Role(role.lower())


def test_the_password_is_never_an_option(users):
    result = users("create", "arg@example.org", "--role", "admin", "--password", PASSWORD)
    assert result.exit_code == 2
    assert "No such option '--password'" in result.output
    assert find("arg@example.org") is None


def test_the_help_says_where_the_password_comes_from(users):
    result = users("create", "--help")
    assert result.exit_code == 0
    assert PASSWORD_VARIABLE in result.output
    assert "--password" not in result.output


def test_an_existing_email_is_refused_whatever_its_case(users, make_user):
    make_user(email="taken@example.org", role=Role.STAKEHOLDER)
    before = audit_count()
    result = users("create", "TAKEN@example.org", "--role", "admin", input=f"{PASSWORD}\n{PASSWORD}\n")

    assert result.exit_code != 0
    assert "An account with the email address taken@example.org already exists" in result.output
    assert find("taken@example.org").role is Role.STAKEHOLDER  # not a back door to a role change
    assert audit_count() == before


def test_a_short_password_is_refused(users):
    short = "x" * (MIN_PASSWORD_LENGTH - 1)
    result = users("create", "short@example.org", "--role", "admin", input=f"{short}\n{short}\n")
    assert result.exit_code != 0
    assert f"at least {MIN_PASSWORD_LENGTH} characters" in result.output
    assert find("short@example.org") is None


def test_a_short_password_from_the_environment_is_refused(users, monkeypatch):
    monkeypatch.setenv(PASSWORD_VARIABLE, "short")
    result = users("create", "short@example.org", "--role", "admin")
    assert result.exit_code != 0
    assert f"at least {MIN_PASSWORD_LENGTH} characters" in result.output
    assert find("short@example.org") is None


def test_passwords_that_do_not_match_create_nothing(users):
    result = users("create", "typo@example.org", "--role", "admin", input=f"{PASSWORD}\n{PASSWORD}x\n")
    assert result.exit_code != 0
    assert "do not match" in result.output
    assert find("typo@example.org") is None


def test_an_unknown_role_is_refused(users):
    result = users("create", "wizard@example.org", "--role", "wizard", input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 2
    assert "Invalid value for '--role'" in result.output and "'wizard' is not one of" in result.output
    assert find("wizard@example.org") is None


def test_a_role_must_be_named(users):
    result = users("create", "norole@example.org", input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 2
    assert "Missing option '--role'" in result.output
    assert find("norole@example.org") is None


@pytest.mark.parametrize("email", ["not-an-email", "two@@example.org", "a" * 250 + "@example.org"])
def test_something_that_is_not_an_email_address_is_refused(users, email):
    result = users("create", email, "--role", "admin", input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 2
    assert "Invalid value for EMAIL" in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


@pytest.mark.parametrize("name", ["   ", "x" * 121, "Ada\x00Admin", "\u200b", "Ada \u202enimdA"])
def test_an_unusable_name_is_refused(users, name):
    result = users("create", "named@example.org", "--role", "admin", "--name", name,
                   input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 2
    assert "Invalid value for --name" in result.output
    assert find("named@example.org") is None


@pytest.mark.parametrize("email", ["nul\x00@example.org", "tab\t@example.org"])
def test_an_email_with_control_characters_is_refused(users, email):
    result = users("create", email, "--role", "admin", input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 2
    assert "Invalid value for EMAIL" in result.output


def test_roles_are_not_changed_from_the_command_line(users):
    result = users("set-role", "someone@example.org", "admin")
    assert result.exit_code == 2
    assert "No such command 'set-role'" in result.output
