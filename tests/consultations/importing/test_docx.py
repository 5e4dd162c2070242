"""Word drafts: headings become chapters, numbered paragraphs become sections."""

import io
import re
import zipfile
from dataclasses import replace

import docx
import pytest
from docx.oxml import OxmlElement
from docx.oxml.ns import qn

from consult.consultations.importing import (
    DocumentFormatError,
    ParsedDocument,
    check_upload,
    parse_document,
    parse_docx,
    parse_upload,
)
from tests.consultations.importing.test_text import (
    GUIDANCE,
    GUIDANCE_CHAPTERS,
    GUIDANCE_HEADINGS,
    GUIDANCE_TITLE,
    UPDATE_BODY,
)


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


# --- The NICE guidance seed written in Word without sub-heading styles -------------------------

_SEED_LINK = re.compile(r"\[(?P<text>[^\]]*)\]\([^)]*\)")
_SEED_NUMBERED = re.compile(r"^- (?P<number>\d+\.\d+) (?P<text>.+)$")
_SEED_CHAPTERS = {title for number, title in GUIDANCE_CHAPTERS} | {
    f"{number} {title}" for number, title in GUIDANCE_CHAPTERS if number}
_SUB_HEADINGS = set(GUIDANCE_HEADINGS.values())


def seed_as_word(numbers: str, sub_headings: str, chapters: str = "heading") -> bytes:
    """The guidance seed as Word users often write it: sub-headings in the Normal style, plain or bold.

    `numbers` is "list" (the List Number style, no number typed) or "typed"; `chapters` is "heading"
    (Heading 1) or "plain" (typed "1 Recommendations" in the Normal style). Links keep their words, and
    the contents table is a Word table.
    """
    lines = [_SEED_LINK.sub(r"\g<text>", line.strip()) for line in GUIDANCE.read_text(encoding="utf-8").splitlines()]
    lines = [line for line in lines if line]
    document = docx.Document()
    document.add_paragraph(lines[0], style="Title" if chapters == "heading" else None)
    rows: list[list[str]] = []
    for index, line in enumerate(lines[1:], start=1):
        if line.startswith("|"):
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            if not all(set(cell) <= set("-: ") for cell in cells):
                rows.append(cells)
            if not lines[index + 1].startswith("|"):
                table = document.add_table(rows=len(rows), cols=2)
                for row, cells in enumerate(rows):
                    table.cell(row, 0).text, table.cell(row, 1).text = cells
                rows = []
            continue
        numbered = _SEED_NUMBERED.match(line)
        if numbered and numbers == "list":
            document.add_paragraph(numbered["text"], style="List Number")
        elif numbered:
            document.add_paragraph(f"{numbered['number']} {numbered['text']}")
        elif line in _SEED_CHAPTERS and chapters == "heading":
            document.add_heading(line, 1)
        elif line in _SUB_HEADINGS and sub_headings == "bold":
            document.add_paragraph().add_run(line).bold = True
        else:
            document.add_paragraph(line)
    return docx_bytes(document)


@pytest.fixture(scope="module")
def guidance_as_text() -> ParsedDocument:
    return parse_document(GUIDANCE.read_text(encoding="utf-8"))


def _sections(parsed: ParsedDocument) -> list[tuple[str, str | None, str]]:
    return [(s.number, s.heading, s.text) for c in parsed.chapters for s in c.sections]


WORD_LAYOUTS = [
    pytest.param("list", "plain", "heading", id="list-numbers-plain-sub-headings"),
    pytest.param("list", "bold", "heading", id="list-numbers-bold-sub-headings"),
    pytest.param("typed", "plain", "heading", id="typed-numbers-plain-sub-headings"),
    pytest.param("typed", "bold", "heading", id="typed-numbers-bold-sub-headings"),
    pytest.param("typed", "bold", "plain", id="no-heading-styles-bold-sub-headings"),
]


