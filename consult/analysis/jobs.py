"""The analysis jobs: plain functions the worker runs, or an operator runs with `flask analysis run`."""

import functools
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

from redis.exceptions import RedisError
from rq import Retry, get_current_job

from consult.analysis.services import group_arrivals, group_consultation
from consult.analysis.triggers import RETRIES
from consult.extensions import db
from consult.jobs import AlreadyRunning, enqueue, held_alone

log = logging.getLogger(__name__)

# How long a job that finds its consultation busy waits before going back to the queue: long enough that a
# lone worker does not spin, short enough that the email queued behind it is hardly delayed.
BUSY_PAUSE_SECONDS = 2
_held: set[int] = set()  # consultations whose analysis lock this process holds (a worker runs one job at a time)


def one_at_a_time(job: Callable) -> Callable:
    """Run an analysis job alone for its consultation, across every worker and instance.

    Grouping and suggestions read and rewrite the same comments' campaigns,
    vectors and suggestions. Two run at once (a job queued while another ran,
    picked up by a second worker) inserted the same embeddings and failed.
    A job that finds its consultation busy goes back to the end of the queue
    after a short pause, so the worker sends the email waiting behind it,
    and it runs after the one holding the lock, seeing all that one saw. Its
    debounce marker stays set meanwhile, so changes made while it waits
    queue nothing more. Run from the command line, it waits its turn.
    """
    @functools.wraps(job)
    def alone(consultation_id: int, *args, **kwargs):
        if consultation_id in _held:  # run_analysis refreshing the suggestions under its own lock
            return job(consultation_id, *args, **kwargs)
        with ExitStack() as held:
            while not _took_lock(held, consultation_id):
                running = get_current_job()
                if running is not None:
                    log.info("Analysis of consultation %s is running elsewhere: %s goes back in the queue.",
                             consultation_id, job.__name__)
                    enqueue(alone, consultation_id, *args, retry=Retry(max=RETRIES), job_timeout=running.timeout,
                            **kwargs)
                    return None
            _held.add(consultation_id)
            held.callback(_held.discard, consultation_id)
            return job(consultation_id, *args, **kwargs)

    return alone


def _took_lock(held: ExitStack, consultation_id: int) -> bool:
    """Take the consultation's analysis lock into `held`; False, after a pause, when another holds it."""
    try:
        held.enter_context(held_alone(f"analysis:{consultation_id}"))
        return True
    except AlreadyRunning:
        time.sleep(BUSY_PAUSE_SECONDS)
        return False
    except RedisError:
        if get_current_job() is not None:
            raise  # RQ retries it; a worker that cannot reach Redis has nothing to run anyway
        log.warning("Redis is not reachable: analysing consultation %s without its lock.", consultation_id)
        return True


@contextmanager
def _committed() -> Iterator[None]:
    """Commit the block's work, or roll it back and let the error through.

    A job owns its session: a failure must not leave half its work pending
    in a session the worker goes on to use for the next job.
    """
    try:
        yield
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise


@one_at_a_time
def run_analysis(consultation_id: int, progress: Callable[[str], None] | None = None) -> dict:
    """Group the consultation's comments into campaigns, then suggest themes, committing each step.

    Runs in the session of the app context it is called in (the worker's or
    the CLI's, never a request's) and commits its own work, so a failure
    leaves the previous grouping or suggestions in place. Reports each step
    to `progress`.
    """
    say = progress or (lambda message: None)
    started = time.perf_counter()
    with _committed():
        result = group_consultation(consultation_id, progress=say)
    seconds = time.perf_counter() - started
    say(f"campaigns done in {seconds:.1f} s")
    figures = refresh_suggestions(consultation_id, progress=say)
    return {"campaigns": result.campaigns, "campaign_members": result.members, "comments": result.comments,
            "suggested": figures["suggested"], "seconds": round(time.perf_counter() - started, 2)}


@one_at_a_time
def refresh_suggestions(consultation_id: int, progress: Callable[[str], None] | None = None) -> dict:
    """Embed the consultation's new comments and retrain its theme suggestions; commits.

    The job queued after each tag change or submission (debounced per
    consultation, see consult/analysis/triggers.py).
    """
    from consult.analysis.embeddings import embed_consultation  # torch and sklearn load here only
    from consult.analysis.suggesting import suggest_for_consultation
    from consult.analysis.triggers import started_refresh

    started_refresh(consultation_id)
    with _committed():
        # New comments first, committed batch by batch: a first run over a large import keeps its progress.
        embed_consultation(consultation_id, progress, after_batch=db.session.commit)
        figures = suggest_for_consultation(consultation_id, progress=progress)
    log.info("Suggestions for consultation %s: %s", consultation_id, figures)
    return figures


@one_at_a_time
def group_new_comments(consultation_id: int) -> int:
    """Put the consultation's comments that are in no campaign yet into campaigns; commits.

    The job queued after submissions and imports (debounced per
    consultation, see consult/analysis/triggers.py). It moves no comment
    already in a campaign, so what staff are reading stays put; a whole
    regrouping is `flask analysis run`.
    """
    from consult.analysis.triggers import started_grouping

    started_grouping(consultation_id)
    with _committed():
        placed = group_arrivals(consultation_id)
    log.info("Grouping of consultation %s placed %s new comments in campaigns.", consultation_id, placed)
    return placed
