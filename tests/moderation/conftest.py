"""Factories for the staff workspace: submitted comments, staff, committee assignments."""

from datetime import datetime
from itertools import count

import pytest
from consult.accounts.models import Role
from consult.comments import services as comment_services
from consult.comments.models import Comment, IndividualType, OrganisationType, ParticipantKind
from consult.consultations.models import CommitteeAssignment
from consult.database import utcnow
from consult.extensions import db
from consult.moderation import queries
from tests.conftest import sections_of

_bodies = count(1)


@pytest.fixture
def make_submitted_comments(make_user):
    """`n` comments from one new participant, written and submitted (so numbered) at `submitted_at`.

    `target` is "section" (on `section`, optionally quoting `quote`), "chapter"
    (the chapter of `section`) or "document". `body` may hold "{i}", the
    comment's position in this batch.
    """

    def make(consultation, n: int = 1, *, kind: str = "individual",
             individual_type: IndividualType = IndividualType.PATIENT_OR_CARER,
             organisation_name: str = "Foot Health Charity",
             organisation_type: OrganisationType = OrganisationType.CHARITY_OR_PATIENT_GROUP,
             has_tobacco_links: bool = False, tobacco_details: str = "", other_interests: str = "",
             body: str = "Comment {i} about the guidance.", section: str = "1.1", quote: str | None = None,
             target: str = "section", submitted_at: datetime | None = None) -> list[Comment]:
        user = make_user()
        moment = submitted_at or utcnow()
        organisation = kind == "organisation"
        choice = comment_services.ParticipationChoice(
            kind=ParticipantKind.ORGANISATION if organisation else ParticipantKind.INDIVIDUAL,
            individual_type=None if organisation else individual_type,
            organisation_name=organisation_name if organisation else None,
            organisation_type=organisation_type if organisation else None,
            has_tobacco_links=has_tobacco_links, tobacco_details=tobacco_details, other_interests=other_interests,
        )
        participation = comment_services.choose_participation(user, consultation, choice, moment)
        part = sections_of(consultation)[section]
        if target == "document":
            ref = comment_services.CommentTargetRef(part.document)
        elif target == "chapter":
            ref = comment_services.CommentTargetRef(part.document, part.chapter)
        else:
            ref = comment_services.CommentTargetRef(part.document, part.chapter, part)
        for i in range(1, n + 1):
            comment_services.save_draft(participation, ref, body.format(i=i, n=next(_bodies)),
                                        quote if target == "section" else None, moment)
        comment_services.submit_response(participation, moment)
        db.session.commit()
        return sorted(
            db.session.scalars(queries.submitted_comments(consultation.id)
                               .where(Comment.participation_id == participation.id)),
            key=lambda c: c.number)

    return make


@pytest.fixture
def make_staff(make_user):
    def make(name: str = "Alice Staff", role: Role = Role.STAFF):
        return make_user(name=name, role=role)

    return make


@pytest.fixture
def assign_committee(app_context):
    def assign(user, consultation) -> None:
        db.session.add(CommitteeAssignment(consultation_id=consultation.id, user_id=user.id))
        db.session.commit()

    return assign
