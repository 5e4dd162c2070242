"""The outbox: written with the act, sent by the real worker through a real SMTP server, never twice."""

import email as email_parser
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError

from consult.accounts.models import Role
from consult.audit.models import AuditEvent
from consult.database import utcnow
from consult.extensions import db
from consult.jobs import queue, worker_command
from consult.mail import services
from consult.mail.jobs import send_email
from consult.mail.models import OutboxEmail, OutboxStatus
from tests.mail.helpers import free_port, run_worker, signal_handlers_kept

PASSWORD = "a long enough password"


def _register(post_form, email: str):
    return post_form("/account/register", {"name": "Pat Example", "email": email, "password": PASSWORD,
                                           "confirm": PASSWORD})


def _outbox(to: str) -> list[OutboxEmail]:
    return list(db.session.scalars(select(OutboxEmail).where(OutboxEmail.to == to).order_by(OutboxEmail.id)
                                   .execution_options(populate_existing=True)))


def _queue_one(to: str = "someone@example.org") -> OutboxEmail:
    email = services.queue_email(to, "password_reset", "Reset your password", name="Someone",
                                 link="http://consult.test/account/reset-password?token=x", by_admin=False)
    db.session.commit()
    return email


def _make_due(email: OutboxEmail) -> None:
    db.session.execute(update(OutboxEmail).where(OutboxEmail.id == email.id)
                       .values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()


def test_registering_writes_one_email_and_queues_its_job_after_commit(app, app_context, post_form, queue_ready):
    assert _register(post_form, "new.person@example.org").status_code == 302
    [email] = _outbox("new.person@example.org")
    assert (email.kind, email.status, email.attempts) == ("verify_email", OutboxStatus.PENDING, 0)
    jobs = queue(app).get_jobs()
    assert [(job.func_name, job.args) for job in jobs] == [("consult.mail.jobs.send_email", (email.id,))]


def test_an_act_that_is_rolled_back_leaves_no_email_and_no_job(app, app_context, queue_ready):
    services.queue_email("ghost@example.org", "password_reset", "Reset your password", name="Ghost",
                         link="http://consult.test/x", by_admin=False)
    db.session.rollback()
    db.session.commit()  # a later commit in the same session queues nothing for the rolled-back email
    assert _outbox("ghost@example.org") == []
    assert queue(app).count == 0


def test_a_registration_refused_by_the_database_leaves_no_email(app, app_context, make_user, post_form, queue_ready):
    make_user(email="taken@example.org")
    response = _register(post_form, "taken@example.org")
    assert "already exists" in response.get_data(as_text=True)
    assert _outbox("taken@example.org") == []
    assert queue(app).count == 0


def test_the_worker_sends_through_smtp_and_marks_the_email_sent(app, app_context, inbox, post_form):
    _register(post_form, "reader@example.org")
    run_worker(app)
    message = inbox.only("reader@example.org")
    assert message.subject == "Confirm your email address"
    assert app.config["SERVICE_NAME"] in message.text and app.config["SERVICE_NAME"] in message.html
    link = inbox.link_in(message, "/account/verify-email?token=")
    assert link in message.html.replace("&amp;", "&")
    assert inbox.envelopes[0][1] == ["reader@example.org"]
    [email] = _outbox("reader@example.org")
    assert email.status is OutboxStatus.SENT and email.sent_at is not None and email.attempts == 1
    # A second job for the same email (a duplicate enqueue, a sweep) sends nothing more.
    assert send_email(email.id) == "not due, or taken by another worker"
    assert len(inbox.to("reader@example.org")) == 1


def test_email_carries_no_tracking(app, app_context, inbox):
    _queue_one("plain@example.org")
    run_worker(app)
    raw = inbox.raw[0].decode()
    message = inbox.only("plain@example.org")
    assert "<img" not in message.html.lower()
    assert "utm_" not in raw and "pixel" not in raw.lower()
    assert all(link.startswith("http://consult.test/") for link in message.links)
    headers = email_parser.message_from_string(raw)
    assert headers["Message-ID"].startswith("<outbox-") and headers["Auto-Submitted"] == "auto-generated"


def test_the_worker_command_runs_the_queue(app, app_context, inbox):
    _queue_one("cli@example.org")
    with signal_handlers_kept():
        result = app.test_cli_runner().invoke(worker_command, ["--burst"])
    assert result.exit_code == 0, result.output
    assert inbox.only("cli@example.org").subject == "Reset your password"


def test_a_lost_job_is_still_sent_by_the_sweep(app, app_context, inbox):
    email = _queue_one("lost@example.org")
    queue(app).empty()  # as if Redis lost the job
    run_worker(app)
    assert inbox.only("lost@example.org")
    assert _outbox("lost@example.org")[0].status is OutboxStatus.SENT
    assert email.id


def test_a_page_still_works_when_the_queue_is_down(app, app_context, inbox, post_form, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    assert _register(post_form, "queue.down@example.org").status_code == 302
    assert _outbox("queue.down@example.org")[0].status is OutboxStatus.PENDING
    monkeypatch.undo()
    run_worker(app)  # the queue is back: the sweep finds the email
    assert inbox.only("queue.down@example.org")


def test_a_server_that_is_down_is_retried_with_back_off_then_failed_and_shown_to_admins(
        app, app_context, queue_ready, monkeypatch, login_as, client, post_form):
    monkeypatch.setitem(app.config, "MAIL_PORT", free_port())  # nothing listens there
    monkeypatch.setitem(app.config, "MAIL_MAX_ATTEMPTS", 4)
    email = _queue_one("unlucky@example.org")
    waits = []
    for attempt in range(1, 5):
        before = utcnow()
        run_worker(app)
        [row] = _outbox("unlucky@example.org")
        assert row.attempts == attempt and "Error" in row.last_error
        if attempt < 4:
            assert row.status is OutboxStatus.PENDING
            waits.append(round((row.next_attempt_at - before).total_seconds() / 60))
            run_worker(app)  # not due yet: nothing happens
            assert _outbox("unlucky@example.org")[0].attempts == attempt
            _make_due(row)
    assert waits == [1, 2, 4]
    assert row.status is OutboxStatus.FAILED

    admin = login_as(Role.ADMIN)
    page = client.get("/admin/mail/failed").get_data(as_text=True)
    assert "unlucky@example.org" in page and "Reset your password" in page and "ConnectionRefusedError" in page
    response = post_form("/admin/mail/retry", {"email_id": str(email.id)})
    assert response.status_code == 302
    [row] = _outbox("unlucky@example.org")
    assert (row.status, row.attempts) == (OutboxStatus.PENDING, 0)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "mail.retry"))
    assert event.actor_id == admin.id and event.object_id == str(email.id)
    assert event.before["status"] == "failed" and event.after["status"] == "pending"
    # Retrying it again is refused: it is no longer failed.
    assert "no longer failed" in post_form("/admin/mail/retry", {"email_id": str(email.id)},
                                           follow_redirects=True).get_data(as_text=True)


