"""`flask themes import FILE --consultation REF` and `flask counters rebuild REF`."""

from pathlib import Path

import click
from flask.cli import AppGroup

from consult.comments.cli import commit_or_fail, consultation_or_fail, file_import_options, staff_actor
from consult.extensions import db
from consult.moderation.counters import recount_consultation
from consult.moderation.theme_import import ThemeImportError, import_themes, read_themes

themes_cli = AppGroup("themes", help="Manage the themes staff group comments under.")


@themes_cli.command("import")
@file_import_options("Email of the staff member adding them, for the audit trail.")
def import_command(file: Path, reference: str, email: str | None) -> None:
    """Import FILE, a JSON list of {"name": ..., "description": ...}; names already there are kept."""
    consultation = consultation_or_fail(reference)
    actor = staff_actor(email)
    result = commit_or_fail(lambda: import_themes(consultation.id, read_themes(file), actor), ThemeImportError)
    click.echo(f"Imported {len(result.created)} themes into {consultation.reference}"
               + (f"; {len(result.already_there)} were already there." if result.already_there else "."))


counters_cli = AppGroup("counters", help="The progress counters that the staff and committee pages read.")


@counters_cli.command("rebuild")
@click.argument("reference")
def rebuild_command(reference: str) -> None:
    """Recount REF's comments from scratch: after rows were written outside the app, such as a bulk load."""
    consultation = consultation_or_fail(reference)
    recount_consultation(consultation.id)
    db.session.commit()
    click.echo(f"Recounted the progress of {consultation.reference}.")
