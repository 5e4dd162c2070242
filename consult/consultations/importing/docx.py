"""Turn a Word draft (.docx) into the chapters and numbered sections the text importer produces.

Word already knows the structure that plain text only hints at, so it is read from the styles:

* a paragraph in the Title style names the document;
* Heading 1 starts a chapter; a typed number is kept ("1 Recommendations" is chapter 1), and a
  heading numbered by a Word list takes the next chapter number;
* Heading 2 and deeper are sub-headings, which head the numbered sections that follow them; in a
  document with no such styles, a Normal paragraph that the text importer's rule reads as a
  sub-heading (a short line worded as a heading, just before a numbered paragraph) is one, bold or
  not, and one that reads as a heading but has no numbered paragraph to head is listed as left out
  rather than run into the section before it;
* a paragraph that starts with a typed number ("1.1 The procedure ...") is that section;
* a paragraph numbered by a Word list (numbering held in numPr, not in the text) becomes the next
  section of its chapter, "chapter.n"; bullets and nested list items stay in the paragraph before;
* text before the first Heading 1 is front matter (title page, contents) and is left out.

A document with no numbers at all gets numbers generated, as the text importer does. A document
with no heading styles and no Word lists is plain text in a Word wrapper, so its text goes through
the text importer, which recognises typed chapter lines, contents tables and front matter.

The event classes and the two assemblers are the text importer's own, so both importers produce
exactly the same ParsedDocument shape for the same structure.
"""

from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass

from docx import Document as open_docx
from docx.table import Table
from docx.text.paragraph import Paragraph
from docx.text.run import Run
from lxml import etree

from consult.consultations.importing.text import (
    _CHAPTER,
    _NUMBERED,
    DocumentFormatError,
    ParsedDocument,
    _assemble,
    _Chapter,
    _Numbering,
    _Paragraph,
    _Skipped,
    _SubHeading,
    parse_document,
    reads_as_subheading,
    worded_as_heading,
)

log = logging.getLogger(__name__)

_NS = {"w": "http://schemas.openxmlformats.org/wordprocessingml/2006/main"}
# Compiled with variables, so that values from the file are never spliced into an expression.
_NUM = etree.XPath("w:num[@w:numId=$num]", namespaces=_NS)
_OVERRIDE_FORMAT = etree.XPath("w:lvlOverride[@w:ilvl=$level]/w:lvl/w:numFmt/@w:val", namespaces=_NS)
_ABSTRACT_ID = etree.XPath("w:abstractNumId/@w:val", namespaces=_NS)
_ABSTRACT = etree.XPath("w:abstractNum[@w:abstractNumId=$abstract]", namespaces=_NS)
_LEVEL_FORMAT = etree.XPath("w:lvl[@w:ilvl=$level]/w:numFmt/@w:val", namespaces=_NS)
_STYLE_LINK = etree.XPath("w:numStyleLink/@w:val", namespaces=_NS)
_STYLE_NUM_ID = etree.XPath("w:style[@w:styleId=$style]/w:pPr/w:numPr/w:numId/@w:val", namespaces=_NS)
_HEADING_STYLE = re.compile(r"heading\s*(\d)", re.IGNORECASE)
_BODY_TEXT_OUTLINE_LEVEL = 9

_DAMAGED_MESSAGE = (
    "The Word document could not be read: it may be damaged. Open it in Word, save it again as a "
    "Word document (.docx) and upload it again."
)
_NOTHING_MESSAGE = (
    "No chapters or paragraphs could be found in the Word document. Use the Heading 1 style for "
    "chapter headings and put the text under them in paragraphs, numbered 1.1, 1.2 and so on, or "
    "in a numbered list."
)


@dataclass(frozen=True)
class _Block:
    """One paragraph (or table row) as the importer needs it."""

    text: str
    heading_level: int | None = None
    is_title: bool = False
    list_kind: str | None = None  # "bullet" or "number"
    list_level: int = 0
    words: str = ""  # the text without bold marks, for reading it as a heading
    bold: bool = False  # every word is bold
    in_table: bool = False

    def starts_section(self, chapter_open: bool) -> bool:
        """Whether this paragraph is a numbered section, typed or numbered by a Word list."""
        if self.heading_level or self.is_title or self.in_table:
            return False
        listed = self.list_kind == "number" and self.list_level == 0 and chapter_open
        return listed or bool(_NUMBERED.match(self.text))


