"""Account rules: registration, accounts made for someone, authentication, password changes and sessions."""

import secrets
from functools import cache

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from consult.accounts.models import Role, User, new_session_token
from consult.errors import DomainError
from consult.database import utcnow
from consult.extensions import db
from consult.text import direction_controls_refused, has_direction_controls, is_blank, tidy_name

MIN_PASSWORD_LENGTH = 10


def hash_password(password: str) -> str:
    """A salted hash by the configured method: scrypt everywhere but the test suite (see Config)."""
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


@cache
def _dummy_hash(method: str) -> str:
    """A fixed hash to compare against when the email is unknown, so that a
    missing account takes as long to refuse as a wrong password."""
    return generate_password_hash("not-a-real-password", method=method)


def unusable_password_hash() -> str:
    """The hash of a random secret that is thrown away, for accounts no one signs in to (fictional demo
    commenters, offline respondents): no password matches it, yet checking one takes as long as for a real
    account, and one hash per process serves them all."""
    return _hash_of_a_thrown_away_secret(current_app.config["PASSWORD_HASH_METHOD"])


@cache
def _hash_of_a_thrown_away_secret(method: str) -> str:
    return generate_password_hash(secrets.token_urlsafe(32), method=method)


class EmailAlreadyRegistered(DomainError):
    message = "An account with this email address already exists. Sign in instead."
    field = "email"
    status = 409


class PasswordTooShort(DomainError):
    message = f"The password must be at least {MIN_PASSWORD_LENGTH} characters long."
    field = "password"


class InvalidName(DomainError):
    field = "name"
    status = 200


class WrongPassword(DomainError):
    message = "Your current password is not correct"
    field = "current_password"


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def register_user(email: str, name: str, password: str | None, role: Role = Role.STAKEHOLDER, *,
                  email_verified: bool = True) -> User:
    """Create an account; the email is unique whatever its case, enforced by the database.

    A `password` of None makes an account no one can sign in to (see unusable_password_hash).

    An account made by an operator or a seed has an address someone vouched
    for; the public registration form passes ``email_verified=False`` and
    sends a link to confirm it. The name is kept as consult.text.tidy_name
    keeps names; a name with nothing that shows, or holding a direction
    control, is refused (InvalidName).
    """
    name = tidy_name(name)
    if is_blank(name):
        raise InvalidName("Enter your full name")
    if has_direction_controls(name):
        raise InvalidName(direction_controls_refused("Full name"))
    user = User(
        email=normalise_email(email),
        name=name,
        password_hash=hash_password(password) if password is not None else unusable_password_hash(),
        role=role,
        email_verified_at=utcnow() if email_verified else None,
    )
    try:
        with db.session.begin_nested():
            db.session.add(user)
    except IntegrityError as error:
        raise EmailAlreadyRegistered() from error
    return user


def sign_up(email: str, name: str, password: str) -> User:
    """A stakeholder registering themselves (register_user's rules), recorded in the audit trail as their act."""
    from consult.audit.services import record, snapshot

    user = register_user(email, name, password, email_verified=False)
    # No name or email in the event: they live on the account, where erasing it removes them.
    record(user, "user.register", user, None, snapshot(user, ["role"]))
    db.session.flush()
    return user


def create_account(email: str, name: str, password: str, role: Role, actor: User | None = None) -> User:
    """An account made for someone (the first admin, from the command line), recorded in the audit trail.

    The password must be at least MIN_PASSWORD_LENGTH characters
    (PasswordTooShort otherwise); the email must be new (EmailAlreadyRegistered
    otherwise). Nothing is stored when either is refused. `actor` None is the system.
    """
    from consult.audit.services import record, snapshot

    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordTooShort()
    user = register_user(email, name, password, role)
    # The email and name live on the account, where erasing it removes them; the append-only trail
    # shows them from there, so it never keeps a copy.
    record(actor, "user.create", user, None, snapshot(user, ["role"]))
    db.session.flush()
    return user


def authenticate(email: str, password: str) -> User | None:
    """The user whose email and password match, or None, in constant-ish time."""
    user = find_user_by_email(email)
    if user is None:
        check_password_hash(_dummy_hash(current_app.config["PASSWORD_HASH_METHOD"]), password)
        return None
    if not check_password_hash(user.password_hash, password):
        return None
    if not user.is_active:  # deactivated by an admin
        return None
    return user


def change_password(user: User, current_password: str, new_password: str) -> None:
    """Replace the password and end every session of the account (the view starts a new one here)."""
    if not check_password_hash(user.password_hash, current_password):
        raise WrongPassword()
    user.password_hash = hash_password(new_password)
    end_all_sessions(user)


def end_all_sessions(user: User) -> None:
    """Sign the account out on every device: sign-out, sign out everywhere, password and role changes.

    Session and remember-me cookies are signed but kept by the browser, so a
    copy of one stays valid as long as what it names does. Each carries the
    account's session token (see User.get_id), and a new token makes every
    cookie issued before it load no user.
    """
    user.session_token = new_session_token()
    db.session.flush()


def load_user_from_session(user_id: str) -> User | None:
    """Flask-Login's loader: the id must carry the user's current session token."""
    raw_id, _, token = user_id.partition(":")
    if not raw_id.isdigit() or not token:
        return None
    user = db.session.get(User, int(raw_id))
    if user is None or user.session_token != token or not user.is_active:
        return None
    return user

