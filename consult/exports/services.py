"""Committee outputs built row by row: the comments workbook, CSV, themed workbook and Word table.

Nothing here holds a whole export in memory: workbooks are written with
xlsxwriter's constant-memory mode to a temporary file, CSV is yielded line
by line, and rows come from exports.rows in batches. The functions take
plain iterables so the work can move to a background worker unchanged.
"""

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from itertools import chain
from typing import IO

from consult.downloads import SheetWriter, new_workbook, safe_cell, table_csv, write_table_workbook, write_text
from consult.exports.publication import tobacco_declaration
from consult.exports.rows import ExportItem, columns
from consult.exports.wordml import GroupedRows, WordTables, paragraph, row_xml
from consult.uk_time import display_zone

NO_THEME = "No theme"


def write_comments_workbook(items: Iterable[ExportItem], target: IO[bytes] | str, include_email: bool,
                            answers: Iterable = ()) -> int:
    """The comments workbook in NICE's column order and row order; returns how many rows it holds.

    `answers` yields rows with the same ``values(include_email)`` and a
    ``participation_id`` (questions.exports.export_answers). Given answers,
    `items` must come in respondent order (rows.in_respondent_order): each
    respondent's comments are followed by that respondent's answers.
    """
    return write_table_workbook(_rows(items, answers, include_email), columns(include_email), target)


def comments_csv(items: Iterable[ExportItem], include_email: bool, answers: Iterable = ()) -> Iterator[str]:
    """The same columns and rows as the comments workbook."""
    return table_csv(_rows(items, answers, include_email), columns(include_email))


def _rows(items: Iterable[ExportItem], answers: Iterable, include_email: bool) -> Iterator[list]:
    """Merge two streams ordered by respondent: a respondent's comments, then their answers, one at a time.

    Holds one pending answer at most, so the cost in memory does not grow
    with the consultation; a respondent with answers but no comments gets
    their answers in their place.
    """
    answers = iter(answers)
    pending = next(answers, None)
    zone = display_zone()
    for item in items:
        while pending is not None and pending.participation_id < item.participation_id:
            yield pending.values(include_email)
            pending = next(answers, None)
        yield item.values(include_email, zone)
    while pending is not None:
        yield pending.values(include_email)
        pending = next(answers, None)


SHEET_NAME_LIMIT = 31
ELLIPSIS = "..."


def _sheet_name(name: str, taken: set[str]) -> str:
    """Excel sheet names: at most 31 characters, none of []:*?/\\, unique ignoring case.

    A long name is cut with "..." so a reader can see it was cut (the sheet's
    first row has it in full); when two cut names collide, the later ones
    gain " (2)", " (3)" and so on within the same 31 characters.
    """
    cleaned = " ".join("".join(" " if ch in "[]:*?/\\" else ch for ch in name).split()).strip("'") or "Theme"

    def fitted(tail: str) -> str:
        room = SHEET_NAME_LIMIT - len(tail)
        if len(cleaned) <= room:
            return cleaned + tail
        return cleaned[:room - len(ELLIPSIS)].rstrip(" '") + ELLIPSIS + tail

    candidate, suffix = fitted(""), 2
    while candidate.lower() in taken:
        candidate, suffix = fitted(f" ({suffix})"), suffix + 1
    taken.add(candidate.lower())
    return candidate


THEME_SHEET_COLUMNS = ["Comment number", "Stakeholder", "Participant type", "Section number", "Section heading",
                       "Selected text", "Comment", "Other themes", "Tobacco industry links", "Other interests declared",
                       "Response"]


def write_themed_workbook(items: Iterable[ExportItem], theme_names: list[str], target: IO[bytes] | str,
                          more_sheets: Callable | None = None, summaries: dict[str, str] | None = None) -> int:
    """A summary sheet, one sheet per theme in document order, and one for comments with no theme.

    `more_sheets(book, formats, taken, sheet_name)` adds sheets after them (the questions' answers).
    `summaries` are the staff's summaries by theme name, shown beside each
    theme's counts on the summary sheet.

    `items` must arrive in document order; each comment is written to the
    sheet of every theme it carries as it passes, so one pass suffices.
    """
    book, formats = new_workbook(target)
    taken: set[str] = set()
    summary = book.add_worksheet(_sheet_name("Summary", taken))
    sheets = {name: SheetWriter(book, _sheet_name(name, taken), THEME_SHEET_COLUMNS, formats, title=name)
              for name in theme_names}
    sheets[NO_THEME] = SheetWriter(book, _sheet_name(NO_THEME, taken), THEME_SHEET_COLUMNS, formats,
                                   title="Comments with no theme")
    by_theme_and_type: Counter = Counter()
    by_section: dict[str, int] = defaultdict(int)
    section_order: list[str] = []
    types: set[str] = set()
    count = 0
    for item in items:
        count += 1
        kind = item.participant_type
        types.add(kind)
        section = item.section_number or (item.chapter_label or "Whole document")
        if section not in by_section:
            section_order.append(section)
        by_section[section] += 1
        for theme in item.themes or (NO_THEME,):
            by_theme_and_type[(theme, kind)] += 1
            others = "; ".join(t for t in item.themes if t != theme)
            sheets.setdefault(theme, sheets[NO_THEME]).write([
                item.reference, item.stakeholder, kind, item.section_number, item.section_heading,
                item.quote, item.body, others, tobacco_declaration(item), other_interests_declaration(item),
                item.response,
            ])
    for sheet in sheets.values():
        sheet.finish()
    _write_summary(summary, formats, theme_names + [NO_THEME], sorted(types), by_theme_and_type,
                   section_order, by_section, summaries or {})
    if more_sheets is not None:
        more_sheets(book, formats, taken, _sheet_name)
    book.close()
    return count


