"""The Word table streamed as WordprocessingML: read back with python-docx, answers after comments, any text."""

import io
import time
import tracemalloc
import zipfile

from docx import Document as WordDocument

from consult.comments import services as comment_services
from consult.database import utcnow
from consult.exports import services
from consult.exports.rows import ExportItem, export_comments, in_document_order, publishable
from consult.exports.wordml import xml_text
from consult.extensions import db
from consult.questions import services as question_services
from consult.questions.exports import export_answers
from tests.conftest import new_participation, new_user, sections_of
from tests.exports.conftest import all_comments_of
from tests.questions.conftest import EVIDENCE, IMPACT, asking, staff_user  # noqa: F401  shared fixtures


def _item(number: int, body: str, themes: tuple[str, ...] = (), section: str = "1.1") -> ExportItem:
    return ExportItem(
        comment_id=number, reference=f"HTE9-{number:04d}", consultation_reference="HTE9", document_title="Draft",
        chapter_label="1 Recommendations", section_id=1, section_number=section, section_heading="Heading",
        target_label=f"Section {section}", quote="", body=body, moderation_label="Accepted",
        stakeholder="Pat Named", email="pat@example.org", is_organisation=False, organisation_name="",
        participant_type="Individual (patient or carer)", has_tobacco_links=False, tobacco_details="",
        other_interests="", submitted_at=utcnow(), themes=themes, number=number)


def _tables(data: bytes) -> list[list[list[str]]]:
    document = WordDocument(io.BytesIO(data))
    return [[[cell.text for cell in row.cells] for row in table.rows] for table in document.tables]


def test_the_word_table_carries_the_answers_after_the_comments(asking):  # noqa: F811
    consultation, yes_no, open_question = asking
    person = new_participation(new_user(name="Ann Answerer"), consultation)
    question_services.save_answer(person, yes_no, False, "=Trials after 2020 are missing.", utcnow())
    question_services.save_answer(person, open_question, None, "Longer waits", utcnow())
    section = sections_of(consultation)["2.1"]
    comment_services.save_draft(person, comment_services.CommentTargetRef(section.document, section.chapter,
                                                                          section), "A comment", None, utcnow())
    comment_services.submit_response(person, utcnow())
    db.session.commit()

    buffer = io.BytesIO()
    items = export_comments(in_document_order(publishable(all_comments_of(consultation))))
    assert services.write_word_table(items, buffer, "section", "Title", None, export_answers(consultation.id)) == 1
    document = WordDocument(io.BytesIO(buffer.getvalue()))
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 2"]
    assert headings[-1] == "Answers to the consultation questions"
    comments, answers = _tables(buffer.getvalue())
    assert comments[1][3] == "A comment"
    assert answers == [["Question", "Stakeholder", "Yes/No", "Answer"],
                       [EVIDENCE, "Individual (patient or carer)", "No", "'=Trials after 2020 are missing."],
                       [IMPACT, "Individual (patient or carer)", "", "Longer waits"]]


def test_unanswered_questions_leave_no_rows_in_the_word_table(asking):  # noqa: F811
    consultation, yes_no, open_question = asking
    person = new_participation(new_user(name="Ann Answerer"), consultation)
    question_services.save_answer(person, open_question, None, "Longer waits", utcnow())
    silent = new_participation(new_user(name="Sam Silent"), consultation)
    section = sections_of(consultation)["2.1"]
    for participation in (person, silent):
        comment_services.save_draft(participation, comment_services.CommentTargetRef(
            section.document, section.chapter, section), "A comment", None, utcnow())
        comment_services.submit_response(participation, utcnow())
    db.session.commit()

    buffer = io.BytesIO()
    items = export_comments(in_document_order(publishable(all_comments_of(consultation))))
    services.write_word_table(items, buffer, "section", "Title", None, export_answers(consultation.id))
    _, answers = _tables(buffer.getvalue())
    assert answers == [["Question", "Stakeholder", "Yes/No", "Answer"],
                       [IMPACT, "Individual (patient or carer)", "", "Longer waits"]]


