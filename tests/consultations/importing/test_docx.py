"""Word drafts: headings become chapters, numbered paragraphs become sections."""

import io
import zipfile
from dataclasses import replace

import docx
import pytest
from docx.oxml import OxmlElement
from docx.oxml.ns import qn

from consult.consultations.importing import DocumentFormatError, ParsedDocument, parse_document, parse_docx


def shape(document: ParsedDocument) -> list[tuple]:
    return [(c.number, c.title, [(s.number, s.heading, s.text) for s in c.sections]) for c in document.chapters]


def docx_bytes(document) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def guidance_docx() -> bytes:
    """A small draft laid out as NICE writes them: title, front matter, numbered chapters and paragraphs."""
    document = docx.Document()
    document.add_paragraph("Cryoablation for neuroma pain", style="Title")
    document.add_paragraph("Draft guidance for consultation")
    document.add_paragraph("Contents")
    document.add_heading("1 Recommendations", 1)
    document.add_heading("More research is needed", 2)
    document.add_paragraph("1.1 Use this procedure only in research.")
    document.add_paragraph("Find out more about research.")
    document.add_heading("What research is needed", 3)
    document.add_paragraph("1.2 Studies should report quality of life.")
    document.add_heading("2 The procedure", 1)
    document.add_paragraph("2.1 A probe is passed through the skin.")
    document.add_paragraph("2.2 The nerve is frozen.")
    document.add_heading("Update information", 1)
    document.add_paragraph("Minor changes since publication.")
    return docx_bytes(document)


def test_headings_and_typed_numbers_become_exact_chapters_and_sections():
    parsed = parse_docx(guidance_docx())

    assert parsed.title == "Cryoablation for neuroma pain"
    assert parsed.numbers_generated is False
    assert shape(parsed) == [
        ("1", "Recommendations", [
            ("1.1", "More research is needed",
             "Use this procedure only in research.\n\nFind out more about research."),
            ("1.2", "What research is needed", "Studies should report quality of life."),
        ]),
        ("2", "The procedure", [
            ("2.1", None, "A probe is passed through the skin."),
            ("2.2", None, "The nerve is frozen."),
        ]),
        (None, "Update information", []),
    ]
    assert parsed.chapters[2].body == "Minor changes since publication."


def test_front_matter_before_the_first_chapter_is_left_out():
    parsed = parse_docx(guidance_docx())
    everything = " ".join(
        [c.body for c in parsed.chapters] + [s.text for c in parsed.chapters for s in c.sections])
    assert "Draft guidance for consultation" not in everything
    assert "Contents" not in everything


def test_word_list_numbering_gives_chapter_dot_n():
    document = docx.Document()
    document.add_paragraph("Listed draft", style="Title")
    document.add_heading("1 Recommendations", 1)
    document.add_paragraph("Only in research.", style="List Number")
    document.add_paragraph("Report outcomes.", style="List Number")
    document.add_heading("2 The procedure", 1)
    document.add_heading("How it is done", 2)
    document.add_paragraph("A probe is used.", style="List Number")

    parsed = parse_docx(docx_bytes(document))

    assert parsed.numbers_generated is False
    assert shape(parsed) == [
        ("1", "Recommendations", [("1.1", None, "Only in research."), ("1.2", None, "Report outcomes.")]),
        ("2", "The procedure", [("2.1", "How it is done", "A probe is used.")]),
    ]


def _number_paragraph(paragraph, num_id: int, level: int = 0) -> None:
    """Put a paragraph in a Word list directly (numPr on the paragraph, not via its style)."""
    properties = paragraph._p.get_or_add_pPr()
    numbering = OxmlElement("w:numPr")
    ilvl = OxmlElement("w:ilvl")
    ilvl.set(qn("w:val"), str(level))
    num = OxmlElement("w:numId")
    num.set(qn("w:val"), str(num_id))
    numbering.append(ilvl)
    numbering.append(num)
    properties.append(numbering)


