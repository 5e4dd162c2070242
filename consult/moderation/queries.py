"""Reading the staff workspace: the filtered triage queue, a page at a time, and progress counts.

Nothing here changes a row. Every function takes plain values and returns
rows or counts; a page of the queue costs the same number of statements
whatever its size, because everything a row shows is loaded in batches.
"""

import bisect
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import Select, and_, case, exists, func, select
from sqlalchemy.orm import aliased, joinedload, selectinload

from consult.access import is_staff
from consult.analysis.models import Campaign, CampaignMember, MembershipMethod, SuggestionState, ThemeSuggestion
from consult.comments import search
from consult.comments.models import (
    Comment,
    CommentStatus,
    IndividualType,
    OrganisationType,
    ParticipantKind,
    Participation,
    participant_type_label,
)
from consult.consultations.models import Chapter, CommitteeAssignment, Consultation, Document
from consult.database import LabelledEnum
from consult.extensions import db
from consult.moderation import counters
from consult.moderation.models import CommentResponse, CommentTheme, Theme, TriageMark
from consult.moderation.states import PUBLIC_STATES, ModerationState, ResponseState

PER_PAGE_CHOICES = (25, 50, 100)
DEFAULT_PER_PAGE = PER_PAGE_CHOICES[0]
# Far beyond any real queue, low enough that OFFSET never overflows.
MAX_PAGE = 100_000
# Keeps every IN (...) list well inside SQLite's and PostgreSQL's parameter limits.
_BATCH = 500

ANSWERED_STATES = (ResponseState.AGREED, ResponseState.NOT_NEEDED)


@dataclass(frozen=True)
class ParticipantType:
    """A participant type a filter or a chart can name: a kind, with or without its subtype."""

    kind: ParticipantKind
    individual_type: IndividualType | None = None
    organisation_type: OrganisationType | None = None

    @property
    def key(self) -> str:
        subtype = self.individual_type or self.organisation_type
        return f"{self.kind.value}:{subtype.value}" if subtype else self.kind.value

    @property
    def label(self) -> str:
        return participant_type_label(self.kind, self.individual_type, self.organisation_type)

    @classmethod
    def from_key(cls, key: str) -> "ParticipantType":
        """The type a key names; ValueError for anything else."""
        kind_value, _, subtype_value = key.partition(":")
        kind = ParticipantKind(kind_value)
        if not subtype_value:
            return cls(kind)
        if kind is ParticipantKind.INDIVIDUAL:
            return cls(kind, individual_type=IndividualType(subtype_value))
        return cls(kind, organisation_type=OrganisationType(subtype_value))

    @classmethod
    def of(cls, participation: Participation) -> "ParticipantType":
        return cls(participation.kind, participation.individual_type, participation.organisation_type)


def participant_types() -> list[ParticipantType]:
    """Every type a queue can be filtered by, individuals first."""
    types = [ParticipantType(ParticipantKind.INDIVIDUAL)]
    types += [ParticipantType(ParticipantKind.INDIVIDUAL, individual_type=t) for t in IndividualType]
    types.append(ParticipantType(ParticipantKind.ORGANISATION))
    types += [ParticipantType(ParticipantKind.ORGANISATION, organisation_type=t) for t in OrganisationType]
    return types


NO_THEME = 0  # the theme filter's value for "comments with no theme yet"
ANY_SUGGESTION = 0  # the suggested filter's value for "a suggestion for any theme"


class ResponseFilter(LabelledEnum):
    """Which response a comment has, as the queue can narrow to it."""

    # Everything but an agreed response: publishing shows each of these with an empty response, so this is
    # exactly what the publication check counts as "without an agreed response".
    NOT_AGREED = ("not_agreed", "Without an agreed response")
    NONE = ("none", "No response yet")
    DRAFT = ("draft", "Draft response")
    AGREED = ("agreed", "Agreed response")
    NOT_NEEDED = ("not_needed", "No response needed")


@dataclass(frozen=True)
class QueueFilters:
    """What narrows the queue. Every field is optional and they combine with AND."""

    document_id: int | None = None
    chapter_id: int | None = None
    section_id: int | None = None
    state: ModerationState | None = None
    public: bool = False  # only the comments publishing makes public (accepted or redacted)
    theme_id: int | None = None  # NO_THEME for comments without any theme
    participant_type: ParticipantType | None = None
    organisation_name: str = ""
    has_tobacco_links: bool | None = None
    submitted_from: datetime | None = None  # inclusive, aware
    submitted_before: datetime | None = None  # exclusive, aware
    text: str = ""
    # Only admins may search the words a redaction withheld; everyone else
    # searches what they can read, so a search cannot reveal them.
    search_original: bool = False
    flagged: bool | None = None  # flagged for a second look, or not
    # Leave out comments someone other than this person has been reading since `reading_since`.
    free_for: int | None = None
    reading_since: datetime | None = None
    # Comments with a pending theme suggestion: for this theme, or ANY_SUGGESTION for any.
    suggested_theme_id: int | None = None
    campaign_id: int | None = None  # the members of one campaign
    response: ResponseFilter | None = None
    best_match_first: bool = False  # with `text`: a page lists the best matches first, not by number


