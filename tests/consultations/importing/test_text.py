import re
from dataclasses import replace
from pathlib import Path

import pytest

from consult.consultations.importing import (
    DocumentFormatError,
    ParsedDocument,
    ParsedSection,
    parse_document,
    with_introduction,
)

SEEDS = Path(__file__).resolve().parents[4] / "shared" / "seeds"
GUIDANCE = SEEDS / "001_50bef06c426fe4d5.txt"
LAY_PAGE = SEEDS / "002_f694aaa8ab680e36.txt"

GUIDANCE_TITLE = "Percutaneous image-guided cryoablation of peripheral neuroma for chronic pain"
GUIDANCE_CHAPTERS = [
    ("1", "Recommendations"),
    ("2", "The condition, current treatments and procedure"),
    ("3", "Committee considerations"),
    (None, "Update information"),
]
GUIDANCE_HEADINGS = {
    "1.1": "More research is needed",
    "1.2": "What research is needed",
    "2.1": "The condition",
    "2.2": "The condition",
    "2.3": "Current treatments",
    "2.4": "Current treatments",
    "2.5": "The procedure",
    "2.6": "The procedure",
    "3.1": "The evidence",
    "3.2": "The evidence",
    "3.3": "The evidence",
    "3.4": "The evidence",
    "3.5": "Committee comments",
}
UPDATE_BODY = (
    "Minor changes since publication\n\n"
    "January 2026: Interventional procedures guidance 747 has been migrated to HealthTech "
    "guidance 652. The recommendations and accompanying content remain unchanged.\n\n"
    "ISBN: 978-1-4731-8560-9\n\n"
    "Endorsing organisation\n\n"
    "This guidance has been endorsed by Healthcare Improvement Scotland."
)


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def words(text: str) -> list[str]:
    """Compare text by its words only, ignoring link markup, spacing and punctuation."""
    text = re.sub(r"\]\([^)]*\)", " ", text).replace("[", " ")
    return re.findall(r"[\w'’?-]+", text.casefold())


def contains(haystack: list[str], needle: list[str]) -> bool:
    starts = range(len(haystack) - len(needle) + 1)
    return any(haystack[i : i + len(needle)] == needle for i in starts)


def all_sections(document: ParsedDocument) -> list[ParsedSection]:
    return [section for chapter in document.chapters for section in chapter.sections]


def shape(document: ParsedDocument) -> list[tuple[str | None, str, list[str]]]:
    return [
        (chapter.number, chapter.title, [section.number for section in chapter.sections])
        for chapter in document.chapters
    ]


@pytest.fixture(scope="module")
def guidance() -> ParsedDocument:
    return parse_document(read(GUIDANCE))


# The NICE guidance document (HTG652)


def test_guidance_title_and_chapters(guidance: ParsedDocument) -> None:
    assert guidance.title == GUIDANCE_TITLE
    assert [(c.number, c.title) for c in guidance.chapters] == GUIDANCE_CHAPTERS
    assert guidance.numbers_generated is False


def test_guidance_section_numbers_in_order(guidance: ParsedDocument) -> None:
    assert shape(guidance) == [
        ("1", "Recommendations", ["1.1", "1.2"]),
        ("2", "The condition, current treatments and procedure", [f"2.{n}" for n in range(1, 7)]),
        ("3", "Committee considerations", [f"3.{n}" for n in range(1, 6)]),
        (None, "Update information", []),
    ]


def test_guidance_section_headings(guidance: ParsedDocument) -> None:
    assert {s.number: s.heading for s in all_sections(guidance)} == GUIDANCE_HEADINGS


def test_guidance_numbered_chapters_have_no_body(guidance: ParsedDocument) -> None:
    assert [c.body for c in guidance.chapters[:3]] == ["", "", ""]


def test_guidance_section_text_is_complete_and_flattened(guidance: ParsedDocument) -> None:
    text = {s.number: s.text for s in all_sections(guidance)}["2.5"]
    assert text.startswith(
        "Image-guided cryoablation of a peripheral neuroma for chronic pain is a percutaneous"
    )
    assert text.endswith("The procedure can be repeated if necessary.")
    assert "[" not in text and "](#)" not in text
    assert not text.startswith(("-", "2.5"))


def test_guidance_link_placeholders_become_plain_text(guidance: ParsedDocument) -> None:
    sections = {s.number: s.text for s in all_sections(guidance)}
    assert sections["1.1"].endswith("Find out only in research means on the NICE guidance page.")
    assert "NICE's guideline on neuropathic pain in adults describes" in sections["2.3"]
    for section in all_sections(guidance):
        assert "](" not in section.text and "[" not in section.text


