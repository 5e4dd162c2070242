"""The send job and the sweep, run by the worker (or in the foreground by `flask mail deliver`).

Each email is claimed and committed before the SMTP conversation and marked
after it, in transactions of the job's own. A worker that dies before it
sends leaves a claim that times out (MAIL_CLAIM_TIMEOUT_SECONDS) and the
email is sent by another; a second job for an email that is already
claimed or sent does nothing. A worker that dies after the SMTP server took
the message but before the row was marked is the one case that sends twice:
the message keeps the same Message-ID, so mail clients show it once.
"""

import logging
import smtplib
import socket
from email.message import EmailMessage
from email.utils import formatdate

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from consult.database import utcnow
from consult.extensions import db
from consult.mail import services
from consult.mail.models import OutboxEmail

log = logging.getLogger(__name__)


def build_message(email: OutboxEmail) -> EmailMessage:
    """Plain text with an HTML alternative; the Message-ID is fixed per outbox row."""
    config = current_app.config
    message = EmailMessage()
    message["Subject"] = email.subject
    message["From"] = config["MAIL_FROM"]
    message["To"] = email.to
    message["Date"] = formatdate(email.created_at.timestamp(), localtime=False)
    domain = config["MAIL_FROM"].rpartition("@")[2].strip(" >") or "localhost"
    # The same for every attempt, so a message sent twice (see above) is shown once.
    message["Message-ID"] = f"<outbox-{email.id}-{int(email.created_at.timestamp())}@{domain}>"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(email.text)
    message.add_alternative(email.html, subtype="html")
    return message


def deliver(message: EmailMessage) -> None:
    """One SMTP conversation with the configured server (MAIL_* settings)."""
    config = current_app.config
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=config["MAIL_TIMEOUT_SECONDS"]) as smtp:
        if config["MAIL_USE_TLS"]:
            smtp.starttls()
        if config["MAIL_USERNAME"]:
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(message)


def send_email(email_id: int) -> str:
    """Send one outbox email if it is due and no other worker holds it; say what happened."""
    now = utcnow()
    email = services.claim_email(email_id, now)
    db.session.commit()
    if email is None:
        return "not due, or taken by another worker"
    try:
        deliver(build_message(email))
    except (smtplib.SMTPException, OSError, socket.timeout) as error:
        services.mark_failed_attempt(email, f"{type(error).__name__}: {error}", utcnow())
        db.session.commit()
        log.warning("Email %s (%s) not sent, attempt %s: %s", email.id, email.kind, email.attempts, error)
        return f"attempt {email.attempts} failed: {email.status.value}"
    services.mark_sent(email, utcnow())
    db.session.commit()
    return "sent"


def sweep_outbox(app: Flask | None = None) -> int:
    """Queue a send job for every email that is due (a retry, a lost job, a dead worker's claim)."""
    ids = services.due_email_ids(utcnow())
    db.session.rollback()
    if ids:
        services.enqueue_delivery(ids)
    return len(ids)


def deliver_due() -> dict[str, int]:
    """Send every due email now, in this process: for operators and tests, without a worker."""
    results: dict[str, int] = {}
    for email_id in services.due_email_ids(utcnow()):
        outcome = send_email(email_id).split(":")[0]
        results[outcome] = results.get(outcome, 0) + 1
    return results


mail_cli = AppGroup("mail", help="The email outbox.")


@mail_cli.command("deliver")
def deliver_command() -> None:
    """Send every email that is due now, in the foreground, and say how it went."""
    results = deliver_due()
    if not results:
        click.echo("No email is due.")
    for outcome, count in sorted(results.items()):
        click.echo(f"{count}: {outcome}")
