"""Rate limits on the routes people could abuse: sign-in, registration, comment writes.

Limits are read from the app's config at request time so that each
deployment (and each test) can set its own. A breached limit becomes a 429
page with a clear message, never a 500.
"""

from flask import current_app, request
from flask_login import current_user

from consult.accounts.services import normalise_email
from consult.extensions import limiter


def _setting(name: str):
    return lambda: current_app.config[name]


def _submitted_email() -> str:
    return "sign-in:" + normalise_email(request.form.get("email", ""))


def _signed_in_user() -> str:
    return f"user:{current_user.id}" if current_user.is_authenticated else f"address:{request.remote_addr}"


def _sign_in_failed(response) -> bool:
    # A successful sign-in redirects; a refused one shows the form again.
    return response.status_code != 302


failed_sign_ins_per_account = limiter.limit(
    _setting("FAILED_SIGN_INS_PER_ACCOUNT"), key_func=_submitted_email, methods=["POST"],
    deduct_when=_sign_in_failed, scope="failed-sign-in",
    error_message="Too many failed sign-in attempts for this account. Wait an hour and try again, or reset your password.",
)
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
