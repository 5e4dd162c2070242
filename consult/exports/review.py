"""What the committee's themed review shows: counts by theme, section and participant type.

Counts cover submitted comments that moderation has not rejected, the same
set every committee output uses.
"""

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select

from consult.comments.models import Comment, Participation, participant_type_label
from consult.consultations.models import Chapter, Consultation, Section
from consult.exports.rows import publishable
from consult.extensions import db
from consult.moderation.models import CommentTheme, Theme

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
    """All the counts for the review page, in a fixed handful of grouped queries."""
    base = publishable(select(Comment).where(Comment.consultation_id == consultation.id)).subquery()
    total = db.session.scalar(select(func.count()).select_from(base)) or 0

    theme_counts = db.session.execute(
        select(Theme.id, Theme.name, func.count(base.c.id))
        .select_from(Theme)
        .outerjoin(CommentTheme, CommentTheme.theme_id == Theme.id)
        .outerjoin(base, base.c.id == CommentTheme.comment_id)
        .where(Theme.consultation_id == consultation.id)
        .group_by(Theme.id, Theme.name).order_by(func.count(base.c.id).desc(), Theme.name)
    ).all()
    unthemed = db.session.scalar(
        select(func.count()).select_from(base)
        .where(~select(CommentTheme.comment_id).where(CommentTheme.comment_id == base.c.id).exists())) or 0
    themes = [ChartRow(name, count, theme_id) for theme_id, name, count in theme_counts]
    themes.append(ChartRow(NO_THEME, unthemed, "none"))

    section_counts = db.session.execute(
        select(Section.id, Section.number, Chapter.number, Chapter.title, func.count(base.c.id))
        .select_from(base)
        .outerjoin(Section, Section.id == base.c.section_id)
        .outerjoin(Chapter, Chapter.id == base.c.chapter_id)
        .group_by(Section.id, Section.number, Section.position, Chapter.id, Chapter.number, Chapter.title,
                  Chapter.position)
        .order_by(Chapter.position.is_not(None), Chapter.position, Section.position.is_not(None), Section.position)
    ).all()
    sections = []
    for section_id, number, chapter_number, chapter_title, count in section_counts:
        if section_id is not None:
            sections.append(ChartRow(f"Section {number}", count, section_id))
        elif chapter_title is not None:
            label = f"Chapter {chapter_number}: {chapter_title}" if chapter_number else f"Chapter: {chapter_title}"
            sections.append(ChartRow(label, count))
        else:
            sections.append(ChartRow("Whole document", count))

    by_type = db.session.execute(
        select(Theme.name, Participation.kind, Participation.individual_type,
               Participation.organisation_type, func.count(base.c.id))
        .select_from(base)
        .join(Participation, Participation.id == base.c.participation_id)
        .outerjoin(CommentTheme, CommentTheme.comment_id == base.c.id)
        .outerjoin(Theme, Theme.id == CommentTheme.theme_id)
        .group_by(Theme.name, Participation.kind, Participation.individual_type, Participation.organisation_type)
    ).all()
    theme_by_type: dict[str, dict[str, int]] = defaultdict(dict)
    types: set[str] = set()
    for name, kind, individual, organisation, count in by_type:
        theme_name = name if name is not None else NO_THEME
        label = participant_type_label(kind, individual, organisation)
        types.add(label)
        theme_by_type[theme_name][label] = theme_by_type[theme_name].get(label, 0) + count
    return ReviewSummary(total, themes, sections, sorted(types), dict(theme_by_type))
