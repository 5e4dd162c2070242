"""Responses entered by staff from a file: all rows or none, numbered, marked, audited and tagged."""

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from consult.audit.models import AuditEvent
from consult.comments.models import Comment, CommentStatus, CommentTarget, IndividualType, ParticipantKind
from consult.comments.offline_import import OfflineImportError, import_file
from consult.database import utcnow
from consult.extensions import db
from consult.moderation.models import CommentTheme, Theme
from tests.analysis.conftest import jsonl, row

CSV_HEADER = "id,section,participant_type,organisation,body,themes\n"


def stored(consultation) -> list[Comment]:
    db.session.expire_all()
    return list(db.session.scalars(select(Comment).where(Comment.consultation_id == consultation.id)
                                   .order_by(Comment.number)))


def tags_of(comment) -> list[str]:
    return sorted(db.session.scalars(select(Theme.name).join(CommentTheme, CommentTheme.theme_id == Theme.id)
                                     .where(CommentTheme.comment_id == comment.id)))


def test_each_row_becomes_a_submitted_numbered_comment_entered_by_staff(consultation_with_themes, write, make_user,
                                                                      make_participation):
    consultation = consultation_with_themes()
    consultation.last_comment_number = 7  # comments already submitted through the site
    db.session.commit()
    path = write("responses.jsonl", jsonl([
        row("P-1", section="2.1", themes=["Evidence", "cost"]),
        row("P-2", section="document", participant_type="organisation", organisation="Foot Health UK"),
        row("P-3", participant_type="professional", themes=None),
    ]))

    comments = import_file(consultation, path, None, utcnow())
    db.session.commit()

    rows = stored(consultation)
    assert [c.number for c in rows] == [8, 9, 10]
    assert [c.external_id for c in rows] == ["P-1", "P-2", "P-3"]
    assert all(c.status is CommentStatus.SUBMITTED and c.entered_by_staff and c.participation.is_submitted
               for c in rows)
    assert rows[0].section.number == "2.1" and rows[1].target is CommentTarget.DOCUMENT
    assert rows[1].participation.kind is ParticipantKind.ORGANISATION
    assert rows[1].participation.organisation_name == "Foot Health UK"
    assert rows[2].participation.individual_type is IndividualType.HEALTH_PROFESSIONAL
    assert tags_of(rows[0]) == ["Cost", "Evidence"] and tags_of(rows[2]) == []
    assert consultation.last_comment_number == 10
    assert len(comments) == 3


def test_every_import_is_audited(consultation_with_themes, write):
    consultation = consultation_with_themes()
    comments = import_file(consultation, write("r.jsonl", jsonl([row("A"), row("B", themes=["Cost"])])),
                           None, utcnow())
    db.session.commit()

    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "comment.import_offline")
                                .order_by(AuditEvent.id)).all()
    assert [e.object_id for e in events] == [str(c.id) for c in comments]
    assert events[0].after["external_id"] == "A" and events[0].after["line"] == 1
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "comment.tag", AuditEvent.object_id == str(comments[1].id))) == 1


def test_a_closed_consultation_still_takes_offline_responses(consultation_with_themes, write):
    consultation = consultation_with_themes(state="closed")
    import_file(consultation, write("r.jsonl", jsonl([row("late-post")])), None, utcnow())
    assert [c.external_id for c in stored(consultation)] == ["late-post"]


def test_csv_has_the_same_columns(consultation_with_themes, write):
    consultation = consultation_with_themes()
    path = write("r.csv", CSV_HEADER
                 + 'C1,1.2,patient_or_carer,,"Pain, every day.",Evidence; Cost\n'
                 + 'C2,document,organisation,Pain Alliance,"Two\nlines",\n')

    import_file(consultation, path, None, utcnow())

    rows = stored(consultation)
    assert [(c.external_id, c.body) for c in rows] == [("C1", "Pain, every day."), ("C2", "Two\nlines")]
    assert tags_of(rows[0]) == ["Cost", "Evidence"]


