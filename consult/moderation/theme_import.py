"""Themes from a file: a JSON list of {"name": ..., "description": ...}.

Every entry is checked first; one bad entry means nothing is imported. A
theme whose name the consultation already has (ignoring case) is left as it
is, so the same file can be imported twice.
"""

import json
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from consult.errors import DomainError
from consult.extensions import db
from consult.moderation.models import Theme
from consult.moderation.services import ModerationError, create_theme


class ThemeImportError(DomainError):
    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("Nothing was imported. Fix these and try again:\n" + "\n".join(problems))


@dataclass(frozen=True)
class ThemeImport:
    created: list[Theme]
    already_there: list[str]


def read_themes(path: Path) -> list[dict]:
    """The entries of the file, each a dict with a name and an optional description."""
    try:
        entries = json.loads(path.read_bytes().decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ThemeImportError([f"{path.name} is not a JSON file ({error})."]) from None
    if not isinstance(entries, list):
        raise ThemeImportError([f"{path.name} must hold a JSON list of themes."])
    problems = []
    seen: dict[str, int] = {}
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or not entry["name"].strip():
            problems.append(f"Theme {number}: each theme needs a 'name'.")
            continue
        description = entry.get("description", "")
        if description is not None and not isinstance(description, str):
            problems.append(f"Theme {number}: 'description' must be text.")
        if "\x00" in entry["name"] or "\x00" in (description or ""):
            problems.append(f"Theme {number}: it contains a NUL character, which cannot be stored.")
        key = " ".join(entry["name"].split()).lower()
        if key in seen:
            problems.append(f"Theme {number}: '{entry['name'].strip()}' is also theme {seen[key]}.")
        seen.setdefault(key, number)
    if problems:
        raise ThemeImportError(problems)
    return entries


def import_themes(consultation_id: int, entries: list[dict], actor) -> ThemeImport:
    """Create the themes the consultation lacks, each audited; flushes, never commits."""
    existing = {t.name.lower() for t in db.session.scalars(select(Theme).where(Theme.consultation_id == consultation_id))}
    created, already_there, problems = [], [], []
    for number, entry in enumerate(entries, start=1):
        name = " ".join(entry["name"].split())
        if name.lower() in existing:
            already_there.append(name)
            continue
        try:
            created.append(create_theme(consultation_id, name, entry.get("description") or "", actor))
        except ModerationError as error:
            problems.append(f"Theme {number}: {error}")
    if problems:
        raise ThemeImportError(problems)
    return ThemeImport(created, already_there)
