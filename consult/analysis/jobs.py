"""The analysis jobs: plain functions the worker runs, or an operator runs with `flask analysis run`."""

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from consult.analysis.services import group_arrivals, group_consultation
from consult.extensions import db

log = logging.getLogger(__name__)


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
