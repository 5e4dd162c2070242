"""The commands an operator and the evaluation run: import, themes, analysis run and export."""

import json

from sqlalchemy import func, select

from consult.analysis.models import Campaign, ThemeSuggestion
from consult.comments.models import Comment
from consult.extensions import db
from consult.moderation.models import Theme
from tests.analysis.conftest import jsonl, row

LETTER = ("My name is {name} and I live in {town}. I have had neuroma pain for years and I ask the committee to "
          "change its draft. Cryoablation freezes the damaged nerve and has given many patients their life back. "
          "Research only means a postcode lottery because only a handful of hospitals run studies. "
          "Please offer it in routine NHS care now, with audit.")
NAMES = [("Sarah Jones", "Leeds"), ("Tom Okafor", "Swansea"), ("Priya Patel", "Derby")]


def invoke(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def test_themes_import_adds_new_themes_and_keeps_existing(app, consultation_with_themes, write):
    consultation = consultation_with_themes()
    path = write("themes.json", json.dumps([{"name": "Safety", "description": "Harms."}, {"name": "cost"}]))

    result = invoke(app, "themes", "import", str(path), "--consultation", consultation.reference)

    assert result.exit_code == 0, result.output
    assert "Imported 1 themes" in result.output and "1 were already there" in result.output
    names = db.session.scalars(select(Theme.name).where(Theme.consultation_id == consultation.id)).all()
    assert sorted(names) == ["Cost", "Evidence", "Safety"]


def test_themes_import_refuses_a_bad_file_whole(app, consultation_with_themes, write):
    consultation = consultation_with_themes()
    path = write("themes.json", json.dumps([{"name": "Safety"}, {"description": "no name"}, {"name": "safety"}]))

    result = invoke(app, "themes", "import", str(path), "--consultation", consultation.reference)

    assert result.exit_code == 1
    assert "Theme 2: each theme needs a 'name'." in result.output and "Theme 3:" in result.output
    assert db.session.scalar(select(func.count()).select_from(Theme).where(
        Theme.consultation_id == consultation.id)) == 2


def test_comments_import_reports_bad_lines_and_imports_nothing(app, consultation_with_themes, write):
    consultation = consultation_with_themes()
    path = write("r.jsonl", jsonl([row("a"), row("b", section="7.7"), row("c", body="")]))

    result = invoke(app, "comments", "import", str(path), "--consultation", consultation.reference)

    assert result.exit_code == 1
    assert "Nothing was imported" in result.output
    assert "Line 2:" in result.output and "Line 3:" in result.output and "Line 1:" not in result.output
    assert db.session.scalar(select(func.count()).select_from(Comment).where(
        Comment.consultation_id == consultation.id)) == 0


def test_comments_import_names_an_unknown_consultation(app, write):
    result = invoke(app, "comments", "import", str(write("r.jsonl", jsonl([row("a")]))), "--consultation", "NOPE1")
    assert result.exit_code == 1 and "No consultation has the reference NOPE1" in result.output


def test_import_run_and_export(app, consultation_with_themes, write, tmp_path):
    consultation = consultation_with_themes()
    rows = [row(f"m{n}", LETTER.format(name=name, town=town), themes=["Cost"]) for n, (name, town) in enumerate(NAMES)]
    rows.append(row("own", "Imaging guidance matters: ultrasound shows the ice ball forming."))
    path = write("r.jsonl", jsonl(rows))

    imported = invoke(app, "comments", "import", str(path), "--consultation", consultation.reference)
    ran = invoke(app, "analysis", "run", consultation.reference)
    out = tmp_path / "export.json"
    exported = invoke(app, "analysis", "export", consultation.reference, "--out", str(out))

    assert imported.exit_code == 0, imported.output
    assert "Imported 4 responses" in imported.output and "numbered 1 to 4" in imported.output
    assert ran.exit_code == 0, ran.output
    assert "1 campaigns holding 3 of 4 comments" in ran.output
    assert exported.exit_code == 0, exported.output
    data = json.loads(out.read_text())
    assert set(data) == {"campaigns", "themes"}
    campaign = db.session.scalar(select(Campaign.id).where(Campaign.consultation_id == consultation.id))
    assert data["campaigns"] == {"m0": str(campaign), "m1": str(campaign), "m2": str(campaign), "own": None}
    # Staff tags where there are any; otherwise the suggestions the service shows, best first.
    own = db.session.scalar(select(Comment.id).where(Comment.external_id == "own"))
    shown = db.session.scalars(select(Theme.name).join(ThemeSuggestion, ThemeSuggestion.theme_id == Theme.id).where(
        ThemeSuggestion.comment_id == own).order_by(ThemeSuggestion.confidence.desc())).all()
    assert shown and data["themes"] == {"m0": ["Cost"], "m1": ["Cost"], "m2": ["Cost"], "own": shown}


def test_analysis_names_an_unknown_consultation(app):
    assert "No consultation has the reference NOPE1" in invoke(app, "analysis", "run", "NOPE1").output


def test_next_to_tag_prints_external_ids_one_per_campaign(app, consultation_with_themes, write):
    consultation = consultation_with_themes()
    rows = [row(f"m{n}", LETTER.format(name=name, town=town)) for n, (name, town) in enumerate(NAMES)]
    rows += [row("own", "Imaging guidance matters: ultrasound shows the ice ball forming."),
             row("price", "The probe is expensive and theatre time costs a lot.", themes=["Cost"])]
    assert invoke(app, "comments", "import", str(write("r.jsonl", jsonl(rows))),
                  "--consultation", consultation.reference).exit_code == 0
    assert invoke(app, "analysis", "run", consultation.reference).exit_code == 0

    result = invoke(app, "analysis", "next-to-tag", consultation.reference, "--n", "2")

    assert result.exit_code == 0, result.output
    printed = result.output.split()
    assert len(printed) == 2 and "price" not in printed  # already tagged
    assert sum(1 for p in printed if p.startswith("m")) == 1  # the campaign once
    assert "own" in printed
