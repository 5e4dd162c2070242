"""Admins deactivating and reactivating accounts, and sending a password reset link; all audited."""

from sqlalchemy import select

from consult.accounts.models import User, new_session_token
from consult.accounts.recovery_services import send_password_reset
from consult.audit.services import record, snapshot
from consult.database import utcnow
from consult.errors import DomainError
from consult.extensions import db


class AccountActRefused(DomainError):
    """An admin's act on an account that the account, as it stands, does not allow: a conflict, not a mistake."""

    status = 409


class CannotDeactivateSelf(AccountActRefused):
    message = "You cannot deactivate your own account. Ask another admin to do it."


class AlreadyInThatState(AccountActRefused):
    """The account is already active, or already deactivated: the sentence names which."""


class AccountDeactivated(AccountActRefused):
    message = "This account is deactivated. Reactivate it before sending a password reset link."


class AccountErased(AccountActRefused):
    message = ("This account was deleted and its email address and name were erased: there is no one to "
               "send a link to, and it cannot be used again.")


def _lock(user: User) -> None:
    db.session.execute(select(User).where(User.id == user.id).with_for_update()
                       .execution_options(populate_existing=True)).one()


def deactivate_user(user: User, actor: User) -> None:
    """Stop `user` signing in and end every session they have, audited. Never the admin's own account."""
    if user.id == actor.id:
        raise CannotDeactivateSelf()
    _lock(user)
    if not user.is_active:
        raise AlreadyInThatState(f"{user.name}’s account is already deactivated.")
    before = snapshot(user, ["deactivated_at"])
    user.deactivated_at = utcnow()
    user.session_token = new_session_token()
    record(actor, "user.deactivate", user, before, snapshot(user, ["deactivated_at"]))
    db.session.flush()


def reactivate_user(user: User, actor: User) -> None:
    """Let a deactivated `user` sign in again (with the password they had), audited. Never an erased account."""
    _lock(user)
    if user.anonymised_at is not None:
        raise AccountErased()
    if user.is_active:
        raise AlreadyInThatState(f"{user.name}’s account is already active.")
    before = snapshot(user, ["deactivated_at"])
    user.deactivated_at = None
    record(actor, "user.reactivate", user, before, snapshot(user, ["deactivated_at"]))
    db.session.flush()


def send_reset_link(user: User, actor: User) -> None:
    """Queue a password reset link to `user`'s own address, audited; the admin never sees the link.

    Never to an erased account: a new password would bring it back to life
    under a stand-in address.
    """
    if user.anonymised_at is not None:
        raise AccountErased()
    if not user.is_active:
        raise AccountDeactivated()
    email = send_password_reset(user, by_admin=True)
    # The event names the account, not its address: an address in the append-only trail could never be erased.
    record(actor, "user.send_password_reset", user, None, {"outbox_email": email.id})
    db.session.flush()
