"""Staff review of the system's theme suggestions: accept or reject, one by one or in bulk.

A suggestion becomes a tag only here, when a person accepts it: the tag
records that the system suggested it (source "system") and who accepted it
(tagged_by), and the audit trail records the act with the confidence. A
rejection is kept, with who rejected it, so the suggestion is not made
again. Also the reads the pages need: suggestions by theme and confidence,
a comment's suggestions and similar comments, what to tag next, new topics.
"""

import re
from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime
from math import ceil

from sqlalchemy import func, select

from consult.analysis.models import CommentEmbedding, SuggestionRun, SuggestionState, ThemeSuggestion
from consult.analysis.settings import SIMILAR_AT_LEAST
from consult.audit.services import record
from consult.comments.models import Comment, CommentStatus
from consult.errors import DomainError
from consult.extensions import db
from consult.moderation.models import CommentTheme, Theme
from consult.moderation.states import TagSource

PAGE_SIZE = 50


class SuggestionGone(DomainError):
    """The suggestion was decided, or replaced by a newer run, since the page was opened."""

    status = 409
    message = "This suggestion has already been accepted, rejected or replaced. Nothing has been changed."


class InvalidConfidence(DomainError):
    field = "confidence"
    message = "Enter a confidence between 0 and 100"


def _audit_after(suggestion: ThemeSuggestion, theme: Theme, actor, now: datetime) -> dict:
    return {"theme_id": theme.id, "theme": theme.name, "confidence": suggestion.confidence,
            "suggested_at": suggestion.suggested_at.isoformat(), "decided_by_id": getattr(actor, "id", None),
            "decided_at": now.isoformat()}


def _pending(suggestion: ThemeSuggestion | None) -> ThemeSuggestion:
    if suggestion is None or suggestion.state is not SuggestionState.PENDING:
        raise SuggestionGone()
    return suggestion


def accept_suggestion(suggestion: ThemeSuggestion | None, actor, now: datetime) -> CommentTheme | None:
    """Make the suggested theme a tag on the comment, accepted by `actor`; audited as suggestion.accept.

    The suggestion row goes. If a person already tagged the comment with
    that theme meanwhile, nothing more is written (None is returned).
    """
    suggestion = _pending(suggestion)
    theme = suggestion.theme
    comment = db.session.get(Comment, suggestion.comment_id)
    after = _audit_after(suggestion, theme, actor, now)
    existing = db.session.get(CommentTheme, (suggestion.comment_id, theme.id))
    tag = None
    if existing is None:
        tag = CommentTheme(comment_id=suggestion.comment_id, theme_id=theme.id, source=TagSource.SYSTEM,
                           tagged_by_id=actor.id, tagged_at=now)
        db.session.add(tag)
    record(actor, "suggestion.accept", comment, {"suggestion": after | {"decided_by_id": None}},
           {"tag": {"theme_id": theme.id, "theme": theme.name, "source": TagSource.SYSTEM.value,
                    "tagged_by_id": actor.id, "tagged_at": now.isoformat()}, "confidence": suggestion.confidence})
    db.session.delete(suggestion)
    db.session.flush()
    return tag


def reject_suggestion(suggestion: ThemeSuggestion | None, actor, now: datetime) -> ThemeSuggestion:
    """Mark the suggestion rejected by `actor` (kept, so it is not made again); audited as suggestion.reject."""
    suggestion = _pending(suggestion)
    comment = db.session.get(Comment, suggestion.comment_id)
    suggestion.state = SuggestionState.REJECTED
    suggestion.decided_by_id = actor.id
    suggestion.decided_at = now
    record(actor, "suggestion.reject", comment, None, _audit_after(suggestion, suggestion.theme, actor, now))
    db.session.flush()
    return suggestion


# Where each shown whole percentage starts, as a stored share: 76% is shown from 0.755 up. The list shows
# a confidence, and a typed threshold is compared, through this one table, so "76 or above" takes exactly
# the rows shown as 76% or more (rounding the share and comparing it separately disagree at the edges).
_STARTS = [(percent - 0.5) / 100 for percent in range(101)]


def shown_percent(confidence: float) -> int:
    """The confidence (0 to 1) as the whole percentage the pages show, half up."""
    return max(0, bisect_right(_STARTS, confidence) - 1)


_PERCENT = re.compile(r"\s*([0-9]{1,3}(?:\.[0-9]+)?)\s*%?\s*")


def confidence_percent(typed: str | int | float | None) -> float:
    """A confidence typed as a percentage (0 to 100, one % sign allowed), as a person writes one: plain
    digits with an optional decimal part. Python's float() would also take 1_0, 1e2 and other scripts'
    digits, which the page would then show back as typed."""
    match = _PERCENT.fullmatch(str(typed))
    if match is None:
        raise InvalidConfidence()
    value = float(match.group(1))
    if not 0 <= value <= 100:  # also refuses nan
        raise InvalidConfidence()
    return value


def lowest_confidence(percent: float) -> float:
    """The lowest stored confidence shown as `percent` or more: what the list filter and bulk decision compare."""
    return _STARTS[ceil(percent)]


def _pending_at_or_above(consultation_id: int, theme: Theme, minimum: float):
    return (ThemeSuggestion.consultation_id == consultation_id, ThemeSuggestion.theme_id == theme.id,
            ThemeSuggestion.state == SuggestionState.PENDING, ThemeSuggestion.confidence >= minimum)


def count_pending(consultation_id: int, theme: Theme, minimum: float) -> int:
    """How many suggestions bulk_decide would decide now, for its check page."""
    return db.session.scalar(select(func.count()).select_from(ThemeSuggestion).where(
        *_pending_at_or_above(consultation_id, theme, minimum)))


