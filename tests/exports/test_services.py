"""Outputs read back from the real files: columns, order, moderation, names, formula safety."""

import csv
import io
from datetime import datetime, timedelta

import openpyxl
import pytest
from docx import Document as WordDocument

from consult import downloads
from consult.exports import services
from consult.exports.rows import COLUMNS, columns, export_comments, in_document_order, publishable
from tests.exports.conftest import all_comments_of
from tests.spreadsheets import rows_shown

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def _items(consultation):
    return list(export_comments(in_document_order(publishable(all_comments_of(consultation)))))


def _read_workbook(data: bytes, sheet: str | None = None) -> list[list]:
    book = openpyxl.load_workbook(io.BytesIO(data))
    worksheet = book[sheet] if sheet else book.active
    return [list(row) for row in rows_shown(worksheet)]


def _workbook_bytes(consultation, include_email: bool) -> tuple[bytes, int]:
    buffer = io.BytesIO()
    count = services.write_comments_workbook(_items(consultation), buffer, include_email)
    return buffer.getvalue(), count


def test_workbook_has_nice_columns_in_order_with_moderation_applied(moderated_consultation):
    consultation, comments = moderated_consultation
    data, count = _workbook_bytes(consultation, include_email=True)
    rows = _read_workbook(data)
    assert rows[0] == COLUMNS == [
        "Comment number", "Stakeholder", "Email address", "Consultation", "Document", "Chapter", "Section number",
        "Section heading", "Selected text", "Comment", "Question text", "Yes/No answer", "Answer text",
        "Represents an organisation", "Organisation", "Participant type", "Has tobacco links",
        "Tobacco link details", "Other interests declared", "Themes", "Moderation state", "Response",
        "Submitted at (UK time)", "Campaign", "Campaign size"]
    body = {row[0]: dict(zip(COLUMNS, row)) for row in rows[1:]}
    assert count == len(body) == 5  # six submitted, one rejected and left out
    assert "Spam spam spam" not in str(rows)
    # Document order: the whole-document comment first, then by section position.
    assert [row[COLUMNS.index("Section number")] or "" for row in rows[1:]] == ["", "1.1", "2.1", "2.1", "2.2"]
    redacted = body[comments["Please add follow-up data"].reference]
    assert redacted["Comment"] == "Please add [redacted] data"
    assert redacted["Moderation state"] == "Redacted"
    assert redacted["Stakeholder"] == "Individual (health or social care professional)"  # no consent to be named
    named = body[comments["=1+1 looks like a formula"].reference]
    assert named["Stakeholder"] == "Pat Named" and named["Email address"] == "pat@example.org"
    assert named["Themes"] == "Evidence gaps; Safety"
    assert named["Response"] == "Thank you. The committee agreed."
    assert body[comments["Section one comment"].reference]["Response"].startswith("No response needed")
    charity = body[comments["@SUM(A1) and more"].reference]
    assert charity["Stakeholder"] == "Neuroma Support" and charity["Represents an organisation"] == "Yes"
    assert charity["Has tobacco links"] == "Yes"


def test_workbook_header_is_frozen_and_filtered(moderated_consultation):
    consultation, _ = moderated_consultation
    data, _ = _workbook_bytes(consultation, include_email=True)
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref.startswith("A1:")
    assert sheet.column_dimensions["J"].width > 40  # the comment column is wide


def test_committee_workbook_never_has_email(moderated_consultation):
    consultation, _ = moderated_consultation
    data, _ = _workbook_bytes(consultation, include_email=False)
    rows = _read_workbook(data)
    assert "Email address" not in rows[0]
    assert not any("@example.org" in str(cell) for row in rows for cell in row)


def _assert_only_triggers_neutralised(exported: list[list], expected: list[list]) -> None:
    for row_out, row_in in zip(exported, expected):
        for out, original in zip(row_out, row_in):
            if isinstance(original, str) and original.startswith(TRIGGERS):
                assert out == "'" + original
            elif isinstance(original, str):
                assert out == original
            elif isinstance(original, datetime):  # Excel keeps milliseconds
                assert abs(out - original) < timedelta(milliseconds=1)
            else:
                assert out == original or (out in ("", None) and original in ("", None))