def _write_summary(sheet, formats, themes, types, counts, section_order, by_section, summaries) -> None:
    sheet.set_column(0, 0, 40, formats["wrap"])
    sheet.set_column(1, len(types) + 1, 18)
    sheet.set_column(len(types) + 2, len(types) + 2, 70, formats["wrap"])
    sheet.write_string(0, 0, "Comments by theme and participant type", formats["header"])
    header = ["Theme", *types, "Total", "Summary"]
    for column, heading in enumerate(header):
        sheet.write_string(1, column, heading, formats["header"])
    row = 2
    for theme in themes:
        write_text(sheet, row, 0, theme, formats, "wrap")
        for column, kind in enumerate(types, start=1):
            sheet.write_number(row, column, counts[(theme, kind)])
        sheet.write_number(row, len(types) + 1, sum(counts[(theme, kind)] for kind in types))
        if summaries.get(theme):
            write_text(sheet, row, len(types) + 2, summaries[theme], formats, "wrap")
        row += 1
    row += 1
    sheet.write_string(row, 0, "Comments per section", formats["header"])
    sheet.write_string(row + 1, 0, "Section", formats["header"])
    sheet.write_string(row + 1, 1, "Comments", formats["header"])
    row += 2
    for section in section_order:
        write_text(sheet, row, 0, section, formats)
        sheet.write_number(row, 1, by_section[section])
        row += 1


def write_word_table(items: Iterable[ExportItem], target: IO[bytes] | str, group_by: str, title: str,
                     summaries: dict[str, str] | None = None, answers: Iterable = ()) -> int:
    """The consultation comments and responses table for committee papers, grouped by section or theme,
    then the answers to the consultation's questions; returns how many comments it holds.

    Grouped by theme, each theme's staff summary (from `summaries`, by name)
    comes before its table. `answers` yields questions.exports.AnswerRow.
    The document is streamed (see exports.wordml): each comment's row is
    made once, as it passes, and copied into its group's table.
    """
    summaries = summaries or {}
    count = 0
    with GroupedRows() as grouped, WordTables(target, title) as document:
        for item in items:
            count += 1
            keys = (item.themes or (NO_THEME,)) if group_by == "theme" else (_section_label(item),)
            # A table is often pasted into a spreadsheet, so its cells are made safe the same way.
            grouped.add(row_xml([safe_cell(value) for value in word_table_values(item)], WORD_TABLE_WIDTHS), keys)
        order = grouped.order
        if group_by == "theme":
            order = sorted(order, key=lambda name: (name == NO_THEME, name.lower()))
        for key in order:
            document.add(paragraph(key, "Heading2"))
            if group_by == "theme" and summaries.get(key):
                document.add(paragraph(safe_cell(summaries[key]), lead="Summary: "))
            document.table(WORD_TABLE_COLUMNS, WORD_TABLE_WIDTHS, grouped.rows(key))
        if not order:
            document.add(paragraph("No comments match."))
        _write_answer_table(document, answers)
    return count


def word_table_answers(answers: Iterable) -> Iterator:
    """The answer rows the Word table lists: the answers given. The workbook keeps NICE's empty row for each
    question left unanswered, but in a table the committee reads, rows saying "no answer" hide the answers."""
    return (row for row in answers if row.answered)


def _write_answer_table(document: WordTables, answers: Iterable) -> None:
    """The answers after the comments, one row each, under their own heading; nothing if there are none."""
    rows = word_table_answers(answers)
    first = next(rows, None)
    if first is None:
        return
    document.add(paragraph("Answers to the consultation questions", "Heading2"))

    document.table(ANSWER_TABLE_COLUMNS, ANSWER_TABLE_WIDTHS, (
        row_xml([safe_cell(value) for value in (
            row.question_text, row.stakeholder, row.yes_no_label, row.text)], ANSWER_TABLE_WIDTHS)
        for row in chain((first,), rows)))


WORD_TABLE_COLUMNS = ["Comment number", "Stakeholder", "Section", "Comment", "Tobacco industry links",
                      "Other interests declared", "Response"]
# Widths in twentieths of a point, filling a landscape A4/Letter page inside 1.5 cm margins.
WORD_TABLE_WIDTHS = [1300, 1700, 1600, 3900, 1600, 1600, 2400]
ANSWER_TABLE_COLUMNS = ["Question", "Stakeholder", "Yes/No", "Answer"]
ANSWER_TABLE_WIDTHS = [4000, 2300, 1000, 6800]


def committee_response(item: ExportItem) -> str:
    """The response as the committee reads it: never an empty cell.

    A draft already says it is one (rows.response_text), as in the spreadsheets.
    """
    if item.response_state is None or not (item.response or "").strip():
        return "No response yet"
    return item.response


def other_interests_declaration(item: ExportItem) -> str:
    """The other interests the respondent declared, or that none were: for the committee, never published."""
    return item.other_interests.strip() or "None declared"


def word_table_values(item: ExportItem) -> list[str]:
    return [
        item.reference, item.stakeholder, _section_label(item),
        (f"Quoted: \u201c{item.quote}\u201d\n\n" if item.quote else "") + item.body,
        tobacco_declaration(item), other_interests_declaration(item), committee_response(item),
    ]


def _section_label(item: ExportItem) -> str:
    if item.section_number:
        return f"{item.section_number} {item.section_heading}".strip()
    return item.chapter_label or "Whole document"

