"""Campaigns stored for a consultation: found by the engine in campaigns.py, kept in the database.

Services flush and never commit; jobs.py commits.
"""

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import delete, exists, insert, select

from consult.analysis.campaigns import Membership, group_comments
from consult.analysis.models import (
    Campaign,
    CampaignDetachment,
    CampaignMember,
    MembershipMethod,
    SuggestionState,
    ThemeSuggestion,
)
from consult.analysis.settings import CampaignSettings
from consult.comments.models import Comment, CommentStatus
from consult.extensions import db
from consult.moderation import counters
from consult.moderation.models import CommentTheme, Theme

Progress = Callable[[str], None]


def campaign_settings() -> CampaignSettings:
    """The app's thresholds (Config.CAMPAIGNS, read from CAMPAIGN_* variables)."""
    return current_app.config.get("CAMPAIGNS") or CampaignSettings()


def submitted_texts(consultation_id: int) -> dict[int, str]:
    """Every submitted comment's original text by id, in the order they were numbered.

    Comments staff detached from a campaign are left out: they are never grouped again.
    """
    rows = db.session.execute(
        select(Comment.id, Comment.body)
        .where(Comment.consultation_id == consultation_id, Comment.status == CommentStatus.SUBMITTED,
               ~exists().where(CampaignDetachment.comment_id == Comment.id))
        .order_by(Comment.number)
    )
    return {comment_id: body for comment_id, body in rows}


def _current_members(consultation_id: int, placed_by_staff: bool | None = None) -> dict[int, int]:
    query = (select(CampaignMember.comment_id, CampaignMember.campaign_id)
             .join(Campaign, Campaign.id == CampaignMember.campaign_id)
             .where(Campaign.consultation_id == consultation_id))
    if placed_by_staff is not None:
        query = query.where(CampaignMember.placed_by_staff == placed_by_staff)
    return dict(db.session.execute(query).all())


def _by_group(memberships: dict[int, Membership]) -> dict[object, list[int]]:
    groups: dict[object, list[int]] = {}
    for comment_id, membership in memberships.items():
        groups.setdefault(membership.group, []).append(comment_id)
    return groups


def _member_rows(campaign_id: int, comment_ids: Iterable[int], memberships: dict[int, Membership]) -> list[dict]:
    return [{"comment_id": c, "campaign_id": campaign_id, "method": MembershipMethod(memberships[c].method),
             "score": memberships[c].score} for c in comment_ids]


@dataclass(frozen=True)
class GroupingResult:
    campaigns: int
    members: int
    comments: int


def store_groups(consultation_id: int, memberships: dict[int, Membership]) -> GroupingResult:
    """Make the stored campaigns `memberships`, keeping each campaign row its members carry over to.

    A found group takes over the existing campaign that holds most of its
    comments (so a name staff gave it survives regrouping); campaigns left
    with no members are removed. What staff decided stays: a member staff
    placed keeps its campaign, and a found group holding such members joins
    their campaign (so a merge or split holds for the copies that arrive
    later). Storing the same grouping twice changes nothing.
    """
    current = _current_members(consultation_id)
    placed = _current_members(consultation_id, placed_by_staff=True)
    groups = _by_group(memberships)
    claimed: set[int] = set(placed.values())
    rows: list[dict] = []
    # Largest groups choose first, so a big campaign keeps its row when a small one splits off.
    for _key, comment_ids in sorted(groups.items(), key=lambda item: (-len(item[1]), min(item[1]))):
        by_staff = Counter(placed[c] for c in comment_ids if c in placed)
        votes = Counter(current[c] for c in comment_ids
                        if c in current and (current[c] not in claimed or current[c] in by_staff))
        if by_staff:
            campaign_id = by_staff.most_common(1)[0][0]
        elif votes:
            campaign_id = votes.most_common(1)[0][0]
        else:
            campaign = Campaign(consultation_id=consultation_id)
            db.session.add(campaign)
            db.session.flush()
            campaign_id = campaign.id
        claimed.add(campaign_id)
        rows.extend(_member_rows(campaign_id, [c for c in comment_ids if c not in placed], memberships))
    campaign_ids = select(Campaign.id).where(Campaign.consultation_id == consultation_id)
    with counters.recounted(set(current) | {row["comment_id"] for row in rows}):
        db.session.execute(delete(CampaignMember).where(CampaignMember.campaign_id.in_(campaign_ids),
                                                        CampaignMember.placed_by_staff == False))  # noqa: E712
        if rows:
            db.session.execute(insert(CampaignMember), rows)
    db.session.execute(delete(Campaign).where(Campaign.consultation_id == consultation_id,
                                              Campaign.id.not_in(claimed or {-1})))
    db.session.expire_all()
    return GroupingResult(len(groups), len(rows) + len(placed), 0)