class SuggestionsChangedSinceChecked(DomainError):
    status = 409

    def __init__(self, seen: int, now: int):
        super().__init__(
            f"{now} {'suggestion is' if now == 1 else 'suggestions are'} waiting for that theme and confidence "
            f"now, not the {seen} you checked: someone decided some, or a new run made more. Nothing has been "
            "decided. Check the number again, then confirm." if now else
            f"No suggestions are waiting for that theme and confidence now: the {seen} you checked have been "
            "decided, by you (a form sent twice) or by someone else.")
        self.now = now


def bulk_decide(consultation_id: int, theme: Theme, minimum: float, accept: bool, actor, now: datetime,
                seen: int | None = None) -> int:
    """Accept (or reject) every pending suggestion of `theme` at `minimum` confidence or above; how many.

    `minimum` is a stored share, as lowest_confidence gives for a typed percentage.

    Each is audited as if decided one by one. With `seen` (the number the
    check page showed), nothing is decided unless that many are waiting:
    SuggestionsChangedSinceChecked.
    """
    if theme.consultation_id != consultation_id:
        raise DomainError("Choose a theme from this consultation", "theme")
    suggestions = db.session.scalars(select(ThemeSuggestion).where(
        *_pending_at_or_above(consultation_id, theme, minimum))
        .order_by(ThemeSuggestion.confidence.desc(), ThemeSuggestion.id).with_for_update()).all()
    if seen is not None and len(suggestions) != seen:
        raise SuggestionsChangedSinceChecked(seen, len(suggestions))
    for suggestion in suggestions:
        (accept_suggestion if accept else reject_suggestion)(suggestion, actor, now)
    return len(suggestions)


# --- reads for the pages -----------------------------------------------------------------


@dataclass(frozen=True)
class ThemeCount:
    theme: Theme
    pending: int  # at the last run: counting live would cost a grouped count per page view


def suggestion_counts(consultation_id: int) -> list[ThemeCount]:
    """Each theme of the consultation with how many suggestions the last run made for it."""
    run = latest_run(consultation_id)
    counts = (run.figures.get("by_theme") or {}) if run else {}
    themes = db.session.scalars(select(Theme).where(Theme.consultation_id == consultation_id)
                                .order_by(Theme.name)).all()
    return [ThemeCount(t, int(counts.get(str(t.id), 0))) for t in themes]


def suggestion_page(consultation_id: int, theme_id: int | None, minimum: float, page: int):
    """One page of pending suggestions, most confident first, with their comments; and whether more follow."""
    query = (select(ThemeSuggestion, Comment)
             .join(Comment, Comment.id == ThemeSuggestion.comment_id)
             .where(ThemeSuggestion.consultation_id == consultation_id,
                    ThemeSuggestion.state == SuggestionState.PENDING, ThemeSuggestion.confidence >= minimum)
             .order_by(ThemeSuggestion.confidence.desc(), ThemeSuggestion.id))
    if theme_id is not None:
        query = query.where(ThemeSuggestion.theme_id == theme_id)
    rows = db.session.execute(query.offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)).all()
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


def suggestion_for(comment: Comment, theme: Theme) -> ThemeSuggestion | None:
    return db.session.scalar(select(ThemeSuggestion).where(ThemeSuggestion.comment_id == comment.id,
                                                           ThemeSuggestion.theme_id == theme.id))


def comment_suggestions(comment: Comment) -> list[ThemeSuggestion]:
    return list(db.session.scalars(select(ThemeSuggestion).where(
        ThemeSuggestion.comment_id == comment.id, ThemeSuggestion.state == SuggestionState.PENDING)
        .order_by(ThemeSuggestion.confidence.desc())))


def similar_comments(comment: Comment) -> list[tuple[Comment, float]]:
    """The comment's nearest neighbours by meaning, as stored by the last suggestion run (one row read),
    that are close enough to be called similar (SIMILAR_AT_LEAST): never an unrelated or opposed one."""
    stored = db.session.scalar(select(CommentEmbedding.neighbours)
                               .where(CommentEmbedding.comment_id == comment.id)) or []
    neighbours = [(i, score) for i, score in stored if score >= SIMILAR_AT_LEAST]
    ids = [int(i) for i, _ in neighbours]
    found = {c.id: c for c in db.session.scalars(select(Comment).where(
        Comment.id.in_(ids), Comment.consultation_id == comment.consultation_id,
        Comment.status == CommentStatus.SUBMITTED))}
    return [(found[int(i)], float(score)) for i, score in neighbours if int(i) in found]


def latest_run(consultation_id: int) -> SuggestionRun | None:
    return db.session.get(SuggestionRun, consultation_id)


def comments_by_id(consultation_id: int, ids: list[int]) -> dict[int, Comment]:
    if not ids:
        return {}
    return {c.id: c for c in db.session.scalars(select(Comment).where(
        Comment.id.in_(ids), Comment.consultation_id == consultation_id))}


def comments_to_tag_next(consultation_id: int) -> list[Comment]:
    """The stored 'tag these next' list, leaving out comments tagged since the run."""
    run = latest_run(consultation_id)
    ids = list(run.next_to_tag) if run else []
    comments = comments_by_id(consultation_id, ids)
    tagged = set(db.session.scalars(select(CommentTheme.comment_id).where(CommentTheme.comment_id.in_(ids)))) \
        if ids else set()
    return [comments[i] for i in ids if i in comments and i not in tagged]
