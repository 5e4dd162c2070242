"""Offering a file: spreadsheet-safe cells, CSV and workbook writers, and the responses that send them.

Any domain that offers a download builds on this, and this builds on no
domain: it knows rows, headings and bytes, never comments or consultations.
Nothing here holds a whole file in memory: CSV is yielded line by line, and
a workbook is written in xlsxwriter's constant-memory mode to a spooled
temporary file that is streamed out and discarded.
"""

import csv
import io
import tempfile
from collections.abc import Callable, Iterable, Iterator
from typing import IO

import xlsxwriter
from flask import Response, stream_with_context

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

# A cell starting with one of these is treated as a formula (or DDE) by Excel,
# LibreOffice and Google Sheets.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_TRIGGER_SET = frozenset(FORMULA_TRIGGERS)

EXCEL_CELL_LIMIT = 32_767
CONTINUED = " (continued)"
# Column widths in characters, by heading, shared by every workbook the service offers; unlisted columns get 18.
WIDTHS = {"Comment number": 16, "Stakeholder": 24, "Email address": 28, "Document": 30, "Chapter": 24,
          "Section number": 10, "Section heading": 24, "Selected text": 40, "Comment": 70,
          "Tobacco link details": 30, "Other interests declared": 30, "Themes": 24, "Response": 60,
          "Submitted at (UK time)": 20}
DEFAULT_WIDTH = 18


def safe_cell(value):
    """Text that would start a formula gets a leading apostrophe; everything else is unchanged.

    For CSV and Word, where text has no type of its own: the apostrophe is the
    convention spreadsheet users recognise when such text is opened or pasted.
    Workbooks mark the cell as text instead (write_text). Numbers, dates and
    None pass through.
    """
    if value.__class__ is str and value[:1] in _TRIGGER_SET:
        return "'" + value
    return value


# --- CSV -----------------------------------------------------------------------

CSV_ROWS_PER_CHUNK = 64