def test_formula_cells_are_neutralised_in_every_column_and_nothing_else_changes(moderated_consultation):
    consultation, _ = moderated_consultation
    items = _items(consultation)
    expected = [[value if value != "" else None for value in item.values(True)] for item in items]
    data, _ = _workbook_bytes(consultation, include_email=True)
    exported = _read_workbook(data)[1:]
    _assert_only_triggers_neutralised(exported, expected)
    assert any(isinstance(v, str) and v.startswith("'=") for row in exported for v in row)
    assert any(isinstance(v, str) and v.startswith("'@") for row in exported for v in row)
    assert any(isinstance(v, str) and v.startswith("'-") for row in exported for v in row)


def test_csv_has_bom_same_columns_and_neutralised_formulas(moderated_consultation):
    consultation, _ = moderated_consultation
    items = _items(consultation)
    text = "".join(services.comments_csv(items, include_email=True))
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows[0] == COLUMNS
    expected = [[("" if value is None else value.strftime("%Y-%m-%d %H:%M") if hasattr(value, "year") else value)
                 for value in item.values(True)] for item in items]
    _assert_only_triggers_neutralised(rows[1:], expected)


def test_long_text_continues_on_following_rows_without_truncation():
    long_response = "x" * 40_000 + "END"
    values = ["HTE1-0001", "Name", long_response, 7]
    rows = downloads.split_for_excel(values)
    assert len(rows) == 2
    assert rows[1][0] == "HTE1-0001 (continued)"
    assert rows[0][2] + rows[1][2] == long_response
    assert rows[1][3] is None


def test_a_workbook_keeps_formula_looking_words_as_written_and_marks_them_as_text(tmp_path):
    """No spreadsheet evaluates a string cell; the quote prefix keeps it text when someone edits it. The words
    stay exactly as the person wrote them: a bulleted comment starting '- ' shows no stray apostrophe."""
    from consult.downloads import write_table_workbook

    words = ["- Longer follow-up please", "=HYPERLINK(\"http://evil.example\",\"x\")", "+44 113 496 0000", "Plain"]
    target = tmp_path / "words.xlsx"
    write_table_workbook([words], ["Comment", "Link", "Phone", "Other"], str(target))
    cells = list(openpyxl.load_workbook(target).active.iter_rows(min_row=2))[0]
    assert [cell.value for cell in cells] == words
    assert [cell.quotePrefix for cell in cells] == [True, True, True, False]
    assert [cell.data_type for cell in cells] == ["s"] * 4


def test_workbook_row_over_the_cell_limit_reads_back_whole(tmp_path):
    class Item:
        def values(self, include_email, zone=None):
            return ["HTE1-0002"] + ["a"] * (len(columns(include_email)) - 3) + ["y" * 70_000, None]

    target = tmp_path / "long.xlsx"
    services.write_comments_workbook([Item()], str(target), include_email=False)
    rows = _read_workbook(target.read_bytes())[1:]
    assert [row[0] for row in rows] == ["HTE1-0002", "HTE1-0002 (continued)", "HTE1-0002 (continued)"]
    assert "".join(row[-2] or "" for row in rows) == "y" * 70_000