def test_a_retried_email_is_sent_once_the_server_is_back(app, app_context, inbox, post_form, login_as):
    email = _queue_one("second.chance@example.org")
    db.session.execute(update(OutboxEmail).where(OutboxEmail.id == email.id)
                       .values(status=OutboxStatus.FAILED, attempts=6, last_error="SMTP down"))
    db.session.commit()
    run_worker(app)
    assert inbox.to("second.chance@example.org") == []  # failed email is never sent on its own
    login_as(Role.ADMIN)
    post_form("/admin/mail/retry", {"email_id": str(email.id)})
    run_worker(app)
    assert inbox.only("second.chance@example.org")


def test_the_failed_email_page_is_for_admins_only(client, login_as):
    login_as(Role.STAFF)
    assert client.get("/admin/mail/failed").status_code == 403


def test_two_workers_never_both_claim_an_email(app, app_context, queue_ready):
    email = _queue_one()
    first = services.claim_email(email.id, utcnow())
    db.session.commit()
    assert first is not None
    assert services.claim_email(email.id, utcnow()) is None


def test_a_worker_that_dies_before_sending_leaves_a_claim_that_is_taken_over_once(app, app_context, inbox):
    email = _queue_one("orphan@example.org")
    queue(app).empty()
    assert services.claim_email(email.id, utcnow()) is not None  # and then the worker dies
    db.session.commit()
    run_worker(app)
    assert inbox.to("orphan@example.org") == []  # the claim is fresh: nobody else sends it
    db.session.execute(update(OutboxEmail).where(OutboxEmail.id == email.id).values(
        claimed_at=utcnow() - timedelta(seconds=app.config["MAIL_CLAIM_TIMEOUT_SECONDS"] + 1)))
    db.session.commit()
    run_worker(app)
    run_worker(app)
    assert len(inbox.to("orphan@example.org")) == 1
    [row] = _outbox("orphan@example.org")
    assert (row.status, row.attempts) == (OutboxStatus.SENT, 2)


def test_the_outbox_status_is_enforced_by_the_database(app_context):
    email = _queue_one()
    with pytest.raises(IntegrityError):
        with db.session.begin_nested():
            db.session.execute(text("UPDATE outbox_emails SET status = 'lost' WHERE id = :id"), {"id": email.id})
    assert db.session.scalar(select(func.count()).select_from(OutboxEmail).where(OutboxEmail.id == email.id)) == 1
