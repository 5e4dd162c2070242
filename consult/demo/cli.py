"""`flask demo load`: the demo content and, in development only, demo accounts."""

import click
from flask import current_app
from flask.cli import AppGroup

from consult.database import utcnow
from consult.demo.loader import DEMO_PASSWORD, create_demo_accounts, load_demo
from consult.extensions import db

demo_cli = AppGroup("demo", help="Demo content for trying the service locally.")


@demo_cli.command("load")
def load_command() -> None:
    """Create the demo consultations (and development accounts) if they are missing."""
    created = load_demo(utcnow())
    accounts = []
    if current_app.config["ENV_NAME"] == "development":
        accounts = create_demo_accounts()
    db.session.commit()
    click.echo(f"Demo consultations created: {', '.join(created) or 'none (already there)'}.")
    for email, role in accounts:
        click.echo(f"Demo account created: {email} / {DEMO_PASSWORD} ({role}, development only).")
