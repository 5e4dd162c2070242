"""Staff reading and correcting one campaign: its typical text, its members and how each differs, and the
decisions staff make about it (name, detach, merge, split).

Every decision is stored so that regrouping keeps it (see store_groups in
services.py): a detached comment is recorded and never grouped again, and
the members of merged or split campaigns are marked as placed by staff.
Each change bumps the campaign's version, so a person acting on a page
that is out of date is told who changed it instead of undoing their work.
Services flush and never commit; every change is audited.
"""

import difflib
import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import aliased, joinedload

from consult.analysis.campaigns import tokens
from consult.analysis.models import Campaign, CampaignDetachment, CampaignMember, MembershipMethod
from consult.audit.models import AuditEvent
from consult.audit.services import record
from consult.comments.models import Comment
from consult.errors import DomainError
from consult.extensions import db
from consult.moderation import counters, queries
from consult.moderation.services import last_change
from consult.moderation.services.common import versioned_savepoint
from consult.moderation.services.errors import StaleVersion
from consult.text import direction_controls_refused, has_direction_controls, one_line_name

CAMPAIGN_NAME_MAX = 200
MEMBERS_PER_PAGE = 25
# Differences are worked out word by word; past this many words a member is shown without them.
DIFF_WORDS_MAX = 3000


class CampaignError(DomainError):
    """A campaign rule broken, with the sentence to show."""


class CampaignNameInvalid(CampaignError):
    field = "name"


class StaleCampaign(StaleVersion):
    """The campaign changed after the person opened it. Nothing has been saved."""

    def __init__(self, campaign: Campaign):
        self.campaign = campaign
        super().__init__("This campaign", last_change(campaign))


class NotAMember(CampaignError):
    message = "That comment is no longer in this campaign. Nothing has been changed."
    status = 409


def label(campaign: Campaign) -> str:
    """What a page calls the campaign: its name, or its number until staff name it."""
    return campaign.name or f"Campaign {campaign.id}"


@dataclass(frozen=True)
class CampaignSize:
    comments: int
    identical: int


def sizes(consultation_id: int) -> dict[int, CampaignSize]:
    """Each campaign of the consultation that holds comments, with its size, from the running counts."""
    return {campaign_id: CampaignSize(comments, identical)
            for campaign_id, (comments, identical) in queries.campaign_totals(consultation_id).items()}


def size_of(campaign: Campaign) -> CampaignSize:
    """How many comments the campaign holds and how many of them are identical copies."""
    return sizes(campaign.consultation_id).get(campaign.id, CampaignSize(0, 0))


def largest_first(consultation_id: int, exclude: int | None = None) -> list[tuple[int, int]]:
    """(campaign id, comments) for every campaign that holds comments, largest first, then oldest first."""
    return sorted(((campaign_id, size.comments) for campaign_id, size in sizes(consultation_id).items()
                   if campaign_id != exclude), key=lambda pair: (-pair[1], pair[0]))


# A large campaign's typical text is the most common among this many of its first members.
TYPICAL_SAMPLE = 500


def _in_number_order(campaign: Campaign, *columns) -> Select:
    """The campaign's members in number order, read the way that is cheap for its size.

    A small campaign's members are found by its index and sorted. A large
    one's would all be sorted for every page; instead the consultation's
    comments are read in number order and each is checked for membership
    (EXISTS, which SQLite, planning without statistics, cannot turn back
    into a start from the campaign's index), which fills a page within a few
    comments when, as in a mail campaign, its copies are spread through the
    consultation.
    """
    query = (select(*columns).select_from(Comment).join(CampaignMember, CampaignMember.comment_id == Comment.id)
             .where(Comment.consultation_id == campaign.consultation_id).order_by(Comment.number))
    if size_of(campaign).comments <= queries.FEW_IN_CAMPAIGN:
        return query.where(CampaignMember.campaign_id == campaign.id)
    member = aliased(CampaignMember)
    return query.where(select(member.comment_id).where(member.comment_id == Comment.id,
                                                       member.campaign_id == campaign.id).exists())


