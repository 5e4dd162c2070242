"""The other interests a respondent declared, in every file staff and the committee read, and in no public one."""

import csv
import io
from datetime import timedelta

import openpyxl
import pytest
from docx import Document as WordDocument

from consult.accounts.models import Role
from consult.database import utcnow
from consult.exports import jobs, publication, services
from consult.exports.rows import columns, export_comments, in_document_order, in_respondent_order, publishable
from consult.extensions import db
from consult.moderation.states import ModerationState
from tests.exports.conftest import CHARITY_INTERESTS, PROFESSIONAL_INTERESTS, all_comments_of
from tests.query_counting import counted_queries
from tests.spreadsheets import rows_shown

HEADER = "Other interests declared"
DECLARATION_COLUMNS = ["Has tobacco links", "Tobacco link details", HEADER]


def _items(consultation, order=in_document_order):
    return export_comments(order(publishable(all_comments_of(consultation))))


def _workbook_rows(data: bytes) -> list[list]:
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    return [["" if value is None else value for value in row] for row in rows_shown(sheet)]


def _csv_rows(text: str) -> list[list[str]]:
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


def _by_reference(rows: list[list]) -> dict[str, dict]:
    return {row[0]: dict(zip(rows[0], row)) for row in rows[1:]}


def _word_tables(data: bytes) -> list[list[list[str]]]:
    document = WordDocument(io.BytesIO(data))
    return [[[cell.text for cell in row.cells] for row in table.rows] for table in document.tables]


def _word_rows(data: bytes) -> dict[str, dict[str, str]]:
    rows = {}
    for table in _word_tables(data):
        for row in table[1:]:
            rows[row[0]] = dict(zip(table[0], row))
    return rows


def _expect_declarations(rows: dict[str, dict], comments, declared_charity: str, none: str) -> None:
    """The charity's and the professional's declarations on each of their rows; nothing where none was made."""
    assert rows[comments["@SUM(A1) and more"].reference][HEADER] == declared_charity
    assert rows[comments["-Whole document view"].reference][HEADER] == declared_charity
    assert rows[comments["Please add follow-up data"].reference][HEADER] == PROFESSIONAL_INTERESTS
    assert rows[comments["=1+1 looks like a formula"].reference][HEADER] == none
    assert rows[comments["Section one comment"].reference][HEADER] == none


@pytest.mark.parametrize("include_email", [True, False])
def test_the_comments_workbook_shows_other_interests_right_after_the_tobacco_columns(moderated_consultation,
                                                                                   include_email):
    consultation, comments = moderated_consultation
    buffer = io.BytesIO()
    services.write_comments_workbook(_items(consultation, in_respondent_order), buffer, include_email)
    rows = _workbook_rows(buffer.getvalue())
    header = rows[0]
    assert header == columns(include_email)
    start = header.index("Has tobacco links")
    assert header[start - 1:start + 4] == ["Participant type", *DECLARATION_COLUMNS, "Themes"]
    # Stored as the person wrote it and marked as text, so it reads back with the apostrophe (rows_shown).
    _expect_declarations(_by_reference(rows), comments, "'" + CHARITY_INTERESTS, "")


@pytest.mark.parametrize("include_email", [True, False])
def test_the_comments_csv_shows_other_interests_formula_safe(moderated_consultation, include_email):
    consultation, comments = moderated_consultation
    rows = _csv_rows("".join(services.comments_csv(_items(consultation, in_respondent_order), include_email)))
    assert rows[0] == columns(include_email)
    assert rows[0].index(HEADER) == rows[0].index("Tobacco link details") + 1
    _expect_declarations(_by_reference(rows), comments, "'" + CHARITY_INTERESTS, "")


@pytest.mark.parametrize("group_by", ["section", "theme"])
def test_the_word_table_shows_other_interests_beside_the_tobacco_declaration(moderated_consultation, group_by):
    consultation, comments = moderated_consultation
    buffer = io.BytesIO()
    services.write_word_table(_items(consultation), buffer, group_by, "HTE3001 comments")
    tables = _word_tables(buffer.getvalue())
    assert tables and all(table[0] == services.WORD_TABLE_COLUMNS for table in tables)
    assert services.WORD_TABLE_COLUMNS == ["Comment number", "Stakeholder", "Section", "Comment",
                                           "Tobacco industry links", HEADER, "Response"]
    rows = _word_rows(buffer.getvalue())
    _expect_declarations(rows, comments, "'" + CHARITY_INTERESTS, "None declared")
    charity = rows[comments["@SUM(A1) and more"].reference]
    assert charity["Tobacco industry links"].startswith("Declared links with, or funding from, the tobacco industry")


def test_the_themed_workbook_shows_both_declarations_on_every_theme_sheet(moderated_consultation):
    consultation, comments = moderated_consultation
    buffer = io.BytesIO()
    services.write_themed_workbook(_items(consultation), ["Evidence gaps", "Safety"], buffer)
    book = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))
    rows = {}
    for name in book.sheetnames[1:]:  # after the summary: a sheet per theme, then comments with no theme
        shown = [["" if value is None else value for value in row] for row in rows_shown(book[name])][1:]
        assert shown[0] == services.THEME_SHEET_COLUMNS
        assert shown[0][shown[0].index("Tobacco industry links") + 1] == HEADER
        rows |= _by_reference(shown)
    _expect_declarations(rows, comments, "'" + CHARITY_INTERESTS, "None declared")
    charity = rows[comments["@SUM(A1) and more"].reference]
    assert charity["Tobacco industry links"].startswith("Declared links with, or funding from, the tobacco industry")