@pytest.mark.parametrize(("numbers", "sub_headings", "chapters"), WORD_LAYOUTS)
def test_the_guidance_in_word_without_sub_heading_styles_imports_as_its_text_does(
        guidance_as_text, numbers, sub_headings, chapters):
    """A sub-heading in the Normal style ran into the section before it ("...none was received. Committee
    comments") or became a chapter's introduction, and the preview said nothing about it."""
    upload = check_upload("HTG652.docx", io.BytesIO(seed_as_word(numbers, sub_headings, chapters)))

    parsed = parse_upload(upload)

    sections = {number: text for number, _, text in _sections(parsed)}
    assert sections["3.4"] == "Patient commentary was sought but none was received."
    assert sections["2.4"].endswith("If symptoms persist, the affected nerve can be surgically removed.")
    assert sections["1.1"].endswith("Find out only in research means on the NICE guidance page.")
    assert {number: heading for number, heading, _ in _sections(parsed)} == GUIDANCE_HEADINGS
    assert _sections(parsed) == _sections(guidance_as_text)
    assert [(c.number, c.title) for c in parsed.chapters] == GUIDANCE_CHAPTERS
    assert [c.body for c in parsed.chapters] == [c.body for c in guidance_as_text.chapters]
    assert parsed.chapters[-1].body == UPDATE_BODY


@pytest.mark.parametrize(("numbers", "sub_headings", "chapters"), WORD_LAYOUTS)
def test_no_sub_heading_of_the_guidance_in_word_is_lost_or_repeated(numbers, sub_headings, chapters):
    parsed = parse_docx(seed_as_word(numbers, sub_headings, chapters))

    paragraphs = [paragraph.strip("*") for text in [c.body for c in parsed.chapters] + [
        text for _, _, text in _sections(parsed)] for paragraph in text.split("\n\n")]
    assert not _SUB_HEADINGS & set(paragraphs)
    assert not any(block.text in _SUB_HEADINGS for block in parsed.skipped)
    assert parsed.title == GUIDANCE_TITLE
    assert "This guidance replaces IPG747." in [block.text for block in parsed.skipped]


def _draft_with(*after_last_section) -> bytes:
    """A Heading 1 draft whose chapter 1 ends with the given Normal paragraphs (text, bold)."""
    document = docx.Document()
    document.add_paragraph("Stray headings", style="Title")
    document.add_heading("1 Recommendations", 1)
    document.add_paragraph("The evidence")
    document.add_paragraph("1.1 Patient commentary was sought but none was received.")
    for text, bold in after_last_section:
        document.add_paragraph().add_run(text).bold = bold
    document.add_heading("2 The procedure", 1)
    document.add_paragraph("2.1 A probe is used.")
    return docx_bytes(document)


@pytest.mark.parametrize("stray", [
    pytest.param([("Committee comments", False)], id="plain-line-heading-nothing"),
    pytest.param([("Committee comments", True)], id="bold-line-heading-nothing"),
    pytest.param([("Committee comments", True), ("The committee noted the small studies.", False)],
                 id="bold-line-heading-unnumbered-text"),
])
def test_a_sub_heading_with_no_numbered_paragraph_to_head_is_listed_not_run_into_the_section_before(stray):
    parsed = parse_docx(_draft_with(*stray))

    [section] = parsed.chapters[0].sections
    assert (section.heading, section.text.split("\n\n")[0]) == (
        "The evidence", "Patient commentary was sought but none was received.")
    assert "Committee comments" not in section.text
    [left_out] = [block for block in parsed.skipped if block.text == "Committee comments"]
    assert left_out.includable
    assert "no numbered paragraph" in left_out.reason and "1.1" in left_out.reason
    assert [s.number for c in parsed.chapters for s in c.sections] == ["1.1", "2.1"]


def test_short_text_that_does_not_read_as_a_heading_stays_in_its_section():
    parsed = parse_docx(_draft_with(("Do not use it in children.", True), ("Ask the patient first", False),
                                    ("and record their answer.", False)))

    [section] = parsed.chapters[0].sections
    assert section.text == ("Patient commentary was sought but none was received.\n\n**Do not use it in children.**"
                            "\n\nAsk the patient first\n\nand record their answer.")
    assert [block.text for block in parsed.skipped] == []


def test_a_document_with_sub_heading_styles_keeps_its_normal_lines_as_text():
    """Where the author styles sub-headings, a Normal line before a numbered paragraph is not taken for one."""
    document = docx.Document()
    document.add_heading("1 Recommendations", 1)
    document.add_heading("More research is needed", 2)
    document.add_paragraph("1.1 Use this procedure only in research.")
    document.add_paragraph("See the research page")
    document.add_paragraph("1.2 Studies should report quality of life.")

    parsed = parse_docx(docx_bytes(document))

    assert _sections(parsed) == [
        ("1.1", "More research is needed", "Use this procedure only in research.\n\nSee the research page"),
        ("1.2", "More research is needed", "Studies should report quality of life."),
    ]
    assert parsed.skipped == ()
