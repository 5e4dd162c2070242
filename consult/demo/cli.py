"""`flask demo load`: the demo content and, in development only, demo accounts."""

import click
from flask import current_app
from flask.cli import AppGroup

from consult.database import utcnow
from consult.demo.loader import DEMO_PASSWORD, create_demo_accounts, load_demo
from consult.extensions import db

demo_cli = AppGroup("demo", help="Demo content for trying the service locally.")


@demo_cli.command("load")
@click.option("--into-production", is_flag=True,
              help="Load it even with CONSULT_ENV=production, for a training site whose public pages may show it.")
def load_command(into_production: bool) -> None:
    """Create the demo consultations (and development accounts) if they are missing."""
    if current_app.config["ENV_NAME"] == "production" and not into_production:
        # Fictional consultations, one of them open, would be on the public list the moment they are made.
        raise click.ClickException(
            "This is a production service (CONSULT_ENV=production): the demo would put three fictional "
            "consultations, one open for comments, and ten sample respondents in front of the public. Nothing "
            "was loaded. For a training site that should show them, run it again with --into-production.")
    created = load_demo(utcnow())
    accounts = []
    if current_app.config["ENV_NAME"] == "development":
        accounts = create_demo_accounts()
    db.session.commit()
    click.echo(f"Demo consultations created: {', '.join(created) or 'none (already there)'}.")
    for email, role in accounts:
        click.echo(f"Demo account created: {email} / {DEMO_PASSWORD} ({role}, development only).")