def parse_docx(data: bytes, fallback_title: str = "Untitled document") -> ParsedDocument:
    """Parse a .docx into chapters and sections, or raise DocumentFormatError saying what to fix.

    The bytes should already have passed uploads.check_docx_package, which
    refuses zip bombs before python-docx inflates anything.
    """
    try:
        document = open_docx(io.BytesIO(data))
        blocks = _read_blocks(document)
        core_title = (document.core_properties.title or "").strip()
    except Exception:
        # Anything python-docx or lxml trips over in an untrusted file is a damaged upload, not a fault.
        log.info("Refusing an unreadable .docx", exc_info=True)
        raise DocumentFormatError(_DAMAGED_MESSAGE) from None
    if not blocks:
        raise DocumentFormatError(_NOTHING_MESSAGE)

    if not any(b.heading_level or b.list_kind == "number" for b in blocks):
        return parse_document(_as_text(blocks), fallback_title=core_title or fallback_title)

    skipped = _Skipped()
    title, events = _events(blocks, core_title or fallback_title, skipped)
    numbered = any(isinstance(event, _Paragraph) and event.number for event in events)
    chapters = _assemble(events, title, numbered)
    if not any(chapter.sections or chapter.body for chapter in chapters):
        raise DocumentFormatError(_NOTHING_MESSAGE)
    return ParsedDocument(title=title, chapters=chapters, numbers_generated=not numbered,
                          skipped=skipped.freeze())


# Reading the Word document


def _read_blocks(document) -> list[_Block]:
    lists = _ListFormats(document)
    blocks: list[_Block] = []
    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            block = _paragraph_block(item, lists)
            if block is not None:
                blocks.append(block)
        elif isinstance(item, Table):
            blocks.extend(_table_blocks(item))
    return blocks


