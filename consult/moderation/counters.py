"""Running counts per consultation, so that no page view counts every comment.

Each count is a row of `progress_counters` keyed by (consultation, dimension,
key). The counts move in the same flush, and so the same transaction, as the
rows that move them: before a flush writes a change to a comment, a tag or a
response, what those comments contributed is read; after it, what they
contribute now; the difference is added to the counters. This costs work
proportional to the comments changed, never to the consultation; a rolled
back savepoint or transaction takes the counts back with it; and no service
can forget to move a count, because none has to ask.

Changes that bypass the ORM (Core INSERT/UPDATE of comments, tags or
responses, as the benchmark seeder does) are not seen: a service that moves
comments between campaigns with Core statements does so inside
`recounted(comment ids)`; anything else calls `recount_consultation`
afterwards. It rebuilds a consultation's counts from its
comments and is the oracle the tests compare against. A consultation whose
counts were never built (no "all|built" row) is recounted when first read.

Dimensions, over submitted comments:
  all|submitted, all|triaged, all|themed, all|answered   progress
  state|<moderation state>                              comments in each state
  theme_type|<theme id>|<type key>                       comments per theme and participant type
  theme_responded|<theme id>                            comments per theme with a response, of any state
  campaign|<campaign id>                                comments per campaign
  campaign_identical|<campaign id>                      of those, the identical copies
  pub_campaign|<campaign id>                            publishable comments per campaign
  pub|total                                             publishable (not rejected) comments
  pub_theme|<theme id or "none">                         publishable comments per theme
  pub_section|<section id>|<chapter id>                  publishable comments per part of a document
  pub_theme_type|<theme id or "none">|<type key>         publishable comments per theme and participant type
  pub_agreed|total                                      accepted or redacted comments with an agreed response
"""

from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from sqlalchemy import delete, event, inspect, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from consult.analysis.models import CampaignMember, MembershipMethod
from consult.comments.models import Comment, CommentStatus, Participation
from consult.extensions import db
from consult.moderation.models import CommentResponse, CommentTheme, ProgressCounter
from consult.moderation.states import PUBLIC_STATES, ModerationState, ResponseState

ANSWERED_STATES = (ResponseState.AGREED, ResponseState.NOT_NEEDED)
BUILT = ("all", "built")
_BATCH = 500
_PENDING = "progress_counters.pending"

Counts = Counter  # (dimension, key) → n


def type_key(kind, individual_type, organisation_type) -> str:
    """The same key as queries.ParticipantType.key, without importing the queries module."""
    subtype = individual_type or organisation_type
    return f"{kind.value}:{subtype.value}" if subtype else kind.value


