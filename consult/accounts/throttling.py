"""Sign-in throttling that holds on every worker, and that cannot be used to lock an owner out.

Attempts to sign in to an account are counted in the database (the
``sign_in_failures`` table), so every worker and every instance shares one
count, on the embedded SQLite default as on PostgreSQL. Each attempt is
counted *before* its password is checked, by one atomic
INSERT ... ON CONFLICT DO UPDATE ... RETURNING, and an attempt that takes the
count past the limit is refused without a check. Counts are kept per clock
window (an hour, by default), and an attempt is weighed with the window
before it too, so the limit holds for any hour, not only each clock hour: 20
failures at 10:59 are not followed by 20 more at 11:00. However many requests
race, no more than the limit's number of passwords are checked per bucket in
any window-long span. A correct password gives its attempt back, so only
failures add up.

Following OWASP's "Slow Down Online Guessing Attacks with Device Cookies", a
browser that has signed in to an account carries a signed cookie naming that
account. Its attempts at that account are counted in a bucket of its own, so
someone guessing from elsewhere never locks the owner out of the browser
they use. Every other browser shares the account's bucket and, once it is
full, is told when it may try again.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from limits import parse
from sqlalchemy import delete, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite

from consult.accounts.models import SignInFailureCount
from consult.accounts.services import normalise_email
from consult.errors import DomainError
from consult.extensions import db

DEVICE_COOKIE = "consult_device"
DEVICE_COOKIE_MAX_AGE = timedelta(days=365)
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_failures = SignInFailureCount.__table__


class TooManySignInAttempts(DomainError):
    """This browser may not try this account again until ``retry_at``."""

    message = "Too many failed sign-in attempts for this account."
    status = 429

    def __init__(self, retry_at: datetime):
        super().__init__()
        self.retry_at = retry_at


class TooManyWrongPasswords(DomainError):
    """A signed-in person confirming their password (to change it, or to delete the account) has got it
    wrong too often: the same count as sign-in, so a stolen session cannot guess the password either."""

    status = 429

    def __init__(self, retry_at: datetime, field: str):
        from flask import current_app as app

        when = app.jinja_env.filters["uk_datetime"](retry_at)
        super().__init__(f"Too many wrong passwords for this account. Try again after {when}.", field=field)
        self.retry_at = retry_at


@dataclass(frozen=True)
class Attempt:
    """One counted attempt: the bucket and window it was counted in."""

    bucket: str
    window_start: datetime


def _limit() -> tuple[int, timedelta]:
    """FAILED_SIGN_INS_PER_ACCOUNT ("20 per hour") as an amount and a window."""
    item = parse(current_app.config["FAILED_SIGN_INS_PER_ACCOUNT"])
    return item.amount, timedelta(seconds=item.get_expiry())


def _bucket(email: str, device: str | None) -> str:
    # Keyed with the secret, so the table does not reveal which emails were tried.
    name = f"device:{email}:{device}" if device else f"account:{email}"
    return hmac.new(current_app.config["SECRET_KEY"].encode(), name.encode(), hashlib.sha256).hexdigest()


def _upsert():
    return postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert


def count_sign_in_attempt(email: str, device: str | None, now: datetime) -> Attempt:
    """Count an attempt at `email` before its password is checked; TooManySignInAttempts past the limit.

    `device` is the trusted-device id from ``trusted_device`` (None for any
    other browser). The count is one atomic statement, so concurrent
    attempts from any number of processes are each counted once; the
    caller commits at once, so the attempt counts even if the request then
    fails, and rolls back a refused one, so refusals are not counted.

    The attempts of this window and the one before it together stay within
    the limit, so any window-long span holds at most the limit's number of
    checks. Windows older than the one before, of every bucket, are cleared on the way.
    """
    amount, window = _limit()
    window_start = _EPOCH + ((now - _EPOCH) // window) * window
    previous_start = window_start - window
    bucket = _bucket(normalise_email(email), device)
    statement = (
        _upsert()(_failures).values(bucket=bucket, window_start=window_start, attempts=1)
        .on_conflict_do_update(index_elements=[_failures.c.bucket, _failures.c.window_start],
                               set_={"attempts": _failures.c.attempts + 1})
        .returning(_failures.c.attempts)
    )
    attempts = db.session.execute(statement).scalar_one()
    # The previous window has closed, so nothing adds to it any more.
    previous = db.session.execute(
        select(_failures.c.attempts).where(_failures.c.bucket == bucket, _failures.c.window_start == previous_start)
    ).scalar_one_or_none() or 0
    # Every bucket's, not only this one's: a count no one adds to again would otherwise stay for ever.
    # Rows another attempt is already clearing are skipped, so concurrent sign-ins never wait on each other.
    stale = (select(_failures.c.bucket, _failures.c.window_start)
             .where(_failures.c.window_start < previous_start).with_for_update(skip_locked=True))
    db.session.execute(delete(_failures).where(tuple_(_failures.c.bucket, _failures.c.window_start).in_(stale)))
    if previous + attempts > amount:
        # Without this refused attempt, this window holds attempts - 1. When it becomes the previous
        # window, one more attempt fits if that is under the limit; otherwise the window after that.
        free_from = window_start + (window if attempts - 1 < amount else 2 * window)
        raise TooManySignInAttempts(free_from)
    return Attempt(bucket, window_start)


def give_back_sign_in_attempt(attempt: Attempt) -> None:
    """A correct password is not a failure: take its attempt off the count again."""
    db.session.execute(
        update(_failures)
        .where(_failures.c.bucket == attempt.bucket, _failures.c.window_start == attempt.window_start,
               _failures.c.attempts > 0)
        .values(attempts=_failures.c.attempts - 1)
    )


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="sign-in-device")


def _account_key(email: str) -> str:
    # The cookie is signed, not encrypted, and outlives sign-out on a shared computer: it names the
    # account by a keyed hash, never by its address.
    return _bucket(normalise_email(email), None)[:32]


def new_device_cookie(email: str) -> str:
    """A signed cookie value naming the account (by a keyed hash) and a new random device id."""
    return _serializer().dumps({"account": _account_key(email), "device": secrets.token_urlsafe(16)})


def trusted_device(cookie: str | None, email: str) -> str | None:
    """The device id of a valid device cookie issued for `email`, else None (an untrusted browser)."""
    if not cookie:
        return None
    try:
        data = _serializer().loads(cookie, max_age=int(DEVICE_COOKIE_MAX_AGE.total_seconds()))
    except BadSignature:
        return None
    if not isinstance(data, dict) or not hmac.compare_digest(str(data.get("account", "")), _account_key(email)):
        return None
    device = data.get("device")
    return device if isinstance(device, str) and device else None