def test_no_answers_no_answer_section(moderated_consultation):
    consultation, _ = moderated_consultation
    buffer = io.BytesIO()
    services.write_word_table(export_comments(in_document_order(publishable(all_comments_of(consultation)))),
                              buffer, "theme", "Title", None, ())
    headings = [p.text for p in WordDocument(io.BytesIO(buffer.getvalue())).paragraphs
                if p.style.name == "Heading 2"]
    assert "Answers to the consultation questions" not in headings


def test_any_text_survives_escaped_line_breaks_kept_and_forbidden_characters_dropped():
    awkward = "Tom & Jerry <b>bold</b> \"quoted\" ]]> first line\nsecond\ttabbed\x00\x0b\x1f\ufffe end \U0001F600"
    buffer = io.BytesIO()
    services.write_word_table([_item(1, awkward)], buffer, "section", "A & B <title>")
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as archive:
        assert archive.testzip() is None
    document = WordDocument(io.BytesIO(buffer.getvalue()))
    assert document.paragraphs[0].text == "A & B <title>" and document.paragraphs[0].style.name == "Heading 1"
    [[header, row]] = _tables(buffer.getvalue())
    assert row[3] == "Tom & Jerry <b>bold</b> \"quoted\" ]]> first line\nsecond\ttabbed end \U0001F600"
    assert xml_text("\x01a\ud800b") == "ab"


def test_a_comment_in_several_themes_is_in_each_themes_table_and_rows_keep_their_order():
    items = [_item(n, f"Comment {n}", themes=("Beta", "Alpha") if n % 2 else ("Alpha",)) for n in range(1, 7)]
    items.append(_item(7, "No theme at all"))
    buffer = io.BytesIO()
    assert services.write_word_table(items, buffer, "theme", "Title", {"Beta": "Mostly odd ones"}) == 7
    document = WordDocument(io.BytesIO(buffer.getvalue()))
    assert [p.text for p in document.paragraphs if p.style.name == "Heading 2"] == ["Alpha", "Beta", "No theme"]
    assert "Summary: Mostly odd ones" in [p.text for p in document.paragraphs]
    alpha, beta, none = _tables(buffer.getvalue())
    assert [row[0] for row in alpha[1:]] == [f"HTE9-{n:04d}" for n in range(1, 7)]
    assert [row[0] for row in beta[1:]] == ["HTE9-0001", "HTE9-0003", "HTE9-0005"]
    assert [row[0] for row in none[1:]] == ["HTE9-0007"]


def test_twenty_thousand_rows_are_quick_and_read_back(tmp_path):
    """The streaming is what makes 100,000 rows fit in 20 s (bench/exports.py measures that); here a fifth."""
    body = "The evidence on pain relief needs longer follow-up. " * 4
    items = (_item(n, body, section=f"1.{n % 60}") for n in range(1, 20_001))
    started = time.perf_counter()
    with open(tmp_path / "table.docx", "wb") as handle:
        services.write_word_table(items, handle, "section", "Title")
    assert time.perf_counter() - started < 15
    document = WordDocument(str(tmp_path / "table.docx"))
    assert sum(len(table.rows) - 1 for table in document.tables) == 20_000


def test_memory_does_not_grow_with_the_rows(tmp_path):
    body = "The evidence on pain relief needs longer follow-up. " * 4

    def peak(rows: int) -> int:
        tracemalloc.start()
        with open(tmp_path / f"{rows}.docx", "wb") as handle:
            services.write_word_table((_item(n, body, ("A", "B")) for n in range(1, rows + 1)), handle, "theme", "T")
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top

    small, large = peak(500), peak(5_000)
    # Ten times the rows: only the two offsets per row and theme grow (tens of kilobytes), not the rows.
    assert large - small < 1024 * 1024, (small, large)
