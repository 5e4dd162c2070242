"""Rate limits per address and per user on the routes people could abuse: sign-in, registration, comment writes.

Limits are read from the app's config at request time so that each
deployment (and each test) can set its own; production keeps their counts
in Redis (RATELIMIT_STORAGE_URI) so that every worker shares them. A
breached limit becomes a 429 page with a clear message, never a 500.
Failed sign-ins per account are counted in the database instead, where the
device-cookie rules live (consult.accounts.throttling).
"""

from flask import current_app, request
from flask_login import current_user

from consult.extensions import limiter


def _setting(name: str):
    return lambda: current_app.config[name]


def _signed_in_user() -> str:
    return f"user:{current_user.id}" if current_user.is_authenticated else f"address:{request.remote_addr}"


sign_in_attempts_per_address = limiter.limit(
    _setting("SIGN_IN_ATTEMPTS_PER_ADDRESS"), methods=["POST"], scope="sign-in-address",
    error_message="Too many sign-in attempts from your network. Wait a while and try again.",
)
registrations_per_address = limiter.limit(
    _setting("REGISTRATIONS_PER_ADDRESS"), methods=["POST"], scope="register-address",
    error_message="Too many accounts have been created from your network. Wait a while and try again.",
)
comment_writes_per_user = limiter.limit(
    _setting("COMMENT_WRITES_PER_USER"), key_func=_signed_in_user, methods=["POST"],
    scope="comment-writes",
    error_message="You have saved a lot of comments in a short time. Wait a few minutes and try again; nothing you saved is lost.",
)
organisation_code_attempts_per_user = limiter.limit(
    _setting("ORGANISATION_CODE_ATTEMPTS_PER_USER"), key_func=_signed_in_user, methods=["POST"],
    scope="organisation-code-user",
    error_message="You have tried a lot of organisation codes in a short time. Wait 15 minutes and try again.",
)
organisation_code_attempts_per_address = limiter.limit(
    _setting("ORGANISATION_CODE_ATTEMPTS_PER_ADDRESS"), methods=["POST"], scope="organisation-code-address",
    error_message="Too many organisation codes have been tried from your network. Wait a while and try again.",
)