def test_xlsx_has_the_same_columns(consultation_with_themes, tmp_path):
    consultation = consultation_with_themes()
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["id", "section", "participant_type", "organisation", "body", "themes"])
    sheet.append(["X1", "2.2", "researcher", None, "Follow-up is too short.", '["Evidence"]'])
    sheet.append([17, "1.1", "member_of_public", None, "Please offer it now.", None])
    path = tmp_path / "r.xlsx"
    workbook.save(path)

    import_file(consultation, path, None, utcnow())

    rows = stored(consultation)
    assert [c.external_id for c in rows] == ["X1", "17"]
    assert tags_of(rows[0]) == ["Evidence"]


def test_bad_rows_are_reported_by_line_and_nothing_is_imported(consultation_with_themes, write):
    consultation = consultation_with_themes()
    path = write("r.jsonl", jsonl([
        row("ok-1"),
        row("bad-section", section="9.9"),
        row("bad-type", participant_type="alien"),
        row("no-org", participant_type="organisation"),
        row("empty", body="   "),
        row("ok-1"),
        row("bad-theme", themes=["Unheard of"]),
    ]))

    with pytest.raises(OfflineImportError) as refused:
        import_file(consultation, path, None, utcnow())

    lines = [line for line, _ in refused.value.problems]
    assert lines == [2, 3, 4, 5, 6, 7]
    message = str(refused.value)
    assert "Line 2: " in message and "no section 9.9" in message
    assert "Line 6: the id ok-1 is also used on line 1." in message
    assert "'Unheard of'" in message
    assert stored(consultation) == []
    assert consultation.last_comment_number == 0


def test_broken_json_is_reported_by_line(consultation_with_themes, write):
    consultation = consultation_with_themes()
    path = write("r.jsonl", jsonl([row("a")]) + "{not json\n" + '["a list"]\n')

    with pytest.raises(OfflineImportError) as refused:
        import_file(consultation, path, None, utcnow())

    assert [line for line, _ in refused.value.problems] == [2, 3]


def test_a_nul_character_is_refused_before_the_database_sees_it(consultation_with_themes, write):
    consultation = consultation_with_themes()
    path = write("r.jsonl", jsonl([row("a"), row("b", body="Hidden\x00byte")]))

    with pytest.raises(OfflineImportError, match="Line 2: it contains a NUL character"):
        import_file(consultation, path, None, utcnow())
    assert stored(consultation) == []


def test_the_same_response_cannot_be_imported_twice(consultation_with_themes, write):
    consultation = consultation_with_themes()
    path = write("r.jsonl", jsonl([row("once")]))
    import_file(consultation, path, None, utcnow())
    db.session.commit()

    with pytest.raises(OfflineImportError, match="already imported"):
        import_file(consultation, path, None, utcnow())
    assert len(stored(consultation)) == 1


def test_offline_respondents_cannot_sign_in(consultation_with_themes, write, client):
    consultation = consultation_with_themes()
    import_file(consultation, write("r.jsonl", jsonl([row("a")])), None, utcnow())
    db.session.commit()
    email = stored(consultation)[0].participation.user.email

    assert email.endswith(".invalid")
    from consult.accounts.services import authenticate
    assert authenticate(email, "") is None


def test_a_large_import_refreshes_postgresqls_planner_statistics(consultation_with_themes, write, monkeypatch):
    """Plans made from statistics taken before a mail campaign's import would take seconds per queue page."""
    from consult.comments import offline_import

    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's planner statistics; SQLite plans without them.")
    monkeypatch.setattr(offline_import, "LARGE_IMPORT", 3)
    consultation = consultation_with_themes()
    import_file(consultation, write("few.jsonl", jsonl([row("F-1"), row("F-2")])), None, utcnow())

    def estimated_comments() -> float:
        return db.session.scalar(db.text("SELECT reltuples FROM pg_class WHERE relname = 'comments'"))

    before = estimated_comments()
    import_file(consultation, write("many.jsonl", jsonl([row(f"M-{n}") for n in range(3)])), None, utcnow())
    assert estimated_comments() != before
    assert estimated_comments() >= 5
