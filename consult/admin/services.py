"""Accounts as an admin manages them: finding users and changing roles.

Every change here is recorded in the audit trail. Nothing here updates or
deletes an audit event.
"""

from sqlalchemy import Select, or_, select

from consult.accounts.models import Role, User, new_session_token
from consult.audit.services import record, snapshot
from consult.errors import DomainError
from consult.extensions import db

USERS_PER_PAGE = 25

ROLE_LABELS = {
    Role.STAKEHOLDER: "Stakeholder",
    Role.STAFF: "Staff",
    Role.COMMITTEE: "Committee member",
    Role.ADMIN: "Admin",
}

ROLE_DESCRIPTIONS = {
    Role.STAKEHOLDER: "Can take part in open consultations and comment on them.",
    Role.STAFF: "Builds consultations, moderates comments, manages themes and responses, and exports.",
    Role.COMMITTEE: "Reads the comments, themes and outputs of the consultations they are assigned to.",
    Role.ADMIN: "Can do everything staff can, and also change roles and read the audit trail.",
}


class RoleChangeRefused(DomainError):
    """A role change that breaks a rule; `message` says so in words an admin can act on."""

    message = "The role could not be changed."
    field = "role"
    status = 409  # the users' roles as they stand now refuse it


class CannotRemoveOwnAdminRole(RoleChangeRefused):
    message = ("You cannot remove your own admin role. Ask another admin to do it, so that the service "
               "is never left without an admin.")


class ActorIsNotAdmin(RoleChangeRefused):
    message = "Only an admin can change roles, and your account is no longer an admin."


class RoleUnchanged(RoleChangeRefused):
    def __init__(self, user: User):
        super().__init__(f"{user.name} already has the role {ROLE_LABELS[user.role]}. Choose a different role.")


def user_search_query(search: str = "") -> Select:
    """Users whose email or name contains `search` (any case), by email; every user when it is blank."""
    query = select(User).order_by(User.email)
    search = search.strip()
    if search:
        query = query.where(or_(User.email.icontains(search, autoescape=True),
                                User.name.icontains(search, autoescape=True)))
    return query


def change_role(user: User, new_role: Role, actor: User) -> None:
    """Give `user` the role `new_role`, audited, and end every session they have.

    Guarantees: the actor is an admin at the moment of the change (both rows
    are locked first, so two admins demoting each other at once cannot leave
    the service without one); an admin never removes their own admin role;
    a change that changes nothing is refused; the user's session token is
    rotated, so a demoted user's open sessions stop working at once.
    """
    # Lock in id order so that two concurrent changes cannot deadlock, and
    # re-read both rows so that the rules see what is committed now.
    db.session.execute(
        select(User).where(User.id.in_(sorted({user.id, actor.id}))).order_by(User.id)
        .with_for_update().execution_options(populate_existing=True)
    ).all()
    if actor.role is not Role.ADMIN:
        raise ActorIsNotAdmin()
    if user.id == actor.id and new_role is not Role.ADMIN:
        raise CannotRemoveOwnAdminRole()
    if new_role is user.role:
        raise RoleUnchanged(user)
    before = snapshot(user, ["role"])
    user.role = new_role
    user.session_token = new_session_token()
    record(actor, "user.change_role", user, before, snapshot(user, ["role"]))
    db.session.flush()
