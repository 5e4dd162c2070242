"""`flask privacy anonymise-inactive [--years N] [--dry-run]`: the retention job, run by an operator or a timer."""

import click
from flask import current_app
from flask.cli import AppGroup

from consult.accounts.models import User
from consult.database import utcnow
from consult.extensions import db
from consult.privacy import services

privacy_cli = AppGroup("privacy", help="People's own data: retention of unused accounts.")


@privacy_cli.command("anonymise-inactive")
@click.option("--years", type=click.IntRange(min=1), default=None,
              help="Anonymise accounts unused for this many years (default: ACCOUNT_RETENTION_YEARS).")
@click.option("--dry-run", is_flag=True, help="Count the accounts that would be anonymised; change nothing.")
def anonymise_inactive_command(years: int | None, dry_run: bool) -> None:
    """Anonymise stakeholder accounts with no sign-in or comment for N years.

    Each account is committed on its own, so an interrupted run keeps what
    it finished and the next run carries on from there.
    """
    years = years or current_app.config["ACCOUNT_RETENTION_YEARS"]
    now = utcnow()
    cutoff = services.years_before(now, years)
    ids = list(db.session.scalars(services.inactive_accounts_query(cutoff).with_only_columns(User.id)))
    click.echo(f"{len(ids)} stakeholder account(s) have had no activity since {cutoff:%d %B %Y}.")
    if dry_run:
        click.echo("Dry run: nothing was changed.")
        return
    anonymised = 0
    for user_id in ids:
        anonymised += services.anonymise_if_inactive(user_id, cutoff, now, services.inactive_reason(years))
        db.session.commit()
    click.echo(f"Anonymised {anonymised} account(s).")
    if anonymised < len(ids):
        click.echo(f"{len(ids) - anonymised} account(s) were used again during the run and were kept.")
