"""Running counts per consultation, so that no page view counts every comment.

Each count is a row of `progress_counters` keyed by (consultation, dimension,
key) and moved by the same transaction as the change that moves it: a service
wraps its change in `moving(consultation_id, comment_ids)`, which subtracts
what those comments contributed before and adds what they contribute after.
That costs work proportional to the comments changed, never to the
consultation, and because the delta is written by the change's own
transaction (inside its savepoint), a rollback takes the counts back with it.

`recount_consultation` rebuilds every count from the comments themselves; it
is the oracle the tests compare against and the repair an operator can run.
A consultation whose counts were never built (no "all|built" row, e.g. rows
inserted directly) is recounted the first time its counts are read or moved.

Dimensions:
  all|submitted, all|triaged, all|themed, all|answered   progress
  state|<moderation state>                              submitted comments in each state
  theme_type|<theme id>|<type key>                       submitted comments per theme and participant type
  pub|total                                             publishable (submitted, not rejected) comments
  pub_theme|<theme id or "none">                         publishable comments per theme
  pub_section|<section id>|<chapter id>                  publishable comments per part of a document
  pub_theme_type|<theme id or "none">|<type key>         publishable comments per theme and participant type
"""

from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from sqlalchemy import delete, select, true
from sqlalchemy.dialects import postgresql, sqlite

from consult.comments.models import Comment, CommentStatus, Participation
from consult.extensions import db
from consult.moderation.models import CommentResponse, CommentTheme, ProgressCounter
from consult.moderation.states import ModerationState, ResponseState

ANSWERED_STATES = (ResponseState.AGREED, ResponseState.NOT_NEEDED)
BUILT = ("all", "built")
_BATCH = 500

Counts = Counter  # (dimension, key) → n


def type_key(kind, individual_type, organisation_type) -> str:
    """The same key as queries.ParticipantType.key, without importing the queries module."""
    subtype = individual_type or organisation_type
    return f"{kind.value}:{subtype.value}" if subtype else kind.value


def _tally_where(consultation_id: int, condition) -> Counts:
    """What the submitted comments matching `condition` contribute to every count."""
    base = [Comment.consultation_id == consultation_id, Comment.status == CommentStatus.SUBMITTED, condition]
    comments = db.session.execute(
        select(Comment.id, Comment.moderation_state, Comment.section_id, Comment.chapter_id,
               Participation.kind, Participation.individual_type, Participation.organisation_type)
        .join(Participation, Participation.id == Comment.participation_id).where(*base)).all()
    if not comments:
        return Counts()
    themes: dict[int, list[int]] = {}
    for comment_id, theme_id in db.session.execute(
            select(CommentTheme.comment_id, CommentTheme.theme_id)
            .join(Comment, Comment.id == CommentTheme.comment_id).where(*base)):
        themes.setdefault(comment_id, []).append(theme_id)
    answered = set(db.session.scalars(
        select(CommentResponse.comment_id).join(Comment, Comment.id == CommentResponse.comment_id)
        .where(*base, CommentResponse.state.in_(ANSWERED_STATES))))
    counts = Counts()
    for comment_id, state, section_id, chapter_id, kind, individual, organisation in comments:
        kind_key = type_key(kind, individual, organisation)
        tags = themes.get(comment_id, [])
        counts["all", "submitted"] += 1
        counts["state", state.value] += 1
        if state is not ModerationState.NEW:
            counts["all", "triaged"] += 1
        if tags:
            counts["all", "themed"] += 1
        if comment_id in answered:
            counts["all", "answered"] += 1
        for theme_id in tags:
            counts["theme_type", f"{theme_id}|{kind_key}"] += 1
        if state is ModerationState.REJECTED:
            continue
        counts["pub", "total"] += 1
        counts["pub_section", f"{section_id or ''}|{chapter_id or ''}"] += 1
        for theme in tags or ["none"]:
            counts["pub_theme", str(theme)] += 1
            counts["pub_theme_type", f"{theme}|{kind_key}"] += 1
    return counts


