"""A Word document of headings and tables, written as WordprocessingML straight into the .docx zip.

python-docx builds every cell as an lxml element and holds the whole
document until it saves: 100,000 rows of six cells took minutes and
gigabytes. Here python-docx only makes the shell (styles, page set-up, the
title), and the body is streamed into word/document.xml a row at a time, so
time and memory stay flat however many rows there are.

Rows of a group are written once to a temporary file as they arrive and
copied into the document group by group (a comment in three themes is in
three tables), so rows may arrive in any order; only each row's offset and
length are kept.
"""

import re
import tempfile
import zipfile
from array import array
from collections.abc import Iterable
from io import BytesIO
from typing import IO

from docx import Document as WordDocument
from docx.enum.section import WD_ORIENT
from docx.shared import Cm, Pt

_MARKER = "@@body-goes-here@@"
_MARKER_XML = f"<w:p><w:r><w:t>{_MARKER}</w:t></w:r></w:p>"
# Characters XML 1.0 does not allow (most C0 controls, lone surrogates, U+FFFE/U+FFFF): a file with one
# would not open at all, so they are dropped.
_NOT_XML = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def xml_text(value) -> str:
    """Text as the content of a w:t element: escaped, with characters XML forbids removed."""
    text = "" if value is None else str(value)
    return _NOT_XML.sub("", text).translate(_ESCAPES)


def _runs(text: str, bold: bool = False) -> str:
    """One run; line breaks and tabs become Word's own, as python-docx would make them."""
    properties = "<w:rPr><w:b/></w:rPr>" if bold else ""
    text = xml_text(text).replace("\r\n", "\n").replace("\r", "\n")
    parts = []
    for index, line in enumerate(text.split("\n")):
        if index:
            parts.append("<w:br/>")
        for number, piece in enumerate(line.split("\t")):
            if number:
                parts.append("<w:tab/>")
            if piece:
                parts.append(f'<w:t xml:space="preserve">{piece}</w:t>')
    return f"<w:r>{properties}{''.join(parts)}</w:r>"


def paragraph(text: str, style: str | None = None, lead: str | None = None) -> str:
    """A paragraph in `style` (a style id such as Heading2); `lead` is a bold run before the text."""
    properties = f'<w:pPr><w:pStyle w:val="{style}"/></w:pPr>' if style else ""
    return f"<w:p>{properties}{_runs(lead, bold=True) if lead else ''}{_runs(text)}</w:p>"


class WordTables:
    """Headings, paragraphs and tables streamed into a .docx in landscape, as committee papers use.

    Usage: ``with WordTables(target, title) as doc:`` then ``doc.add(xml)``
    for headings and paragraphs and ``doc.table(headings, widths, row_chunks)``
    for a table whose rows were made by ``row_xml``.
    """

    def __init__(self, target: IO[bytes] | str, title: str, font_size: int = 9):
        shell = WordDocument()
        section = shell.sections[0]
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = section.page_height, section.page_width
        for margin in ("left_margin", "right_margin"):
            setattr(section, margin, Cm(1.5))
        shell.styles["Normal"].font.size = Pt(font_size)
        shell.add_heading(title, level=1)
        shell.add_paragraph(_MARKER)
        saved = BytesIO()
        shell.save(saved)
        self._shell = zipfile.ZipFile(saved)
        self._head, self._tail = self._shell.read("word/document.xml").decode("utf-8").split(_MARKER_XML)
        self._zip = zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1)
        for info in self._shell.infolist():
            if info.filename != "word/document.xml":
                self._zip.writestr(info, self._shell.read(info.filename))
        self._body = self._zip.open("word/document.xml", "w", force_zip64=True)
        self._body.write(self._head.encode("utf-8"))

    def add(self, xml: str) -> None:
        self._body.write(xml.encode("utf-8"))

    def table(self, headings: list[str], widths: list[int], rows: Iterable[bytes]) -> None:
        """A bordered table whose header row repeats on every page; `rows` are row_xml() bytes."""
        grid = "".join(f'<w:gridCol w:w="{width}"/>' for width in widths)
        header = "".join(f'<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/></w:tcPr>'
                         f"<w:p>{_runs(heading, bold=True)}</w:p></w:tc>"
                         for heading, width in zip(headings, widths))
        self.add(f'<w:tbl><w:tblPr><w:tblStyle w:val="TableGrid"/><w:tblW w:w="0" w:type="auto"/>'
                 f'<w:tblLook w:val="04A0" w:firstRow="1" w:lastRow="0" w:firstColumn="1" w:lastColumn="0" '
                 f'w:noHBand="0" w:noVBand="1"/></w:tblPr><w:tblGrid>{grid}</w:tblGrid>'
                 f"<w:tr><w:trPr><w:tblHeader/></w:trPr>{header}</w:tr>")
        for row in rows:
            self._body.write(row)
        self.add("</w:tbl>")

    def close(self) -> None:
        # A table may not be the body's last element before its section properties.
        self.add("<w:p/>" + self._tail)
        self._body.close()
        self._zip.close()
        self._shell.close()

    def __enter__(self) -> "WordTables":
        return self

    def __exit__(self, kind, error, traceback) -> None:
        if kind is None:
            self.close()
        else:
            self._body.close()
            self._zip.close()


def row_xml(values: list[str], widths: list[int]) -> bytes:
    return ("<w:tr>" + "".join(f'<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/></w:tcPr><w:p>{_runs(value)}'
                               "</w:p></w:tc>" for value, width in zip(values, widths)) + "</w:tr>").encode("utf-8")


class GroupedRows:
    """Rows kept in a temporary file by group, so each group's table can be written whole later.

    Memory holds two numbers per row per group; the rows themselves are on disk.
    """

    def __init__(self):
        self._file = tempfile.TemporaryFile()
        self._groups: dict[str, array] = {}
        self.order: list[str] = []

    def add(self, row: bytes, groups: Iterable[str]) -> None:
        offset = self._file.tell()
        self._file.write(row)
        for group in groups:
            if group not in self._groups:
                self._groups[group] = array("q")
                self.order.append(group)
            self._groups[group].extend((offset, len(row)))

    def rows(self, group: str) -> Iterable[bytes]:
        self._file.flush()
        spans = self._groups.get(group, array("q"))
        end = self._file.seek(0, 2)
        for index in range(0, len(spans), 2):
            offset, length = spans[index], spans[index + 1]
            self._file.seek(offset)
            yield self._file.read(length)
        self._file.seek(end)

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> "GroupedRows":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


