"""Responses sent on paper or by email, entered by staff from a file.

A file (JSON Lines, CSV or xlsx, with the same columns) holds one response
per row::

    {"id": "P-017", "section": "2.5" or "document", "participant_type": "patient_or_carer",
     "organisation": null, "body": "...", "themes": ["Cost"]}

Every row is checked before anything is written, and every bad row is
reported by its line number; one bad row means nothing is imported. Each row
becomes the response of an offline respondent: a participation, submitted
at once, with one comment numbered in the consultation's sequence exactly as
a submission through the site would be, marked as entered by staff, audited,
and tagged with the staff themes it names.

Offline responses are accepted whatever the consultation's dates: letters
posted before the deadline are often keyed in after it.
"""

import csv
import io
import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select, text

from consult.accounts.models import Role, User
from consult.accounts.services import unusable_password_hash
from consult.audit.services import record
from consult.comments.models import (
    MAX_COMMENT_LENGTH,
    Comment,
    CommentStatus,
    CommentTarget,
    IndividualType,
    OrganisationType,
    ParticipantKind,
    Participation,
)
from consult.comments.services import new_receipt_reference, reserve_comment_numbers
from consult.consultations.models import Consultation, Section
from consult.errors import DomainError
from consult.extensions import db
from consult.moderation.models import Theme
from consult.moderation.services import tag_comment

COLUMNS = ("id", "section", "participant_type", "organisation", "body", "themes")
MAX_EXTERNAL_ID = 100
MAX_ORGANISATION = 200
# From this many rows an import refreshes PostgreSQL's planner statistics (see _refresh_planner_statistics).
LARGE_IMPORT = 1000

PARTICIPANT_TYPES = {
    "member_of_public": IndividualType.MEMBER_OF_PUBLIC,
    "patient_or_carer": IndividualType.PATIENT_OR_CARER,
    "professional": IndividualType.HEALTH_PROFESSIONAL,
    "researcher": IndividualType.RESEARCHER,
    "organisation": None,
}


class OfflineImportError(DomainError):
    """The file cannot be imported; `problems` lists (line, sentence) for every bad row."""

    def __init__(self, problems: list[tuple[int, str]]):
        self.problems = problems
        lines = "\n".join(f"Line {line}: {problem}" for line, problem in problems)
        super().__init__(f"Nothing was imported. Fix {_count(len(problems), 'problem')} and try again:\n{lines}")


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


@dataclass(frozen=True)
class OfflineResponse:
    """One checked row, ready to store."""

    line: int
    external_id: str
    section: Section | None  # None: a comment on the whole document
    individual_type: IndividualType | None  # None: on behalf of an organisation
    organisation: str | None
    body: str
    themes: list[Theme] = field(default_factory=list)


# --- Reading -----------------------------------------------------------------


def read_rows(path: Path) -> list[tuple[int, dict]]:
    """The file's rows as (line number, values), by its extension: .jsonl/.json, .csv or .xlsx."""
    suffix = path.suffix.lower()
    if suffix in {".jsonl", ".json", ".ndjson"}:
        return _json_lines(_text(path))
    if suffix == ".csv":
        return _csv_rows(_text(path))
    if suffix == ".xlsx":
        return _xlsx_rows(path)
    raise OfflineImportError([(0, f"{path.name} is not a .jsonl, .csv or .xlsx file.")])


def _text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise OfflineImportError([(0, f"{path.name} is not UTF-8 text (byte {error.start}).")]) from None


def _json_lines(text: str) -> list[tuple[int, dict]]:
    rows, problems = [], []
    for line, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as error:
            problems.append((line, f"this is not valid JSON ({error.msg})."))
            continue
        if not isinstance(value, dict):
            problems.append((line, "each line must be one JSON object."))
            continue
        rows.append((line, value))
    if problems:
        raise OfflineImportError(problems)
    return rows


def _split_themes(value) -> list | str | None:
    """A spreadsheet cell of themes: a JSON list, or names separated by semicolons."""
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return []
    if text.startswith("["):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return text  # reported as not a list by the checks
    return [name.strip() for name in text.split(";") if name.strip()]


def _from_cells(values: dict) -> dict:
    row = {key: (None if value is None or (isinstance(value, str) and not value.strip()
                                           and key != "body") else value)
           for key, value in values.items() if key}
    if "themes" in row:
        row["themes"] = _split_themes(row["themes"])
    for key in ("id", "section"):
        if isinstance(row.get(key), (int, float)):
            row[key] = _number_text(row[key])
    return row