def test_themed_workbook_has_summary_theme_sheets_and_unthemed(moderated_consultation):
    consultation, comments = moderated_consultation
    buffer = io.BytesIO()
    services.write_themed_workbook(_items(consultation), ["Evidence gaps", "Safety"], buffer)
    book = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))
    assert book.sheetnames == ["Summary", "Evidence gaps", "Safety", "No theme"]
    evidence = [list(r) for r in book["Evidence gaps"].iter_rows(values_only=True)]
    assert evidence[0][0] == "Evidence gaps"  # the full theme name heads its sheet
    assert evidence[1] == services.THEME_SHEET_COLUMNS
    assert book["Evidence gaps"].freeze_panes == "A3"
    assert book["Evidence gaps"].auto_filter.ref.startswith("A2")
    assert [row[0] for row in evidence[2:]] == [comments["=1+1 looks like a formula"].reference,
                                               comments["Please add follow-up data"].reference]
    assert evidence[2][7] == "Safety"  # its other themes
    summary = [list(r) for r in book["Summary"].iter_rows(values_only=True)]
    header = summary[1]
    evidence_row = next(row for row in summary if row[0] == "Evidence gaps")
    assert evidence_row[header.index("Total")] == 2
    unthemed = [row[0] for row in book["No theme"].iter_rows(min_row=3, values_only=True)]
    assert comments["Spam spam spam"].reference not in unthemed
    assert len(unthemed) == 3


@pytest.mark.parametrize("group_by", ["section", "theme"])
def test_word_table_groups_and_columns(moderated_consultation, group_by):
    consultation, comments = moderated_consultation
    buffer = io.BytesIO()
    services.write_word_table(_items(consultation), buffer, group_by, "HTE3001 comments")
    document = WordDocument(io.BytesIO(buffer.getvalue()))
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 2"]
    assert all(len(t.rows[0].cells) == 7 for t in document.tables)
    assert [c.text for c in document.tables[0].rows[0].cells] == [
        "Comment number", "Stakeholder", "Section", "Comment", "Tobacco industry links", "Other interests declared",
        "Response"]
    all_text = "\n".join(cell.text for t in document.tables for row in t.rows for cell in row.cells)
    assert "Spam spam spam" not in all_text and "Please add [redacted] data" in all_text
    assert "hidden@example.org" not in all_text and "Hidden Person" not in all_text
    if group_by == "theme":
        assert headings == ["Evidence gaps", "Safety", "No theme"]
    else:
        assert headings[0] == "Whole document" and headings[1].startswith("1.1")


def _word_rows(consultation, group_by="section") -> dict[str, dict[str, str]]:
    buffer = io.BytesIO()
    services.write_word_table(_items(consultation), buffer, group_by, "HTE3001 comments")
    document = WordDocument(io.BytesIO(buffer.getvalue()))
    rows = {}
    for table in document.tables:
        headings = [cell.text for cell in table.rows[0].cells]
        for row in table.rows[1:]:
            rows[row.cells[0].text] = dict(zip(headings, (cell.text for cell in row.cells)))
    return rows


def test_word_table_names_tobacco_links_and_never_leaves_the_response_empty(moderated_consultation):
    consultation, comments = moderated_consultation
    rows = _word_rows(consultation)
    charity = rows[comments["@SUM(A1) and more"].reference]
    assert charity["Tobacco industry links"].startswith("Declared links with, or funding from, the tobacco industry")
    assert charity["Response"] == "No response yet"
    named = rows[comments["=1+1 looks like a formula"].reference]
    assert named["Tobacco industry links"] == "None declared"
    assert named["Response"] == "Thank you. The committee agreed."
    assert rows[comments["Section one comment"].reference]["Response"] == (
        "No response needed: Comment supports the recommendation")
    assert all(row["Response"] for row in rows.values())


def test_word_table_labels_a_draft_response(moderated_consultation):
    from consult.extensions import db
    from consult.moderation.models import CommentResponse
    from consult.moderation.states import ResponseState

    consultation, comments = moderated_consultation
    charity = comments["@SUM(A1) and more"]
    db.session.add(CommentResponse(comment_id=charity.id, state=ResponseState.DRAFT, text="Half-written reply",
                                   updated_by_id=charity.participation.user_id))
    db.session.commit()
    assert _word_rows(consultation)[charity.reference]["Response"] == "Draft response: Half-written reply"


