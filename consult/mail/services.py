"""The outbox: queue an email in the caller's transaction; claim, send and record it in the worker's.

``queue_email`` only adds a row. The caller's commit makes it real, and
only then is a job put on the queue, so a rolled-back act leaves neither a
row nor a message. If that enqueue is lost (Redis down, a crash between
commit and enqueue), the worker's sweep finds the row anyway.
"""

import logging
from datetime import datetime, timedelta

from flask import current_app, has_request_context, render_template, url_for
from sqlalchemy import event, or_, select, update
from sqlalchemy.orm import Session

from consult.audit.services import record, snapshot
from consult.database import utcnow
from consult.errors import DomainError
from consult.extensions import db
from consult.mail.models import OutboxEmail, OutboxStatus

log = logging.getLogger(__name__)

FAILED_PER_PAGE = 50
_QUEUED_KEY = "outbox_queued_ids"


def absolute_url(endpoint: str, **values) -> str:
    """A full link for an email: this request's host, or PUBLIC_URL outside a request."""
    if has_request_context():
        return url_for(endpoint, _external=True, **values)
    with current_app.test_request_context(base_url=current_app.config["PUBLIC_URL"]):
        return url_for(endpoint, _external=True, **values)


def queue_email(to: str, kind: str, subject: str, **context) -> OutboxEmail:
    """Add an email to the outbox, rendered now from templates/mail/<kind>.txt and .html.

    Guarantees: nothing is sent here; the row is part of the caller's
    transaction, so it exists if and only if the act that caused it is
    committed; after that commit a job is queued to send it.
    """
    context = {"service_name": current_app.config["SERVICE_NAME"], "subject": subject, **context}
    email = OutboxEmail(
        kind=kind,
        to=to,
        subject=subject,
        text=render_template(f"mail/{kind}.txt", **context),
        html=render_template(f"mail/{kind}.html", **context),
        status=OutboxStatus.PENDING,
        attempts=0,
        next_attempt_at=utcnow(),
        last_error="",
    )
    db.session.add(email)
    db.session.flush()
    db.session.info.setdefault(_QUEUED_KEY, []).append(email.id)
    return email


@event.listens_for(Session, "after_commit")
def _enqueue_after_commit(session: Session) -> None:
    ids = session.info.pop(_QUEUED_KEY, None)
    if ids:
        enqueue_delivery(ids)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_QUEUED_KEY, None)


def enqueue_delivery(ids: list[int]) -> None:
    """Queue a send job for each email; a queue that is down is logged, never raised (the sweep catches up)."""
    from consult.jobs import enqueue
    from consult.mail.jobs import send_email

    try:
        for email_id in ids:
            enqueue(send_email, email_id)
    except Exception:
        log.warning("Could not queue emails %s; the worker's sweep will send them.", ids, exc_info=True)


# --- the worker's side -------------------------------------------------------------


def _claimable(now: datetime):
    """Due and waiting, or claimed so long ago that the worker holding it must have died."""
    stale = now - timedelta(seconds=current_app.config["MAIL_CLAIM_TIMEOUT_SECONDS"])
    return or_(
        (OutboxEmail.status == OutboxStatus.PENDING) & (OutboxEmail.next_attempt_at <= now),
        (OutboxEmail.status == OutboxStatus.SENDING) & (OutboxEmail.claimed_at < stale),
    )


def claim_email(email_id: int, now: datetime) -> OutboxEmail | None:
    """Take the email for this worker, or None if it is not due or another worker holds it.

    The conditional UPDATE is the lock: of two workers, exactly one matches
    the row. Each claim counts as an attempt, so an email whose worker keeps
    dying is still given up after MAIL_MAX_ATTEMPTS.
    """
    claimed = db.session.execute(
        update(OutboxEmail)
        .where(OutboxEmail.id == email_id, _claimable(now))
        .values(status=OutboxStatus.SENDING, claimed_at=now, attempts=OutboxEmail.attempts + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        return None
    return db.session.get(OutboxEmail, email_id, populate_existing=True)


def mark_sent(email: OutboxEmail, now: datetime) -> None:
    email.status = OutboxStatus.SENT
    email.sent_at = now
    email.claimed_at = None
    email.last_error = ""
    db.session.flush()


def retry_delay(attempts: int) -> timedelta:
    """Exponential back-off: MAIL_RETRY_SECONDS after the first failure, doubling each time."""
    return timedelta(seconds=current_app.config["MAIL_RETRY_SECONDS"] * 2 ** max(attempts - 1, 0))


def mark_failed_attempt(email: OutboxEmail, error: str, now: datetime) -> None:
    """Schedule a retry with back-off, or give up (status failed) after the last attempt."""
    email.last_error = error[:2000]
    email.claimed_at = None
    if email.attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]:
        email.status = OutboxStatus.FAILED
    else:
        email.status = OutboxStatus.PENDING
        email.next_attempt_at = now + retry_delay(email.attempts)
    db.session.flush()


def due_email_ids(now: datetime, limit: int = 500) -> list[int]:
    return list(db.session.scalars(
        select(OutboxEmail.id).where(_claimable(now)).order_by(OutboxEmail.next_attempt_at).limit(limit)))


# --- admins ------------------------------------------------------------------------


class EmailCannotBeRetried(DomainError):
    message = "This email is no longer failed: it has been retried or sent already."
    status = 409


def failed_emails_query():
    return select(OutboxEmail).where(OutboxEmail.status == OutboxStatus.FAILED).order_by(
        OutboxEmail.updated_at.desc(), OutboxEmail.id.desc())


def retry_email(email_id: int, actor) -> OutboxEmail:
    """Put a failed email back in the queue with a fresh set of attempts, audited.

    Only a failed email can be retried (a conditional UPDATE, so two admins
    pressing at once retry it once); the send job is queued after commit.
    """
    now = utcnow()
    email = db.session.get(OutboxEmail, email_id)
    if email is None or email.status is not OutboxStatus.FAILED:
        raise EmailCannotBeRetried()
    # Not the error: a refused recipient's address is in it, and the append-only trail could never erase it.
    before = snapshot(email, ["status", "attempts"])
    changed = db.session.execute(
        update(OutboxEmail)
        .where(OutboxEmail.id == email_id, OutboxEmail.status == OutboxStatus.FAILED)
        .values(status=OutboxStatus.PENDING, attempts=0, next_attempt_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not changed:
        raise EmailCannotBeRetried()
    db.session.refresh(email)
    record(actor, "mail.retry", email, before, snapshot(email, ["status", "attempts"]))
    db.session.info.setdefault(_QUEUED_KEY, []).append(email.id)
    db.session.flush()
    return email
