"""An organisation with a lead, and colleagues who join with its code."""

import pytest

from consult.accounts.models import Role
from consult.comments import services as comment_services
from consult.comments.models import OrganisationType
from consult.database import utcnow
from consult.extensions import db
from consult.organisations import services
from tests.conftest import new_user, sections_of


def new_lead(name: str = "Lena Lead", organisation: str = "Foot Health UK",
             organisation_type: OrganisationType = OrganisationType.CHARITY_OR_PATIENT_GROUP):
    admin = new_user(name="Ada Admin", role=Role.ADMIN)
    user = new_user(name=name)
    services.mark_lead(user, organisation, organisation_type, admin)
    db.session.commit()
    return user


def new_colleague(consultation, code: str, name: str = "Cal Colleague"):
    user = new_user(name=name)
    participation = services.join_with_code(user, consultation, code, utcnow())
    db.session.commit()
    return user, participation


def draft_on(participation, number: str = "2.1", body: str = "A comment"):
    section = sections_of(participation.consultation)[number]
    comment = comment_services.save_draft(
        participation, comment_services.CommentTargetRef(section.document, section.chapter, section), body, None,
        utcnow())
    db.session.commit()
    return comment


@pytest.fixture
def make_lead(app_context):
    return new_lead


@pytest.fixture
def make_colleague(app_context):
    return new_colleague


@pytest.fixture
def shared(make_consultation, make_lead):
    """An open consultation, a lead who has shared the organisation's code, and that code."""
    consultation = make_consultation()
    lead = make_lead()
    code = services.share_code(lead, consultation, utcnow())
    db.session.commit()
    return consultation, lead, code


def respond_leaving_a_draft(consultation, lead, code):
    """A colleague keeps back a draft, then the lead submits the organisation's response.

    Returns the colleague, their participation and the draft kept back.
    """
    user, participation = new_colleague(consultation, code.code)
    draft = draft_on(participation, body="Kept back")
    lead_response = comment_services.find_participation(lead.id, consultation.id)
    draft_on(lead_response, body="The organisation's comment")
    services.submit_organisation_response(lead_response, False, "", utcnow())
    db.session.commit()
    return user, participation, draft