def test_the_word_table_fits_the_page_it_always_did():
    assert len(services.WORD_TABLE_WIDTHS) == len(services.WORD_TABLE_COLUMNS)
    assert sum(services.WORD_TABLE_WIDTHS) == 14_100  # landscape Letter inside 1.5 cm margins, as before


def test_a_blank_declaration_reads_as_none_declared_in_the_word_table(moderated_consultation):
    consultation, comments = moderated_consultation
    charity = comments["@SUM(A1) and more"].participation
    charity.other_interests = "  \n "
    db.session.commit()
    buffer = io.BytesIO()
    services.write_word_table(_items(consultation), buffer, "section", "HTE3001 comments")
    assert _word_rows(buffer.getvalue())[comments["@SUM(A1) and more"].reference][HEADER] == "None declared"


@pytest.mark.parametrize("kind", ["comments.xlsx", "comments.csv", "table.docx"])
def test_a_file_the_worker_prepares_carries_the_declaration(moderated_consultation, kind):
    """Large files are built by the worker with the same builder; the committee's own file has it too."""
    consultation, comments = moderated_consultation
    buffer = io.BytesIO()
    jobs.builder(jobs.DownloadRequest(kind, consultation.id, include_email=False))(buffer)
    data = buffer.getvalue()
    if kind == "comments.xlsx":
        rows = _by_reference(_workbook_rows(data))
    elif kind == "comments.csv":
        rows = _by_reference(_csv_rows(data.decode("utf-8")))
    else:
        rows = _word_rows(data)
    assert rows[comments["@SUM(A1) and more"].reference][HEADER] == "'" + CHARITY_INTERESTS
    assert rows[comments["Please add follow-up data"].reference][HEADER] == PROFESSIONAL_INTERESTS


def _staff_url(consultation, tail: str) -> str:
    return f"/staff/consultations/{consultation.reference}/downloads/{tail}"


def test_the_committee_and_staff_downloads_show_the_declaration(client, login, login_as, committee_member,
                                                                moderated_consultation):
    consultation, comments = moderated_consultation
    charity = comments["@SUM(A1) and more"].reference
    login(committee_member)
    rows = _by_reference(_csv_rows(client.get(_staff_url(consultation, "comments.csv")).get_data(as_text=True)))
    assert "Email address" not in next(iter(rows.values()))
    assert rows[charity][HEADER] == "'" + CHARITY_INTERESTS
    workbook = _by_reference(_workbook_rows(client.get(_staff_url(consultation, "comments.xlsx")).data))
    assert workbook[charity][HEADER] == "'" + CHARITY_INTERESTS
    word = _word_rows(client.get(_staff_url(consultation, "table.docx?group=theme")).data)
    assert word[charity][HEADER] == "'" + CHARITY_INTERESTS
    login_as(Role.STAFF)
    rows = _by_reference(_csv_rows(client.get(_staff_url(consultation, "comments.csv")).get_data(as_text=True)))
    assert rows[charity]["Email address"] == "charity@example.org"
    assert rows[charity][HEADER] == "'" + CHARITY_INTERESTS


def test_the_export_reads_the_declarations_with_its_rows_not_a_statement_per_respondent(moderated_consultation,
                                                                                       make_user,
                                                                                       make_participation):
    from consult.comments import services as comment_services
    from tests.conftest import sections_of

    consultation, _ = moderated_consultation

    def statements_for_csv() -> tuple[int, str]:
        db.session.expire_all()
        with counted_queries() as statements:
            text = "".join(services.comments_csv(_items(consultation, in_respondent_order), True))
        return len(statements), text

    before, _ = statements_for_csv()
    section = sections_of(consultation)["1.1"]
    for n in range(5):
        person = make_participation(make_user(name=f"Extra {n}"), consultation)
        person.other_interests = f"Extra interest {n}"
        comment_services.save_draft(person, comment_services.CommentTargetRef(section.document, section.chapter,
                                                                              section), f"Extra {n}", None, utcnow())
        comment_services.submit_response(person, utcnow())
    db.session.commit()
    after, text = statements_for_csv()
    assert after == before
    assert all(f"Extra interest {n}" in text for n in range(5))


def test_no_public_page_or_file_shows_other_interests(client, login_as, moderated_consultation):
    consultation, comments = moderated_consultation
    consultation.opens_at, consultation.closes_at = utcnow() - timedelta(days=40), utcnow() - timedelta(days=1)
    for body in ("=1+1 looks like a formula", "@SUM(A1) and more", "-Whole document view"):
        comments[body].moderation_state = ModerationState.ACCEPTED
    db.session.commit()
    staff = login_as(Role.STAFF)
    publication.publish_comments(consultation, staff, utcnow(), publication.publication_counts(consultation))
    db.session.commit()

    public = f"/consultations/{consultation.reference}/published-comments"
    page = client.get(public).get_data(as_text=True)
    csv_text = client.get(public + ".csv").get_data(as_text=True)
    xlsx_rows = _workbook_rows(client.get(public + ".xlsx").data)
    # The files do carry the charity's comment and its tobacco declaration, which are published.
    assert "Neuroma Support" in page and "Neuroma Support" in csv_text
    assert "Declared links with, or funding from, the tobacco industry" in csv_text
    assert any(comments["@SUM(A1) and more"].reference in row for row in xlsx_rows)
    assert not any("interest" in heading.lower() for heading in publication.PUBLISHED_COLUMNS)
    for shown in (page, csv_text, str(xlsx_rows)):
        assert "Acme Orthotics" not in shown
        assert "StepWell" not in shown
        assert "Other interests" not in shown
