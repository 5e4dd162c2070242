"""One action for many comments: check it, plan it (what would change, what changed since), then apply it.

The queue offers an action on the comments a person ticked, or on all the
comments matching its filters. Before anything changes, the plan states the
count; comments someone else decided since the person chose them are left
out and named, and so are comments submitted since the queue was loaded.
Comments the action leaves as they are because of their state (a rejected
comment, for an accept) stay in the set the person confirms, and are
counted apart, so the confirmation says how many will not change and why.
"""

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy.orm import joinedload

from consult.comments.models import Comment
from consult.extensions import db
from consult.moderation import queries
from consult.moderation.models import Theme
from consult.moderation.services.common import BulkOutcome, Conflict, conflict_of
from consult.moderation.services.decisions import Decision, bulk_decide, clean_decision, left_by_bulk
from consult.moderation.services.errors import InvalidInput, InvalidSelection, MatchingChanged
from consult.moderation.services.responses import apply_response, check_response_input
from consult.moderation.services.themes import bulk_tag
from consult.moderation.states import ModerationState, RejectionReason, ResponseState


@dataclass(frozen=True)
class BulkAction:
    """What to do to many comments, as plain values: "accept", "reject", "tag" or "respond", and with what."""

    kind: str
    reason: RejectionReason | None = None
    note: str = ""
    theme: Theme | None = None
    response_text: str = ""
    response_state: ResponseState | None = None

    @property
    def decision(self) -> Decision | None:
        if self.kind == "accept":
            return Decision(ModerationState.ACCEPTED, note=self.note)
        if self.kind == "reject":
            return Decision(ModerationState.REJECTED, reason=self.reason, note=self.note)
        return None

    @property
    def checks_versions(self) -> bool:
        """A decision replaces the one a person saw; tagging and responding only add, so any version will do."""
        return self.decision is not None

    def left_states(self, actor) -> frozenset[ModerationState]:
        """The states of the comments this action leaves as they are when `actor` applies it."""
        return frozenset() if self.decision is None else left_by_bulk(self.decision, actor)


# How many comments a confirmation names, and how many changed-since comments it lists; the rest are counted.
SHOWN_MAX = 100


@dataclass
class BulkPlan:
    """Which comments the action would change, and which it will not.

    For ticked comments, `items` holds each one (id: the version chosen). For
    all comments matching the filters, `items` is empty: the confirmation
    carries the filters, `count` and `checksum` instead, and the action is
    applied to the filters again, refusing if they no longer give this set.
    Either way the set includes the comments the action will leave as they
    are (`left`, counted by state); `references` names only the others.
    """

    items: dict[int, int]
    references: list[str]
    conflicts: list[Conflict] = field(default_factory=list)
    arrived: int = 0  # comments submitted since the queue was loaded: left out
    shown_total: int | None = None  # how many the queue said matched
    matching: int | None = None  # how many match now, arrivals included
    count: int = 0  # how many comments the set confirmed holds
    checksum: int = 0  # the sum of their ids, for matching: the set confirmed
    changed_since: int = 0  # matching comments someone else decided since the queue was loaded
    left: dict[ModerationState, int] = field(default_factory=dict)  # of the set, left as they are, by state

    @property
    def to_change(self) -> int:
        """How many comments of the set the action is for: all but those it leaves as they are."""
        return self.count - sum(self.left.values())

    @property
    def more(self) -> int:
        """How many comments the plan changes beyond the references it names."""
        return self.to_change - len(self.references)


def check_bulk_action(action: BulkAction) -> None:
    """The action's own input, checked by the rules its service applies, before any comment is chosen."""
    if action.decision is not None:
        clean_decision(action.decision)
    if action.kind == "respond":
        check_response_input(action.response_text, action.response_state)


def _conflicts(comments, actor) -> list[Conflict]:
    return [conflict_of(c, actor) for c in sorted(comments, key=lambda c: c.number)]


def plan_selected(consultation_id: int, selected: dict[int, int], action: BulkAction, actor=None) -> BulkPlan:
    """The plan for the comments a person ticked, each with the version they saw, for `actor` to apply.

    A decision leaves out a comment whose version has moved since, and counts
    apart those it will leave as they are (without an actor, as for someone
    who is not an admin). Raises InvalidInput if none is ticked,
    InvalidSelection if one is not in this consultation.
    """
    if not selected:
        raise InvalidInput("Select at least one comment, or choose all the comments matching the filters",
                           "selected")
    found = queries.comments_by_id(consultation_id, selected)
    if len(found) != len(selected):
        raise InvalidSelection()
    comments = sorted(found.values(), key=lambda c: c.number)
    moved = [c for c in comments if action.checks_versions and c.version != selected[c.id]]
    kept = [c for c in comments if c not in moved]
    left_states = action.left_states(actor)
    left = Counter(c.moderation_state for c in kept if c.moderation_state in left_states)
    references = [c.reference for c in kept if c.moderation_state not in left_states]
    return BulkPlan({c.id: selected[c.id] for c in kept}, references, conflicts=_conflicts(moved, actor),
                    count=len(kept), left=dict(left))


