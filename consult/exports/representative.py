"""Choosing up to three comments that stand for a theme, for the committee's review.

The choice is made by a simple text similarity, so that the committee reads
what is typical of a theme rather than whatever came first:

1. Take a bounded sample of the theme's publishable comments (at most
   SAMPLE, in comment-number order), so the work per theme is fixed however
   large the consultation grows.
2. Turn each comment's shown text (the redacted text for a redacted comment)
   into a bag of words: lower-cased words of three letters or more, without
   common English words, each counted once.
3. The theme's centre is the average of those word vectors (each scaled to
   length one). A comment's score is its cosine similarity to the centre:
   how much it shares the words most of the theme's comments use.
4. Take the highest-scoring comments in turn, skipping any that is a
   near copy of one already chosen (cosine above NEAR_COPY, as campaign
   letters are) or from a stakeholder already chosen, so three copies of one
   letter never fill the list. Ties go to the lower comment number.

The result is memoised per process under the theme's version and its
counts, which change whenever a comment is tagged, untagged or moderated.
"""

import math
import re
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import case, select

from consult.comments.models import Comment, CommentStatus
from consult.exports.memo import Memo
from consult.extensions import db
from consult.moderation.models import CommentTheme
from consult.moderation.states import ModerationState
from consult.text import excerpt

SAMPLE = 200
CHOSEN = 3
NEAR_COPY = 0.9
EXCERPT = 280

_WORD = re.compile(r"[a-z][a-z'\-]{2,}")
_COMMON = frozenset("""
about above after again against all also and any are because been before being below between both but can could
did does doing down during each few for from further had has have having her here hers herself him himself his how
into its itself just more most not now off once only other our ours out over own same she should some such than
that the their theirs them then there these they this those through too under until very was were what when where
which while who whom why will with would you your yours yourself this that it's i'm we're they're there's
""".split())


@dataclass(frozen=True)
class Representative:
    comment_id: int
    number: int
    reference: str
    excerpt: str
    participation_id: int
    score: float


def words(text: str) -> frozenset[str]:
    return frozenset(w.strip("'-") for w in _WORD.findall(text.lower()) if w.strip("'-") not in _COMMON)


def _unit(bag: frozenset[str]) -> dict[str, float]:
    if not bag:
        return {}
    weight = 1 / math.sqrt(len(bag))
    return dict.fromkeys(bag, weight)


def _dot(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(value * b.get(key, 0.0) for key, value in a.items())


def choose(rows: list[tuple[int, int, str, int]], reference: str, count: int = CHOSEN) -> list[Representative]:
    """Up to `count` representative comments from (comment id, number, shown text, participation id) rows."""
    vectors = [(_unit(words(row[2] or "")), row) for row in rows]
    centre: Counter = Counter()
    for vector, _ in vectors:
        centre.update(vector)
    size = len(vectors) or 1
    centre_vector = {key: value / size for key, value in centre.items()}
    norm = math.sqrt(sum(v * v for v in centre_vector.values())) or 1.0
    scored = sorted(((_dot(vector, centre_vector) / norm, row[1], vector, row) for vector, row in vectors),
                    key=lambda item: (-item[0], item[1]))
    chosen: list[tuple[dict, Representative]] = []
    people: set[int] = set()
    for score, number, vector, (comment_id, _, text, participation_id) in scored:
        if participation_id in people or any(_dot(vector, other) > NEAR_COPY for other, _ in chosen):
            continue
        chosen.append((vector, Representative(comment_id, number, f"{reference}-{number:04d}",
                                              excerpt(text or "", EXCERPT), participation_id, round(score, 4))))
        people.add(participation_id)
        if len(chosen) == count:
            break
    return [representative for _, representative in chosen]


def _sample(theme_id: int) -> list[tuple[int, int, str, int]]:
    shown = case((Comment.moderation_state == ModerationState.REDACTED, Comment.redacted_body), else_=Comment.body)
    return [tuple(row) for row in db.session.execute(
        select(Comment.id, Comment.number, shown, Comment.participation_id)
        .join(CommentTheme, CommentTheme.comment_id == Comment.id)
        .where(CommentTheme.theme_id == theme_id, Comment.status == CommentStatus.SUBMITTED,
               Comment.moderation_state != ModerationState.REJECTED)
        .order_by(Comment.number).limit(SAMPLE))]


_chosen: Memo[list[Representative]] = Memo(size=512)


def representatives(theme_id: int, reference: str, key: tuple) -> list[Representative]:
    """The theme's representative comments; `key` (its version and counts) says when to choose again."""
    return _chosen.get((theme_id, reference, key), lambda: choose(_sample(theme_id), reference))


def clear_cache() -> None:
    _chosen.clear()