@dataclass(frozen=True)
class TypicalText:
    """The campaign's most common text and how many of the members counted sent it (names aside)."""

    comment: Comment
    sent_by: int
    counted: int


def typical_member(campaign: Campaign) -> TypicalText | None:
    """The member whose words most members share, apart from names, numbers and punctuation (the earliest
    such); None if the campaign has no members.

    Compared as grouping compares them (campaigns.tokens): a mail-merged letter
    signed by each sender is one text, not one per name. Counted over the
    first TYPICAL_SAMPLE members, in number order, among whom a mail
    campaign's letter is as common as among all of them, so a campaign of any
    size costs the same to open.
    """
    first: dict[tuple[str, ...], int] = {}
    counted: Counter[tuple[str, ...]] = Counter()
    for number, body in db.session.execute(
            _in_number_order(campaign, Comment.number, Comment.body).limit(TYPICAL_SAMPLE)):
        key = tuple(tokens(body))
        first.setdefault(key, number)
        counted[key] += 1
    if not counted:
        return None
    most = max(counted.values())
    number = min(first[key] for key, n in counted.items() if n == most)
    comment = db.session.scalar(select(Comment).where(Comment.consultation_id == campaign.consultation_id,
                                                      Comment.number == number))
    return TypicalText(comment, most, sum(counted.values())) if comment is not None else None


_WORD = re.compile(r"\s+|[^\s]+")


@dataclass(frozen=True)
class Piece:
    """A run of a member's text: "same" as the typical text, "added" by the member or "removed" from it."""

    kind: str
    text: str


def differences(typical: str, text: str) -> list[Piece] | None:
    """How `text` differs from `typical`, word by word; None when either is too long to compare usefully."""
    a, b = _WORD.findall(typical), _WORD.findall(text)
    if max(len(a), len(b)) > 2 * DIFF_WORDS_MAX:  # words and the spaces between them
        return None
    pieces: list[Piece] = []
    for op, a1, a2, b1, b2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            pieces.append(Piece("same", "".join(b[b1:b2])))
            continue
        if op in ("delete", "replace"):
            pieces.append(Piece("removed", "".join(a[a1:a2])))
        if op in ("insert", "replace"):
            pieces.append(Piece("added", "".join(b[b1:b2])))
    return pieces


_SIGNALS = {
    "jaccard": "word-sequence overlap with the campaign (Jaccard)",
    "cosine": "wording similarity to the campaign's centre (TF-IDF cosine)",
    "overlap": "share of its distinctive words the campaign uses",
}


@dataclass(frozen=True)
class MemberRow:
    comment: Comment
    member: CampaignMember
    pieces: list[Piece] | None

    @property
    def signals(self) -> list[tuple[str, str]]:
        """Each signal that put the comment here, as (what it measures, its value as a percentage).

        An identical copy has none: its 100% is with the member it copies, which may itself be a
        reworded letter, not with the campaign's typical text shown beside it.
        """
        if self.member.method is MembershipMethod.IDENTICAL and not self.member.placed_by_staff:
            return []
        return [(_SIGNALS.get(name, name), f"{round(100 * float(value))}%")
                for name, value in sorted((self.member.score or {}).items())]

    @property
    def why(self) -> str:
        if self.member.placed_by_staff:
            return "Placed here by staff"
        if self.member.method is MembershipMethod.PARAPHRASE:
            return "Reworded: joined because both signals agreed"
        if self.member.method is MembershipMethod.IDENTICAL:
            return "The same words as another member of the campaign, apart from names, numbers and punctuation"
        return self.member.method.label


