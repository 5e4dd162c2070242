"""The analysis job: a plain function the worker runs, or an operator runs with `flask analysis run`."""

import time
from collections.abc import Callable

from consult.analysis.services import group_consultation
from consult.extensions import db


def run_analysis(consultation_id: int, progress: Callable[[str], None] | None = None) -> dict:
    """Group the consultation's comments into campaigns and commit the result.

    Runs in the session of the app context it is called in (the worker's or
    the CLI's, never a request's) and commits its own work, so a failure
    leaves the previous grouping in place. Reports each step to `progress`.
    """
    say = progress or (lambda message: None)
    started = time.perf_counter()
    try:
        result = group_consultation(consultation_id, progress=say)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    seconds = time.perf_counter() - started
    say(f"campaigns done in {seconds:.1f} s")
    # Theme suggestions are a separate piece of work; until then the export shows staff tags only.
    say("theme suggestions: none yet (not part of this analysis)")
    return {"campaigns": result.campaigns, "campaign_members": result.members, "comments": result.comments,
            "seconds": round(seconds, 2)}
