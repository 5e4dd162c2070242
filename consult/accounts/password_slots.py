"""A few password checks at a time on each instance, so a sign-in storm cannot take every web worker.

Checking a password costs about a tenth of a second of CPU, on purpose (scrypt). Each gunicorn
sync worker serves one request at a time, so when every worker of an instance is checking a
password, people saving comments wait behind them; at a deadline that wait is the difference
between a response that arrived and one that was late. Before a password is checked, a request
takes one of PASSWORD_CHECKS_AT_ONCE slots of its instance; with the default of one fewer than
the instance's workers, one worker is always free for everything else. When every slot is taken
the person is told at once to try again in a few seconds: nothing is counted against their
account and nothing they typed is lost but the password.

Slots live in Redis (a sorted set per instance, each member the moment it was taken), so the
workers of one instance agree; a slot whose request died is reclaimed after SLOT_SECONDS. If
Redis cannot be reached the check goes ahead unlimited: better slow than refused.
"""

import logging
import os
import secrets
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager

from flask import current_app
from redis import RedisError

from consult.errors import DomainError
from consult.jobs import redis_connection

log = logging.getLogger(__name__)

# Longer than any password check takes, even on a loaded machine.
SLOT_SECONDS = 10

_TAKE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1] - ARGV[2])
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
  redis.call('EXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""


class TooManyPasswordChecks(DomainError):
    """Every slot of this instance is checking a password: try again in a moment."""

    status = 503
    message = ("A lot of people are signing in right now. Wait a few seconds and try again: "
               "nothing has been counted against your account.")


def _instance_key() -> str:
    # One set per instance: a storm on one instance must not refuse sign-ins on another.
    instance = f"{socket.gethostname()}:{os.environ.get('PORT', '')}"
    return f"{current_app.config['RATELIMIT_KEY_PREFIX']}:password-checks:{instance}"


@contextmanager
def password_check_slot() -> Iterator[None]:
    """Hold one of this instance's password-check slots for the block, or raise TooManyPasswordChecks."""
    limit = current_app.config["PASSWORD_CHECKS_AT_ONCE"]
    if not limit:
        yield
        return
    key, token = _instance_key(), secrets.token_hex(8)
    try:
        connection = redis_connection()
        taken = connection.eval(_TAKE, 1, key, time.time(), SLOT_SECONDS, limit, token)
    except RedisError:
        log.warning("Password-check slots unavailable (Redis unreachable); checking without a limit")
        yield
        return
    if not taken:
        raise TooManyPasswordChecks()
    try:
        yield
    finally:
        try:
            connection.zrem(key, token)
        except RedisError:
            log.warning("Could not give back a password-check slot; it expires in %s s", SLOT_SECONDS)
