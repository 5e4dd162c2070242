"""The worker's side of theme suggestions: embed, score, store suggestions, what to tag next, new topics.

Everything here runs in the worker or a command, never in a request; it
flushes and the job commits (consult/analysis/jobs.py).
"""

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sqlalchemy import delete, insert, select, update

from consult.analysis import suggestions as engine
from consult.analysis.embeddings import consultation_vectors, embed_consultation, encode
from consult.analysis.models import CampaignMember, CommentEmbedding, SuggestionRun, SuggestionState, ThemeSuggestion
from consult.comments.models import Comment
from consult.database import utcnow
from consult.extensions import db
from consult.moderation.models import CommentTheme, Theme

Progress = Callable[[str], None]

SIMILAR_COMMENTS = 5


def theme_text(theme: Theme) -> str:
    """What a theme's anchor embeds: its name and its description."""
    return f"{theme.name}. {theme.description}".strip()


def consultation_themes(consultation_id: int) -> list[Theme]:
    return list(db.session.scalars(select(Theme).where(Theme.consultation_id == consultation_id)
                                   .order_by(Theme.name, Theme.id)))


def _tags(comment_ids: list[int], theme_ids: list[int]) -> dict[int, set[int]]:
    row = {comment_id: n for n, comment_id in enumerate(comment_ids)}
    column = {theme_id: n for n, theme_id in enumerate(theme_ids)}
    tags: dict[int, set[int]] = {}
    for comment_id, theme_id in db.session.execute(
            select(CommentTheme.comment_id, CommentTheme.theme_id).where(CommentTheme.theme_id.in_(theme_ids))):
        if comment_id in row:
            tags.setdefault(row[comment_id], set()).add(column[theme_id])
    return tags


def _representatives(comment_ids: list[int]) -> tuple[np.ndarray, dict[int, int]]:
    """True for the rows that stand for themselves: comments in no campaign, and each campaign's first."""
    campaign_of = dict(db.session.execute(
        select(CampaignMember.comment_id, CampaignMember.campaign_id)
        .where(CampaignMember.comment_id.in_(comment_ids))).all()) if comment_ids else {}
    seen: set[int] = set()
    result = np.ones(len(comment_ids), dtype=bool)
    for n, comment_id in enumerate(comment_ids):
        campaign = campaign_of.get(comment_id)
        if campaign is not None:
            result[n] = campaign not in seen
            seen.add(campaign)
    return result, campaign_of


def _store_suggestions(consultation_id: int, comment_ids: list[int], theme_ids: list[int],
                       chosen: list[list[tuple[int, float]]], tagged: np.ndarray) -> Counter:
    """Replace the consultation's pending suggestions; rejected ones stay and are not made again.

    Returns how many were stored per theme id.
    """
    db.session.execute(delete(ThemeSuggestion).where(ThemeSuggestion.consultation_id == consultation_id,
                                                     ThemeSuggestion.state == SuggestionState.PENDING))
    rejected = {(c, t) for c, t in db.session.execute(select(ThemeSuggestion.comment_id, ThemeSuggestion.theme_id)
                                                      .where(ThemeSuggestion.consultation_id == consultation_id))}
    now = utcnow()
    rows = []
    for n, picks in enumerate(chosen):
        if tagged[n]:
            continue
        for column, confidence in picks:
            if (comment_ids[n], theme_ids[column]) in rejected:
                continue
            rows.append({"consultation_id": consultation_id, "comment_id": comment_ids[n],
                         "theme_id": theme_ids[column], "confidence": min(1.0, max(0.0, confidence)),
                         "state": SuggestionState.PENDING, "suggested_at": now})
    for start in range(0, len(rows), 5000):
        db.session.execute(insert(ThemeSuggestion), rows[start:start + 5000])
    return Counter(row["theme_id"] for row in rows)


def _store_neighbours(comment_ids: list[int], vectors: np.ndarray) -> None:
    """Each comment's most similar comments, so the comment page reads a row instead of comparing."""
    indices, similarity = engine.nearest_neighbours(vectors, SIMILAR_COMMENTS)
    rows = [{"comment_id": comment_ids[n],
             "neighbours": [[comment_ids[int(i)], round(float(s), 3)] for i, s in zip(indices[n], similarity[n])]}
            for n in range(len(comment_ids))]
    for start in range(0, len(rows), 5000):
        db.session.execute(update(CommentEmbedding), rows[start:start + 5000])


@dataclass
class _Scored:
    comment_ids: list[int]
    vectors: np.ndarray
    theme_ids: list[int]
    tags: dict[int, set[int]]
    tagged: np.ndarray
    scores: np.ndarray
    representative: np.ndarray
    campaign_of: dict[int, int]
    embedded: int
    seconds: float


