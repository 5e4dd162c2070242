import pytest

from consult.accounts.models import Role
from consult.comments import services as comment_services
from consult.comments.models import Comment, IndividualType, OrganisationType
from consult.consultations.models import CommitteeAssignment
from consult.database import utcnow
from consult.extensions import db
from consult.moderation.models import CommentResponse, CommentTheme, Theme
from consult.moderation.states import ModerationState, RejectionReason, ResponseState
from tests.conftest import sections_of

# Declared when taking part: shown to staff and the committee, never published.
CHARITY_INTERESTS = "=Paid adviser to Acme Orthotics, maker of the device under review"
PROFESSIONAL_INTERESTS = "Holds shares in StepWell Ltd"


@pytest.fixture(autouse=True)
def fresh_published_cache():
    """Test transactions roll back, so ids and timestamps recur; no test may read another's cached page."""
    from consult.exports.publication import clear_published_cache
    from consult.exports.representative import clear_cache

    clear_published_cache()
    clear_cache()
    yield
    clear_published_cache()
    clear_cache()


@pytest.fixture
def moderated_consultation(make_user, make_consultation, make_participation):
    """Submitted comments in every moderation state, with themes and responses.

    Made directly through the models where the staff services are not the
    subject: these tests are about what the outputs show.
    """
    consultation = make_consultation(reference="HTE3001")
    sections = sections_of(consultation)
    staff = make_user(name="Staff Member")
    people = {
        "named patient": (make_user(name="Pat Named", email="pat@example.org"),
                          {"individual_type": IndividualType.PATIENT_OR_CARER}, True),
        "anonymous professional": (make_user(name="Hidden Person", email="hidden@example.org"),
                                   {"individual_type": IndividualType.HEALTH_PROFESSIONAL}, False),
        "charity": (make_user(name="Charity Contact", email="charity@example.org"),
                    {"kind": "organisation", "organisation_name": "Neuroma Support",
                     "organisation_type": OrganisationType.CHARITY_OR_PATIENT_GROUP,
                     "has_tobacco_links": True, "tobacco_details": "=HYPERLINK(\"http://x\")"}, False),
    }
    texts = {
        "named patient": [("2.1", "=1+1 looks like a formula"), ("1.1", "Section one comment")],
        "anonymous professional": [("2.2", "Please add follow-up data"), ("1.2", "Spam spam spam")],
        "charity": [("2.1", "@SUM(A1) and more"), (None, "-Whole document view")],
    }
    interests = {"charity": CHARITY_INTERESTS, "anonymous professional": PROFESSIONAL_INTERESTS}
    comments = {}
    for label, (user, answers, publish) in people.items():
        participation = make_participation(user, consultation, **answers)
        participation.publish_name = publish
        participation.other_interests = interests.get(label, "")
        for number, body in texts[label]:
            section = sections[number] if number else None
            target = (comment_services.CommentTargetRef(section.document, section.chapter, section) if section
                      else comment_services.CommentTargetRef(consultation.documents[0]))
            comments[body] = comment_services.save_draft(participation, target, body, None, utcnow())
        comment_services.submit_response(participation, utcnow())
    rejected = comments["Spam spam spam"]
    rejected.moderation_state, rejected.rejection_reason = ModerationState.REJECTED, RejectionReason.SPAM
    redacted = comments["Please add follow-up data"]
    redacted.moderation_state, redacted.redacted_body = ModerationState.REDACTED, "Please add [redacted] data"
    safety = Theme(consultation_id=consultation.id, name="Safety")
    evidence = Theme(consultation_id=consultation.id, name="Evidence gaps")
    db.session.add_all([safety, evidence])
    db.session.flush()
    for body, theme in [("=1+1 looks like a formula", safety), ("=1+1 looks like a formula", evidence),
                        ("Please add follow-up data", evidence)]:
        db.session.add(CommentTheme(comment_id=comments[body].id, theme_id=theme.id, tagged_by_id=staff.id))
    db.session.add(CommentResponse(comment_id=comments["=1+1 looks like a formula"].id, state=ResponseState.AGREED,
                                   text="Thank you. The committee agreed.", updated_by_id=staff.id))
    db.session.add(CommentResponse(comment_id=comments["Section one comment"].id, state=ResponseState.NOT_NEEDED,
                                   reason="Comment supports the recommendation", updated_by_id=staff.id))
    db.session.commit()
    return consultation, comments


def all_comments_of(consultation):
    from consult.exports.rows import comments_select

    return comments_select().where(Comment.consultation_id == consultation.id)


@pytest.fixture
def committee_member(make_user, moderated_consultation):
    """A committee member assigned to the moderated consultation."""
    consultation, _ = moderated_consultation
    member = make_user(role=Role.COMMITTEE, name="Committee Member")
    db.session.add(CommitteeAssignment(consultation_id=consultation.id, user_id=member.id))
    db.session.commit()
    return member
