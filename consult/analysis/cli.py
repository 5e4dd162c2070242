"""`flask analysis run REF` and `flask analysis export REF --out FILE.json`."""

import json
from pathlib import Path

import click
from flask.cli import AppGroup

from consult.comments.cli import consultation_or_fail

analysis_cli = AppGroup("analysis", help="Campaigns and themes across a consultation's comments.")


@analysis_cli.command("run")
@click.argument("reference")
def run_command(reference: str) -> None:
    """Group REF's submitted comments into campaigns now, printing progress."""
    from consult.analysis.jobs import run_analysis  # numpy and datasketch load only when analysing

    consultation = consultation_or_fail(reference)
    click.echo(f"Analysing {consultation.reference}")
    summary = run_analysis(consultation.id, progress=lambda message: click.echo(f"  {message}"))
    click.echo(f"Done: {summary['campaigns']} campaigns holding {summary['campaign_members']} "
               f"of {summary['comments']} comments.")


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