def _number_text(value: int | float) -> str:
    """A spreadsheet's number as typed: 2.5 stays "2.5", an id 17 stays "17"."""
    return str(value)


def _csv_rows(text: str) -> list[tuple[int, dict]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    _check_header(reader.fieldnames or [])
    return [(reader.line_num, _from_cells(values)) for values in reader]


def _xlsx_rows(path: Path) -> list[tuple[int, dict]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a file that is not a workbook
        raise OfflineImportError([(0, f"{path.name} could not be opened as an Excel workbook.")]) from None
    try:
        sheet = workbook.worksheets[0]
        lines = sheet.iter_rows(values_only=True)
        header = [str(cell).strip() if cell is not None else "" for cell in next(lines, ())]
        _check_header(header)
        rows = []
        for number, cells in enumerate(lines, start=2):
            if all(cell is None or str(cell).strip() == "" for cell in cells):
                continue
            rows.append((number, _from_cells(dict(zip(header, cells)))))
        return rows
    finally:
        workbook.close()


def _check_header(header: list[str]) -> None:
    missing = [column for column in COLUMNS if column != "themes" and column not in header]
    if missing:
        raise OfflineImportError([(1, f"the header has no {', '.join(missing)} column "
                                      f"(expected {', '.join(COLUMNS)}).")])


# --- Checking ----------------------------------------------------------------


def _sections_by_number(consultation: Consultation) -> dict[str, Section]:
    sections: dict[str, Section] = {}
    for document in consultation.documents:
        for chapter in document.chapters:
            for section in chapter.sections:
                sections.setdefault(section.number, section)
    return sections


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


def check_rows(consultation: Consultation, rows: list[tuple[int, dict]]) -> list[OfflineResponse]:
    """Every row checked against the consultation; raises OfflineImportError naming each bad line."""
    if not consultation.documents:
        raise OfflineImportError([(0, f"{consultation.reference} has no document to comment on yet.")])
    sections = _sections_by_number(consultation)
    themes = {t.name.lower(): t for t in db.session.scalars(
        select(Theme).where(Theme.consultation_id == consultation.id))}
    taken = set(db.session.scalars(select(Comment.external_id).where(
        Comment.consultation_id == consultation.id, Comment.external_id.is_not(None))))
    seen: dict[str, int] = {}
    problems: list[tuple[int, str]] = []
    checked: list[OfflineResponse] = []
    if not rows:
        raise OfflineImportError([(0, "the file has no responses in it.")])
    for line, row in rows:
        row_problems: list[str] = []

        def refuse(message: str) -> None:
            row_problems.append(message)

        if any(_has_nul(value) for value in row.values()):
            refuse("it contains a NUL character, which cannot be stored.")
        external_id = row.get("id")
        if not isinstance(external_id, str) or not external_id.strip():
            refuse("'id' must be a non-empty text.")
            external_id = None
        else:
            external_id = external_id.strip()
            if len(external_id) > MAX_EXTERNAL_ID:
                refuse(f"'id' must be {MAX_EXTERNAL_ID} characters or fewer.")
            elif external_id in seen:
                refuse(f"the id {external_id} is also used on line {seen[external_id]}.")
            elif external_id in taken:
                refuse(f"a response with the id {external_id} was already imported into {consultation.reference}.")
            seen.setdefault(external_id, line)
        section_number = row.get("section")
        section = None
        if not isinstance(section_number, str) or not section_number.strip():
            refuse("'section' must be a section number such as 2.5, or 'document'.")
        elif section_number.strip().lower() != "document":
            section = sections.get(section_number.strip())
            if section is None:
                refuse(f"{consultation.reference} has no section {section_number.strip()}.")
        kind = row.get("participant_type")
        if kind not in PARTICIPANT_TYPES:
            refuse(f"'participant_type' must be one of {', '.join(PARTICIPANT_TYPES)}, not {kind!r}.")
        organisation = row.get("organisation")
        if organisation is not None and not isinstance(organisation, str):
            refuse("'organisation' must be text or null.")
            organisation = None
        organisation = (organisation or "").strip() or None
        if kind == "organisation" and organisation is None:
            refuse("an organisation's response needs the organisation's name in 'organisation'.")
        if organisation and len(organisation) > MAX_ORGANISATION:
            refuse(f"'organisation' must be {MAX_ORGANISATION} characters or fewer.")
        body = row.get("body")
        if not isinstance(body, str) or not body.strip():
            refuse("'body' must be the text of the comment and cannot be empty.")
            body = ""
        else:
            body = body.replace("\r\n", "\n").strip()
            if len(body) > MAX_COMMENT_LENGTH:
                refuse(f"'body' must be {MAX_COMMENT_LENGTH:,} characters or fewer; it has {len(body):,}.")
        names = row.get("themes")
        row_themes: list[Theme] = []
        if names is not None:
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                refuse("'themes' must be a list of theme names.")
            else:
                for name in dict.fromkeys(n.strip() for n in names if n.strip()):
                    theme = themes.get(name.lower())
                    if theme is None:
                        refuse(f"{consultation.reference} has no theme called '{name}' "
                               "(import the themes first with `flask themes import`).")
                    else:
                        row_themes.append(theme)
        if row_problems:
            problems.extend((line, message) for message in row_problems)
            continue
        checked.append(OfflineResponse(line, external_id, section, PARTICIPANT_TYPES[kind],
                                       organisation if kind == "organisation" else None, body, row_themes))
    if problems:
        raise OfflineImportError(problems)
    return checked


# --- Storing -----------------------------------------------------------------


def import_responses(consultation: Consultation, responses: list[OfflineResponse], actor,
                     now: datetime) -> list[Comment]:
    """Store checked rows as submitted, numbered comments from offline respondents; flushes, never commits.

    Numbers are reserved in one conditional UPDATE of the consultation's
    counter, as a submission does, so they follow on from the site's and
    never collide with a submission made at the same moment. Each offline
    respondent is an account no one can sign in to (its password is a random
    secret that is thrown away), under the reserved .invalid domain.
    """
    if not responses:
        return []
    first_number = reserve_comment_numbers(consultation.id, len(responses))
    unusable_password = unusable_password_hash()
    document = consultation.documents[0]
    comments = []
    for offset, response in enumerate(responses):
        user = User(email=f"offline-{secrets.token_hex(8)}@responses.invalid",
                    name=response.organisation or "Offline respondent",
                    password_hash=unusable_password, role=Role.STAKEHOLDER)
        is_organisation = response.individual_type is None
        participation = Participation(
            user=user, consultation_id=consultation.id,
            kind=ParticipantKind.ORGANISATION if is_organisation else ParticipantKind.INDIVIDUAL,
            individual_type=response.individual_type,
            organisation_name=response.organisation,
            organisation_type=OrganisationType.OTHER if is_organisation else None,
            submitted_at=now, receipt_reference=new_receipt_reference(consultation))
        section = response.section
        comment = Comment(
            participation=participation, consultation_id=consultation.id,
            document_id=section.document_id if section else document.id,
            chapter_id=section.chapter_id if section else None,
            section_id=section.id if section else None,
            target=CommentTarget.SECTION if section else CommentTarget.DOCUMENT,
            body=response.body, status=CommentStatus.SUBMITTED, number=first_number + offset,
            submitted_at=now, external_id=response.external_id, entered_by_staff=True)
        db.session.add_all([user, participation, comment])
        comments.append(comment)
    db.session.flush()
    for response, comment in zip(responses, comments):
        record(actor, "comment.import_offline", comment, None, {
            "external_id": response.external_id, "number": comment.number, "line": response.line,
            "target": comment.target.value, "section": response.section.number if response.section else None,
            "participant": response.individual_type.value if response.individual_type else "organisation",
            "organisation": response.organisation})
        for theme in response.themes:
            tag_comment(comment, theme, actor, now)
    db.session.flush()
    _refresh_planner_statistics(len(responses))
    return comments


def _refresh_planner_statistics(imported: int) -> None:
    """After a large import on PostgreSQL, refresh the statistics its planner chooses plans from.

    Autovacuum refreshes them only a while after a bulk change. Until it does, the planner
    believes a consultation has the few comments it had before the import, and the triage
    queue it plans for 100,000 comments takes seconds instead of milliseconds.
    """
    if imported >= LARGE_IMPORT and db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("ANALYZE comments, participations, users"))


def import_file(consultation: Consultation, path: Path, actor, now: datetime) -> list[Comment]:
    """Read, check and store a whole file: all of it, or (on any bad row) none of it."""
    return import_responses(consultation, check_rows(consultation, read_rows(path)), actor, now)


def offline_comment_count(consultation_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Comment).where(
        Comment.consultation_id == consultation_id, Comment.entered_by_staff.is_(True)))