def _tally_where(session: Session, *conditions, lock: bool = False) -> dict[int, Counts]:
    """What the submitted comments matching `conditions` contribute, per consultation.

    With `lock`, PostgreSQL locks those comments first, so two transactions
    changing the same comment (say, each adding a different theme) take turns
    and the second reads the first's change before counting its own.
    """
    base = [Comment.status == CommentStatus.SUBMITTED, *conditions]
    if lock and session.get_bind().dialect.name == "postgresql":
        session.execute(select(Comment.id).where(*conditions).order_by(Comment.id).with_for_update())
    comments = session.execute(
        select(Comment.id, Comment.consultation_id, Comment.moderation_state, Comment.section_id,
               Comment.chapter_id, Participation.kind, Participation.individual_type, Participation.organisation_type,
               CampaignMember.campaign_id, CampaignMember.method)
        .join(Participation, Participation.id == Comment.participation_id)
        .outerjoin(CampaignMember, CampaignMember.comment_id == Comment.id).where(*base)).all()
    if not comments:
        return {}
    themes: dict[int, list[int]] = {}
    for comment_id, theme_id in session.execute(
            select(CommentTheme.comment_id, CommentTheme.theme_id)
            .join(Comment, Comment.id == CommentTheme.comment_id).where(*base)):
        themes.setdefault(comment_id, []).append(theme_id)
    responses = dict(session.execute(
        select(CommentResponse.comment_id, CommentResponse.state)
        .join(Comment, Comment.id == CommentResponse.comment_id).where(*base)).all())
    found: dict[int, Counts] = {}
    for (comment_id, consultation_id, state, section_id, chapter_id, kind, individual, organisation, campaign_id,
         method) in comments:
        counts = found.setdefault(consultation_id, Counts())
        kind_key = type_key(kind, individual, organisation)
        tags = themes.get(comment_id, [])
        counts["all", "submitted"] += 1
        counts["state", state.value] += 1
        if state is not ModerationState.NEW:
            counts["all", "triaged"] += 1
        if tags:
            counts["all", "themed"] += 1
        response = responses.get(comment_id)
        if response in ANSWERED_STATES:
            counts["all", "answered"] += 1
        for theme_id in tags:
            counts["theme_type", f"{theme_id}|{kind_key}"] += 1
            if response is not None:
                counts["theme_responded", str(theme_id)] += 1
        if campaign_id is not None:
            counts["campaign", str(campaign_id)] += 1
            if method is MembershipMethod.IDENTICAL:
                counts["campaign_identical", str(campaign_id)] += 1
        if state is ModerationState.REJECTED:
            continue
        counts["pub", "total"] += 1
        if campaign_id is not None:
            counts["pub_campaign", str(campaign_id)] += 1
        if state in PUBLIC_STATES and response is ResponseState.AGREED:
            counts["pub_agreed", "total"] += 1
        counts["pub_section", f"{section_id or ''}|{chapter_id or ''}"] += 1
        for theme in tags or ["none"]:
            counts["pub_theme", str(theme)] += 1
            counts["pub_theme_type", f"{theme}|{kind_key}"] += 1
    return found


def tally(consultation_id: int) -> Counts:
    """A fresh count of one consultation's comments."""
    return _tally_where(db.session, Comment.consultation_id == consultation_id).get(consultation_id, Counts())


def _tally_comments(session: Session, comment_ids: Iterable[int], lock: bool = False) -> dict[int, Counts]:
    ids = sorted(set(comment_ids))
    found: dict[int, Counts] = {}
    for start in range(0, len(ids), _BATCH):
        batch = Comment.id.in_(ids[start:start + _BATCH])
        for consultation_id, counts in _tally_where(session, batch, lock=lock).items():
            found.setdefault(consultation_id, Counts()).update(counts)
    return found


def _upsert(session: Session, consultation_id: int, deltas: dict[tuple[str, str], int]) -> None:
    rows = [{"consultation_id": consultation_id, "dimension": dimension, "key": key, "n": n}
            for (dimension, key), n in sorted(deltas.items()) if n]
    if not rows:
        return
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(ProgressCounter)
    session.execute(statement.on_conflict_do_update(
        index_elements=["consultation_id", "dimension", "key"],
        set_={"n": ProgressCounter.n + statement.excluded.n}), rows)
    # Empty buckets go, so the table holds exactly what a fresh count would. Only
    # rows this statement just locked, so no other transaction's rows are waited on.
    session.execute(delete(ProgressCounter).where(
        ProgressCounter.consultation_id == consultation_id, ProgressCounter.n == 0,
        tuple_(ProgressCounter.dimension, ProgressCounter.key).in_([(r["dimension"], r["key"]) for r in rows])))


def _built(session: Session, consultation_ids: Iterable[int]) -> set[int]:
    return set(session.scalars(select(ProgressCounter.consultation_id).where(
        ProgressCounter.consultation_id.in_(list(consultation_ids)),
        ProgressCounter.dimension == BUILT[0], ProgressCounter.key == BUILT[1])))


def _rebuild(session: Session, consultation_id: int) -> Counts:
    counts = _tally_where(session, Comment.consultation_id == consultation_id).get(consultation_id, Counts())
    session.execute(delete(ProgressCounter).where(ProgressCounter.consultation_id == consultation_id))
    _upsert(session, consultation_id, {**counts, BUILT: 1})
    return counts