def like_pattern(text: str) -> str:
    """'%…%' for a LIKE that matches `text` literally: its own % and _ are not wildcards."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _contains(column, text: str):
    return column.ilike(like_pattern(text), escape="\\")


def submitted_comments(consultation_id: int) -> Select:
    """Every submitted comment of one consultation; drafts never reach staff."""
    return select(Comment).where(Comment.consultation_id == consultation_id,
                                 Comment.status == CommentStatus.SUBMITTED)


def matching_comments(consultation_id: int, filters: QueueFilters) -> Select:
    """The queue's rows, filtered, in comment-number order (no paging, no eager loads)."""
    query = submitted_comments(consultation_id)
    if filters.document_id is not None:
        query = query.where(Comment.document_id == filters.document_id)
    if filters.chapter_id is not None:
        query = query.where(Comment.chapter_id == filters.chapter_id)
    if filters.section_id is not None:
        query = query.where(Comment.section_id == filters.section_id)
    if filters.state is not None:
        query = query.where(Comment.moderation_state == filters.state)
    if filters.public:
        query = query.where(Comment.moderation_state.in_(PUBLIC_STATES))
    if filters.theme_id == NO_THEME:
        query = query.where(~exists().where(CommentTheme.comment_id == Comment.id))
    elif filters.theme_id is not None:
        query = query.where(exists().where(CommentTheme.comment_id == Comment.id,
                                           CommentTheme.theme_id == filters.theme_id))
    participant = filters.participant_type
    if participant or filters.organisation_name or filters.has_tobacco_links is not None:
        query = query.join(Participation, Comment.participation_id == Participation.id)
    if participant is not None:
        query = query.where(Participation.kind == participant.kind)
        if participant.individual_type is not None:
            query = query.where(Participation.individual_type == participant.individual_type)
        if participant.organisation_type is not None:
            query = query.where(Participation.organisation_type == participant.organisation_type)
    if filters.organisation_name:
        query = query.where(_contains(Participation.organisation_name, filters.organisation_name))
    if filters.has_tobacco_links is not None:
        query = query.where(Participation.has_tobacco_links == filters.has_tobacco_links)
    if filters.submitted_from is not None:
        query = query.where(Comment.submitted_at >= filters.submitted_from)
    if filters.submitted_before is not None:
        query = query.where(Comment.submitted_at < filters.submitted_before)
    if filters.text:
        query = query.where(search.matches(filters.text, Comment.id, original=filters.search_original))
    if filters.flagged is not None:
        flagged = exists().where(TriageMark.comment_id == Comment.id, TriageMark.flagged == True)  # noqa: E712
        query = query.where(flagged if filters.flagged else ~flagged)
    if filters.free_for is not None and filters.reading_since is not None:
        query = query.where(~exists().where(
            TriageMark.comment_id == Comment.id, TriageMark.reader_id.is_not(None),
            TriageMark.reader_id != filters.free_for, TriageMark.reading_since > filters.reading_since))
    if filters.suggested_theme_id is not None:
        suggested = [ThemeSuggestion.comment_id == Comment.id, ThemeSuggestion.state == SuggestionState.PENDING]
        if filters.suggested_theme_id != ANY_SUGGESTION:
            suggested.append(ThemeSuggestion.theme_id == filters.suggested_theme_id)
        query = query.where(exists().where(*suggested))
    if filters.campaign_id is not None:
        query = query.where(exists().where(CampaignMember.comment_id == Comment.id,
                                           CampaignMember.campaign_id == filters.campaign_id))
    if filters.response is not None:
        query = query.where(_has_response(filters.response))
    return query.order_by(Comment.number)


def _has_response(wanted: ResponseFilter):
    """A WHERE clause: the comment's response is as `wanted` says (its one row, found by the unique comment id)."""
    if wanted is ResponseFilter.NONE:
        return ~exists().where(CommentResponse.comment_id == Comment.id)
    state = ResponseState.AGREED if wanted is ResponseFilter.NOT_AGREED else ResponseState(wanted.value)
    found = exists().where(CommentResponse.comment_id == Comment.id, CommentResponse.state == state)
    return ~found if wanted is ResponseFilter.NOT_AGREED else found


def neighbours(consultation_id: int, filters: QueueFilters, number: int) -> tuple[int | None, int | None]:
    """The numbers of the comments before and after `number` in the filtered queue, in two indexed lookups.

    `number` itself need not match (it may have just been decided out of the filter).
    """
    if filters.text and search.sqlite_matches_first(filters.text, original=filters.search_original) is not None:
        found = _searched_neighbours(consultation_id, filters, number)
        if found is not None:
            return found
    query = matching_comments(consultation_id, filters).order_by(None).with_only_columns(Comment.number)
    before = db.session.scalar(query.where(Comment.number < number).order_by(Comment.number.desc()).limit(1))
    after = db.session.scalar(query.where(Comment.number > number).order_by(Comment.number).limit(1))
    return before, after


def _searched_neighbours(consultation_id: int, filters: QueueFilters,
                         number: int) -> tuple[int | None, int | None] | None:
    """neighbours() for a SQLite search, by the plans of _searched_page_ids: a rare word's few comments
    read and sorted, a common word's walked to from the comment; None to leave it to the general plan."""
    if search.sqlite_match_count(filters.text, SEARCH_FEW_MATCHES, original=filters.search_original) \
            <= SEARCH_FEW_MATCHES:
        numbers = [row[1] for row in db.session.execute(
            matching_comments(consultation_id, filters).order_by(None).with_only_columns(Comment.id, Comment.number))]
        return (max((n for n in numbers if n < number), default=None),
                min((n for n in numbers if n > number), default=None))
    before = _walk_search(consultation_id, filters, 1, before=number)
    after = _walk_search(consultation_id, filters, 1, after=number)
    if before is None or after is None:
        return None
    return (before[0][1] if before else None), (after[0][1] if after else None)


