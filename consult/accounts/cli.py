"""`flask users create EMAIL --role admin`: make an account from the command line, such as the first admin.

The password is typed at a hidden prompt (twice) or read from the
CONSULT_USER_PASSWORD environment variable. It is never an argument, so it
never lands in shell history or the process list. Roles of existing accounts
are changed on the admin page, where each change is confirmed and audited.
"""

import os

import click
from email_validator import EmailNotValidError, validate_email
from flask.cli import AppGroup

from consult.accounts.models import Role
from consult.accounts import services
from consult.accounts.services import MIN_PASSWORD_LENGTH, EmailAlreadyRegistered, find_user_by_email, normalise_email
from consult.extensions import db
from consult.text import has_direction_controls, tidy_name

PASSWORD_VARIABLE = "CONSULT_USER_PASSWORD"

users_cli = AppGroup("users", help="Create accounts from the command line (roles change on the admin page).")


def _checked_email(value: str) -> str:
    email = normalise_email(value)
    if len(email) > 254:
        raise click.BadParameter("must be 254 characters or fewer.", param_hint="EMAIL")
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError as error:
        raise click.BadParameter(f"{value!r} is not an email address ({error}).", param_hint="EMAIL") from None
    return email


def _read_password() -> str:
    from_environment = os.environ.get(PASSWORD_VARIABLE)
    if from_environment:
        return from_environment
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@users_cli.command("create")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice([role.value for role in Role], case_sensitive=False),
              help="The account's role.")
@click.option("--name", default=None, help="Full name; defaults to the part of the email before the @.")
def create_command(email: str, role: str, name: str | None) -> None:
    """Create an account for EMAIL with the given role.

    The password is asked for at a hidden prompt, or read from the
    CONSULT_USER_PASSWORD environment variable; it is never an option.
    """
    email = _checked_email(email)
    name = tidy_name(name or email.partition("@")[0])
    if (not name or len(name) > 120 or any(ord(character) < 32 for character in name)
            or has_direction_controls(name)):
        raise click.BadParameter("must be 1 to 120 characters, with no control characters or characters that "
                                 "change the direction of text.", param_hint="--name")
    if find_user_by_email(email) is not None:
        raise click.ClickException(
            f"An account with the email address {email} already exists. Change its role on the admin page.")
    password = _read_password()
    try:
        user = services.create_account(email, name, password, Role(role.lower()))
    except services.PasswordTooShort:
        raise click.ClickException(
            f"The password must be at least {MIN_PASSWORD_LENGTH} characters long. No account was created."
        ) from None
    except EmailAlreadyRegistered:
        raise click.ClickException(
            f"An account with the email address {email} already exists. Change its role on the admin page."
        ) from None
    db.session.commit()
    click.echo(f"Created the {user.role.value} account {user.email} ({user.name}).")
