"""Turn a draft guidance document, in plain text or Markdown, into chapters and numbered sections.

Staff upload the draft that a consultation is about; commenters then comment on its numbered
sections. The parser is deliberately free of Flask and the database so that it can be tested on
real documents and reused wherever a draft is imported.

Three shapes of input are recognised:

* Markdown: ``#`` is the document title, ``##`` a chapter (``## 1 Recommendations`` or
  ``## Update information``), ``###`` a sub-heading; text before the first chapter is front matter.
* Numbered plain text, as exported from NICE guidance: chapter headings are lines such as
  ``2 The condition, current treatments and procedure`` carrying the next chapter number, numbered
  paragraphs start ``2.1`` or ``- 2.1``, and everything before chapter 1 (title page, contents
  table) is front matter. The contents table, when present, says which unnumbered headings after
  the numbered chapters are chapters of their own (such as "Update information").
* Unstructured plain text with headings and no numbers: short heading-like lines start chapters
  and every paragraph becomes a section, with numbers generated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from consult.errors import DomainError


@dataclass(frozen=True)
class ParsedSection:
    number: str
    heading: str | None
    text: str


@dataclass(frozen=True)
class ParsedChapter:
    number: str | None
    title: str
    body: str
    sections: tuple[ParsedSection, ...]


@dataclass(frozen=True)
class SkippedBlock:
    """Text the importer left out of the draft, kept so that the preview can say what and why.

    ``includable`` is false for a contents table: the chapters it lists are read from the
    document itself, so offering it as introductory text would only repeat them.
    """

    text: str
    reason: str
    includable: bool = True


@dataclass(frozen=True)
class ParsedDocument:
    title: str
    chapters: tuple[ParsedChapter, ...]
    numbers_generated: bool
    skipped: tuple[SkippedBlock, ...] = ()


INTRODUCTION_TITLE = "Introduction"

SKIPPED_BEFORE_FIRST_CHAPTER = (
    "It comes before the first chapter, where a title page, notices and other front matter usually are, "
    "so it is not part of the numbered draft"
)
SKIPPED_CONTENTS = "It is a contents table: the chapters are read from the headings of the document itself"


def with_introduction(parsed: ParsedDocument, chosen: list[int]) -> ParsedDocument:
    """The draft with the chosen skipped blocks put back as an unnumbered first chapter.

    Staff decide this on the preview: front matter such as "Your responsibility" is usually left out,
    but some drafts open with text commenters need. The blocks keep their order in the file, whatever
    order they were chosen in; a block that cannot be included is ignored by the form before this.
    """
    texts = [block.text for index, block in enumerate(parsed.skipped) if index in set(chosen) and block.includable]
    if not texts:
        return parsed
    introduction = ParsedChapter(number=None, title=INTRODUCTION_TITLE, body="\n\n".join(texts), sections=())
    remaining = tuple(block for index, block in enumerate(parsed.skipped) if index not in set(chosen))
    return ParsedDocument(title=parsed.title, chapters=(introduction, *parsed.chapters),
                          numbers_generated=parsed.numbers_generated, skipped=remaining)


class _Skipped:
    """Collects the lines an importer passes over, a block per run of lines with one reason."""

    def __init__(self) -> None:
        self.blocks: list[SkippedBlock] = []
        self._lines: list[str] = []
        self._reason: str | None = None

    def add(self, line: str, reason: str = SKIPPED_BEFORE_FIRST_CHAPTER) -> None:
        if reason != self._reason:
            self.end_block()
            self._reason = reason
        self._lines.append(line)

    def end_block(self) -> None:
        if self._lines and self._reason is not None:
            if self._reason == SKIPPED_CONTENTS:
                text = "\n".join(self._lines)
            else:
                text = _paragraph_text(self._lines)
            self.blocks.append(SkippedBlock(text, self._reason, includable=self._reason != SKIPPED_CONTENTS))
        self._lines = []
        self._reason = None

    def freeze(self) -> tuple[SkippedBlock, ...]:
        self.end_block()
        return tuple(self.blocks)


class DocumentFormatError(DomainError, ValueError):
    """Raised with a clear, user-facing message when a file cannot be turned into a document.

    It stays a ValueError as well, because readers of untrusted files (such as
    uploads.check_docx_package) catch ValueError to mean "this file is damaged".
    """

    field = "draft"


_MAX_HEADING_CHARS = 120
# More control characters than this share of the text means the upload is not a text document.
_MAX_CONTROL_SHARE = 0.02

_NUMBERED = re.compile(r"^(?P<bullet>[-*•]\s+)?(?P<number>\d+(?:\.\d+)+)\.?\s+(?P<text>\S.*)$")
_CHAPTER = re.compile(r"^(?P<number>\d+)\.?\s+(?P<title>\S.*)$")
_MARKDOWN_HEADING = re.compile(r"^(?P<marks>#{1,6})\s+(?P<text>.*?)\s*#*\s*$")
_BULLET = re.compile(r"^[-*•]\s+")
# An item of a numbered list ("1. Ice", "2) Heat"); a section number ("1.1 ...") has no space after its dot.
NUMBERED_ITEM = re.compile(r"^(?P<number>\d{1,3})[.)]\s+")


def starts_numbered_item(line: str, after_item: bool) -> bool:
    """Whether `line` is an item of a numbered list: its first item is numbered 1, and each next one
    follows an item. A wrapped line that happens to start "50. Most patients" is not one."""
    item = NUMBERED_ITEM.match(line)
    return item is not None and (after_item or item["number"] == "1")
_TABLE_ROW = re.compile(r"^\|(?P<cells>.*)\|$")
_TABLE_RULE = re.compile(r"^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?$")
_LINK = re.compile(r"!?\[(?P<text>[^\]]*)\]\((?P<target>[^)\s]*)\)")
_DOT_LEADER = re.compile(r"\s*\.{2,}\s*$")
_SENTENCE_END = (".", "!", "?", ":", ";", ")", '"', "'", "”", "’")

_EMPTY_MESSAGE = (
    "The file is empty. Upload a plain-text (.txt) or Markdown (.md) file that contains the draft."
)
_BINARY_MESSAGE = (
    "The file is not a text document (it contains binary data). Save the draft as plain text "
    "(.txt) or Markdown (.md) and upload it again."
)
_NUL_MESSAGE = (
    "The file contains NUL bytes, so it is not a plain-text document. Save the draft as plain text "
    "(.txt) or Markdown (.md) and upload it again."
)
_NOTHING_MESSAGE = (
    "No chapters or paragraphs could be recognised in the file. Start each chapter with a heading "
    "line such as '1 Recommendations' (or '## 1 Recommendations' in Markdown) and put the text "
    "under it in paragraphs, numbered '1.1', '1.2' and so on."
)


# Intermediate events shared by the tokenisers and the assemblers.


@dataclass
class _Chapter:
    number: str | None
    title: str


@dataclass
class _SubHeading:
    text: str


@dataclass
class _Paragraph:
    number: str | None
    lines: list[str] = field(default_factory=list)


_Event = _Chapter | _SubHeading | _Paragraph


@dataclass
class _Contents:
    """Chapter titles listed in a contents table, normalised for comparison."""

    numbered: dict[int, str] = field(default_factory=dict)
    unnumbered: set[str] = field(default_factory=set)


@dataclass
class _Numbering:
    """Tracks chapter and section numbers as they are placed, so that repeats and backward steps are reported.

    ``unit`` and ``source`` say where in the file a section is ("line 7", or "paragraph 7 of the Word
    document"), so that the message leads the person to it.
    """

    unit: str = "line"
    source: str = ""
    chapter: int | None = None
    last_chapter: int = 0
    in_chapter: int = 0
    seen: dict[str, int] = field(default_factory=dict)

    def open_chapter(self, number: int | None) -> None:
        self.chapter = number
        self.in_chapter = 0
        if number is not None:
            self.last_chapter = max(self.last_chapter, number)

    def next_number(self) -> str:
        return f"{self.chapter}.{self.in_chapter + 1}"

    def place(self, number: str, position: int) -> _Chapter | None:
        """Record a numbered section; return a chapter to open when its heading is missing."""
        if number in self.seen:
            raise DocumentFormatError(
                f"Section {number} appears twice ({self.unit}s {self.seen[number]} and {position}{self.source}). "
                "Give each paragraph its own number and upload the file again."
            )
        self.seen[number] = position
        major = int(number.split(".")[0])
        implied = None
        if self.chapter == major:
            pass
        elif self.chapter is None and self.last_chapter and major <= self.last_chapter:
            pass  # unnumbered chapters after the numbered ones may hold their own numbered items
        elif major > self.last_chapter:
            self.open_chapter(major)
            implied = _Chapter(str(major), f"Chapter {major}")
        else:
            raise DocumentFormatError(
                f"Section {number} ({self.unit} {position}{self.source}) comes after chapter {self.chapter} has "
                "started. Check the chapter headings and paragraph numbers, then upload the file again."
            )
        self.in_chapter += 1
        return implied


def parse_document(text: str, fallback_title: str | None = None) -> ParsedDocument:
    """Parse a draft into chapters and sections, or raise DocumentFormatError saying what to fix.

    A draft whose first line is already its first chapter's heading has no title line: it is titled
    `fallback_title` (an upload's file name) when given, rather than "1 Introduction".
    """
    lines = _normalise(text)
    skipped = _Skipped()
    if _is_markdown(lines):
        title, events = _tokenise_markdown(lines, skipped)
    elif _has_numbered_paragraphs(lines):
        title, events = _tokenise_numbered_text(lines, skipped)
    else:
        title, events = _tokenise_unstructured_text(lines)

    numbered = any(isinstance(event, _Paragraph) and event.number for event in events)
    chapters = _assemble(events, title, numbered)
    if not any(chapter.sections or chapter.body for chapter in chapters):
        raise DocumentFormatError(_NOTHING_MESSAGE)
    _refuse_repeated_chapters(chapters)
    first = chapters[0]
    if fallback_title and first.number and _canonical(title) == _canonical(f"{first.number} {first.title}"):
        title = fallback_title
    return ParsedDocument(title=title, chapters=chapters, numbers_generated=not numbered,
                          skipped=skipped.freeze())


def _refuse_repeated_chapters(chapters: tuple[ParsedChapter, ...]) -> None:
    """Two chapters with one number would make section numbers ambiguous; say which."""
    seen: set[str] = set()
    for chapter in chapters:
        if chapter.number is None:
            continue
        if chapter.number in seen:
            raise DocumentFormatError(
                f"Chapter {chapter.number} appears twice ('{chapter.title}' repeats an earlier chapter number). "
                "Give each chapter its own number."
            )
        seen.add(chapter.number)


# Input clean-up


def _normalise(text: str) -> list[str]:
    """Reject non-text input and even out line endings and spacing so the rules see one shape."""
    if "\x00" in text:
        raise DocumentFormatError(_NUL_MESSAGE)
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise DocumentFormatError(_EMPTY_MESSAGE)
    controls = sum(
        1 for char in text if (ord(char) < 32 and char not in "\t\n\r\f\v") or char == "\ufffd"
    )
    if controls > len(text) * _MAX_CONTROL_SHARE:
        raise DocumentFormatError(_BINARY_MESSAGE)

    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = re.sub(r"[\f\v]", "\n", text)
    text = re.sub(r"[\t\u00a0\u2007\u202f]", " ", text)
    text = re.sub(r"[\u200b\ufeff]", "", text)
    return [line.strip() for line in text.split("\n")]


def _inline(text: str) -> str:
    """Flatten Markdown links (placeholders ``(#)`` lose their target) and collapse spaces."""

    def replace(match: re.Match[str]) -> str:
        target = match["target"]
        if not target or target.startswith("#"):
            return match["text"]
        return f"{match['text']} ({target})"

    return re.sub(r" {2,}", " ", _LINK.sub(replace, text)).strip()


def _paragraph_text(lines: list[str]) -> str:
    """Join wrapped lines with spaces, but keep each item of a list (bulleted or numbered) on its own line.

    A Markdown table's rows become paragraphs of their own, their cells
    joined by " | " as the Word importer reads a table, and its rule of
    dashes goes: joined with the text around them they read as one line of
    pipes and dashes.
    """
    paragraphs, joined, in_list = [], "", False
    for line in lines:
        numbered = starts_numbered_item(line, in_list)
        in_list = numbered
        if "|" in line and _TABLE_RULE.match(line):
            continue
        row = _TABLE_ROW.match(line)
        if row:
            paragraphs += [joined] if joined else []
            paragraphs.append(" | ".join(cell.strip() for cell in row["cells"].split("|") if cell.strip()))
            joined = ""
        elif not joined:
            joined = line
        elif _BULLET.match(line) or numbered:
            joined += "\n" + line
        else:
            joined += " " + line
    paragraphs += [joined] if joined else []
    return "\n\n".join("\n".join(_inline(part) for part in paragraph.split("\n")) for paragraph in paragraphs)


def _canonical(text: str) -> str:
    return " ".join(_inline(text).casefold().split())


# Line classification


def _heading_like(text: str) -> bool:
    """Short, unpunctuated lines read as headings; sentences end with a full stop or similar."""
    return (
        0 < len(text) <= _MAX_HEADING_CHARS
        and (text[0].isupper() or text[0].isdigit())
        and not text.endswith((".", ",", ";", ":", "!"))
        and not text.startswith("|")
        and not _BULLET.match(text)
        and any(char.isalpha() for char in text)
    )


def _numbered_start(lines: list[str], index: int, at_block_start: bool) -> re.Match[str] | None:
    """Match a numbered paragraph, but not a wrapped line that happens to start with "2.5 mg"."""
    match = _NUMBERED.match(lines[index])
    if match is None:
        return None
    if at_block_start or match["bullet"] or lines[index - 1].endswith(_SENTENCE_END):
        return match
    return None


def _next_content(lines: list[str], index: int) -> int | None:
    for later in range(index + 1, len(lines)):
        if lines[later]:
            return later
    return None


def _ends_block(lines: list[str], index: int) -> bool:
    """A heading stands on its own: a blank line, the end or a numbered paragraph comes next."""
    following = index + 1
    if following >= len(lines) or not lines[following]:
        return True
    return bool(_NUMBERED.match(lines[following]))


def _is_markdown(lines: list[str]) -> bool:
    return any(_MARKDOWN_HEADING.match(line) and line.lstrip("#").strip() for line in lines)


def _has_numbered_paragraphs(lines: list[str]) -> bool:
    return any(
        _numbered_start(lines, index, index == 0 or not lines[index - 1])
        for index in range(len(lines))
    )


def _first_line(lines: list[str]) -> str:
    return _inline(next(line for line in lines if line))


# Markdown


def _tokenise_markdown(lines: list[str], skipped: _Skipped) -> tuple[str, list[_Event]]:
    """Follow the explicit ``#`` structure; only paragraph numbers need recognising."""
    headings = [_MARKDOWN_HEADING.match(line) for line in lines]
    title_index = next(
        (index for index, match in enumerate(headings) if match and len(match["marks"]) == 1), None
    )
    if title_index is None:
        title = _first_line(lines)
    else:
        title = _inline(headings[title_index]["text"])
    has_chapters = any(
        match and len(match["marks"]) <= 2 and index != title_index
        for index, match in enumerate(headings)
    )

    events: list[_Event] = []
    numbering = _Numbering()
    block: _Paragraph | None = None
    started = not has_chapters
    for index, line in enumerate(lines):
        heading = headings[index]
        if not line or index == title_index:
            block = None
            skipped.end_block()
            continue
        if heading:
            block = None
            text = _inline(heading["text"])
            if len(heading["marks"]) <= 2:
                started = True
                chapter = _split_chapter_title(text)
                numbering.open_chapter(int(chapter.number) if chapter.number else None)
                events.append(chapter)
            elif started:
                events.append(_SubHeading(text))
            else:
                skipped.end_block()
                skipped.add(text)
                skipped.end_block()
            continue
        if not started:
            skipped.add(_inline(line))
            continue
        block = _add_line(lines, index, block, events, numbering)
    return title, events


def _split_chapter_title(text: str) -> _Chapter:
    match = _CHAPTER.match(text)
    if match:
        return _Chapter(str(int(match["number"])), match["title"])
    return _Chapter(None, text)


def _add_line(
    lines: list[str],
    index: int,
    block: _Paragraph | None,
    events: list[_Event],
    numbering: _Numbering,
) -> _Paragraph:
    """Start a numbered or plain paragraph, or continue the open one; return the open paragraph."""
    match = _numbered_start(lines, index, block is None)
    if match:
        implied = numbering.place(match["number"], index + 1)
        if implied:
            events.append(implied)
        paragraph = _Paragraph(match["number"], [match["text"]])
        events.append(paragraph)
        return paragraph
    if block is None:
        block = _Paragraph(None, [])
        events.append(block)
    block.lines.append(lines[index])
    return block


# Numbered plain text


def _tokenise_numbered_text(lines: list[str], skipped: _Skipped) -> tuple[str, list[_Event]]:
    """Skip the front matter, then recognise chapter headings, sub-headings and paragraphs."""
    title = _first_line(lines)
    title_index = next(index for index, line in enumerate(lines) if line)
    contents = _contents_entries(lines)
    numbered_lines = [index for index, line in enumerate(lines) if _NUMBERED.match(line)]
    last_numbered = numbered_lines[-1] if numbered_lines else -1

    events: list[_Event] = []
    numbering = _Numbering()
    block: _Paragraph | None = None
    started = False
    found_tail_chapter = False
    for index, line in enumerate(lines):
        if not line:
            block = None
            skipped.end_block()
            continue
        at_start = block is None
        expected = numbering.last_chapter + 1
        chapter = _numbered_chapter(lines, index, expected, contents) if at_start else None
        if chapter:
            events.append(chapter)
            numbering.open_chapter(int(chapter.number or 0))
            started = True
            continue
        if not started:
            if _numbered_start(lines, index, at_start) is None:
                if index != title_index:
                    skipped.add(line if line.startswith("|") else _inline(line),
                                SKIPPED_CONTENTS if line.startswith("|") else SKIPPED_BEFORE_FIRST_CHAPTER)
                continue
            started = True
        if at_start and _is_unnumbered_chapter(
            lines, index, contents, after_numbers=index > last_numbered and not found_tail_chapter
        ):
            events.append(_Chapter(None, _inline(line)))
            numbering.open_chapter(None)
            found_tail_chapter = True
            continue
        if at_start and _is_subheading(lines, index):
            events.append(_SubHeading(_inline(line)))
            continue
        block = _add_line(lines, index, block, events, numbering)
    return title, events


def _contents_entries(lines: list[str]) -> _Contents:
    """Read the first cell of each table row that comes before the first numbered paragraph."""
    contents = _Contents()
    for index, line in enumerate(lines):
        if _numbered_start(lines, index, index == 0 or not lines[index - 1]):
            break
        if not line.startswith("|"):
            continue
        cell = _DOT_LEADER.sub("", line.strip("|").split("|")[0]).strip()
        if not cell or not set(cell) - set("-: "):
            continue
        match = _CHAPTER.match(cell)
        if match:
            contents.numbered[int(match["number"])] = _canonical(match["title"])
        else:
            contents.unnumbered.add(_canonical(cell))
    return contents


def _numbered_chapter(
    lines: list[str], index: int, expected: int, contents: _Contents
) -> _Chapter | None:
    """Accept ``N Title`` only for the next chapter number, so "6 case series" stays text."""
    match = _CHAPTER.match(lines[index])
    if match is None or int(match["number"]) != expected:
        return None
    title = _inline(match["title"])
    if not (_heading_like(title) and title[0].isupper() and _ends_block(lines, index)):
        return None
    listed = contents.numbered.get(expected)
    if listed is not None and listed != _canonical(title):
        return None
    return _Chapter(str(expected), title)


def _is_unnumbered_chapter(
    lines: list[str], index: int, contents: _Contents, after_numbers: bool
) -> bool:
    """An unnumbered chapter is listed in the contents and holds no numbered paragraphs.

    Without a contents table the only safe guess is a heading after the last numbered paragraph.
    """
    text = lines[index]
    if not (_heading_like(text) and text[0].isupper() and _ends_block(lines, index)):
        return False
    if contents.numbered or contents.unnumbered:
        return _canonical(text) in contents.unnumbered and not _numbers_follow(lines, index)
    return after_numbers and _next_content(lines, index) is not None


def _numbers_follow(lines: list[str], index: int) -> bool:
    """Whether a numbered paragraph comes before the next numbered chapter heading."""
    for later in range(index + 1, len(lines)):
        line = lines[later]
        if _NUMBERED.match(line):
            return True
        chapter = _CHAPTER.match(line)
        if chapter and _heading_like(chapter["title"]) and not lines[later - 1]:
            return False
    return False


def worded_as_heading(text: str) -> bool:
    """A short, capitalised line with no closing full stop or other sentence end; "3 case series" is not one."""
    return _heading_like(text) and text[0].isupper()


def reads_as_subheading(text: str, numbered_paragraph_follows: bool) -> bool:
    """The sub-heading rule both importers share: a line worded as a heading that introduces a numbered
    paragraph. Each importer says what comes next in its own terms (a line, or a Word paragraph), so
    one draft gets the same sub-headings whichever file it arrives in."""
    return numbered_paragraph_follows and worded_as_heading(text)


def _is_subheading(lines: list[str], index: int) -> bool:
    following = _next_content(lines, index)
    return reads_as_subheading(lines[index], following is not None and bool(_NUMBERED.match(lines[following])))


# Unstructured plain text


def _tokenise_unstructured_text(lines: list[str]) -> tuple[str, list[_Event]]:
    """Treat the first line as the title, heading-like lines as chapters and the rest as text."""
    blocks = _blocks(lines)
    title = _inline(blocks[0].pop(0))
    if not blocks[0]:
        blocks.pop(0)

    is_heading = [len(block) == 1 and _heading_like(block[0]) for block in blocks]
    events: list[_Event] = []
    for position, block in enumerate(blocks):
        # A heading with no text of its own (a strapline, or the last line) is kept as text.
        followed_by_text = position + 1 < len(blocks) and not is_heading[position + 1]
        if is_heading[position] and followed_by_text:
            events.append(_Chapter(None, _inline(block[0])))
        else:
            events.append(_Paragraph(None, block))
    return title, events


def _blocks(lines: list[str]) -> list[list[str]]:
    """Group lines into blocks separated by blank lines."""
    blocks: list[list[str]] = []
    current: list[str] = []
    for line in lines:
        if line:
            if not current:
                blocks.append(current)
            current.append(line)
        else:
            current = []
    return blocks


# Assembly


@dataclass
class _SectionDraft:
    number: str
    heading: str | None
    paragraphs: list[str]


@dataclass
class _ChapterDraft:
    number: str | None
    title: str
    body: list[str] = field(default_factory=list)
    sections: list[_SectionDraft] = field(default_factory=list)

    def add_text(self, text: str) -> None:
        """Unnumbered text continues the latest section, or is chapter body before any section."""
        if self.sections:
            self.sections[-1].paragraphs.append(text)
        else:
            self.body.append(text)

    def freeze(self) -> ParsedChapter:
        return ParsedChapter(
            number=self.number,
            title=self.title,
            body="\n\n".join(self.body),
            sections=tuple(
                ParsedSection(section.number, section.heading, "\n\n".join(section.paragraphs))
                for section in self.sections
            ),
        )


def _assemble(events: list[_Event], title: str, numbered: bool) -> tuple[ParsedChapter, ...]:
    """The chapters the events make, with the source's numbers (`numbered`) or with numbers of our own.

    Both ways read chapters and sub-headings alike. With the source's numbers,
    a numbered paragraph is a section and any other text, including a
    sub-heading not followed by a numbered paragraph, stays as text. Without
    them, chapters are numbered 1, 2, ... and every paragraph is a section of
    its chapter, as is a sub-heading that heads nothing.
    """
    chapters: list[_ChapterDraft] = []
    heading: str | None = None
    pending: str | None = None

    def current() -> _ChapterDraft:
        if not chapters:
            chapters.append(_ChapterDraft(None if numbered else "1", title))
        return chapters[-1]

    def add_section(number: str | None, text: str, section_heading: str | None) -> None:
        chapter = current()
        if number is None:
            number = f"{chapter.number}.{len(chapter.sections) + 1}"
        chapter.sections.append(_SectionDraft(number, section_heading, [text]))

    def flush() -> None:
        nonlocal pending
        if pending is not None:
            if numbered:
                current().add_text(pending)
            else:
                add_section(None, pending, None)
            pending = None

    for event in events:
        if isinstance(event, _Chapter):
            flush()
            chapters.append(_ChapterDraft(event.number if numbered else str(len(chapters) + 1), event.title))
            heading = None
        elif isinstance(event, _SubHeading):
            flush()
            heading = pending = event.text
        elif numbered and event.number is None:
            flush()
            current().add_text(_paragraph_text(event.lines))
        else:
            pending = None
            add_section(event.number if numbered else None, _paragraph_text(event.lines), heading)
    flush()
    return tuple(chapter.freeze() for chapter in chapters)
