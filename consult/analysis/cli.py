"""`flask analysis run REF`, `flask analysis export REF --out FILE.json`, `flask analysis next-to-tag REF --n N`."""

import json
from pathlib import Path

import click
from flask.cli import AppGroup

from consult.comments.cli import consultation_or_fail

analysis_cli = AppGroup("analysis", help="Campaigns and themes across a consultation's comments.")


@analysis_cli.command("run")
@click.argument("reference")
def run_command(reference: str) -> None:
    """Group REF's submitted comments into campaigns and suggest themes now, printing progress."""
    from consult.analysis.jobs import run_analysis  # numpy and datasketch load only when analysing

    consultation = consultation_or_fail(reference)
    click.echo(f"Analysing {consultation.reference}")
    summary = run_analysis(consultation.id, progress=lambda message: click.echo(f"  {message}"))
    click.echo(f"Done: {summary['campaigns']} campaigns holding {summary['campaign_members']} "
               f"of {summary['comments']} comments; {summary['suggested']} theme suggestions.")


@analysis_cli.command("export")
@click.argument("reference")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The JSON file to write.")
def export_command(reference: str, out: Path) -> None:
    """Write each imported comment's campaign and themes, keyed by its external id, to FILE."""
    from consult.analysis.services import export_analysis

    consultation = consultation_or_fail(reference)
    data = export_analysis(consultation.id)
    out.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    click.echo(f"Wrote {len(data['campaigns'])} comments to {out}.")


@analysis_cli.command("next-to-tag")
@click.argument("reference")
@click.option("--n", "count", default=20, show_default=True, type=click.IntRange(1, 1000),
              help="How many comments to list.")
def next_to_tag_command(reference: str, count: int) -> None:
    """Print the external ids (or numbers) of the N comments whose tags would teach the suggestions most."""
    from sqlalchemy import select

    from consult.analysis.suggesting import pick_next_to_tag
    from consult.comments.models import Comment
    from consult.extensions import db

    consultation = consultation_or_fail(reference)
    ids = pick_next_to_tag(consultation.id, count)
    db.session.commit()  # the comments embedded on the way are kept
    labels = {comment_id: external_id or f"#{number}" for comment_id, external_id, number in db.session.execute(
        select(Comment.id, Comment.external_id, Comment.number).where(Comment.id.in_(ids)))}
    for comment_id in ids:
        click.echo(labels[comment_id])