def test_every_committee_output_marks_a_draft_response_the_same_way(moderated_consultation, make_user):
    """A draft applied in bulk reads as a draft in the xlsx, CSV, themed workbook and Word table alike,
    so a committee never takes it for the agreed response; agreed and not-needed responses are unchanged."""
    from consult.database import utcnow
    from consult.extensions import db
    from consult.moderation.services.responses import apply_response
    from consult.moderation.states import ResponseState

    consultation, comments = moderated_consultation
    charity = comments["@SUM(A1) and more"]
    apply_response(consultation.id, [charity.id], "Half-written reply", ResponseState.DRAFT,
                   make_user(name="Staff Drafter"), utcnow())
    db.session.commit()
    draft, agreed, not_needed = ("Draft response: Half-written reply", "Thank you. The committee agreed.",
                                 "No response needed: Comment supports the recommendation")
    named, supportive = comments["=1+1 looks like a formula"], comments["Section one comment"]
    expected = {charity.reference: draft, named.reference: agreed, supportive.reference: not_needed}

    workbook = _read_workbook(_workbook_bytes(consultation, include_email=False)[0])
    response = workbook[0].index("Response")
    text = "".join(services.comments_csv(_items(consultation), include_email=False))
    csv_rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    buffer = io.BytesIO()
    services.write_themed_workbook(_items(consultation), ["Evidence gaps", "Safety"], buffer)
    book = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))
    themed = {row[0]: row[services.THEME_SHEET_COLUMNS.index("Response")]
              for name in ("Safety", "No theme") for row in rows_shown(book[name], min_row=3)}
    word = _word_rows(consultation)

    for reference, shown in expected.items():
        assert {row[0]: row[response] for row in workbook[1:]}[reference] == shown
        assert {row[0]: row[response] for row in csv_rows[1:]}[reference] == shown
        assert themed[reference] == shown
        assert word[reference]["Response"] == shown


def test_word_table_cells_neutralise_formulas_like_the_spreadsheets(moderated_consultation):
    consultation, comments = moderated_consultation
    rows = _word_rows(consultation)
    assert rows[comments["-Whole document view"].reference]["Comment"] == "'-Whole document view"
    assert rows[comments["@SUM(A1) and more"].reference]["Comment"] == "'@SUM(A1) and more"
    assert rows[comments["=1+1 looks like a formula"].reference]["Comment"] == "'=1+1 looks like a formula"
    assert rows[comments["Section one comment"].reference]["Comment"] == "Section one comment"
    cells = [value for row in rows.values() for value in row.values()]
    assert not any(value.startswith(TRIGGERS) for value in cells)


def test_theme_sheet_names_fit_excel_and_stay_unique():
    taken: set[str] = set()
    long_name = "Fitting and review by a podiatrist or orthotist"
    first = services._sheet_name(long_name, taken)
    second = services._sheet_name(long_name + " in primary care", taken)
    third = services._sheet_name("Fitting and review by a podiatrist: follow-up", taken)
    assert first == "Fitting and review by a podi..." and len(first) == 31
    assert first.endswith("...")
    assert second.endswith(" (2)") and len(second) <= 31 and "..." in second
    assert third.endswith(" (3)") and len(third) <= 31
    assert len({first.lower(), second.lower(), third.lower()}) == 3
    assert services._sheet_name("Short", taken) == "Short"
    assert services._sheet_name("SHORT", taken) == "SHORT (2)"
    assert services._sheet_name("a/b [c]", taken) == "a b c"


def test_themed_workbook_with_long_colliding_theme_names_reads_back(moderated_consultation):
    consultation, _ = moderated_consultation
    names = ["Fitting and review by a podiatrist or orthotist", "Fitting and review by a podiatrist in clinic"]
    buffer = io.BytesIO()
    services.write_themed_workbook(_items(consultation), names, buffer)
    book = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))
    assert all(len(name) <= 31 for name in book.sheetnames)
    assert len({name.lower() for name in book.sheetnames}) == len(book.sheetnames)
    titles = {book[name]["A1"].value for name in book.sheetnames[1:]}
    assert set(names) <= titles


