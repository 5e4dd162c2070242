"""What the committee's themed review shows: counts by theme, section and participant type, and each theme's
share of organisations and individuals, staff's summary and representative comments.

Counts cover submitted comments that moderation has not rejected, the same
set every committee output uses.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select

from consult.analysis.models import Campaign
from consult.audit.services import record, snapshot
from consult.comments.models import (
    Comment,
    CommentStatus,
    IndividualType,
    OrganisationType,
    ParticipantKind,
    participant_type_label,
)
from consult.consultations.models import Chapter, Consultation, Section
from consult.extensions import db
from consult.errors import DomainError
from consult.exports.representative import Representative, representatives
from consult.moderation import counters
from consult.moderation.queries import first_members, publishable_campaign_sizes
from consult.moderation.models import CommentTheme, Theme
from consult.moderation.states import ModerationState
from consult.moderation.services import StaleTheme, last_change
from consult.moderation.services.common import versioned_savepoint

NO_THEME = "No theme"
THEME_SUMMARY_MAX = 2000


class ThemeSummaryTooLong(DomainError):
    message = f"The summary must be {THEME_SUMMARY_MAX:,} characters or fewer"
    field = "summary"


def write_theme_summary(theme: Theme, summary: str, actor, expected_version: int) -> bool:
    """Set the committee summary of a theme, as of the version the person opened; False if unchanged.

    Spaces at either end are dropped and line breaks are kept. A change made
    by someone else since the form was opened raises StaleTheme naming them,
    so nobody overwrites a summary they have not read. Audited.
    """
    summary = summary.strip().replace("\r\n", "\n")
    if len(summary) > THEME_SUMMARY_MAX:
        raise ThemeSummaryTooLong()
    if theme.version != expected_version:
        raise StaleTheme(theme, last_change(theme), actor)
    if summary == theme.summary:
        return False
    before = snapshot(theme, ["summary", "version"])
    with versioned_savepoint(theme, stale=lambda: StaleTheme(theme, last_change(theme))):
        theme.summary = summary
    record(actor, "theme.summarise", theme, before, snapshot(theme, ["summary", "version"]))
    db.session.flush()
    return True


@dataclass(frozen=True)
class ChartRow:
    label: str
    value: int
    key: str | int | None = None  # what a drill-down link selects


@dataclass(frozen=True)
class ThemeDetail:
    """One theme as the committee reads it: how many, from whom, what staff wrote, and typical comments."""

    theme_id: int | None  # None for the comments with no theme
    name: str
    count: int
    organisations: int
    individuals: int
    summary: str = ""
    representatives: tuple[Representative, ...] = ()

    def share(self, part: int) -> int:
        """A whole percentage of the theme's comments (0 when it has none)."""
        return round(100 * part / self.count) if self.count else 0


@dataclass(frozen=True)
class ReviewSummary:
    total: int
    themes: list[ChartRow]
    sections: list[ChartRow]
    participant_types: list[str]
    theme_by_type: dict[str, dict[str, int]]
    details: list[ThemeDetail] = field(default_factory=list)


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
    by_kind: dict[str, Counter] = defaultdict(Counter)
    for (dimension, key), count in counts.items():
        if dimension == "pub_theme_type" and count > 0:
            theme_key, _, type_key = key.partition("|")
            by_kind[theme_key][type_key.partition(":")[0]] += count
    state_key = tuple(sorted((key, n) for (dimension, key), n in counts.items() if dimension == "state"))
    details = []
    for row in themes:
        kinds = by_kind[str(row.key)]
        theme = themes_by_id.get(row.key)
        chosen = () if theme is None or not row.value else tuple(representatives(
            theme.id, consultation.reference, (theme.version, row.value, state_key)))
        details.append(ThemeDetail(
            theme_id=theme.id if theme else None, name=row.label, count=row.value,
            organisations=kinds[ParticipantKind.ORGANISATION.value],
            individuals=kinds[ParticipantKind.INDIVIDUAL.value],
            summary=theme.summary if theme else "", representatives=chosen))
    return ReviewSummary(counts["pub", "total"], themes, _section_rows(counts), sorted(types), dict(theme_by_type),
                         details)


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


@dataclass(frozen=True)
class CampaignRow:
    """A campaign as the committee reads it: once, with how many of its comments count, and one typical text."""

    campaign_id: int
    name: str
    size: int
    text: str


CAMPAIGNS_SHOWN = 50


def campaigns_for_review(consultation_id: int, limit: int = CAMPAIGNS_SHOWN) -> tuple[list[CampaignRow], int]:
    """The largest campaigns, each once with its size among the comments the review counts (submitted, not
    rejected), its name and its first such comment's text as published; and how many campaigns there are.

    Sizes from the running counts, then the first comments of the campaigns shown.
    """
    sizes = publishable_campaign_sizes(consultation_id)
    shown = sorted(sizes.items(), key=lambda pair: (-pair[1], pair[0]))[:limit]
    names = dict(db.session.execute(select(Campaign.id, Campaign.name)
                                    .where(Campaign.id.in_([campaign_id for campaign_id, _ in shown]))).all())
    first = first_members(dict(shown), select(Comment).where(
        Comment.consultation_id == consultation_id, Comment.status == CommentStatus.SUBMITTED,
        Comment.moderation_state != ModerationState.REJECTED))
    firsts = {c.number: c for c in db.session.scalars(select(Comment).where(
        Comment.consultation_id == consultation_id, Comment.number.in_(list(first.values()))))}
    return [CampaignRow(campaign_id, names.get(campaign_id) or f"Campaign {campaign_id}", size,
                        firsts[first[campaign_id]].shown_body)
            for campaign_id, size in shown if campaign_id in first], len(sizes)


# A theme of at most this many public comments is found by its tags; a larger one, comment by comment.
FEW_IN_THEME = 2_000


def carrying_theme(query, theme: Theme):
    """`query` narrowed to the comments tagged with `theme`, in the form that is cheap for its size.

    The drill-down reads a theme part by part (exports.paging). A small theme
    is best found from its tags: the database looks up those comments and
    skips the parts that hold none. A large one is best found by walking each
    part's comments and probing each for the tag, as a page fills within a few
    hundred of them; as a list of its tags, SQLite would build that list,
    which can hold most of 100,000 comments, again for every part. The
    theme's size comes from the running counts, not a count.
    """
    size = counters.read([theme.consultation_id], ["pub_theme"])[theme.consultation_id]["pub_theme", str(theme.id)]
    if size <= FEW_IN_THEME:
        return query.where(Comment.id.in_(select(CommentTheme.comment_id).where(CommentTheme.theme_id == theme.id)))
    return query.where(select(CommentTheme.comment_id).where(
        CommentTheme.comment_id == Comment.id, CommentTheme.theme_id == theme.id).exists())
