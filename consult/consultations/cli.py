"""`flask consultations import FILE --consultation REF`: load a draft into a consultation."""

from pathlib import Path

import click
from flask.cli import AppGroup

from consult.consultations import services
from consult.consultations.importing import DocumentFormatError, parse_document
from consult.extensions import db
from consult.text import quantity

consultations_cli = AppGroup("consultations", help="Build consultations and import their drafts.")


def read_draft(path: Path) -> str:
    """The file's text, refusing what is not UTF-8 text with a message a person can act on."""
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise DocumentFormatError(
            f"{path.name} is not UTF-8 text (byte {error.start} cannot be read). "
            "Save it as plain text or Markdown in UTF-8 and try again."
        ) from None


@consultations_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--consultation", "reference", required=True, help="Reference, e.g. HTE1001.")
def import_command(file: Path, reference: str) -> None:
    """Import FILE (plain text or Markdown) as a new document of a consultation.

    The same checks and the same audit event as an upload on the staff pages, by the service (no person
    is signed in to a command), with the file's name: the audit trail holds every change, however made.
    """
    consultation = services.find_consultation(reference)
    if consultation is None:
        raise click.ClickException(f"No consultation has the reference {reference.upper()}.")
    try:
        parsed = parse_document(read_draft(file), fallback_title=file.stem)
        document = services.add_document(None, consultation, parsed, file.name)
    except DocumentFormatError as error:
        raise click.ClickException(str(error)) from None
    db.session.commit()
    sections = sum(len(chapter.sections) for chapter in parsed.chapters)
    click.echo(
        f"Imported '{document.title}' into {consultation.reference}: "
        f"{quantity(len(parsed.chapters), 'chapter')}, {quantity(sections, 'section')}."
    )