def test_every_numbered_paragraph_appears_in_exactly_one_section(guidance: ParsedDocument) -> None:
    raw = read(GUIDANCE)
    expected = re.findall(r"^(?:- )?(\d+\.\d+) (.+)$", raw, flags=re.MULTILINE)
    assert len(expected) == 13
    assert [s.number for s in all_sections(guidance)] == [number for number, _ in expected]
    for number, paragraph in expected:
        holders = [
            s.number for s in all_sections(guidance) if contains(words(s.text), words(paragraph))
        ]
        assert holders == [number]
        assert not re.match(r"[-\d]", {s.number: s.text for s in all_sections(guidance)}[number])


def test_front_matter_is_not_imported(guidance: ParsedDocument) -> None:
    everything = "\n".join(
        [c.title for c in guidance.chapters]
        + [c.body for c in guidance.chapters]
        + [s.text for s in all_sections(guidance)]
        + [s.heading or "" for s in all_sections(guidance)]
    )
    for front_matter in (
        "Your responsibility",
        "Contents",
        "This guidance replaces IPG747",
        "Yellow Card Scheme",
        "Published: 4 January 2023",
        "HealthTech guidance\n",
        "www.nice.org.uk",
        "|",
        ".....",
    ):
        assert front_matter not in everything


def test_the_front_matter_left_out_is_listed_with_the_reason(guidance: ParsedDocument) -> None:
    texts = [block.text for block in guidance.skipped]
    assert "Your responsibility" in texts
    assert "This guidance replaces IPG747." in texts
    assert "Published: 4 January 2023" in texts
    assert GUIDANCE_TITLE not in texts  # the title is used, not left out
    [contents] = [block for block in guidance.skipped if not block.includable]
    assert contents.text.startswith("|") and "1 Recommendations" in contents.text
    assert "contents table" in contents.reason
    assert all("before the first chapter" in block.reason for block in guidance.skipped if block.includable)


def test_chosen_front_matter_becomes_an_unnumbered_introduction(guidance: ParsedDocument) -> None:
    texts = [block.text for block in guidance.skipped]
    chosen = [texts.index("This guidance replaces IPG747."), texts.index("Your responsibility")]
    contents_index = next(i for i, block in enumerate(guidance.skipped) if not block.includable)

    document = with_introduction(guidance, chosen + [contents_index])

    introduction = document.chapters[0]
    assert (introduction.number, introduction.title, introduction.sections) == (None, "Introduction", ())
    assert introduction.body == "Your responsibility\n\nThis guidance replaces IPG747."  # in the file's order
    assert document.chapters[1:] == guidance.chapters
    assert "This guidance replaces IPG747." not in [block.text for block in document.skipped]
    assert with_introduction(guidance, []) == guidance
    assert with_introduction(guidance, [contents_index]) == guidance  # a contents table is never included


def test_update_information_body_keeps_everything(guidance: ParsedDocument) -> None:
    update = guidance.chapters[-1]
    assert update.body == UPDATE_BODY
    assert update.sections == ()


def test_guidance_without_contents_table_gives_same_result(guidance: ParsedDocument) -> None:
    lines = read(GUIDANCE).splitlines()
    without_table = "\n".join(line for line in lines if not line.startswith("|"))
    assert replace(parse_document(without_table), skipped=()) == replace(guidance, skipped=())


def test_contents_table_rejects_a_numbered_line_in_the_front_matter() -> None:
    text = (
        "Draft title\n\n1 January 2026\n\nContents\n\n| 1 Recommendations | 2 |\n\n"
        "1 Recommendations\n\n1.1 Only this is imported.\n"
    )
    document = parse_document(text)
    assert shape(document) == [("1", "Recommendations", ["1.1"])]
    assert document.chapters[0].body == ""
    assert all_sections(document)[0].text == "Only this is imported."


def test_crlf_bom_and_odd_spacing_give_same_result(guidance: ParsedDocument) -> None:
    raw = read(GUIDANCE)
    messy = "\ufeff" + raw.replace("\n", "  \t\r\n").replace("- 2.5 ", "-\t2.5\u00a0")
    assert "\r\n" in messy
    assert parse_document(messy) == guidance


def test_wrapped_plain_text_paragraphs_are_joined() -> None:
    text = (
        "Draft title\n\n"
        "1 Recommendations\n\n"
        "1.1 The first recommendation wraps\n"
        "onto a second line and mentions a dose of\n"
        "2.5 mg daily.\n"
        "1.2 The second recommendation.\n\n"
        "6 case series were included in the evidence and this line is long enough to be text\n\n"
        "2 Evidence\n\n"
        "2.1 Evidence text.\n\n"
        "3 case series\n\n"
        "2.2 More evidence.\n"
    )
    document = parse_document(text)
    assert shape(document) == [
        ("1", "Recommendations", ["1.1", "1.2"]),
        ("2", "Evidence", ["2.1", "2.2"]),
    ]
    sections = {s.number: s.text for s in all_sections(document)}
    assert sections["1.1"] == (
        "The first recommendation wraps onto a second line and mentions a dose of 2.5 mg daily."
    )
    assert sections["1.2"] == (
        "The second recommendation.\n\n"
        "6 case series were included in the evidence and this line is long enough to be text"
    )
    assert sections["2.1"] == "Evidence text.\n\n3 case series"


