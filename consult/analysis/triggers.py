"""Queue a suggestion refresh after a commit that changes a consultation's tags, themes or comments.

A session listener notes, at each flush, which consultations had a tag put
on or taken off, a theme created or edited, or a comment submitted; after
the commit it queues one refresh job per consultation. No view or service
has to remember to ask, and a rolled-back change queues nothing.

Debounce: a consultation's marker key in Redis is set when its job is
queued and cleared when the job starts, so a burst of tagging while a job
waits queues nothing more, and a change made while a job runs queues one
more run, which sees it.

Submissions (and offline imports) also queue the grouping of new comments
into campaigns, debounced the same way with a marker of its own, and queued
before the refresh so the worker groups them first.
"""

import logging
from itertools import chain

from flask import current_app
from rq import Retry
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from consult.comments.models import Comment, CommentStatus
from consult.moderation.models import CommentTheme, Theme

log = logging.getLogger(__name__)

_KEY = "analysis.refresh"
_GROUP_KEY = "analysis.group"
REFRESH_TIMEOUT_SECONDS = 3600
RETRIES = 2


def _marker(consultation_id: int) -> str:
    return f"{current_app.config['QUEUE_NAME']}:suggestions-pending:{consultation_id}"


def _group_marker(consultation_id: int) -> str:
    return f"{current_app.config['QUEUE_NAME']}:grouping-pending:{consultation_id}"


def _consultations_with_submissions(session: Session) -> set[int]:
    return {obj.consultation_id for obj in chain(session.new, session.dirty)
            if isinstance(obj, Comment) and obj.status == CommentStatus.SUBMITTED
            and (obj in session.new or inspect(obj).attrs.status.history.has_changes())}


def _consultations_changed(session: Session) -> set[int]:
    found: set[int] = set()
    for obj in chain(session.new, session.deleted):
        if isinstance(obj, CommentTheme):
            theme = obj.theme if "theme" in obj.__dict__ else session.get(Theme, obj.theme_id)
            if theme is not None:
                found.add(theme.consultation_id)
    for obj in chain(session.new, session.dirty):
        if isinstance(obj, Theme) and obj.consultation_id is not None and (
                obj in session.new or inspect(obj).attrs.name.history.has_changes()
                or inspect(obj).attrs.description.history.has_changes()):
            found.add(obj.consultation_id)
        elif isinstance(obj, Comment) and obj.status == CommentStatus.SUBMITTED and (
                obj in session.new or inspect(obj).attrs.status.history.has_changes()):
            found.add(obj.consultation_id)
    return found


@event.listens_for(Session, "after_flush")
def _note_changes(session: Session, flush_context) -> None:
    found = _consultations_changed(session)
    if found:
        session.info.setdefault(_KEY, set()).update(found)
    submitted = _consultations_with_submissions(session)
    if submitted:
        session.info.setdefault(_GROUP_KEY, set()).update(submitted)


@event.listens_for(Session, "after_commit")
def _queue_after_commit(session: Session) -> None:
    grouping = session.info.pop(_GROUP_KEY, None)
    if grouping:
        queue_grouping(sorted(grouping))
    ids = session.info.pop(_KEY, None)
    if ids:
        queue_refresh(sorted(ids))


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_KEY, None)
    session.info.pop(_GROUP_KEY, None)


def _queue_once(consultation_ids: list[int], job, marker, what: str) -> list[int]:
    """Queue `job` for each consultation that has none waiting (its Redis `marker` is the flag); which were.

    A queue that is down is logged, never raised: the change itself is
    committed, and the next change or `flask analysis run` catches up.
    """
    from consult.jobs import enqueue, redis_connection

    queued = []
    try:
        redis = redis_connection()
        for consultation_id in consultation_ids:
            if redis.set(marker(consultation_id), 1, nx=True, ex=current_app.config["JOB_TTL_SECONDS"]):
                # Longer than the queue's default: the first run embeds every comment of an import. Retried:
                # nothing else queues it again until the next change, so a failed run would be silently lost.
                enqueue(job, consultation_id, retry=Retry(max=RETRIES), job_timeout=REFRESH_TIMEOUT_SECONDS)
                queued.append(consultation_id)
    except Exception:
        log.warning("Could not queue %s for %s.", what, consultation_ids, exc_info=True)
    return queued


def _clear(marker: str, what: str) -> None:
    """Clear a consultation's marker as its job starts, so later changes queue another run."""
    from consult.jobs import redis_connection

    try:
        redis_connection().delete(marker)
    except Exception:
        log.warning("Could not clear the %s marker %s.", what, marker, exc_info=True)


def queue_grouping(consultation_ids: list[int]) -> list[int]:
    """Queue the grouping of new comments for each consultation that has none waiting; which were queued."""
    from consult.analysis.jobs import group_new_comments

    return _queue_once(consultation_ids, group_new_comments, _group_marker, "campaign grouping")


def started_grouping(consultation_id: int) -> None:
    _clear(_group_marker(consultation_id), "grouping")


def queue_refresh(consultation_ids: list[int]) -> list[int]:
    """Queue a suggestion refresh for each consultation that has none waiting; which were queued."""
    from consult.analysis.jobs import refresh_suggestions

    return _queue_once(consultation_ids, refresh_suggestions, _marker, "suggestion refreshes")


def started_refresh(consultation_id: int) -> None:
    _clear(_marker(consultation_id), "suggestion")