def _clean(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").split())


def _paragraph_block(paragraph: Paragraph, lists: _ListFormats) -> _Block | None:
    if not _clean(paragraph.text):
        return None
    styles = list(_style_chain(paragraph))
    is_title = any((style.name or "").strip().lower() == "title" for style in styles)
    heading_level = _heading_level(paragraph, styles)
    words = _clean(paragraph.text)
    pieces = _bold_pieces(paragraph)
    # A heading is bold by its style; in body text, bold words are the author's emphasis and are kept.
    text = words if is_title or heading_level else _clean(_with_bold_marked(pieces))
    numbering = _numbering_of(paragraph, styles)
    list_kind, list_level = None, 0
    if numbering is not None:
        list_kind = lists.kind(*numbering)
        list_level = numbering[1]
    bold = any(piece.strip() for piece, _ in pieces) and all(is_bold for piece, is_bold in pieces if piece.strip())
    return _Block(text, heading_level, is_title, list_kind, list_level, words=words, bold=bold)


# A typed section number inside bold ("**1.1 Offer** ...", "**1.1** Offer ..."): the number is structure.
_BOLD_NUMBER = re.compile(r"^\*\*(?P<number>\d+(?:\.\d+)*\.?)(?P<closed>\*\*)?\s+")


def _bold_pieces(paragraph: Paragraph) -> list[list]:
    """The paragraph's text as [text, bold] pieces, neighbouring runs of the same weight joined."""
    pieces: list[list] = []
    for item in paragraph.iter_inner_content():
        bold = isinstance(item, Run) and item.bold is True
        if pieces and pieces[-1][1] == bold:
            pieces[-1][0] += item.text
        else:
            pieces.append([item.text, bold])
    return pieces


def _with_bold_marked(pieces: list[list]) -> str:
    """The paragraph's text with its bold runs as Markdown's **bold**, which the text importer keeps as
    written and every page shows in <strong>; a typed section number stays outside the marks."""
    marked = []
    for text, bold in pieces:
        words = text.strip()
        if bold and words and "**" not in words:
            start = text.index(words)
            marked.append(f"{text[:start]}**{words}**{text[start + len(words):]}")
        else:
            marked.append(text)
    text = "".join(marked)
    number = _BOLD_NUMBER.match(text)
    if number is None:
        return text
    rest = text[number.end():]
    return f"{number['number']} {rest}" if number["closed"] else f"{number['number']} **{rest}"


def _table_blocks(table: Table) -> list[_Block]:
    """Each row as one line of text, so that nothing in a table is silently dropped."""
    blocks = []
    for row in table.rows:
        cells, seen = [], set()
        for cell in row.cells:
            if id(cell._tc) in seen:  # a merged cell is returned once per grid column it spans
                continue
            seen.add(id(cell._tc))
            cells.append(_clean(cell.text))
        line = " | ".join(cell for cell in cells if cell)
        if line:
            blocks.append(_Block(line, words=line, in_table=True))
    return blocks


def _style_chain(paragraph: Paragraph):
    style = paragraph.style
    seen = set()
    while style is not None and style.style_id not in seen:
        seen.add(style.style_id)
        yield style
        style = style.base_style


def _heading_level(paragraph: Paragraph, styles) -> int | None:
    """The heading level from a Heading style, or from an outline level set on the paragraph or its style."""
    outline = _outline_level(paragraph._p.pPr)
    if outline is not None:
        return outline
    for style in styles:
        match = _HEADING_STYLE.fullmatch((style.name or "").strip())
        if match:
            return int(match[1]) or None
        outline = _outline_level(style.element.pPr)
        if outline is not None:
            return outline
    return None


def _outline_level(ppr) -> int | None:
    if ppr is None or ppr.outlineLvl is None:
        return None
    value = int(ppr.outlineLvl.val)
    return None if value >= _BODY_TEXT_OUTLINE_LEVEL else value + 1


def _numbering_of(paragraph: Paragraph, styles) -> tuple[int, int] | None:
    """(numId, level) of a Word list paragraph, from the paragraph or else its style; None if not in a list."""
    num_id = level = None
    for ppr in [paragraph._p.pPr, *(style.element.pPr for style in styles)]:
        if ppr is None or ppr.numPr is None:
            continue
        if level is None and ppr.numPr.ilvl is not None:
            level = int(ppr.numPr.ilvl.val)
        if ppr.numPr.numId is not None:
            num_id = int(ppr.numPr.numId.val)
            break
    if not num_id:  # numId 0 switches numbering off
        return None
    return num_id, level or 0


class _ListFormats:
    """What each list level shows: a bullet, a number or nothing, from the numbering part."""

    def __init__(self, document):
        try:
            self.root = document.part.numbering_part.element
        except (KeyError, NotImplementedError):
            self.root = None
        self.styles = document.styles.element
        self.cache: dict[tuple[int, int], str | None] = {}

    def kind(self, num_id: int, level: int) -> str | None:
        key = (num_id, level)
        if key not in self.cache:
            self.cache[key] = self._kind(num_id, level)
        return self.cache[key]

    def _kind(self, num_id: int, level: int) -> str | None:
        if self.root is None:
            return None
        number_format = self._format(num_id, level)
        if number_format is None or number_format == "none":
            return None
        return "bullet" if number_format == "bullet" else "number"

    def _format(self, num_id: int, level: int, depth: int = 0) -> str | None:
        nums = _NUM(self.root, num=str(num_id))
        if not nums or depth > 3:
            return None
        override = _OVERRIDE_FORMAT(nums[0], level=str(level))
        if override:
            return str(override[0])
        abstract_ids = _ABSTRACT_ID(nums[0])
        if not abstract_ids:
            return None
        abstracts = _ABSTRACT(self.root, abstract=str(abstract_ids[0]))
        if not abstracts:
            return None
        formats = _LEVEL_FORMAT(abstracts[0], level=str(level))
        if formats:
            return str(formats[0])
        # A list defined by a list style: follow the style to its own numbering.
        linked = _STYLE_LINK(abstracts[0])
        if linked and self.styles is not None:
            style_nums = _STYLE_NUM_ID(self.styles, style=str(linked[0]))
            if style_nums and str(style_nums[0]).isdigit():
                return self._format(int(style_nums[0]), level, depth + 1)
        return None


# From blocks to the text importer's events


def _events(blocks: list[_Block], fallback_title: str, skipped: _Skipped) -> tuple[str, list]:
    has_chapters = any(block.heading_level == 1 for block in blocks)
    title_index = next((i for i, block in enumerate(blocks) if block.is_title), None)
    if title_index is None and not has_chapters:
        title_index = 0  # as in plain text, the first line names the document
    if title_index is None and not blocks[0].heading_level:
        title_index = 0  # the first line of the front matter
    title = blocks[title_index].text if title_index is not None else fallback_title

    # A document that marks its sub-headings with styles has said which lines are headings.
    styled_sub_headings = any((block.heading_level or 0) > 1 for block in blocks)
    events: list = []
    numbers = _Numbering(unit="paragraph", source=" of the Word document")
    started = not has_chapters
    if not has_chapters:  # Word-numbered paragraphs with no chapters at all: one chapter, as generated
        events.append(_Chapter("1", title))
        numbers.open_chapter(1)
    for index, block in enumerate(blocks):
        position = index + 1
        if index == title_index:
            continue
        if block.heading_level == 1:
            started = True
            chapter = _chapter(block, numbers.last_chapter + 1)
            numbers.open_chapter(int(chapter.number) if chapter.number else None)
            events.append(chapter)
            continue
        if not started:
            # Each paragraph of front matter is a block of its own: Word has no blank lines to group by.
            skipped.add(block.text)
            skipped.end_block()
            continue
        if block.heading_level:
            events.append(_SubHeading(block.text))
            continue
        typed = _NUMBERED.match(block.text)
        if typed:
            _add_section(events, numbers, typed["number"], typed["text"], position)
        elif block.list_kind == "number" and block.list_level == 0 and numbers.chapter is not None:
            _add_section(events, numbers, numbers.next_number(), block.text, position)
        elif block.list_kind is not None:
            # Bullets, nested items and lists in unnumbered chapters belong to the paragraph before.
            line = f"- {block.text}"
            if events and isinstance(events[-1], _Paragraph):
                events[-1].lines.append(line)
            else:
                events.append(_Paragraph(None, [line]))
        elif block.in_table or styled_sub_headings:
            events.append(_Paragraph(None, [block.text]))
        else:
            after = index + 2 if index + 1 == title_index else index + 1
            following = blocks[after] if after < len(blocks) else None
            numbered_next = following is not None and following.starts_section(numbers.chapter is not None)
            if reads_as_subheading(block.words, numbered_next):
                events.append(_SubHeading(block.words))
            elif numbers.in_chapter and _heads_nothing(block, following):
                skipped.add(block.words, _NO_SECTION_TO_HEAD.format(number=next(reversed(numbers.seen))))
                skipped.end_block()
            else:
                events.append(_Paragraph(None, [block.text]))
    return title, events


_NO_SECTION_TO_HEAD = (
    "It reads as a sub-heading, but no numbered paragraph follows it, so it has no section to head. "
    "It was left out rather than added to the end of section {number}"
)


def _heads_nothing(block: _Block, following: _Block | None) -> bool:
    """Whether a line worded as a heading stands alone as one: it is wholly bold, or only a heading or the
    end of the document comes after it. Otherwise, after a numbered section, it would end that section's
    text as if it were part of it. A plain short line with more text after it is taken for part of that
    text, as the text importer takes it.
    """
    if not worded_as_heading(block.words):
        return False
    return block.bold or following is None or bool(following.heading_level)


def _chapter(block: _Block, expected: int) -> _Chapter:
    match = _CHAPTER.match(block.text)
    # Only the next number is a chapter number, so "2025 update" keeps its words.
    if match and int(match["number"]) == expected:
        return _Chapter(str(expected), match["title"])
    if block.list_kind == "number":
        return _Chapter(str(expected), block.text)
    return _Chapter(None, block.text)


def _add_section(events: list, numbers: _Numbering, number: str, text: str, position: int) -> None:
    implied = numbers.place(number, position)
    if implied:
        events.append(implied)
    events.append(_Paragraph(number, [text]))


def _as_text(blocks: list[_Block]) -> str:
    """A heading-free Word document as the plain text the text importer reads, title first.

    A table's rows are written as a Markdown table, so that a contents table is read as one; a wholly
    bold line worded as a heading loses its marks, so that the text importer's rules read it as the
    heading it is.
    """
    title = next((index for index, block in enumerate(blocks) if block.is_title), 0)
    ordered = [blocks[title], *blocks[:title], *blocks[title + 1:]]
    parts: list[str] = []
    for position, block in enumerate(ordered):
        if block.in_table:
            row = f"| {block.text} |"
            if position and ordered[position - 1].in_table:
                parts[-1] += "\n" + row
            else:
                parts.append(row)
        elif block.list_kind == "bullet":
            parts.append(f"- {block.text}")
        elif block.bold and worded_as_heading(block.words):
            parts.append(block.words)
        else:
            parts.append(block.text)
    return "\n\n".join(parts)