@dataclass(frozen=True)
class CampaignSummary:
    """A campaign as one row of the queue: how many of its members match, and how many of those are identical."""

    id: int
    name: str
    comments: int
    identical: int
    # False when more than COUNT_LIMIT comments match the queue and only the first COUNT_LIMIT + 1 were
    # counted: `comments` is then how many of those are the campaign's ("at least").
    counted_all: bool = True

    @property
    def comments_is_a_floor(self) -> bool:
        return not self.counted_all


@dataclass
class QueueRow:
    """One comment as the queue shows it, with its themes (and who tagged them) and its response.

    For a campaign collapsed into one row, `comment` is its first matching
    member and `campaign` says how many more there are.
    """

    comment: Comment
    tags: list[CommentTheme] = field(default_factory=list)
    response: CommentResponse | None = None
    mark: TriageMark | None = None  # flag, note and who is reading it
    campaign: CampaignSummary | None = None


@dataclass
class QueuePage:
    rows: list[QueueRow]
    total: int  # comments matching; COUNT_LIMIT + 1 when a count stopped there (see total_is_a_floor)
    page: int
    per_page: int
    row_total: int | None = None  # rows, when a campaign's members share one; else one per comment
    total_is_exact: bool = True

    @property
    def total_is_a_floor(self) -> bool:
        """More comments match than were counted: the page says 'more than COUNT_LIMIT'."""
        return not self.total_is_exact

    @property
    def count_limit(self) -> int:
        return COUNT_LIMIT

    @property
    def pages(self) -> int:
        return max(1, math.ceil((self.total if self.row_total is None else self.row_total) / self.per_page))

    @property
    def first_number(self) -> int:
        return 0 if not self.rows else (self.page - 1) * self.per_page + 1

    @property
    def last_number(self) -> int:
        return self.first_number + len(self.rows) - 1 if self.rows else 0


# A filtered queue counts its matches up to this many and then says "more than": a search that matches most
# of 100,000 comments would otherwise count them all on every page view.
COUNT_LIMIT = 10_000


def count_matching(consultation_id: int, filters: QueueFilters, limit: int | None = None, *conditions) -> int:
    """How many comments match (and meet `conditions`); with `limit`, counting stops at limit + 1."""
    query = _matches(consultation_id, filters, None if limit is None else limit + 1, *conditions, numbered=False)
    return db.session.scalar(select(func.count()).select_from(query.subquery()))


def _matches(consultation_id: int, filters: QueueFilters, limit: int | None = None, *conditions,
             numbered: bool = True) -> Select:
    """(id, number) of the matching comments that meet `conditions` (only the id when not `numbered`), at most
    `limit` of them, in no order.

    On SQLite a search drives: its matches are read one by one and each is
    checked against the other filters by the comment's key, so a capped
    count stops as soon as it has enough, instead of probing FTS5's whole set
    of matching ids (built anew per statement) for each comment.
    """
    matched = search.sqlite_matches_first(filters.text, original=filters.search_original) if filters.text else None
    if matched is not None:
        others = matching_comments(consultation_id, replace(filters, text="")).order_by(None).where(*conditions)
        query = select(matched.c.rowid.label("id")).where(
            others.with_only_columns(Comment.id).where(Comment.id == matched.c.rowid).exists())
        if numbered:
            numbers = aliased(Comment)
            query = (query.add_columns(numbers.number.label("number"))
                     .join_from(matched, numbers, numbers.id == matched.c.rowid))
    else:
        columns = [Comment.id.label("id")] + ([Comment.number.label("number")] if numbered else [])
        query = (matching_comments(consultation_id, filters).order_by(None).where(*conditions)
                 .with_only_columns(*columns))
    return query if limit is None else query.limit(limit)


def total_matching(consultation_id: int, filters: QueueFilters) -> tuple[int, bool]:
    """How many comments match, and whether that is exact: from the running counts when the filters are
    ones they keep (exact however many), else counted up to COUNT_LIMIT + 1 (exact below that).

    The whole queue and the queue narrowed to one moderation state are the
    views staff open most, so those never count the consultation's rows.
    Nor do the public comments with or without an agreed response: the
    publication check counts them from the same running counts, so the
    queue it links to says the same number, however many there are.
    """
    kept = _total_kept(consultation_id, filters)
    if kept is not None:
        return kept, True
    counted = count_matching(consultation_id, filters, limit=COUNT_LIMIT)
    return counted, counted <= COUNT_LIMIT


_PUBLIC_RESPONSES = (None, ResponseFilter.AGREED, ResponseFilter.NOT_AGREED)


def _total_kept(consultation_id: int, filters: QueueFilters) -> int | None:
    """The number of matching comments from the running counts, or None when they do not keep it."""
    if replace(filters, state=None, public=False, response=None, search_original=False,
               best_match_first=False) != QueueFilters():
        return None
    if filters.public and filters.state is None and filters.response in _PUBLIC_RESPONSES:
        counts = counters.read([consultation_id], ["state", "pub_agreed"])[consultation_id]
        public = sum(counts["state", state.value] for state in PUBLIC_STATES)
        agreed = counts["pub_agreed", "total"]
        return {None: public, ResponseFilter.AGREED: agreed, ResponseFilter.NOT_AGREED: public - agreed}[
            filters.response]
    if not filters.public and filters.response is None:
        dimension, key = ("state", filters.state.value) if filters.state else ("all", "submitted")
        return counters.read([consultation_id], [dimension])[consultation_id][dimension, key]
    return None