@dataclass(frozen=True)
class MemberPage:
    rows: list[MemberRow]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def member_page(campaign: Campaign, typical: Comment | None, page: int = 1,
                per_page: int = MEMBERS_PER_PAGE) -> MemberPage:
    """One page of the campaign's members in number order, each with its differences from the typical text."""
    total = size_of(campaign).comments
    pages = max(1, math.ceil(total / per_page))
    page = min(max(page, 1), pages)
    rows = db.session.execute(
        _in_number_order(campaign, Comment, CampaignMember).options(joinedload(Comment.participation))
        .limit(per_page).offset((page - 1) * per_page)).all()
    base = typical.shown_body if typical is not None else ""
    return MemberPage([MemberRow(comment, member, differences(base, comment.shown_body))
                       for comment, member in rows], total, page, per_page)


def other_campaigns(campaign: Campaign, limit: int = 200) -> list[tuple[Campaign, int]]:
    """The consultation's other campaigns with their sizes, largest first: what this one can merge with."""
    chosen = largest_first(campaign.consultation_id, exclude=campaign.id)[:limit]
    found = {c.id: c for c in db.session.scalars(select(Campaign).where(Campaign.id.in_([i for i, _ in chosen])))}
    return [(found[campaign_id], n) for campaign_id, n in chosen if campaign_id in found]


def _check_version(campaign: Campaign, expected_version: int) -> None:
    if campaign.version != expected_version:
        raise StaleCampaign(campaign)


def _touch(campaign: Campaign, now: datetime) -> None:
    """Move the campaign's version on, so a page opened before this change cannot act on it unawares."""
    with versioned_savepoint(campaign, stale=lambda: StaleCampaign(campaign)):
        campaign.updated_at = now


def _campaign_name(name: str | None) -> str:
    """A campaign's name as kept (consult.text.one_line_name; blank is no name), or CampaignNameInvalid."""
    name = one_line_name(name)
    if len(name) > CAMPAIGN_NAME_MAX:
        raise CampaignNameInvalid(f"The name must be {CAMPAIGN_NAME_MAX} characters or fewer")
    if has_direction_controls(name):
        raise CampaignNameInvalid(direction_controls_refused("The name"))
    return name


def name_campaign(campaign: Campaign, name: str, expected_version: int, actor, now: datetime) -> bool:
    """Give the campaign a name (blank takes it away); False if it already had it. Audited.

    The name stays through regrouping, as the campaign's row does.
    """
    name = _campaign_name(name)
    _check_version(campaign, expected_version)
    if name == campaign.name:
        return False
    before = {"name": campaign.name}
    campaign.name = name
    _touch(campaign, now)
    record(actor, "campaign.name", campaign, before, {"name": name})
    return True


def _member(campaign: Campaign, comment_id: int) -> CampaignMember:
    member = db.session.get(CampaignMember, comment_id)
    if member is None or member.campaign_id != campaign.id:
        raise NotAMember()
    return member


def _remove_if_empty(campaign: Campaign, actor) -> bool:
    if db.session.scalar(select(func.count()).where(CampaignMember.campaign_id == campaign.id)):
        return False
    record(actor, "campaign.remove", campaign, {"name": campaign.name}, None)
    db.session.delete(campaign)
    db.session.flush()
    return True


def detach_member(campaign: Campaign, comment_id: int, expected_version: int, actor, now: datetime) -> bool:
    """Take one comment out of the campaign for good; True if that left the campaign empty (and removed it).

    The comment is recorded as detached, so no later grouping puts it in any
    campaign. Audited on the comment.
    """
    _check_version(campaign, expected_version)
    member = _member(campaign, comment_id)
    before = {"campaign": campaign.id, "method": member.method.value, "score": member.score}
    db.session.delete(member)
    db.session.add(CampaignDetachment(comment_id=comment_id, consultation_id=campaign.consultation_id,
                                      detached_by_id=getattr(actor, "id", None), detached_at=now))
    db.session.flush()
    record(actor, "campaign.detach", db.session.get(Comment, comment_id), before, {"campaign": None})
    if _remove_if_empty(campaign, actor):
        return True
    _touch(campaign, now)
    return False