# The Markdown variant

MARKDOWN = """\
# Draft guidance on a made-up procedure

This front matter is not part of the consultation.

## 1 Recommendations
### More research is needed
1.1 Evidence on the procedure is limited, so it
should only be used in research. See [the research page](#).

- 1.2 Clinicians should [report outcomes](https://example.org/register) to the register.

This note carries on from 1.2.
## 2 The condition
Chapter introduction before any numbered paragraph.

### The condition
2.1 Neuromas are thickenings of nerve tissue.
2.2 They can cause chronic pain.
### The procedure
2.3 A probe freezes the nerve.
## Update information
### Minor changes since publication
Wording updated in January 2026.
"""


def test_markdown_variant() -> None:
    document = parse_document(MARKDOWN)
    assert document.title == "Draft guidance on a made-up procedure"
    assert document.numbers_generated is False
    assert shape(document) == [
        ("1", "Recommendations", ["1.1", "1.2"]),
        ("2", "The condition", ["2.1", "2.2", "2.3"]),
        (None, "Update information", []),
    ]
    sections = {s.number: s for s in all_sections(document)}
    assert sections["1.1"].text == (
        "Evidence on the procedure is limited, so it should only be used in research. "
        "See the research page."
    )
    assert sections["1.2"].text == (
        "Clinicians should report outcomes (https://example.org/register) to the register."
        "\n\nThis note carries on from 1.2."
    )
    assert [sections[n].heading for n in ("1.1", "1.2", "2.1", "2.2", "2.3")] == [
        "More research is needed",
        "More research is needed",
        "The condition",
        "The condition",
        "The procedure",
    ]
    assert document.chapters[1].body == "Chapter introduction before any numbered paragraph."
    assert document.chapters[2].body == (
        "Minor changes since publication\n\nWording updated in January 2026."
    )
    assert "front matter" not in repr(document.chapters)
    assert [block.text for block in document.skipped] == ["This front matter is not part of the consultation."]


def test_markdown_without_numbers_generates_them() -> None:
    document = parse_document(
        "# Leaflet\n\n## What it is\n\nFirst paragraph.\n\nSecond paragraph.\n\n"
        "## Treatment\n\n### Surgery\n\nThird paragraph.\n"
    )
    assert document.numbers_generated is True
    assert shape(document) == [("1", "What it is", ["1.1", "1.2"]), ("2", "Treatment", ["2.1"])]
    assert all_sections(document)[2] == ParsedSection("2.1", "Surgery", "Third paragraph.")


# The unstructured lay page


def test_lay_page_is_imported_with_generated_numbers() -> None:
    document = parse_document(read(LAY_PAGE))
    assert document.title == "Intermetatarsal Neuromas"
    assert document.numbers_generated is True
    assert shape(document) == [
        ("1", "Intermetatarsal Neuromas", ["1.1"]),
        ("2", "What Is An Intermetatarsal Neuroma?", ["2.1", "2.2", "2.3", "2.4", "2.5"]),
    ]
    assert all_sections(document)[0].text == (
        "West Vancouver Foot Clinic Provides Treatment For Intermetatarsel Neuromas"
    )
    assert all(s.heading is None for s in all_sections(document))


def test_lay_page_text_is_neither_lost_nor_duplicated() -> None:
    document = parse_document(read(LAY_PAGE))
    blocks = [block.strip() for block in re.split(r"\n\s*\n", read(LAY_PAGE)) if block.strip()]
    chapter_titles = {chapter.title for chapter in document.chapters}
    body = [block for block in blocks if block not in chapter_titles]
    paragraphs = [block for block in body if block.endswith(".")]
    assert len(paragraphs) == 5

    section_words = [words(s.text) for s in all_sections(document)]
    for paragraph in paragraphs:
        assert sum(contains(found, words(paragraph)) for found in section_words) == 1
    imported = [word for found in section_words for word in found]
    assert imported == [word for block in body for word in words(block)]


def test_text_before_first_heading_goes_into_a_chapter_named_after_the_document() -> None:
    document = parse_document(
        "Living with foot pain\n\nAn opening paragraph.\n\nWhat helps\n\nRest helps.\n\nEnd note\n"
    )
    assert shape(document) == [
        ("1", "Living with foot pain", ["1.1"]),
        ("2", "What helps", ["2.1", "2.2"]),
    ]
    assert [s.text for s in all_sections(document)] == [
        "An opening paragraph.",
        "Rest helps.",
        "End note",
    ]