def group_consultation(consultation_id: int, settings: CampaignSettings | None = None,
                       progress: Progress | None = None) -> GroupingResult:
    """Recompute the campaigns of every submitted comment in the consultation and store them."""
    say = progress or (lambda message: None)
    texts = submitted_texts(consultation_id)
    say(f"grouping {len(texts)} submitted comments")
    memberships = group_comments(texts, settings or campaign_settings(), progress=say)
    result = store_groups(consultation_id, memberships)
    say(f"stored {result.campaigns} campaigns with {result.members} comments")
    return GroupingResult(result.campaigns, result.members, len(texts))


def attach_new_comments(consultation_id: int, comment_ids: Iterable[int],
                        settings: CampaignSettings | None = None) -> int:
    """Put newly submitted comments into campaigns without moving any comment already in one.

    A new comment whose group already has a campaign joins it; a group made
    only of comments in no campaign becomes a new campaign. For the worker to
    call after submissions; returns how many comments were placed.
    """
    new = set(comment_ids)
    current = _current_members(consultation_id)
    memberships = group_comments(submitted_texts(consultation_id), settings or campaign_settings())
    rows: list[dict] = []
    for comment_ids_in_group in _by_group(memberships).values():
        arriving = [c for c in comment_ids_in_group if c in new and c not in current]
        if not arriving:
            continue
        existing = Counter(current[c] for c in comment_ids_in_group if c in current)
        if existing:
            campaign_id = existing.most_common(1)[0][0]
            rows.extend(_member_rows(campaign_id, arriving, memberships))
        else:
            campaign = Campaign(consultation_id=consultation_id)
            db.session.add(campaign)
            db.session.flush()
            unplaced = [c for c in comment_ids_in_group if c not in current]
            rows.extend(_member_rows(campaign.id, unplaced, memberships))
    if rows:
        with counters.recounted(row["comment_id"] for row in rows):
            db.session.execute(insert(CampaignMember), rows)
    return len(rows)


def group_arrivals(consultation_id: int, settings: CampaignSettings | None = None) -> int:
    """Place every submitted comment that is in no campaign yet, moving none that is; how many were placed.

    What the worker runs after submissions and imports (see triggers.py):
    comments staff have seen in a campaign stay where they are, and a
    detached comment stays out.
    """
    placed = _current_members(consultation_id)
    texts = submitted_texts(consultation_id)
    return attach_new_comments(consultation_id, [c for c in texts if c not in placed], settings)


def export_analysis(consultation_id: int) -> dict:
    """{"campaigns": {external id: campaign id or None}, "themes": {external id: [theme names]}}.

    For every comment imported with an external id. Themes are the tags a
    person put on (or accepted for) a comment where it has any, and
    otherwise the pending suggestions the service shows, best first.
    """
    comments = db.session.execute(
        select(Comment.id, Comment.external_id, CampaignMember.campaign_id)
        .outerjoin(CampaignMember, CampaignMember.comment_id == Comment.id)
        .where(Comment.consultation_id == consultation_id, Comment.external_id.is_not(None))
        .order_by(Comment.number)
    ).all()
    tags: dict[int, list[str]] = {}
    for comment_id, name in db.session.execute(
        select(CommentTheme.comment_id, Theme.name)
        .join(Theme, Theme.id == CommentTheme.theme_id)
        .where(Theme.consultation_id == consultation_id)
        .order_by(Theme.name)
    ):
        tags.setdefault(comment_id, []).append(name)
    suggested: dict[int, list[str]] = {}
    for comment_id, name in db.session.execute(
        select(ThemeSuggestion.comment_id, Theme.name)
        .join(Theme, Theme.id == ThemeSuggestion.theme_id)
        .where(ThemeSuggestion.consultation_id == consultation_id,
               ThemeSuggestion.state == SuggestionState.PENDING)
        .order_by(ThemeSuggestion.confidence.desc(), Theme.name)
    ):
        suggested.setdefault(comment_id, []).append(name)
    campaigns, themes = {}, {}
    for comment_id, external_id, campaign_id in comments:
        campaigns[external_id] = None if campaign_id is None else str(campaign_id)
        themes[external_id] = tags.get(comment_id) or suggested.get(comment_id) or []
    return {"campaigns": campaigns, "themes": themes}
