"""Reading email in tests: a real SMTP server to receive it, and the queue worker to send it."""

import os
import re
import signal
import socket
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
import redis
from aiosmtpd.controller import Controller
from sqlalchemy import select

from consult.jobs import make_worker, queue, redis_connection
from consult.mail.catcher import CaughtMessage, parse_message
from consult.mail.models import OutboxEmail

LINK = re.compile(r"https?://[^\s<>\"]+")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Inbox:
    """What a real SMTP server on 127.0.0.1 received, parsed."""

    host: str
    port: int
    messages: list[CaughtMessage] = field(default_factory=list)
    raw: list[bytes] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server, session, envelope):
        with self._lock:
            self.raw.append(envelope.original_content or envelope.content)
            self.messages.append(parse_message(self.raw[-1]))
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"

    def to(self, address: str) -> list[CaughtMessage]:
        return [message for message in self.messages if message.to == address]

    def only(self, address: str) -> CaughtMessage:
        found = self.to(address)
        assert len(found) == 1, f"{len(found)} messages to {address}: {[m.subject for m in found]}"
        return found[0]

    def link_in(self, message: CaughtMessage, path: str) -> str:
        links = [link for link in message.links if path in link]
        assert links, f"no link to {path} in: {message.text}"
        return links[0]


@contextmanager
def smtp_server(app):
    """A real SMTP server (aiosmtpd) on an ephemeral port, with `app` pointed at it."""
    port = free_port()
    inbox = Inbox("127.0.0.1", port)
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    saved = {key: app.config[key] for key in ("MAIL_SERVER", "MAIL_PORT")}
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    try:
        yield inbox
    finally:
        app.config.update(saved)
        controller.stop()


def redis_or_skip(app) -> redis.Redis:
    connection = redis_connection(app)
    try:
        connection.ping()
    except redis.RedisError:
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail(f"Redis is not reachable at {app.config['REDIS_URL']}, and this run requires it.")
        pytest.skip(f"Redis is not reachable at {app.config['REDIS_URL']}: mail tests skipped.")
    return connection


@contextmanager
def signal_handlers_kept():
    """RQ installs its own SIGINT/SIGTERM handlers while it works; put pytest's back afterwards,
    or a later signal would reach a worker that has long finished."""
    handlers = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, handler in handlers.items():
            signal.signal(number, handler)


def run_worker(app) -> None:
    """Run the real RQ worker over what is queued (and one sweep of due email), then stop."""
    with signal_handlers_kept():
        make_worker(app).work(burst=True, logging_level="WARNING")


def empty_queue(app) -> None:
    queue(app).empty()


def wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def latest_outbox_link(live_server, to: str, kind: str, path: str) -> str:
    """The link in the newest `kind` email to `to`, read from the live server's outbox."""
    from consult.extensions import db

    with live_server.app.app_context():
        email = db.session.scalar(select(OutboxEmail).where(OutboxEmail.to == to, OutboxEmail.kind == kind)
                                  .order_by(OutboxEmail.id.desc()))
        assert email is not None, f"no {kind} email to {to} in the outbox"
        links = [link for link in LINK.findall(email.text) if path in link]
        assert links, email.text
        return links[0]
