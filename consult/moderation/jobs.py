"""A bulk action on every comment matching the queue's filters, applied by the worker when there are many.

The confirmation page's rule holds here too: the filters are applied again
and must give exactly the set the person confirmed, or nothing changes; the
action is applied in one transaction with an audit record per comment, and
the job's row is marked done in that same transaction.
"""

from dataclasses import dataclass
from datetime import datetime

from consult.accounts.models import User
from consult.background import services as background
from consult.background.models import BackgroundJob, JobState
from consult.database import utcnow
from consult.errors import DomainError
from consult.extensions import db
from consult.jobs import report_progress
from consult.moderation import messages, queries, services
from consult.moderation.models import Theme
from consult.moderation.states import RejectionReason, ResponseState


@dataclass(frozen=True)
class BulkRequest:
    """A confirmed bulk action as plain values a job can carry (a theme by its id, not the row)."""

    consultation_id: int
    filters: queries.QueueFilters
    loaded_at: datetime
    confirmed: tuple[int, int]  # (count, checksum) the person confirmed
    kind: str
    actor_id: int
    reason: RejectionReason | None = None
    note: str = ""
    theme_id: int | None = None
    response_text: str = ""
    response_state: ResponseState | None = None

    @classmethod
    def of(cls, consultation_id: int, filters, loaded_at: datetime, confirmed: tuple[int, int],
           action: services.BulkAction, actor) -> "BulkRequest":
        return cls(consultation_id, filters, loaded_at, confirmed, action.kind, actor.id, action.reason,
                   action.note, action.theme.id if action.theme else None, action.response_text or "",
                   action.response_state)

    def action(self) -> services.BulkAction:
        theme = db.session.get(Theme, self.theme_id) if self.theme_id else None
        return services.BulkAction(self.kind, reason=self.reason, note=self.note, theme=theme,
                                   response_text=self.response_text, response_state=self.response_state)


def apply_bulk_job(job_id: int, wanted: BulkRequest) -> str:
    """The worker's job: apply the confirmed action, reporting progress, and record what happened.

    A refusal (the matching set changed, someone else changed a batch at the
    same moment) changes nothing and fails the job with its message; any
    other error is retried by RQ, each attempt starting from nothing changed.
    """
    if background.start(job_id) is None:
        return "nothing to do"
    try:
        action = wanted.action()
        outcome = services.apply_to_matching(wanted.consultation_id, wanted.filters, wanted.loaded_at,
                                             wanted.confirmed, action, db.session.get(User, wanted.actor_id),
                                             utcnow(), progress=report_progress)
        summary = messages.bulk_summary(action, outcome)  # before the commit expires what it names
    except DomainError as refusal:
        db.session.rollback()
        job = db.session.get(BackgroundJob, job_id)
        job.state, job.error, job.finished_at = JobState.FAILED, refusal.message, utcnow()
        db.session.commit()
        return f"refused: {refusal.message}"
    except Exception as error:
        background.fail(job_id, error)
        raise
    job = db.session.get(BackgroundJob, job_id)
    job.state, job.done, job.finished_at = JobState.DONE, len(outcome.changed), utcnow()
    job.result = [[category, message] for category, message in summary]
    db.session.commit()
    return f"changed {len(outcome.changed)}"
