"""`flask comments import FILE --consultation REF`: responses sent on paper or by email."""

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click
from flask.cli import AppGroup

from consult.accounts.models import Role
from consult.accounts.services import find_user_by_email
from consult.comments.offline_import import import_file
from consult.consultations.services import find_consultation
from consult.database import utcnow
from consult.errors import DomainError
from consult.extensions import db

comments_cli = AppGroup("comments", help="Enter responses received outside the site.")

T = TypeVar("T")


def staff_actor(email: str | None):
    """The staff member an operator names with --by (None: the audit trail says 'system')."""
    if email is None:
        return None
    user = find_user_by_email(email)
    if user is None or user.role not in (Role.STAFF, Role.ADMIN):
        raise click.ClickException(f"{email} is not a staff or admin account.")
    return user


def consultation_or_fail(reference: str):
    consultation = find_consultation(reference)
    if consultation is None:
        raise click.ClickException(f"No consultation has the reference {reference.upper()}.")
    return consultation


def file_import_options(by_help: str) -> Callable:
    """What every `flask <group> import` command is given: FILE, --consultation REF, and --by EMAIL (`by_help`)."""

    def add_options(command: Callable) -> Callable:
        command = click.option("--by", "email", default=None, help=by_help)(command)
        command = click.option("--consultation", "reference", required=True, help="Reference, e.g. HTE1001.")(command)
        return click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))(command)

    return add_options


def commit_or_fail(store: Callable[[], T], refused: type[Exception] = DomainError) -> T:
    """Run `store` and commit what it wrote; if it is `refused`, roll all of it back and stop with its message."""
    try:
        stored = store()
    except refused as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    db.session.commit()
    return stored


@comments_cli.command("import")
@file_import_options("Email of the staff member entering them, for the audit trail.")
def import_command(file: Path, reference: str, email: str | None) -> None:
    """Import FILE (.jsonl, .csv or .xlsx): one submitted response per row, all or nothing."""
    consultation = consultation_or_fail(reference)
    actor = staff_actor(email)
    comments = commit_or_fail(lambda: import_file(consultation, file, actor, utcnow()))
    if comments:
        first, last = comments[0].number, comments[-1].number
        click.echo(f"Imported {len(comments)} responses into {consultation.reference}, "
                   f"numbered {first} to {last}.")
