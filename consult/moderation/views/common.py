"""What the staff workspace's views share: the acting user, links that keep the queue's filters, refusals."""

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from consult.background import services as background
from consult.errors import DomainError, form_errors
from consult.extensions import db
from consult.moderation import jobs, services
from consult.moderation.filters import kept_queue_args
from consult.moderation.messages import Rows


def actor():
    return current_user._get_current_object()


def queue_args(source=None) -> dict[str, str]:
    """The queue's filters and page from this request's query string (or `source`), for links back."""
    return kept_queue_args(request.args if source is None else source)


def comment_url(consultation, comment, **extra) -> str:
    return url_for("moderation.comment", reference=consultation.reference, number=comment.number,
                   **queue_args(), **extra)


def comment_form_page(template: str, consultation, comment, form):
    """A form about one comment (reject, redact, respond), shown with the comment and links back to the queue."""
    return render_template(template, consultation=consultation, comment=comment, form=form,
                           queue_args=queue_args())


def conflict_page(consultation, comment, subject: str, error: services.StaleVersion, yours: Rows, current: Rows,
                  back_url: str):
    """Both versions side by side, after a change that was refused because someone else's came first."""
    return render_template(
        "moderation/conflict.html", consultation=consultation, comment=comment, subject=subject,
        change=error.change, yours=yours, current=current, back_url=back_url,
    ), 409


@dataclass
class Attempt:
    """What became of the service calls in an `attempt` block."""

    error: DomainError | None = None
    response: object = None  # the page to answer with instead of the form, if the refusal has one

    @property
    def ok(self) -> bool:
        return self.error is None


# Refusals that are news rather than a correction: said in a flash, then back where the person was.
_TOLD = (services.NothingToChange, services.SelectionChanged, services.MatchingChanged)


@contextmanager
def attempt(form=None, *, back_url: str | None = None,
            conflict: Callable[[services.StaleVersion], object] | None = None,
            fields: Mapping[str, str] | None = None) -> Iterator[Attempt]:
    """Run the service calls in the block; a refusal rolls back and is shown where it belongs.

    - A stale version, if `conflict` is given, answers with ``conflict(error)``: both versions side by
      side. It is built before the rollback, so the current version is the row the service saw.
    - "Nothing to change" and "the selection changed", and any refusal when there is no `form`, are a
      flash, and the answer is a redirect to `back_url`.
    - A refusal with status 404 (a selection naming what is not there) escapes to the app's handler.
    - Anything else goes beside its field on `form`, by consult.errors.form_errors.
    """
    result = Attempt()
    escaped = None
    with form_errors(form, fields) as outcome:
        try:
            yield result
        except DomainError as error:
            if isinstance(error, services.StaleVersion) and conflict is not None:
                result.error, result.response = error, conflict(error)
                db.session.rollback()
            elif error.status == 404:
                escaped = error
            elif isinstance(error, _TOLD) or form is None:
                db.session.rollback()
                flash(str(error), "info")
                result.error, result.response = error, redirect(back_url)
            else:
                raise
    if escaped is not None:
        raise escaped
    result.error = result.error or outcome.error


def change_on_comment_page(consultation, comment, anchor: str, change: Callable[[], object], done: str):
    """A change made from one part of the comment's page (its themes, its triage marks), then back to that part.

    ``change`` calls the service; ``done`` says what it did. A refusal, such as a theme the comment already has,
    is said instead, and nothing is changed.
    """
    back_url = comment_url(consultation, comment, _anchor=anchor)
    with attempt(back_url=back_url) as changed:
        change()
    if changed.response is not None:
        return changed.response
    db.session.commit()
    flash(done, "success")
    return redirect(back_url)


BULK_QUEUE_DOWN = ("Actions on this many comments are not being applied at the moment. Nothing has been changed. "
                   "Try again later, or choose fewer comments.")


def apply_in_worker(consultation, wanted: jobs.BulkRequest, back_url: str):
    """Many comments: the worker applies the action while the person watches its progress page."""
    job = background.create_job("bulk", consultation.id, actor(), back_url, "", wanted.confirmed[0])
    db.session.commit()
    queued = background.enqueue_job(job, jobs.apply_bulk_job, wanted)
    db.session.commit()
    if not queued:
        flash(BULK_QUEUE_DOWN, "error")
        return redirect(back_url)
    return redirect(url_for("background.progress", job_id=job.id))