def plan_matching(consultation_id: int, filters: queries.QueueFilters, loaded_at: datetime, action: BulkAction,
                  shown_total: int | None, actor=None) -> BulkPlan:
    """The plan for every comment matching the filters as the queue showed them at `loaded_at`, for `actor`.

    Comments submitted since are left out and counted; a decision also leaves
    out comments changed since, and counts apart those it will leave as they
    are (without an actor, as for someone who is not an admin). Only counts,
    the first SHOWN_MAX references and the first SHOWN_MAX changed comments
    are read, however many match. Raises InvalidInput if none match.
    """
    chosen = queries.unchanged_matching(consultation_id, filters, loaded_at, action.checks_versions)
    count, checksum = queries.count_and_checksum(chosen)
    matching = queries.count_matching(consultation_id, filters)
    submitted_by_then = queries.count_matching(consultation_id, replace(filters, submitted_before=_earliest(
        filters.submitted_before, loaded_at)))
    arrived = matching - submitted_by_then
    if not submitted_by_then:
        raise InvalidInput("No comments match these filters", "selected")
    changed_since, conflicts = submitted_by_then - count, []
    if changed_since:
        changed = queries.matching_comments(consultation_id, filters).where(
            Comment.submitted_at <= loaded_at, Comment.updated_at > loaded_at).limit(SHOWN_MAX)
        conflicts = _conflicts(db.session.scalars(changed.options(joinedload(Comment.moderated_by))), actor)
    left_states = action.left_states(actor)
    left = queries.count_in_states(chosen, left_states)
    named = chosen.where(Comment.moderation_state.not_in(left_states)) if left_states else chosen
    references = [c.reference for c in db.session.scalars(named.with_only_columns(Comment).limit(SHOWN_MAX))]
    return BulkPlan({}, references, conflicts=conflicts, arrived=arrived, shown_total=shown_total,
                    matching=matching, count=count, checksum=checksum, changed_since=changed_since, left=left)


def _earliest(bound: datetime | None, loaded_at: datetime) -> datetime:
    """An exclusive 'submitted before' bound that also leaves out what came after `loaded_at`."""
    after_loading = loaded_at + timedelta(microseconds=1)
    return after_loading if bound is None else min(bound, after_loading)


def apply_to_matching(consultation_id: int, filters: queries.QueueFilters, loaded_at: datetime,
                      confirmed: tuple[int, int], action: BulkAction, actor, now: datetime,
                      progress: Callable[[int, int], None] | None = None) -> BulkOutcome:
    """Apply the action to every comment matching the filters, as confirmed: (count, checksum) of the plan.

    The filters are applied again and must give exactly the set the person
    confirmed (the same count and the same sum of ids); if a comment of it
    was changed, added or removed since, MatchingChanged is raised and
    nothing changes. The comments are then read and changed a batch at a
    time in this one transaction, so no statement grows with the set and no
    list of every id is built; a race with another change to a batch raises
    SelectionChanged and the caller's rollback undoes every batch. Comments
    the action leaves as they are (BulkAction.left_states) are part of the
    set, read with their batch and reported as refused, so the in-request
    path and the worker's count them the same way.
    `progress(done, total)`, if given, is told after each batch.
    """
    chosen = queries.unchanged_matching(consultation_id, filters, loaded_at, action.checks_versions)
    if queries.count_and_checksum(chosen) != confirmed:
        raise MatchingChanged()
    outcome, seen = BulkOutcome(), 0
    for items in queries.in_batches(chosen):
        done = apply_bulk_action(consultation_id, items, action, actor, now)
        outcome.changed += done.changed
        outcome.conflicts += done.conflicts
        outcome.unchanged += done.unchanged
        outcome.refused += done.refused
        if progress is not None:
            seen += len(items)
            progress(seen, confirmed[0])
    return outcome


def apply_bulk_action(consultation_id: int, items: dict[int, int], action: BulkAction, actor,
                      now: datetime) -> BulkOutcome:
    """Apply a confirmed plan's action to its comments (id: the version shown), in one transaction."""
    if action.decision is not None:
        return bulk_decide(consultation_id, items, action.decision, actor, now)
    if action.kind == "tag":
        return bulk_tag(consultation_id, items, action.theme, actor, now)
    return apply_response(consultation_id, items, action.response_text, action.response_state, actor, now)


@dataclass(frozen=True)
class ThemeResponse:
    """One response for every comment with a theme: the action, and the set of comments it was asked for
    (their count and the sum of their ids, as a bulk confirmation fixes them)."""

    consultation_id: int
    filters: queries.QueueFilters
    loaded_at: datetime
    confirmed: tuple[int, int]
    action: BulkAction

    @property
    def count(self) -> int:
        return self.confirmed[0]


def plan_theme_response(theme: Theme, text: str, state: ResponseState, now: datetime) -> ThemeResponse:
    """The response checked, and the comments that have the theme now; refused if there are none.

    A theme can hold most of a consultation: the caller applies a large one
    in the worker (apply_to_matching, as a bulk action on the theme's filter).
    """
    action = BulkAction("respond", response_text=text, response_state=state)
    check_bulk_action(action)
    filters = queries.QueueFilters(theme_id=theme.id)
    confirmed = queries.count_and_checksum(
        queries.unchanged_matching(theme.consultation_id, filters, now, action.checks_versions))
    if not confirmed[0]:
        raise InvalidInput(f"No comments have the theme ‘{theme.name}’ yet.", "text")
    return ThemeResponse(theme.consultation_id, filters, now, confirmed, action)


def apply_theme_response(plan: ThemeResponse, actor, now: datetime) -> BulkOutcome:
    """Apply a planned theme response here and now (those with a response keep theirs)."""
    return apply_to_matching(plan.consultation_id, plan.filters, plan.loaded_at, plan.confirmed, plan.action,
                             actor, now)


def apply_response_to_theme(theme: Theme, text: str, state: ResponseState, actor, now: datetime) -> BulkOutcome:
    """Apply one response to every comment with this theme (those with a response keep theirs)."""
    return apply_theme_response(plan_theme_response(theme, text, state, now), actor, now)