def _add_multilevel_list(document) -> int:
    """A Word list whose first level is numbered 1, 2, 3 and whose second is lettered a, b, c."""
    numbering = document.part.numbering_part.element
    abstract = OxmlElement("w:abstractNum")
    abstract.set(qn("w:abstractNumId"), "90")
    for level, number_format in ((0, "decimal"), (1, "lowerLetter")):
        definition = OxmlElement("w:lvl")
        definition.set(qn("w:ilvl"), str(level))
        shown = OxmlElement("w:numFmt")
        shown.set(qn("w:val"), number_format)
        definition.append(shown)
        abstract.append(definition)
    numbering.insert(0, abstract)
    num = OxmlElement("w:num")
    num.set(qn("w:numId"), "90")
    reference = OxmlElement("w:abstractNumId")
    reference.set(qn("w:val"), "90")
    num.append(reference)
    numbering.append(num)
    return 90


def test_numbering_set_on_the_paragraph_itself_counts_and_numbered_headings_take_the_next_chapter():
    document = docx.Document()
    list_number = _add_multilevel_list(document)
    document.add_paragraph("Direct numbering", style="Title")
    heading = document.add_heading("Recommendations", 1)
    _number_paragraph(heading, list_number)
    first = document.add_paragraph("First recommendation.")
    _number_paragraph(first, list_number)
    nested = document.add_paragraph("A sub-point of the first.")
    _number_paragraph(nested, list_number, level=1)
    second = document.add_paragraph("Second recommendation.")
    _number_paragraph(second, list_number)

    parsed = parse_docx(docx_bytes(document))

    assert shape(parsed) == [
        ("1", "Recommendations", [
            ("1.1", None, "First recommendation.\n- A sub-point of the first."),
            ("1.2", None, "Second recommendation."),
        ]),
    ]


def test_bullets_stay_in_the_paragraph_they_follow():
    document = docx.Document()
    document.add_heading("1 Recommendations", 1)
    document.add_paragraph("1.1 Tell people about:")
    document.add_paragraph("the risks", style="List Bullet")
    document.add_paragraph("the benefits", style="List Bullet")
    document.add_paragraph("1.2 Audit the results.")

    parsed = parse_docx(docx_bytes(document))

    assert [(s.number, s.text) for s in parsed.chapters[0].sections] == [
        ("1.1", "Tell people about:\n- the risks\n- the benefits"),
        ("1.2", "Audit the results."),
    ]


def test_a_docx_without_numbers_gets_generated_numbers():
    document = docx.Document()
    document.add_paragraph("Morton's neuroma", style="Title")
    document.add_heading("Symptoms", 1)
    document.add_paragraph("Pain between the toes.")
    document.add_paragraph("It feels like a stone in the shoe.")
    document.add_heading("Treatment", 1)
    document.add_heading("Things to try first", 2)
    document.add_paragraph("Wider shoes and insoles.")

    parsed = parse_docx(docx_bytes(document))

    assert parsed.numbers_generated is True
    assert shape(parsed) == [
        ("1", "Symptoms", [("1.1", None, "Pain between the toes."),
                           ("1.2", None, "It feels like a stone in the shoe.")]),
        ("2", "Treatment", [("2.1", "Things to try first", "Wider shoes and insoles.")]),
    ]


def test_same_structure_as_the_markdown_importer():
    markdown = parse_document(
        "# Cryoablation for neuroma pain\n\n## 1 Recommendations\n\n### More research is needed\n\n"
        "1.1 Use this procedure only in research.\n\nFind out more about research.\n\n"
        "### What research is needed\n\n1.2 Studies should report quality of life.\n\n"
        "## 2 The procedure\n\n2.1 A probe is passed through the skin.\n\n2.2 The nerve is frozen.\n\n"
        "## Update information\n\nMinor changes since publication.\n"
    )
    parsed = parse_docx(guidance_docx())
    assert replace(parsed, skipped=()) == markdown
    # Word has no blank lines to group by, so each paragraph of front matter is listed on its own.
    assert [block.text for block in parsed.skipped] == ["Draft guidance for consultation", "Contents"]