def table_csv(rows: Iterable[list], headings: list[str]) -> Iterator[str]:
    """Rows as UTF-8 CSV with a BOM so that Excel reads it right, a few dozen lines at a time.

    One pass, one list per row: formula triggers are neutralised inline, as
    safe_cell would, since this runs for every cell of every export.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    write, triggers = writer.writerow, _TRIGGER_SET

    def take() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    write(headings)
    yield "\ufeff" + take()
    pending = 0
    for values in rows:
        write([("'" + value if value[:1] in triggers else value) if value.__class__ is str else _csv_value(value)
               for value in values])
        pending += 1
        if pending == CSV_ROWS_PER_CHUNK:
            yield take()
            pending = 0
    if pending:
        yield take()


def _csv_value(value):
    """A cell that is not plain text: safe text, nothing for None, minutes for a time, numbers as they are."""
    if isinstance(value, str):
        return safe_cell(value)
    if value is None:
        return ""
    if hasattr(value, "hour"):
        return value.isoformat(" ", "minutes")[:16]  # 2026-03-01 09:30, as strftime would, at a third of its cost
    if hasattr(value, "year"):
        return value.isoformat() + " 00:00"
    return value


# --- Workbooks -----------------------------------------------------------------

def split_for_excel(values: list) -> list[list]:
    """One spreadsheet row, or several when a text cell is over Excel's 32,767-character limit.

    The text continues on following rows, each marked '(continued)' in the
    first column; nothing is truncated.
    """
    chunks = [[value[i:i + EXCEL_CELL_LIMIT] for i in range(0, len(value), EXCEL_CELL_LIMIT)] or [""]
              if isinstance(value, str) else [value] for value in values]
    height = max(len(parts) for parts in chunks)
    if height == 1:
        return [values]
    rows = []
    for index in range(height):
        row = [parts[index] if index < len(parts) else ("" if isinstance(parts[0], str) else None)
               for parts in chunks]
        if index:
            row[0] = f"{values[0]}{CONTINUED}"
        rows.append(row)
    return rows


def new_workbook(target: IO[bytes] | str):
    """A constant-memory workbook that never turns text into formulas or links, and its cell formats."""
    book = xlsxwriter.Workbook(target, {"constant_memory": True, "in_memory": False,
                                        "strings_to_formulas": False, "strings_to_urls": False})
    styles = {
        "header": {"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#F3F2F1", "bottom": 1},
        "wrap": {"text_wrap": True, "valign": "top"},
        "title": {"bold": True, "font_size": 13},
        "plain": {},
    }
    formats = {name: book.add_format(style) if style else None for name, style in styles.items()}
    # The same styles marking text as text ("quote prefix"), for text a spreadsheet would take for a formula.
    formats.update({f"{name}_quoted": book.add_format({**style, "quote_prefix": True})
                    for name, style in styles.items()})
    formats["datetime"] = book.add_format({"num_format": "d mmm yyyy hh:mm", "valign": "top"})
    return book, formats


def write_text(sheet, row: int, column: int, text: str, formats: dict, style: str = "plain") -> None:
    """Text in a workbook cell, exactly as written.

    Text starting like a formula ('=', '+', '-', '@'...) is written as a string
    cell, which no spreadsheet evaluates, and marked with Excel's quote prefix,
    as if typed after an apostrophe, so that editing the cell keeps it text. The
    words themselves are not changed: no stray apostrophe shows.
    """
    sheet.write_string(row, column, text, formats[f"{style}_quoted" if text[:1] in _TRIGGER_SET else style])


class SheetWriter:
    """A worksheet with a frozen, filtered header, widths by heading and wrapped, formula-safe text.

    With a `title`, the first row holds it in full (a sheet's name is cut at
    31 characters) and the header moves to the second row.
    """

    def __init__(self, book, name: str, headings: list[str], formats: dict, title: str | None = None):
        self.sheet = book.add_worksheet(name)
        self.headings = headings
        self.formats = formats
        self.header_row = self.row = 0 if title is None else 1
        for index, heading in enumerate(headings):
            self.sheet.set_column(index, index, WIDTHS.get(heading, DEFAULT_WIDTH), formats["wrap"])
        if title is not None:
            write_text(self.sheet, 0, 0, title, formats, "title")
        for index, heading in enumerate(headings):
            self.sheet.write_string(self.header_row, index, heading, formats["header"])
        self.sheet.freeze_panes(self.header_row + 1, 0)

    def write(self, values: list) -> None:
        # The common row has no cell over Excel's limit: it is written as it is, with no copy.
        rows = (split_for_excel(values) if any(value.__class__ is str and len(value) > EXCEL_CELL_LIMIT
                                               for value in values) else (values,))
        sheet, wrap, quoted, triggers = self.sheet, self.formats["wrap"], self.formats["wrap_quoted"], _TRIGGER_SET
        for row_values in rows:
            self.row += 1
            row = self.row
            for column, value in enumerate(row_values):
                if value.__class__ is str:
                    if value:
                        sheet.write_string(row, column, value, quoted if value[0] in triggers else wrap)
                elif value is None:
                    continue
                elif isinstance(value, str):
                    write_text(sheet, row, column, value, self.formats, "wrap")
                elif hasattr(value, "year"):
                    sheet.write_datetime(row, column, value, self.formats["datetime"])
                else:
                    sheet.write_number(row, column, value)

    def finish(self) -> None:
        self.sheet.autofilter(self.header_row, 0, max(self.row, self.header_row + 1), len(self.headings) - 1)


def write_table_workbook(rows: Iterable[list], headings: list[str], target: IO[bytes] | str,
                         sheet_name: str = "Comments") -> int:
    """One sheet of rows under a header; returns how many rows it was given."""
    book, formats = new_workbook(target)
    sheet = SheetWriter(book, sheet_name, headings, formats)
    count = 0
    for values in rows:
        sheet.write(values)
        count += 1
    sheet.finish()
    book.close()
    return count


# --- Responses -----------------------------------------------------------------

def spooled_file() -> IO[bytes]:
    """Where a file is built before it is streamed: memory while small, disk after."""
    return tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)


def _attachment(filename: str) -> dict:
    return {"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"}


def file_download(build: Callable[[IO[bytes]], object], filename: str, mimetype: str) -> Response:
    """Build into a spooled temporary file, then stream it out in chunks and discard it."""
    handle = spooled_file()
    build(handle)
    size = handle.tell()
    handle.seek(0)

    def chunks() -> Iterator[bytes]:
        try:
            while chunk := handle.read(64 * 1024):
                yield chunk
        finally:
            handle.close()

    headers = {**_attachment(filename), "Content-Length": str(size)}
    return Response(chunks(), mimetype=mimetype, headers=headers, direct_passthrough=True)


def csv_download(lines: Iterable[str], filename: str) -> Response:
    """Stream CSV while the database is still being read, within the request's context."""
    encoded = (line.encode("utf-8") for line in lines)
    return Response(stream_with_context(encoded), mimetype="text/csv", headers=_attachment(filename),
                    content_type="text/csv; charset=utf-8")