def campaign_totals(consultation_id: int) -> dict[int, tuple[int, int]]:
    """(comments, identical copies) of each campaign of the consultation that holds comments.

    From the running counts: a mail campaign can hold most of 100,000
    comments, and every page that names a campaign's size would otherwise
    count its members.
    """
    counts = counters.read([consultation_id], ["campaign", "campaign_identical"])[consultation_id]
    return {int(key): (n, counts["campaign_identical", key])
            for (dimension, key), n in counts.items() if dimension == "campaign"}


def publishable_campaign_sizes(consultation_id: int) -> dict[int, int]:
    """Each campaign's publishable comments (submitted, not rejected): its size wherever only those are listed,
    as in every download and on the committee's pages, so a size never counts rows the reader cannot see."""
    counts = counters.read([consultation_id], ["pub_campaign"])[consultation_id]
    return {int(key): n for (dimension, key), n in counts.items() if dimension == "pub_campaign"}


# A campaign of at most this many comments has its first member found among its members; a larger one,
# by reading the consultation's comments in number order until one of its members comes up.
FEW_IN_CAMPAIGN = 2_000


def first_members(campaign_sizes: dict[int, int], matching: Select) -> dict[int, int]:
    """The number of each campaign's first comment among `matching` (a query of the consultation's
    comments); campaigns with none there are left out.

    The cost stays small for any size: a small campaign's members are few,
    and a large one's first member comes up within the first comments read
    in number order, as a mail campaign's copies are spread through the
    consultation.
    """
    matching = matching.order_by(None)
    small = [campaign_id for campaign_id, size in campaign_sizes.items() if size <= FEW_IN_CAMPAIGN]
    found = dict(db.session.execute(
        matching.join(CampaignMember, CampaignMember.comment_id == Comment.id)
        .with_only_columns(CampaignMember.campaign_id, func.min(Comment.number))
        .where(CampaignMember.campaign_id.in_(small))
        .group_by(CampaignMember.campaign_id)).all()) if small else {}
    for campaign_id in campaign_sizes.keys() - set(small):
        number = db.session.scalar(
            matching.with_only_columns(Comment.number).where(_member_of(campaign_id)).order_by(Comment.number).limit(1))
        if number is not None:
            found[campaign_id] = number
    return found


def _member_of(campaign_id: int):
    """A WHERE clause: the comment is one of the campaign's members."""
    return select(CampaignMember.comment_id).where(CampaignMember.comment_id == Comment.id,
                                                   CampaignMember.campaign_id == campaign_id).exists()


@dataclass(frozen=True)
class _Collapsed:
    """One page of a collapsed queue before its comments are loaded: (number, campaign id or None) per row."""

    units: list[tuple[int, int | None]]
    counts: dict[int, tuple[int, int]]  # campaign id: (matching members, identical ones)
    total: int
    exact: bool
    row_total: int
    page: int


@dataclass(frozen=True)
class _Census:
    """What one pass over (up to COUNT_LIMIT + 1 of) a filtered queue's matching comments found."""

    total: int  # matching comments counted: COUNT_LIMIT + 1 when counting stopped there
    alone: int  # of those, the ones in no campaign
    campaigns: dict[int, tuple[int, int, int]]  # campaign id: (members counted, identical ones, first number)

    @property
    def complete(self) -> bool:
        return self.total <= COUNT_LIMIT


def _census(consultation_id: int, filters: QueueFilters) -> _Census:
    """Every count a filtered, collapsed queue page shows, from one statement.

    Up to COUNT_LIMIT + 1 matching comments are read once, each joined to its
    campaign membership and grouped by campaign. Within the limit every count
    is exact, and so is each campaign's first matching comment. Beyond it the
    counts are floors, as the page says, and the firsts are looked up apart.
    """
    rows = _matches(consultation_id, filters, COUNT_LIMIT + 1).subquery()
    identical = case((CampaignMember.method == MembershipMethod.IDENTICAL, 1), else_=0)
    found = db.session.execute(
        select(CampaignMember.campaign_id, func.count(), func.coalesce(func.sum(identical), 0), func.min(rows.c.number))
        .select_from(rows).outerjoin(CampaignMember, CampaignMember.comment_id == rows.c.id)
        .group_by(CampaignMember.campaign_id)).all()
    campaigns = {campaign_id: (counted, int(same), first)
                 for campaign_id, counted, same, first in found if campaign_id is not None}
    alone = next((counted for campaign_id, counted, _, _ in found if campaign_id is None), 0)
    return _Census(sum(counted for _, counted, _, _ in found), alone, campaigns)


def collapsed_queue_page(consultation_id: int, filters: QueueFilters, page: int = 1,
                         per_page: int = DEFAULT_PER_PAGE) -> QueuePage:
    """One page of the filtered queue with each campaign's matching members as one row, at its first."""
    if not has_campaigns(consultation_id) or (filters.best_match_first and filters.text):
        # Nothing to collapse, or the best matches come first: the plain queue.
        return queue_page(consultation_id, filters, page, per_page)
    few = _few_members(consultation_id, filters)
    found = (_collapse_few(consultation_id, filters, few, page, per_page) if few is not None
             else _collapse_by_merging(consultation_id, filters, page, per_page))
    shown = [campaign_id for _, campaign_id in found.units if campaign_id is not None]
    comments = {c.number: c for c in db.session.scalars(
        submitted_comments(consultation_id).where(Comment.number.in_([number for number, _ in found.units]))
        .options(joinedload(Comment.participation), joinedload(Comment.section),
                 joinedload(Comment.chapter), joinedload(Comment.document))).unique()}
    names = dict(db.session.execute(select(Campaign.id, Campaign.name).where(Campaign.id.in_(shown))).all())
    rows = rows_for([comments[number] for number, _ in found.units])
    for row, (_, campaign_id) in zip(rows, found.units):
        if campaign_id is not None and (found.counts[campaign_id][0] > 1 or not found.exact):
            row.campaign = CampaignSummary(campaign_id, names.get(campaign_id, ""), *found.counts[campaign_id],
                                           counted_all=found.exact)
    return QueuePage(rows=rows, total=found.total, page=found.page, per_page=per_page, row_total=found.row_total,
                     total_is_exact=found.exact)