def _score(consultation_id: int, say: Progress) -> _Scored:
    """Embed what is new, then score every comment against every theme from the current tags."""
    embedded = embed_consultation(consultation_id, say)
    say(f"embedded {embedded} new comments")
    comment_ids, vectors = consultation_vectors(consultation_id)
    themes = consultation_themes(consultation_id)
    theme_ids = [t.id for t in themes]
    started = time.perf_counter()
    tags = _tags(comment_ids, theme_ids)
    tagged = np.zeros(len(comment_ids), dtype=bool)
    tagged[list(tags)] = True
    if comment_ids and themes:
        scores = engine.score_themes(vectors, encode([theme_text(t) for t in themes]), tags)
    else:
        scores = np.zeros((len(comment_ids), len(themes)))
    representative, campaign_of = _representatives(comment_ids)
    return _Scored(comment_ids, vectors, theme_ids, tags, tagged, scores, representative, campaign_of, embedded,
                   time.perf_counter() - started)


def _next_rows(state: _Scored, count: int) -> list[int]:
    """Rows to tag next: untagged campaign representatives, none from a campaign already tagged."""
    if not state.theme_ids:
        return []
    tagged_campaigns = {state.campaign_of[state.comment_ids[n]] for n in state.tags
                        if state.comment_ids[n] in state.campaign_of}
    eligible = state.representative & ~state.tagged & np.array(
        [state.campaign_of.get(c) not in tagged_campaigns for c in state.comment_ids], dtype=bool)
    return engine.next_to_tag(state.vectors, state.scores, eligible, count)


def pick_next_to_tag(consultation_id: int, count: int, progress: Progress | None = None) -> list[int]:
    """The ids of the `count` comments whose tags would teach the suggestions most, from the current tags."""
    state = _score(consultation_id, progress or (lambda message: None))
    return [state.comment_ids[n] for n in _next_rows(state, count)]


def suggest_for_consultation(consultation_id: int, progress: Progress | None = None) -> dict:
    """Embed what is new, then score every untagged comment against every theme and store the results.

    Guarantees: a suggestion is only ever a ThemeSuggestion row (never a
    tag); a comment with any tag gets no suggestion; a pair a person
    rejected is not suggested again; at most two suggestions per comment.
    Also stores each comment's similar comments, the comments to tag next
    (one per campaign at most, none from a campaign already tagged) and the
    possible new topics. Returns counts and seconds.
    """
    say = progress or (lambda message: None)
    started = time.perf_counter()
    state = _score(consultation_id, say)
    comment_ids, vectors, tags, tagged, scores = (state.comment_ids, state.vectors, state.tags, state.tagged,
                                                  state.scores)
    chosen = engine.choose(scores)
    by_theme = _store_suggestions(consultation_id, comment_ids, state.theme_ids, chosen, tagged)
    suggested = sum(by_theme.values())
    say(f"{suggested} theme suggestions for {int((~tagged).sum())} untagged comments "
        f"from {len(tags)} tagged, in {state.seconds:.1f} s")
    _store_neighbours(comment_ids, vectors)
    next_rows = _next_rows(state, min(50, max(10, 2 * len(state.theme_ids))))
    representative = state.representative
    rows = np.flatnonzero(representative)
    texts = dict(db.session.execute(select(Comment.id, Comment.body).where(
        Comment.id.in_([comment_ids[n] for n in rows]))).all()) if len(rows) else {}
    topics = engine.possible_topics(vectors[rows], [texts[comment_ids[n]] for n in rows],
                                    scores[rows], tagged[rows]) if len(rows) else []
    topic_rows = [{"phrases": t.phrases, "comment_ids": [comment_ids[rows[i]] for i in t.rows],
                   "typical": [comment_ids[rows[i]] for i in t.typical]} for t in topics]
    figures = {"comments": len(comment_ids), "tagged": len(tags), "suggested": suggested, "embedded": state.embedded,
               "by_theme": {str(theme_id): n for theme_id, n in by_theme.items()},
               "seconds": round(time.perf_counter() - started, 2)}
    run = db.session.get(SuggestionRun, consultation_id) or SuggestionRun(consultation_id=consultation_id)
    run.finished_at = utcnow()
    run.next_to_tag = [comment_ids[n] for n in next_rows]
    run.topics = topic_rows
    run.figures = figures
    db.session.add(run)
    db.session.flush()
    say(f"{len(run.next_to_tag)} comments to tag next, {len(topic_rows)} possible new topics")
    return figures