def tally(consultation_id: int, comment_ids: Iterable[int] | None = None) -> Counts:
    """Counts from a fresh look at the comments: these comments, or (None) the whole consultation."""
    if comment_ids is None:
        return _tally_where(consultation_id, true())
    ids = sorted(set(comment_ids))
    counts = Counts()
    for start in range(0, len(ids), _BATCH):
        counts.update(_tally_where(consultation_id, Comment.id.in_(ids[start:start + _BATCH])))
    return counts


def _upsert(consultation_id: int, deltas: dict[tuple[str, str], int]) -> None:
    rows = [{"consultation_id": consultation_id, "dimension": dimension, "key": key, "n": n}
            for (dimension, key), n in sorted(deltas.items()) if n]
    if not rows:
        return
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(ProgressCounter)
    db.session.execute(statement.on_conflict_do_update(
        index_elements=["consultation_id", "dimension", "key"],
        set_={"n": ProgressCounter.n + statement.excluded.n}), rows)
    # Empty buckets go, so the table holds exactly what a fresh count would.
    db.session.execute(delete(ProgressCounter).where(ProgressCounter.consultation_id == consultation_id,
                                                     ProgressCounter.n == 0))


def _is_built(consultation_id: int) -> bool:
    return db.session.get(ProgressCounter, (consultation_id, *BUILT)) is not None


def recount_consultation(consultation_id: int) -> Counts:
    """Replace a consultation's counts with a fresh count of its comments; returns them."""
    db.session.flush()
    counts = tally(consultation_id)
    db.session.execute(delete(ProgressCounter).where(ProgressCounter.consultation_id == consultation_id))
    _upsert(consultation_id, {**counts, BUILT: 1})
    return counts


def apply_change(consultation_id: int, before: Counts, after: Counts) -> None:
    """Move the counts by what changed; an unbuilt consultation is counted afresh instead."""
    if not _is_built(consultation_id):
        recount_consultation(consultation_id)
        return
    deltas = Counter(after)
    deltas.subtract(before)
    _upsert(consultation_id, deltas)


@contextmanager
def moving(consultation_id: int, comment_ids: Iterable[int]) -> Iterator[None]:
    """Keep the counts right across a change to these comments (their tags, state or response).

    Use it inside the change's savepoint so that a refused change leaves the
    counts as they were. Nothing is written if the block raises.
    """
    ids = sorted(set(comment_ids))
    db.session.flush()
    before = tally(consultation_id, ids)
    yield
    db.session.flush()
    apply_change(consultation_id, before, tally(consultation_id, ids))


def count_in(consultation_id: int, comment_ids: Iterable[int]) -> None:
    """Add comments that have just been submitted (they counted for nothing before)."""
    db.session.flush()
    apply_change(consultation_id, Counts(), tally(consultation_id, comment_ids))


def read(consultation_ids: Iterable[int], dimensions: Iterable[str] | None = None) -> dict[int, Counts]:
    """The counts of these consultations (all, or only `dimensions`) in one statement, building any never built."""
    ids = list(consultation_ids)
    query = select(ProgressCounter.consultation_id, ProgressCounter.dimension, ProgressCounter.key,
                   ProgressCounter.n).where(ProgressCounter.consultation_id.in_(ids))
    if dimensions is not None:
        query = query.where(ProgressCounter.dimension.in_({BUILT[0], *dimensions}))
    found: dict[int, Counts] = {cid: Counts() for cid in ids}
    for cid, dimension, key, n in db.session.execute(query):
        found[cid][dimension, key] = n
    for cid, counts in found.items():
        if BUILT not in counts:
            counts = found[cid] = recount_consultation(cid)
            if dimensions is not None:
                found[cid] = Counts({k: n for k, n in counts.items() if k[0] in {BUILT[0], *dimensions}})
        else:
            del counts[BUILT]
    return found
