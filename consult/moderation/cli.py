"""`flask themes import FILE --consultation REF`: a consultation's themes from a JSON list."""

from pathlib import Path

import click
from flask.cli import AppGroup

from consult.comments.cli import consultation_or_fail, staff_actor
from consult.extensions import db
from consult.moderation.theme_import import ThemeImportError, import_themes, read_themes

themes_cli = AppGroup("themes", help="Manage the themes staff group comments under.")


@themes_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--consultation", "reference", required=True, help="Reference, e.g. HTE1001.")
@click.option("--by", "email", default=None, help="Email of the staff member adding them, for the audit trail.")
def import_command(file: Path, reference: str, email: str | None) -> None:
    """Import FILE, a JSON list of {"name": ..., "description": ...}; names already there are kept."""
    consultation = consultation_or_fail(reference)
    actor = staff_actor(email)
    try:
        result = import_themes(consultation.id, read_themes(file), actor)
    except ThemeImportError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(f"Imported {len(result.created)} themes into {consultation.reference}"
               + (f"; {len(result.already_there)} were already there." if result.already_there else "."))