def test_a_docx_with_no_heading_styles_is_read_as_plain_text():
    document = docx.Document()
    for text in ["Plain draft", "Front page text", "1 Recommendations", "1.1 Use it in research.",
                 "2 The procedure", "2.1 A probe is used.", "2.2 It can be repeated."]:
        document.add_paragraph(text)

    parsed = parse_docx(docx_bytes(document))

    assert parsed.title == "Plain draft"
    assert [(c.number, c.title, [s.number for s in c.sections]) for c in parsed.chapters] == [
        ("1", "Recommendations", ["1.1"]), ("2", "The procedure", ["2.1", "2.2"])]


def test_table_rows_are_kept_as_text():
    document = docx.Document()
    document.add_heading("1 Evidence", 1)
    document.add_paragraph("1.1 The studies were:")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Study", "Patients"
    table.cell(1, 0).text, table.cell(1, 1).text = "Case series", "20"

    parsed = parse_docx(docx_bytes(document))

    assert parsed.chapters[0].sections[0].text == "The studies were:\n\nStudy | Patients\n\nCase series | 20"


def test_a_repeated_number_is_reported_by_paragraph():
    document = docx.Document()
    document.add_heading("1 Recommendations", 1)
    document.add_paragraph("1.1 First.")
    document.add_paragraph("1.1 Again.")

    with pytest.raises(DocumentFormatError, match=r"Section 1\.1 appears twice \(paragraphs 2 and 3"):
        parse_docx(docx_bytes(document))


def test_a_number_that_steps_back_a_chapter_is_reported():
    document = docx.Document()
    document.add_heading("1 Recommendations", 1)
    document.add_paragraph("1.1 First.")
    document.add_heading("2 The procedure", 1)
    document.add_paragraph("1.2 Misplaced.")

    with pytest.raises(DocumentFormatError, match=r"Section 1\.2 .* comes after chapter 2 has started"):
        parse_docx(docx_bytes(document))


def test_an_empty_document_is_refused():
    with pytest.raises(DocumentFormatError, match="No chapters or paragraphs"):
        parse_docx(docx_bytes(docx.Document()))


def test_a_document_with_broken_xml_is_refused_clearly():
    source = zipfile.ZipFile(io.BytesIO(guidance_docx()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as broken:
        for item in source.infolist():
            data = source.read(item)
            broken.writestr(item, b"<w:document><unclosed>" if item.filename == "word/document.xml" else data)

    with pytest.raises(DocumentFormatError, match="could not be read: it may be damaged"):
        parse_docx(buffer.getvalue())


def test_bold_words_in_body_text_are_kept_as_bold_and_a_bold_number_stays_a_number():
    """Word bold was dropped: a draft's emphasis ('must not') read as plain text on every page."""
    document = docx.Document()
    document.add_heading("1 Recommendations", 1)
    first = document.add_paragraph("1.1 The procedure ")
    first.add_run("must not").bold = True
    first.add_run(" be used outside research.")
    numbered_in_bold = document.add_paragraph()
    numbered_in_bold.add_run("1.2 Offer").bold = True
    numbered_in_bold.add_run(" follow-up at 6 months.")
    number_alone_bold = document.add_paragraph()
    number_alone_bold.add_run("1.3").bold = True
    number_alone_bold.add_run(" Record ")
    number_alone_bold.add_run("every").bold = True
    number_alone_bold.add_run(" ")
    number_alone_bold.add_run("outcome").bold = True
    number_alone_bold.add_run(".")
    spaced = document.add_paragraph("1.4 Keep ")
    spaced.add_run(" this ").bold = True
    spaced.add_run("apart.")

    [chapter] = parse_docx(docx_bytes(document)).chapters

    assert chapter.title == "Recommendations"  # a heading is bold by its style, and has no marks
    assert [(s.number, s.text) for s in chapter.sections] == [
        ("1.1", "The procedure **must not** be used outside research."),
        ("1.2", "**Offer** follow-up at 6 months."),
        ("1.3", "Record **every** **outcome**."),
        ("1.4", "Keep **this** apart."),
    ]
