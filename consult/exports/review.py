"""What the committee's themed review shows: counts by theme, section and participant type.

Counts cover submitted comments that moderation has not rejected, the same
set every committee output uses.
"""

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select

from consult.comments.models import IndividualType, OrganisationType, ParticipantKind, participant_type_label
from consult.consultations.models import Chapter, Consultation, Section
from consult.extensions import db
from consult.moderation import counters
from consult.moderation.models import Theme

NO_THEME = "No theme"


@dataclass(frozen=True)
class ChartRow:
    label: str
    value: int
    key: str | int | None = None  # what a drill-down link selects


@dataclass(frozen=True)
class ReviewSummary:
    total: int
    themes: list[ChartRow]
    sections: list[ChartRow]
    participant_types: list[str]
    theme_by_type: dict[str, dict[str, int]]


def summarise(consultation: Consultation) -> ReviewSummary:
    """All the counts for the review page, from the consultation's running counts.

    Reads the counts, the themes and the parts of the documents that have
    comments: a fixed handful of small statements, whatever the number of comments.
    """
    counts = counters.read([consultation.id])[consultation.id]
    themes_by_id = {theme.id: theme for theme in db.session.scalars(
        select(Theme).where(Theme.consultation_id == consultation.id))}
    rows = [ChartRow(theme.name, counts["pub_theme", str(theme_id)], theme_id)
            for theme_id, theme in themes_by_id.items()]
    rows.sort(key=lambda row: (-row.value, row.label))
    themes = rows + [ChartRow(NO_THEME, counts["pub_theme", "none"], "none")]

    theme_by_type: dict[str, dict[str, int]] = defaultdict(dict)
    types: set[str] = set()
    for (dimension, key), count in counts.items():
        if dimension != "pub_theme_type" or count <= 0:
            continue
        theme_key, _, type_key = key.partition("|")
        if theme_key == "none":
            theme_name = NO_THEME
        elif int(theme_key) in themes_by_id:
            theme_name = themes_by_id[int(theme_key)].name
        else:
            continue
        label = _type_label(type_key)
        types.add(label)
        theme_by_type[theme_name][label] = theme_by_type[theme_name].get(label, 0) + count
    return ReviewSummary(counts["pub", "total"], themes, _section_rows(counts), sorted(types), dict(theme_by_type))


def _type_label(type_key: str) -> str:
    kind, _, subtype = type_key.partition(":")
    kind = ParticipantKind(kind)
    if kind is ParticipantKind.INDIVIDUAL:
        return participant_type_label(kind, IndividualType(subtype) if subtype else None, None)
    return participant_type_label(kind, None, OrganisationType(subtype) if subtype else None)


def _section_rows(counts) -> list[ChartRow]:
    """Comments per section, chapter (commented as a whole) or document, in document order."""
    parts = []
    for (dimension, key), count in counts.items():
        if dimension == "pub_section" and count > 0:
            section_id, _, chapter_id = key.partition("|")
            parts.append((int(section_id) if section_id else None, int(chapter_id) if chapter_id else None, count))
    sections = {s.id: s for s in db.session.scalars(
        select(Section).where(Section.id.in_([p[0] for p in parts if p[0] is not None])))}
    chapters = {c.id: c for c in db.session.scalars(
        select(Chapter).where(Chapter.id.in_([p[1] for p in parts if p[1] is not None])))}

    def position(part):
        section, chapter = sections.get(part[0]), chapters.get(part[1])
        chapter_position = chapter.position if chapter else None
        section_position = section.position if section else None
        return (chapter_position is not None, chapter_position or 0, section_position is not None,
                section_position or 0, part[1] or 0, part[0] or 0)

    rows = []
    for section_id, chapter_id, count in sorted(parts, key=position):
        if section_id is not None:
            rows.append(ChartRow(f"Section {sections[section_id].number}", count, section_id))
        elif chapter_id is not None:
            chapter = chapters[chapter_id]
            label = f"Chapter {chapter.number}: {chapter.title}" if chapter.number else f"Chapter: {chapter.title}"
            rows.append(ChartRow(label, count))
        else:
            rows.append(ChartRow("Whole document", count))
    return rows
