"""Committee members: who may review a consultation's comments, themes and responses."""

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from consult.accounts.models import Role, User
from consult.audit.services import record
from consult.consultations.models import CommitteeAssignment, Consultation
from consult.errors import DomainError
from consult.extensions import db


class CommitteeAssignmentError(DomainError):
    field = "email"
    status = 422


class UnknownCommitteeMember(CommitteeAssignmentError):
    def __init__(self, email: str):
        super().__init__(f"There is no account with the email address {email}. "
                         "Check the address, or ask the person to create an account first.")


class NotACommitteeMember(CommitteeAssignmentError):
    def __init__(self, user: User):
        super().__init__(f"{user.name} ({user.email}) is not a committee member. "
                         "An admin can give them the committee role first.")


class AlreadyAssigned(CommitteeAssignmentError):
    status = 409

    def __init__(self, user: User):
        super().__init__(f"{user.name} ({user.email}) is already assigned to this consultation.")


class NotAssigned(CommitteeAssignmentError):
    field = "user_id"
    status = 409

    def __init__(self):
        super().__init__("That person is not assigned to this consultation, so there was nothing to remove.")


def list_committee_members(consultation: Consultation) -> list[User]:
    """The committee members assigned to the consultation, by name."""
    return list(db.session.scalars(
        select(User)
        .join(CommitteeAssignment, CommitteeAssignment.user_id == User.id)
        .where(CommitteeAssignment.consultation_id == consultation.id)
        .order_by(User.name, User.email)
    ))


def assign_committee_member(actor: User, consultation: Consultation, email: str) -> CommitteeAssignment:
    """Let a committee member (found by email) review this consultation; audited.

    Only accounts with the committee role can be assigned, each once; two
    staff assigning the same person at once end with one assignment, as the
    primary key refuses the second.
    """
    from consult.accounts.services import find_user_by_email

    user = find_user_by_email(email)
    if user is None:
        raise UnknownCommitteeMember(email.strip())
    if user.role is not Role.COMMITTEE:
        raise NotACommitteeMember(user)
    if db.session.get(CommitteeAssignment, (consultation.id, user.id)) is not None:
        raise AlreadyAssigned(user)
    assignment = CommitteeAssignment(consultation_id=consultation.id, user_id=user.id)
    try:
        with db.session.begin_nested():
            db.session.add(assignment)
    except IntegrityError as error:
        raise AlreadyAssigned(user) from error
    record(actor, "consultation.assign_committee_member", consultation, None,
           {"user_id": user.id, "email": user.email, "name": user.name})
    return assignment


def unassign_committee_member(actor: User, consultation: Consultation, user_id: int) -> User:
    """Stop a committee member reviewing this consultation; audited. Returns who was removed."""
    assignment = db.session.get(CommitteeAssignment, (consultation.id, user_id))
    if assignment is None:
        raise NotAssigned()
    user = db.session.get(User, user_id)
    db.session.delete(assignment)
    db.session.flush()
    record(actor, "consultation.unassign_committee_member", consultation,
           {"user_id": user.id, "email": user.email, "name": user.name}, None)
    return user