def test_theme_summaries_appear_in_the_themed_workbook_and_the_word_table(moderated_consultation):
    consultation, _ = moderated_consultation
    summaries = {"Evidence gaps": "=Most ask for longer follow-up."}
    buffer = io.BytesIO()
    services.write_themed_workbook(_items(consultation), ["Evidence gaps", "Safety"], buffer, summaries=summaries)
    summary = [list(r) for r in rows_shown(openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))["Summary"])]
    header = summary[1]
    rows = {row[0]: row for row in summary[2:] if row and row[0]}
    assert header[-1] == "Summary"
    assert rows["Evidence gaps"][-1] == "'=Most ask for longer follow-up."  # formula-safe
    assert rows["Safety"][-1] is None

    buffer = io.BytesIO()
    services.write_word_table(_items(consultation), buffer, "theme", "HTE3001 comments", summaries)
    document = WordDocument(io.BytesIO(buffer.getvalue()))
    paragraphs = [p.text for p in document.paragraphs]
    heading = paragraphs.index("Evidence gaps")
    assert paragraphs[heading + 1] == "Summary: '=Most ask for longer follow-up."
    assert not any(p.startswith("Summary:") for p in paragraphs[paragraphs.index("Safety"):])


def test_representative_comments_are_typical_not_first_and_never_copies():
    from consult.exports.representative import choose

    rows = [
        (1, 1, "Thank you for the consultation.", 11),                                       # first, but off-topic
        (2, 2, "Follow-up data is too short to judge long-term pain relief.", 12),
        (3, 3, "Follow-up data is too short to judge long-term pain relief.", 13),            # a copy of 2
        (4, 4, "Longer follow-up data needed on pain relief and recurrence.", 14),
        (5, 5, "The follow-up data on pain relief is short; recurrence unknown.", 12),         # same person as 2
        (6, 6, "Pain relief data beyond one year of follow-up would help.", 15),
        (7, 7, "Costs in primary care are not considered.", 16),
    ]
    chosen = choose(rows, "HTE1")
    references = [c.reference for c in chosen]
    assert len(chosen) == 3
    assert "HTE1-0001" not in references and "HTE1-0007" not in references
    assert not {"HTE1-0002", "HTE1-0003"} <= set(references)       # never two copies of one text
    assert len({c.participation_id for c in chosen}) == 3           # one per stakeholder
    assert [c.score for c in chosen] == sorted((c.score for c in chosen), reverse=True)
    assert choose([], "HTE1") == []
    assert [c.reference for c in choose(rows[:1], "HTE1")] == ["HTE1-0001"]


def test_a_long_representative_comment_is_cut_at_a_word_with_an_ellipsis():
    from consult.exports.representative import EXCERPT, choose

    [chosen] = choose([(1, 1, "word " * 200, 1)], "HTE1")
    assert len(chosen.excerpt) <= EXCERPT + 1 and chosen.excerpt.endswith("word\u2026")


def test_the_publication_check_counts_comments_waiting_for_triage_from_the_running_counts(moderated_consultation):
    from sqlalchemy import update

    from consult.comments.models import Comment
    from consult.exports.publication import publication_counts
    from consult.extensions import db
    from consult.moderation import counters
    from consult.moderation.states import ModerationState

    consultation, comments = moderated_consultation
    counts = publication_counts(consultation)
    assert counts.comments_waiting == 4 and counts.public == 1  # four new; the redacted one is public
    assert counts.as_dict()["comments_waiting"] == 4
    # Read from the consultation's running counts, never by counting its comments: a change that bypasses
    # the ORM is not seen until the counts are rebuilt.
    db.session.execute(update(Comment).where(Comment.id == comments["Section one comment"].id)
                       .values(moderation_state=ModerationState.ACCEPTED).execution_options(synchronize_session=False))
    assert publication_counts(consultation).comments_waiting == 4
    counters.recount_consultation(consultation.id)
    assert publication_counts(consultation).comments_waiting == 3