# Errors a member of staff can act on


@pytest.mark.parametrize("text", ["", "   \n\t\r\n  ", "\ufeff\n"])
def test_empty_input_is_rejected(text: str) -> None:
    with pytest.raises(DocumentFormatError, match="The file is empty"):
        parse_document(text)


@pytest.mark.parametrize(
    "text", ["Only a title", "# Only a title\n", "# Title\n\n## 1 Recommendations\n"]
)
def test_input_without_recognisable_content_is_rejected(text: str) -> None:
    with pytest.raises(DocumentFormatError, match="No chapters or paragraphs could be recognised"):
        parse_document(text)


def test_repeated_section_number_is_rejected_with_both_lines() -> None:
    raw = read(GUIDANCE).replace("- 2.4 ", "- 2.3 ")
    lines = [n for n, line in enumerate(raw.splitlines(), start=1) if line.startswith("- 2.3 ")]
    assert len(lines) == 2
    with pytest.raises(DocumentFormatError) as error:
        parse_document(raw)
    first, second = lines
    assert str(error.value).startswith(f"Section 2.3 appears twice (lines {first} and {second}).")


def test_repeated_number_in_markdown_is_rejected() -> None:
    with pytest.raises(DocumentFormatError, match=r"Section 1\.1 appears twice \(lines 3 and 5\)"):
        parse_document("# T\n## 1 Recommendations\n1.1 First.\n\n1.1 Again.\n")


def test_paragraph_numbered_for_an_earlier_chapter_is_rejected() -> None:
    with pytest.raises(DocumentFormatError, match=r"Section 1\.3 \(line 7\) comes after chapter 2"):
        parse_document("T\n\n1 One\n\n1.1 A.\n2.1 B.\n1.3 C.\n")


def test_nul_bytes_are_rejected() -> None:
    with pytest.raises(DocumentFormatError, match="NUL bytes"):
        parse_document("Title\n\n1 Recommendations\n\n1.1 Text\x00 more.\n")


def test_binary_content_is_rejected() -> None:
    binary = bytes(range(1, 256)).decode("latin-1") * 4
    with pytest.raises(DocumentFormatError, match="not a text document"):
        parse_document(binary)


def test_error_is_a_value_error() -> None:
    assert issubclass(DocumentFormatError, ValueError)


def test_two_chapters_with_one_number_are_refused():
    text = "# Draft\n\n## 1 First\n\n1.1 Text.\n\n## 1 Second\n\nMore text.\n"
    with pytest.raises(DocumentFormatError, match="Chapter 1 appears twice"):
        parse_document(text)


def test_a_markdown_table_reads_a_row_a_line_without_its_rule_of_dashes():
    """A table came through as one paragraph of pipes and dashes: '| Outcome | Result | |---|---| | Pain | ...'."""
    parsed = parse_document("# Draft\n\n## 1 Results\n\n1.1 The outcomes were:\n\n| Outcome | Result |\n"
                            "|---|:---:|\n| Pain | Reduced |\n| Sleep |  |\n\nMore text after.\n\n---\n\n1.2 Next.\n")
    [chapter] = parsed.chapters
    assert [(s.number, s.text) for s in chapter.sections] == [
        ("1.1", "The outcomes were:\n\nOutcome | Result\n\nPain | Reduced\n\nSleep\n\nMore text after.\n\n---"),
        ("1.2", "Next."),
    ]


def test_a_draft_that_starts_with_its_first_chapter_is_titled_by_its_file_name_not_that_chapter():
    """A .txt with no title line was titled '1 Introduction', the heading of its first chapter."""
    draft = "1 Introduction\n\n1.1 The procedure.\n\n2 Evidence\n\n2.1 Two studies.\n"
    assert parse_document(draft, fallback_title="cryoablation-draft").title == "cryoablation-draft"
    assert [c.title for c in parse_document(draft, fallback_title="x").chapters] == ["Introduction", "Evidence"]
    assert parse_document(draft).title == "1 Introduction"  # with no name to go by, as before
    assert parse_document("Cryoablation\n\n" + draft, fallback_title="x").title == "Cryoablation"


def test_a_markdown_numbered_list_keeps_an_item_a_line_and_wrapped_numbers_stay_text():
    parsed = parse_document("# Draft\n\n## 1 Care\n\n1.1 Offer one of:\n\n1. ice\n2. heat\n3) rest\n\n"
                            "Pain fell by\n50. Most slept.\n\n1.2 Next.\n")
    [chapter] = parsed.chapters
    assert [(s.number, s.text) for s in chapter.sections] == [
        ("1.1", "Offer one of:\n\n1. ice\n2. heat\n3) rest\n\nPain fell by 50. Most slept."),
        ("1.2", "Next."),
    ]