def _collapse_few(consultation_id: int, filters: QueueFilters, few: list[int], page: int,
                  per_page: int) -> _Collapsed:
    """A queue narrowed to a few comments (flagged ones, a small campaign's): all of them read and collapsed."""
    members = db.session.execute(
        matching_comments(consultation_id, filters).order_by(None).where(Comment.id.in_(few))
        .outerjoin(CampaignMember, CampaignMember.comment_id == Comment.id)
        .with_only_columns(Comment.number, CampaignMember.campaign_id, CampaignMember.method)).all()
    units: list[tuple[int, int | None]] = []
    counts: dict[int, tuple[int, int]] = {}
    for number, campaign_id, method in sorted(members, key=lambda member: member[0]):
        if campaign_id is None or campaign_id not in counts:
            units.append((number, campaign_id))
        if campaign_id is not None:
            comments, identical = counts.get(campaign_id, (0, 0))
            counts[campaign_id] = (comments + 1, identical + (method is MembershipMethod.IDENTICAL))
    pages = max(1, math.ceil(len(units) / per_page))
    page = min(max(page, 1), pages, MAX_PAGE)
    return _Collapsed(units[(page - 1) * per_page:page * per_page], counts, len(members), True, len(units), page)


def _collapse_by_merging(consultation_id: int, filters: QueueFilters, page: int, per_page: int) -> _Collapsed:
    """Two sequences in number order, merged: the matching comments in no campaign, read from the database
    a page at a time, and the campaigns with a matching comment (few, held in memory, each placed at its
    first one).

    Reading the comments in no campaign from the i-th one on, the campaigns
    that come before it are known, so a page reads at most its rows and one
    more per campaign beyond its offset; no campaign's members are grouped.
    The whole queue takes its counts from the running counts; a filtered one
    from one pass over up to COUNT_LIMIT + 1 of its matching comments (_census).
    """
    totals = campaign_totals(consultation_id)
    matching = matching_comments(consultation_id, filters).order_by(None)
    in_no_campaign = ~exists().where(CampaignMember.comment_id == Comment.id)
    whole = filters == QueueFilters()
    if whole:
        firsts = first_members({c: comments for c, (comments, _) in totals.items()}, matching)
        total, exact = counters.read([consultation_id], ["all"])[consultation_id]["all", "submitted"], True
        alone = max(0, total - sum(totals[campaign_id][0] for campaign_id in firsts))
        counts = totals
    else:
        census = _census(consultation_id, filters)
        total, exact = census.total, census.complete
        if exact:
            alone, firsts = census.alone, {c: first for c, (_, _, first) in census.campaigns.items()}
        else:
            # The counted ones need not hold each campaign's first, nor the comments in no campaign up to this
            # page and one more (the pager offers no last page here): if not, those are counted that far.
            wanted = min((min(max(page, 1), MAX_PAGE) - 1) * per_page + per_page, COUNT_LIMIT)
            alone = census.alone if census.alone > wanted else count_matching(consultation_id, filters, wanted,
                                                                               in_no_campaign)
            firsts = first_members({c: n for c, (n, _) in totals.items() if n <= FEW_IN_CAMPAIGN}, matching)
            for campaign_id in (c for c, (n, _) in totals.items() if n > FEW_IN_CAMPAIGN):
                found = _numbers_in_order(consultation_id, filters, 0, 1, _member_of(campaign_id))
                firsts.update({campaign_id: found[0]} if found else {})
        # Beyond the limit, a campaign whose matching members all lie past the ones counted has at least its first.
        counts = {c: census.campaigns.get(c, (1, 0, None))[:2] for c in firsts}
    campaigns = sorted((number, campaign_id) for campaign_id, number in firsts.items())
    starts = [number for number, _ in campaigns]
    row_total = alone + len(campaigns)
    pages = max(1, math.ceil(row_total / per_page))
    page = min(max(page, 1), pages, MAX_PAGE)
    offset = (page - 1) * per_page
    # The first comment in no campaign to read: at or before the page's offset, whatever campaigns come first.
    skip = max(0, min(offset - len(campaigns), alone - 1))
    singles = _numbers_in_order(consultation_id, filters, skip, per_page + len(campaigns), in_no_campaign) \
        if alone else []
    campaign_index = bisect.bisect_left(starts, singles[0]) if skip and singles else 0
    position, single_index, units = skip + campaign_index if skip else 0, 0, []
    while len(units) < per_page:
        single = singles[single_index] if single_index < len(singles) else None
        if campaign_index < len(campaigns) and (single is None or campaigns[campaign_index][0] < single):
            unit = campaigns[campaign_index]
            campaign_index += 1
        elif single is not None:
            unit = (single, None)
            single_index += 1
        else:
            break
        if position >= offset:
            units.append(unit)
        position += 1
    shown = {campaign_id for _, campaign_id in units if campaign_id is not None}
    return _Collapsed(units, {c: counts[c] for c in shown}, total, exact, row_total, page)


