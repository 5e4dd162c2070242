import pytest

from consult.comments import services as comment_services
from consult.database import utcnow
from consult.extensions import db
from tests.conftest import sections_of

SUBMITTED = "=1+1 my submitted words about 2.1"
DRAFT = "My unfinished draft"
ORGANISATION_COMMENT = "Our charity's view on the whole document"
SOMEONE_ELSES = "Someone else's comment 9d2c"


def write(participation, body: str, number: str | None = None):
    consultation = participation.consultation
    if number:
        section = sections_of(consultation)[number]
        target = comment_services.CommentTargetRef(section.document, section.chapter, section)
    else:
        target = comment_services.CommentTargetRef(consultation.documents[0])
    return comment_services.save_draft(participation, target, body, None, utcnow())


@pytest.fixture
def person(make_user, make_consultation, make_participation):
    """A stakeholder with a submitted individual response (declaring everything), a draft elsewhere,
    and an organisation's submitted response; beside them, someone else's submitted comment."""
    me = make_user(name="Pat Person", email="pat.person@example.org")
    answered, drafting, for_charity = make_consultation(), make_consultation(), make_consultation()
    individual = make_participation(me, answered)
    individual.has_tobacco_links, individual.tobacco_details = True, "I advise Pat's Tobacco Ltd"
    individual.other_interests, individual.publish_name = "I am Pat, a podiatrist in Leeds", True
    submitted = write(individual, SUBMITTED, "2.1")
    comment_services.submit_response(individual, utcnow())
    draft = write(make_participation(me, drafting), DRAFT, "1.1")
    organisation = make_participation(me, for_charity, kind="organisation", has_tobacco_links=True,
                                      tobacco_details="A grant in 2019")
    organisation.other_interests = "We sell insoles"
    write(organisation, ORGANISATION_COMMENT)
    comment_services.submit_response(organisation, utcnow())
    other = make_participation(make_user(name="Other Person", email="other@example.org"), answered)
    write(other, SOMEONE_ELSES, "2.1")
    comment_services.submit_response(other, utcnow())
    db.session.commit()
    return {"user": me, "individual": individual, "organisation": organisation, "submitted": submitted,
            "draft_id": draft.id, "draft_participation_id": draft.participation_id, "consultations": (answered, drafting, for_charity)}
