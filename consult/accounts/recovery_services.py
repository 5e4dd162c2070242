"""Confirming an email address and resetting a forgotten password, by signed links sent through the outbox.

Links carry a token signed with SECRET_KEY (itsdangerous), each kind with
its own salt, so one kind of token is never accepted as another. Nothing is
stored for a token: a verification token names the address it confirms (a
changed address makes it useless), and a reset token carries a fingerprint
of the password hash, so setting a new password spends every reset link
issued before it.
"""

import hashlib
import hmac

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import update

from consult.accounts.models import User, new_session_token
from consult.accounts.services import find_user_by_email, hash_password
from consult.audit.services import record
from consult.database import utcnow
from consult.errors import DomainError
from consult.extensions import db
from consult.mail.services import absolute_url, queue_email

_VERIFY_SALT = "consult.verify-email"
_RESET_SALT = "consult.reset-password"


class LinkNotValid(DomainError):
    message = "This link is not valid. Check you copied the whole link from the email, or ask for a new one."


class LinkExpired(LinkNotValid):
    message = "This link has expired. Ask for a new one."


class ResetLinkUsed(LinkNotValid):
    message = ("This link has already been used, or a newer password has been set since it was sent. "
               "Ask for a new link if you still need one.")


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def _hours(seconds: int) -> str:
    hours = round(seconds / 3600)
    if hours % 24 == 0 and hours >= 24:
        days = hours // 24
        return f"{days} day{'s' if days != 1 else ''}"
    return f"{hours} hour{'s' if hours != 1 else ''}"


def _load(token: str, salt: str, max_age: int) -> dict:
    try:
        data = _serializer(salt).loads(token or "", max_age=max_age)
    except SignatureExpired:
        raise LinkExpired() from None
    except BadSignature:
        raise LinkNotValid() from None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        raise LinkNotValid()
    return data


# --- confirming an address -----------------------------------------------------


def verification_token(user: User) -> str:
    return _serializer(_VERIFY_SALT).dumps({"u": user.id, "e": user.email})


def send_verification_email(user: User):
    """Queue the link that confirms `user`'s address (in the caller's transaction)."""
    seconds = current_app.config["EMAIL_VERIFICATION_SECONDS"]
    return queue_email(
        user.email, "verify_email", "Confirm your email address",
        name=user.name, link=absolute_url("accounts.verify_email", token=verification_token(user)),
        valid_for=_hours(seconds),
    )


def verify_email(token: str) -> tuple[User, bool]:
    """Mark the address in a valid, unexpired link as confirmed; following it again changes nothing.

    Returns the account and whether its address was already confirmed, so the page can say which.
    """
    data = _load(token, _VERIFY_SALT, current_app.config["EMAIL_VERIFICATION_SECONDS"])
    user = db.session.get(User, data["u"])
    if user is None or user.email != data.get("e"):
        raise LinkNotValid()
    already = user.email_verified_at is not None
    if not already:
        user.email_verified_at = utcnow()
        db.session.flush()
    return user, already


# --- resetting a password ------------------------------------------------------


def _password_fingerprint(user: User) -> str:
    # Changes whenever the password does, so a used (or superseded) link stops working.
    return hmac.new(current_app.config["SECRET_KEY"].encode(), user.password_hash.encode(),
                    hashlib.sha256).hexdigest()[:32]


def reset_token(user: User) -> str:
    return _serializer(_RESET_SALT).dumps({"u": user.id, "p": _password_fingerprint(user)})


def send_password_reset(user: User, by_admin: bool = False):
    """Queue a reset link for `user` (in the caller's transaction)."""
    return queue_email(
        user.email, "password_reset", "Reset your password",
        name=user.name, link=absolute_url("accounts.reset_password", token=reset_token(user)), by_admin=by_admin,
    )


def request_password_reset(email: str) -> None:
    """Queue a reset link if `email` belongs to an active account; otherwise do nothing, silently.

    The caller shows the same page either way, so the answer never tells
    whether an address has an account. (Sending is the worker's job, so
    the time taken differs only by one INSERT.)
    """
    user = find_user_by_email(email)
    if user is None or not user.is_active or user.anonymised_at is not None:
        return
    send_password_reset(user)


def user_for_reset(token: str) -> User:
    """The account a reset link is for, if the link is genuine, under an hour old and unused."""
    data = _load(token, _RESET_SALT, current_app.config["PASSWORD_RESET_SECONDS"])
    user = db.session.get(User, data["u"])
    if user is None or not user.is_active or user.anonymised_at is not None:
        raise LinkNotValid()
    if not hmac.compare_digest(str(data.get("p", "")), _password_fingerprint(user)):
        raise ResetLinkUsed()
    return user


def reset_password(token: str, new_password: str) -> User:
    """Set a new password through a reset link, once, and end every session of the account.

    Guarantees: the link works once (the new password changes its
    fingerprint, and the conditional UPDATE means two uses racing each
    other cannot both succeed); the session token is rotated, so every
    other signed-in device is signed out; the address counts as confirmed,
    since the link arrived there.
    """
    user = user_for_reset(token)
    old_hash = user.password_hash
    now = utcnow()
    changed = db.session.execute(
        update(User)
        .where(User.id == user.id, User.password_hash == old_hash)
        .values(password_hash=hash_password(new_password), session_token=new_session_token(),
                email_verified_at=user.email_verified_at or now, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not changed:
        raise ResetLinkUsed()
    db.session.refresh(user)
    # No address in the event: the trail is append-only, and erasing an account must leave none of it behind.
    record(user, "user.reset_password", user, None, {"other_sessions_ended": True})
    db.session.flush()
    return user