def has_campaigns(consultation_id: int) -> bool:
    return bool(db.session.scalar(select(exists().where(Campaign.consultation_id == consultation_id))))


def campaign_of(consultation_id: int, campaign_id: int) -> Campaign | None:
    """The consultation's campaign with this id, or None."""
    return db.session.scalar(select(Campaign).where(Campaign.id == campaign_id,
                                                    Campaign.consultation_id == consultation_id))


def queue_page(consultation_id: int, filters: QueueFilters, page: int = 1,
               per_page: int = DEFAULT_PER_PAGE) -> QueuePage:
    """One page of the filtered queue. A page past the end shows the last page."""
    ranked = filters.best_match_first and filters.text
    members = None if ranked else _few_members(consultation_id, filters)
    if members is not None:
        numbered = _numbered(matching_comments(consultation_id, filters).where(Comment.id.in_(members)))
        total, exact = len(numbered), True
    else:
        total, exact = total_matching(consultation_id, filters)
    pages = max(1, math.ceil(total / per_page))
    page = min(max(page, 1), pages, MAX_PAGE)
    query = matching_comments(consultation_id, filters).limit(per_page).offset((page - 1) * per_page)
    ids = None
    if members is not None:
        ids = numbered[(page - 1) * per_page:page * per_page]
        query = submitted_comments(consultation_id).where(Comment.id.in_(ids))
    elif ranked:
        query = search.best_match_first(query, filters.text, Comment.id, original=filters.search_original)
    elif filters.text and (ids := _searched_page_ids(consultation_id, filters, (page - 1) * per_page,
                                                     per_page, total, exact)) is not None:
        # By key, in no order: ordered by number, SQLite would walk every comment's number to find these.
        query = submitted_comments(consultation_id).where(Comment.id.in_(ids))
    comments = [] if ids == [] else list(db.session.scalars(
        query.options(joinedload(Comment.participation), joinedload(Comment.section),
                      joinedload(Comment.chapter), joinedload(Comment.document))
    ).unique())
    if ids is not None:
        comments.sort(key=lambda comment: comment.number)
    return QueuePage(rows=rows_for(comments), total=total, page=page, per_page=per_page, total_is_exact=exact)


# A queue narrowed to a few flagged comments, or to a small campaign, reads those comments and sorts them.
FEW_MEMBERS = 1_000


def _few_members(consultation_id: int, filters: QueueFilters) -> list[int] | None:
    """The ids of the comments a narrow filter allows (flagged for a second look, one campaign), when there
    are at most FEW_MEMBERS of them; None otherwise.

    Walking the consultation's comments in number order to find the few
    that are flagged, or that belong to a campaign of five (or to none),
    checks every comment: 110 ms at 100,000. Asking the marks or the
    campaign's members first costs what they hold.
    """
    asked = []
    if filters.flagged:
        # `+ 0` keeps the database from starting at the consultation's comments (every one of them): it starts
        # from the flagged marks (a partial index holds only those) and looks each one's comment up.
        asked.append(select(TriageMark.comment_id).join(Comment, Comment.id == TriageMark.comment_id)
                     .where(TriageMark.flagged == True, Comment.consultation_id + 0 == consultation_id))  # noqa: E712
    if filters.campaign_id is not None:
        asked.append(select(CampaignMember.comment_id).where(CampaignMember.campaign_id == filters.campaign_id))
    for members in asked:
        ids = list(db.session.scalars(members.limit(FEW_MEMBERS + 1)))
        if len(ids) <= FEW_MEMBERS:
            return ids
    return None


def _numbered(query: Select) -> list[int]:
    """The ids of a (small) queue query's comments in number order, sorted here: asked to order them,
    SQLite would walk every comment's number to find a few."""
    rows = db.session.execute(query.order_by(None).with_only_columns(Comment.id, Comment.number)).all()
    return [comment_id for comment_id, _ in sorted(rows, key=lambda row: row[1])]


# How a searched page is found on SQLite (see _searched_page_ids): a search matching at most
# SEARCH_FEW_MATCHES comments reads them all and sorts them; a commoner one walks the other filters in
# number order, SEARCH_WALK_CHUNK comments at a time, for at most SEARCH_WALK_BUDGET of them.
SEARCH_FEW_MATCHES = 1_000
SEARCH_WALK_BUDGET = 2_000
SEARCH_WALK_CHUNK = 200


def _searched_page_ids(consultation_id: int, filters: QueueFilters, offset: int, limit: int, total: int,
                       exact: bool) -> list[int] | None:
    """On SQLite, the ids of one page of a searched queue in number order, or None to leave the page to
    the general plan (on PostgreSQL, for a search with an OR, and when a walk runs out of budget).

    The general plan walks the consultation's comments in number order and
    probes FTS5's set of matching ids, which FTS5 builds whole for the
    statement: 20 ms when a word is in 100,000 comments, and a walk through
    every comment when it is in none. Knowing the count first, a search that
    matches few comments reads those (FTS5 drives) and sorts them; one that
    matches many walks the other filters a chunk at a time and asks FTS5
    only about each chunk's stretch of ids, which a common word fills at
    once. A walk that has not filled the page within its budget (the
    matches lie far down the numbers) gives way to the general plan.
    """
    if search.sqlite_matches_first(filters.text, original=filters.search_original) is None:
        return None
    if exact and total <= SEARCH_FEW_MATCHES:
        return _numbered(matching_comments(consultation_id, filters))[offset:offset + limit]
    if offset + limit > SEARCH_WALK_BUDGET // 4:
        return None
    found = _walk_search(consultation_id, filters, offset + limit)
    return None if found is None else [comment_id for comment_id, _ in found][offset:offset + limit]


