"""One action for many comments: check it, plan it (what would change, what changed since), then apply it.

The queue offers an action on the comments a person ticked, or on all the
comments matching its filters. Before anything changes, the plan states the
count; comments someone else decided since the person chose them are left
out and named, and so are comments submitted since the queue was loaded.
"""

from dataclasses import dataclass, field
from datetime import datetime

from consult.moderation import queries
from consult.moderation.models import Theme
from consult.moderation.services.common import BulkOutcome, Conflict, last_comment_change
from consult.moderation.services.decisions import Decision, bulk_decide, clean_decision
from consult.moderation.services.errors import InvalidInput, InvalidSelection
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


@dataclass
class BulkPlan:
    """Which comments the action would change (id: the version chosen), and which it will not."""

    items: dict[int, int]
    references: list[str]
    conflicts: list[Conflict] = field(default_factory=list)
    arrived: int = 0  # comments submitted since the queue was loaded: left out
    shown_total: int | None = None  # how many the queue said matched
    matching: int | None = None  # how many match now, arrivals included


def check_bulk_action(action: BulkAction) -> None:
    """The action's own input, checked by the rules its service applies, before any comment is chosen."""
    if action.decision is not None:
        clean_decision(action.decision)
    if action.kind == "respond":
        check_response_input(action.response_text, action.response_state)


def _with_references(consultation_id: int, plan: BulkPlan) -> BulkPlan:
    found = queries.comments_by_id(consultation_id, plan.items)
    plan.references = [found[i].reference for i in sorted(plan.items, key=lambda i: found[i].number)]
    return plan


def _conflicts(comments) -> list[Conflict]:
    return [Conflict(c, last_comment_change(c)) for c in sorted(comments, key=lambda c: c.number)]


def plan_selected(consultation_id: int, selected: dict[int, int], action: BulkAction) -> BulkPlan:
    """The plan for the comments a person ticked, each with the version they saw.

    A decision leaves out a comment whose version has moved since. Raises
    InvalidInput if none is ticked, InvalidSelection if one is not in this
    consultation.
    """
    if not selected:
        raise InvalidInput("Select at least one comment, or choose all the comments matching the filters",
                           "selected")
    found = queries.comments_by_id(consultation_id, selected)
    if len(found) != len(selected):
        raise InvalidSelection()
    comments = sorted(found.values(), key=lambda c: c.number)
    moved = [c for c in comments if action.checks_versions and c.version != selected[c.id]]
    items = {c.id: selected[c.id] for c in comments if c not in moved}
    return _with_references(consultation_id, BulkPlan(items, [], conflicts=_conflicts(moved)))


def plan_matching(consultation_id: int, filters: queries.QueueFilters, loaded_at: datetime, action: BulkAction,
                  shown_total: int | None) -> BulkPlan:
    """The plan for every comment matching the filters as the queue showed them at `loaded_at`.

    Comments submitted since are left out and counted; a decision also leaves
    out comments changed since. Raises InvalidInput if none match.
    """
    matched = queries.matching_snapshot(consultation_id, filters)
    arrived = [m for m in matched if m.submitted_at > loaded_at]
    matched = [m for m in matched if m.submitted_at <= loaded_at]
    if not matched:
        raise InvalidInput("No comments match these filters", "selected")
    changed_ids = {m.id for m in matched if action.checks_versions and m.updated_at > loaded_at}
    changed = queries.comments_by_id(consultation_id, changed_ids).values() if changed_ids else []
    items = {m.id: m.version for m in matched if m.id not in changed_ids}
    return _with_references(consultation_id, BulkPlan(
        items, [], conflicts=_conflicts(changed), arrived=len(arrived), shown_total=shown_total,
        matching=len(matched) + len(arrived)))


def apply_bulk_action(consultation_id: int, items: dict[int, int], action: BulkAction, actor,
                      now: datetime) -> BulkOutcome:
    """Apply a confirmed plan's action to its comments (id: the version shown), in one transaction."""
    if action.decision is not None:
        return bulk_decide(consultation_id, items, action.decision, actor, now)
    if action.kind == "tag":
        return bulk_tag(consultation_id, items, action.theme, actor, now)
    return apply_response(consultation_id, items, action.response_text, action.response_state, actor, now)