def recount_consultation(consultation_id: int) -> Counts:
    """Replace a consultation's counts with a fresh count of its comments; returns them."""
    db.session.flush()
    return _rebuild(db.session, consultation_id)


# --- Keeping the counts in step with every flush ----------------------------------


def _stays_a_draft(comment: Comment) -> bool:
    """A draft before and after this flush: counted nowhere, so its writes move no count.

    Saving, editing and deleting drafts is the busiest write of a consultation
    (every stakeholder, many times); skipping them keeps those flushes free of
    counting queries.
    """
    status = inspect(comment).attrs.status.history
    return comment.status == CommentStatus.DRAFT and not status.deleted


def _touched(session: Session) -> tuple[set[int], list]:
    """Ids of existing comments this flush may change the counts of, and the objects whose ids come later."""
    ids: set[int] = set()
    later: list = []
    for obj in [*session.new, *session.dirty, *session.deleted]:
        if isinstance(obj, Comment):
            if _stays_a_draft(obj):
                continue
            (ids.add(obj.id) if obj.id is not None else later.append(obj))
        elif isinstance(obj, CommentTheme | CommentResponse | CampaignMember):
            (ids.add(obj.comment_id) if obj.comment_id is not None else later.append(obj))
    return ids, later


@event.listens_for(Session, "before_flush")
def _count_before(session: Session, flush_context, instances) -> None:
    session.info.pop(_PENDING, None)
    ids, later = _touched(session)
    if not ids and not later:
        return
    with session.no_autoflush:
        session.info[_PENDING] = (ids, later, _tally_comments(session, ids, lock=True) if ids else {})


@event.listens_for(Session, "after_flush")
def _count_after(session: Session, flush_context) -> None:
    pending = session.info.pop(_PENDING, None)
    if pending is None:
        return
    ids, later, before = pending
    ids = ids | {obj.id if isinstance(obj, Comment) else obj.comment_id for obj in later} - {None}
    _add_differences(session, before, _tally_comments(session, ids))


@contextmanager
def recounted(comment_ids: Iterable[int]) -> Iterator[None]:
    """Keep the counts in step with Core statements, run inside, that change these comments.

    The flush listener sees only ORM objects; moving thousands of campaign
    members one object at a time would be slow, so those services move them
    with UPDATE and INSERT statements and name the comments they move.
    """
    session = db.session
    session.flush()
    ids = set(comment_ids)
    before = _tally_comments(session, ids, lock=True)
    yield
    session.flush()
    _add_differences(session, before, _tally_comments(session, ids))


def _add_differences(session: Session, before: dict[int, Counts], after: dict[int, Counts]) -> None:
    """Move each consultation's counts by what its comments contribute now less what they did before."""
    changed = set(before) | set(after)
    if not changed:
        return
    built = _built(session, changed)
    for consultation_id in changed:
        if consultation_id not in built:
            _rebuild(session, consultation_id)
            continue
        deltas = Counter(after.get(consultation_id, Counts()))
        deltas.subtract(before.get(consultation_id, Counts()))
        _upsert(session, consultation_id, deltas)


def read(consultation_ids: Iterable[int], dimensions: Iterable[str] | None = None) -> dict[int, Counts]:
    """The counts of these consultations (all, or only `dimensions`) in one statement, building any never built."""
    ids = list(consultation_ids)
    wanted = None if dimensions is None else {BUILT[0], *dimensions}
    query = select(ProgressCounter.consultation_id, ProgressCounter.dimension, ProgressCounter.key,
                   ProgressCounter.n).where(ProgressCounter.consultation_id.in_(ids))
    if wanted is not None:
        query = query.where(ProgressCounter.dimension.in_(wanted))
    found: dict[int, Counts] = {cid: Counts() for cid in ids}
    for cid, dimension, key, n in db.session.execute(query):
        found[cid][dimension, key] = n
    for cid, counts in found.items():
        if BUILT in counts:
            del counts[BUILT]
            continue
        counts = recount_consultation(cid)
        found[cid] = counts if wanted is None else Counts({k: n for k, n in counts.items() if k[0] in wanted})
    return found