def _numbers_in_order(consultation_id: int, filters: QueueFilters, offset: int, limit: int, *conditions) -> list[int]:
    """The numbers of the matching comments that meet `conditions`, in number order, from the offset-th on.

    A SQLite search near the start of the queue walks (see _walk_search)
    rather than have each comment probe FTS5's whole set of matching ids.
    """
    if (filters.text and offset + limit <= SEARCH_WALK_BUDGET // 4
            and search.sqlite_matches_first(filters.text, original=filters.search_original) is not None):
        found = _walk_search(consultation_id, filters, offset + limit, conditions=conditions)
        if found is not None:
            return [number for _, number in found][offset:offset + limit]
    return list(db.session.scalars(matching_comments(consultation_id, filters).where(*conditions)
                                   .with_only_columns(Comment.number).offset(offset).limit(limit)))


def _walk_search(consultation_id: int, filters: QueueFilters, wanted: int, after: int | None = None,
                 before: int | None = None, conditions: tuple = ()) -> list[tuple[int, int]] | None:
    """Up to `wanted` (id, number) of the comments matching a SQLite search that
    search.sqlite_matches_first accepts (and meeting `conditions`), walking the other filters in number order
    (down from `before` when given) a chunk at a time and asking FTS5 only about each chunk's stretch of ids;
    None when SEARCH_WALK_BUDGET comments did not give `wanted`."""
    backward = before is not None
    candidates = (matching_comments(consultation_id, replace(filters, text="")).order_by(None).where(*conditions)
                  .with_only_columns(Comment.id, Comment.number)
                  .order_by(Comment.number.desc() if backward else Comment.number))
    found: list[tuple[int, int]] = []
    bound, walked = (before if backward else after), 0
    while walked < SEARCH_WALK_BUDGET:
        step = candidates if bound is None else candidates.where(
            Comment.number < bound if backward else Comment.number > bound)
        chunk = db.session.execute(step.limit(SEARCH_WALK_CHUNK)).all()
        if not chunk:
            return found
        ids = [comment_id for comment_id, _ in chunk]
        matched = search.sqlite_matching_ids_between(filters.text, min(ids), max(ids),
                                                     original=filters.search_original)
        found += [(comment_id, number) for comment_id, number in chunk if comment_id in matched]
        if len(found) >= wanted:
            return found[:wanted]
        bound, walked = chunk[-1][1], walked + len(chunk)
    return None


def rows_for(comments: list[Comment]) -> list[QueueRow]:
    """Attach themes and responses to comments in two statements, however many comments there are."""
    rows = {comment.id: QueueRow(comment) for comment in comments}
    if not rows:
        return []
    for tag in tags_for(rows):
        rows[tag.comment_id].tags.append(tag)
    for response in db.session.scalars(
            select(CommentResponse).where(CommentResponse.comment_id.in_(list(rows)))):
        rows[response.comment_id].response = response
    for comment_id, mark in marks_for(rows).items():
        rows[comment_id].mark = mark
    return list(rows.values())


def marks_for(comment_ids: Iterable[int]) -> dict[int, TriageMark]:
    """The triage marks on these comments, with who flagged, noted and is reading, in one statement."""
    ids = list(comment_ids)
    if not ids:
        return {}
    return {mark.comment_id: mark for mark in db.session.scalars(
        select(TriageMark).where(TriageMark.comment_id.in_(ids))
        .options(joinedload(TriageMark.reader), joinedload(TriageMark.flagged_by), joinedload(TriageMark.note_by)))}


def tags_for(comment_ids: Iterable[int]) -> list[CommentTheme]:
    """The tags on these comments with their themes and taggers, ordered by theme name."""
    return list(db.session.scalars(
        select(CommentTheme)
        .join(Theme, CommentTheme.theme_id == Theme.id)
        .where(CommentTheme.comment_id.in_(list(comment_ids)))
        .options(joinedload(CommentTheme.theme), joinedload(CommentTheme.tagged_by))
        .order_by(Theme.name, Theme.id)
    ))


def unchanged_matching(consultation_id: int, filters: QueueFilters, loaded_at: datetime,
                       unchanged_since: bool) -> Select:
    """What 'all N matching' stands for: matching comments submitted by `loaded_at` (and, for a decision,
    not changed since), in number order, as (id, number, version) rows."""
    query = matching_comments(consultation_id, filters).where(Comment.submitted_at <= loaded_at)
    if unchanged_since:
        query = query.where(Comment.updated_at <= loaded_at)
    return query.with_only_columns(Comment.id, Comment.number, Comment.version)


def count_and_checksum(query: Select) -> tuple[int, int]:
    """How many rows an (id, ...) query gives, and the sum of their ids: two sets with both equal are the
    same set for every purpose a confirmation needs, in one aggregate."""
    subquery = query.order_by(None).subquery()
    count, checksum = db.session.execute(
        select(func.count(), func.coalesce(func.sum(subquery.c.id), 0)).select_from(subquery)).one()
    return int(count), int(checksum)