def _place_all(campaign_ids: Iterable[int], into: int | None = None) -> None:
    """Mark every member of these campaigns as placed by staff (moving them `into` one, if given)."""
    campaign_ids = list(campaign_ids)
    values = {"placed_by_staff": True} if into is None else {"placed_by_staff": True, "campaign_id": into}
    moved = [] if into is None else db.session.scalars(
        select(CampaignMember.comment_id).where(CampaignMember.campaign_id.in_(campaign_ids))).all()
    with counters.recounted(moved):
        db.session.execute(update(CampaignMember).where(CampaignMember.campaign_id.in_(campaign_ids))
                           .values(**values).execution_options(synchronize_session=False))


def merge_campaigns(campaign: Campaign, other: Campaign, expected_version: int, actor, now: datetime) -> int:
    """Move every member of `other` into `campaign` and remove `other`; how many comments moved. Audited.

    Both campaigns' members are marked as placed by staff, so regrouping
    keeps them together. The merged campaign keeps its name, or takes the
    other's if it had none.
    """
    if other.id == campaign.id or other.consultation_id != campaign.consultation_id:
        raise CampaignError("Choose another campaign of this consultation to merge with", "other")
    _check_version(campaign, expected_version)
    moved = size_of(other).comments
    _place_all([campaign.id])
    _place_all([other.id], into=campaign.id)
    before = {"name": campaign.name, "comments": size_of(campaign).comments - moved}
    if not campaign.name and other.name:
        campaign.name = other.name
    _touch(campaign, now)
    record(actor, "campaign.merge", campaign, before,
           {"name": campaign.name, "comments": before["comments"] + moved, "merged": other.id,
            "merged_name": other.name, "moved": moved})
    record(actor, "campaign.remove", other, {"name": other.name, "merged_into": campaign.id}, None)
    db.session.delete(other)
    db.session.flush()
    return moved


def was_merged_into(campaign: Campaign, other_id: int) -> bool:
    """Whether the campaign `other_id` was merged into `campaign` (and so removed): a merge sent again."""
    removals = db.session.scalars(select(AuditEvent.before).where(
        AuditEvent.object_type == Campaign.__tablename__, AuditEvent.object_id == str(other_id),
        AuditEvent.action == "campaign.remove"))
    return any(isinstance(before, dict) and before.get("merged_into") == campaign.id for before in removals)


def split_members(campaign: Campaign, comment_ids: Iterable[int], name: str, expected_version: int, actor,
                  now: datetime) -> Campaign:
    """Move the chosen members into a new campaign of their own; the new campaign. Audited on each comment.

    At least one member must stay and one must move. Members of both
    campaigns are marked as placed by staff, so regrouping keeps the split.
    """
    ids = sorted(set(comment_ids))
    name = _campaign_name(name)
    if not ids:
        raise CampaignError("Select the comments to move into a new campaign", "selected")
    _check_version(campaign, expected_version)
    for comment_id in ids:
        _member(campaign, comment_id)
    if len(ids) >= size_of(campaign).comments:
        raise CampaignError("Leave at least one comment in this campaign: to take them all out, detach them",
                            "selected")
    new = Campaign(consultation_id=campaign.consultation_id, name=name)
    db.session.add(new)
    db.session.flush()
    _place_all([campaign.id])
    with counters.recounted(ids):
        db.session.execute(update(CampaignMember).where(CampaignMember.comment_id.in_(ids))
                           .values(campaign_id=new.id).execution_options(synchronize_session=False))
    for comment in db.session.scalars(select(Comment).where(Comment.id.in_(ids))):
        record(actor, "campaign.split", comment, {"campaign": campaign.id}, {"campaign": new.id})
    _touch(campaign, now)
    db.session.expire_all()
    return new


def campaign_sizes(consultation_id: int) -> dict[int, int]:
    """Each campaign of the consultation and how many submitted comments it holds."""
    return {campaign_id: size.comments for campaign_id, size in sizes(consultation_id).items()}