def count_in_states(query: Select, states: Iterable[ModerationState]) -> dict[ModerationState, int]:
    """How many comments of an (id, ...) query are in each of `states` (a state with none is absent), in
    one grouped count."""
    states = list(states)
    if not states:
        return {}
    subquery = query.add_columns(Comment.moderation_state).where(Comment.moderation_state.in_(states)) \
        .order_by(None).subquery()
    return {state: int(n) for state, n in db.session.execute(
        select(subquery.c.moderation_state, func.count()).group_by(subquery.c.moderation_state))}


def in_batches(query: Select, size: int = _BATCH) -> Iterable[dict[int, int]]:
    """{id: version} for an (id, number, version) query, `size` rows at a time, in number order.

    Keyset on the number, so each batch costs the same however far in it is,
    and only one batch is held in memory.
    """
    subquery = query.order_by(None).subquery()
    last = 0
    while True:
        rows = db.session.execute(select(subquery.c.id, subquery.c.number, subquery.c.version)
                                  .where(subquery.c.number > last).order_by(subquery.c.number).limit(size)).all()
        if not rows:
            return
        yield {row.id: row.version for row in rows}
        last = rows[-1].number


def _for_ids(ids: Iterable[int], query_for: Callable[[list[int]], Select]) -> Iterator:
    """The rows `query_for(batch)` finds for each batch of the distinct `ids`, so no IN list outgrows _BATCH."""
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), _BATCH):
        yield from db.session.scalars(query_for(ordered[start:start + _BATCH]))


def comments_by_id(consultation_id: int, comment_ids: Iterable[int]) -> dict[int, Comment]:
    """Submitted comments of this consultation among `comment_ids` (others are simply absent)."""
    return {comment.id: comment for comment in _for_ids(comment_ids, lambda batch: (
        submitted_comments(consultation_id).where(Comment.id.in_(batch)).options(joinedload(Comment.moderated_by))))}


def theme_response_counts(theme: Theme) -> tuple[int, int]:
    """How many submitted comments carry a theme, and how many of those already have a response (the pages
    that merge, delete or answer a theme say what they will touch).

    From the running counts: a theme can hold most of 100,000 comments, and
    counting them cost those pages time in proportion to it.
    """
    counts = counters.read([theme.consultation_id], ["theme_type", "theme_responded"])[theme.consultation_id]
    prefix = f"{theme.id}|"
    used = sum(n for (dimension, key), n in counts.items() if dimension == "theme_type" and key.startswith(prefix))
    return used, counts["theme_responded", str(theme.id)]


def responses_by_comment(comment_ids: Iterable[int]) -> dict[int, CommentResponse]:
    return {response.comment_id: response for response in _for_ids(comment_ids, lambda batch: (
        select(CommentResponse).where(CommentResponse.comment_id.in_(batch))
        .options(joinedload(CommentResponse.updated_by))))}


# --- Progress ------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    """How far staff have got with a consultation's submitted comments."""

    submitted: int = 0
    triaged: int = 0  # a moderation decision has been made
    themed: int = 0  # carries at least one theme
    answered: int = 0  # response agreed, or no response needed

    @staticmethod
    def percent(part: int, whole: int) -> int:
        return 0 if not whole else math.floor(100 * part / whole)


def progress_for(consultation_ids: Iterable[int]) -> dict[int, Progress]:
    """Progress for each consultation, read from its running counts in one statement."""
    return {cid: Progress(submitted=counts["all", "submitted"], triaged=counts["all", "triaged"],
                          themed=counts["all", "themed"], answered=counts["all", "answered"])
            for cid, counts in counters.read(consultation_ids, ["all"]).items()}


# --- What a user may review, and what the filters offer ------------------------------------


def reviewable_consultations(user) -> list[Consultation]:
    """Staff: every consultation, drafts included. Committee: those they are assigned to."""
    query = select(Consultation).order_by(Consultation.closes_at.desc(), Consultation.id.desc())
    if not is_staff(user):
        query = query.join(CommitteeAssignment, and_(CommitteeAssignment.consultation_id == Consultation.id,
                                                     CommitteeAssignment.user_id == user.id))
    return list(db.session.scalars(query))


def documents_with_parts(consultation_id: int) -> list[Document]:
    """The consultation's documents with their chapters and sections, in three statements."""
    return list(db.session.scalars(
        select(Document).where(Document.consultation_id == consultation_id).order_by(Document.position)
        .options(selectinload(Document.chapters).selectinload(Chapter.sections))
    ))


def themes_of(consultation_id: int) -> list[Theme]:
    return list(db.session.scalars(
        select(Theme).where(Theme.consultation_id == consultation_id).order_by(func.lower(Theme.name), Theme.id)))


@dataclass
class ThemeUsage:
    """How many comments carry a theme, in total and from each type of participant."""

    theme: Theme
    total: int = 0
    by_type: dict[str, int] = field(default_factory=dict)  # ParticipantType.key → comments


def theme_usage(consultation_id: int) -> tuple[list[ThemeUsage], list[ParticipantType]]:
    """Each theme's counts, and the participant types that occur (the table's columns), in two statements."""
    usage = {theme.id: ThemeUsage(theme) for theme in themes_of(consultation_id)}
    present: set[str] = set()
    for (dimension, key), comments in counters.read([consultation_id], ["theme_type"])[consultation_id].items():
        if dimension != "theme_type" or comments <= 0:
            continue
        theme_id, _, type_key = key.partition("|")
        row = usage.get(int(theme_id))
        if row is None:
            continue
        present.add(type_key)
        row.by_type[type_key] = row.by_type.get(type_key, 0) + comments
        row.total += comments
    columns = [t for t in participant_types() if t.key in present]
    return list(usage.values()), columns
