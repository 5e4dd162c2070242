"""The stakeholder's rules, checked at explicit moments around the consultation's dates."""

import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from consult.comments import services
from consult.comments.models import (
    Comment,
    CommentStatus,
    CommentTarget,
    IndividualType,
    OrganisationType,
    ParticipantKind,
    Participation,
)
from consult.consultations.models import ConsultationStatus
from consult.consultations.importing import parse_document
from consult.consultations.services import import_document
from consult.extensions import db

AS_PATIENT = services.ParticipationChoice(kind=ParticipantKind.INDIVIDUAL,
                                          individual_type=IndividualType.PATIENT_OR_CARER)
AS_CHARITY = services.ParticipationChoice(
    kind=ParticipantKind.ORGANISATION, organisation_name="Foot Health Charity",
    organisation_type=OrganisationType.CHARITY_OR_PATIENT_GROUP,
    has_tobacco_links=True, tobacco_details="A grant in 2019",
)
TICK = timedelta(microseconds=1)


def count(model, *conditions) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*conditions))


def target(consultation, section: str | None = None, chapter: str | None = None,
           document_position: int = 1) -> services.CommentTargetRef:
    document = consultation.documents[document_position - 1]
    if section:
        found = next(s for c in document.chapters for s in c.sections if s.number == section)
        return services.CommentTargetRef(document=document, chapter=found.chapter, section=found)
    if chapter:
        return services.CommentTargetRef(document=document,
                                         chapter=next(c for c in document.chapters if c.number == chapter))
    return services.CommentTargetRef(document=document)


@pytest.fixture
def during(make_consultation):
    """An open consultation, and a moment inside its commenting window."""
    consultation = make_consultation()
    return consultation, consultation.opens_at + timedelta(hours=1)


@pytest.fixture
def participant(during, make_user):
    consultation, now = during
    participation = services.choose_participation(make_user(), consultation, AS_PATIENT, now)
    db.session.flush()
    return participation, now


def save(participation, now, body="A comment.", quote=None, **where) -> Comment:
    return services.save_draft(participation, target(participation.consultation, **where), body, quote, now)


# --- Taking part ---------------------------------------------------------------

@pytest.mark.parametrize("offset, allowed", [(-TICK, False), (timedelta(0), True)])
def test_taking_part_starts_exactly_at_opens_at(during, make_user, offset, allowed):
    consultation, _ = during
    user = make_user()
    moment = consultation.opens_at + offset
    if allowed:
        services.choose_participation(user, consultation, AS_PATIENT, moment)
    else:
        with pytest.raises(services.ConsultationNotOpen) as refused:
            services.choose_participation(user, consultation, AS_PATIENT, moment)
        assert refused.value.consultation_status is ConsultationStatus.UPCOMING
    assert count(Participation, Participation.user_id == user.id) == (1 if allowed else 0)


def taking_nothing_from(consultation):
    """The first moment no write is taken: closes_at plus the consultation's late grace."""
    return consultation.closes_at + timedelta(seconds=consultation.late_grace_seconds)


@pytest.mark.parametrize("offset, allowed", [(-TICK, True), (timedelta(0), False), (TICK, False)])
def test_taking_part_ends_when_the_late_grace_after_closes_at_does(during, make_user, offset, allowed):
    consultation, _ = during
    user = make_user()
    moment = taking_nothing_from(consultation) + offset
    if allowed:
        services.choose_participation(user, consultation, AS_PATIENT, moment)
    else:
        with pytest.raises(services.ConsultationNotOpen) as refused:
            services.choose_participation(user, consultation, AS_PATIENT, moment)
        assert refused.value.consultation_status is ConsultationStatus.CLOSED
        assert "closed" in str(refused.value)
    assert count(Participation, Participation.user_id == user.id) == (1 if allowed else 0)


def test_organisation_choice_is_stored_with_its_declarations(during, make_user):
    consultation, now = during
    participation = services.choose_participation(make_user(), consultation, AS_CHARITY, now)
    db.session.flush()
    db.session.expire_all()
    stored = db.session.get(Participation, participation.id)
    assert stored.kind is ParticipantKind.ORGANISATION
    assert stored.organisation_name == "Foot Health Charity"
    assert stored.organisation_type is OrganisationType.CHARITY_OR_PATIENT_GROUP
    assert stored.individual_type is None
    assert (stored.has_tobacco_links, stored.tobacco_details) == (True, "A grant in 2019")
    assert stored.publish_name is False


def test_an_organisation_name_is_stored_without_invisible_format_characters(during, make_user):
    consultation, now = during
    choice = dataclasses.replace(AS_CHARITY, organisation_name=" Foot\u200b Health\u2060 Charity\ufeff")
    assert services.choose_participation(make_user(), consultation, choice, now).organisation_name == (
        "Foot Health Charity")


def test_an_organisation_name_that_changes_the_direction_of_text_is_refused(during, make_user):
    consultation, now = during
    user = make_user()
    choice = dataclasses.replace(AS_CHARITY, organisation_name="\u202eytirahC htlaeH tooF")
    with pytest.raises(services.InvalidOrganisationName, match="must not include hidden characters"):
        services.choose_participation(user, consultation, choice, now)
    assert count(Participation, Participation.user_id == user.id) == 0


def test_second_choice_raises_participation_already_chosen_with_the_existing_row(during, make_user):
    consultation, now = during
    user = make_user()
    first = services.choose_participation(user, consultation, AS_PATIENT, now)
    db.session.flush()
    with pytest.raises(services.ParticipationAlreadyChosen) as refused:
        services.choose_participation(user, consultation, AS_CHARITY, now)
    assert refused.value.existing.id == first.id
    assert "cannot be changed" in str(refused.value)
    db.session.expire_all()
    rows = db.session.scalars(select(Participation).where(Participation.user_id == user.id)).all()
    assert [(r.kind, r.organisation_name) for r in rows] == [(ParticipantKind.INDIVIDUAL, None)]


def test_database_refuses_a_second_participation_row(during, make_user):
    consultation, now = during
    user = make_user()
    services.choose_participation(user, consultation, AS_PATIENT, now)
    db.session.flush()
    with pytest.raises(IntegrityError) as refused:
        with db.session.begin_nested():
            db.session.add(Participation(
                user_id=user.id, consultation_id=consultation.id, kind=ParticipantKind.ORGANISATION,
                organisation_name="Someone Else Ltd", organisation_type=OrganisationType.COMPANY_OR_INDUSTRY,
            ))
    message = str(refused.value.orig).lower()
    assert "participations" in message and "user_id" in message
    assert count(Participation, Participation.user_id == user.id) == 1


def test_same_user_may_take_part_in_two_consultations(make_consultation, make_user):
    user = make_user()
    for consultation in (make_consultation(), make_consultation()):
        services.choose_participation(user, consultation, AS_PATIENT, consultation.opens_at)
    assert count(Participation, Participation.user_id == user.id) == 2


# --- Drafts --------------------------------------------------------------------

@pytest.mark.parametrize("where, kind", [
    ({}, CommentTarget.DOCUMENT),
    ({"chapter": "2"}, CommentTarget.CHAPTER),
    ({"section": "2.1"}, CommentTarget.SECTION),
])
def test_draft_can_target_document_chapter_or_section(participant, where, kind):
    participation, now = participant
    comment = save(participation, now, **where)
    db.session.expire_all()
    stored = db.session.get(Comment, comment.id)
    assert stored.target is kind
    assert stored.status is CommentStatus.DRAFT and stored.number is None
    if kind is CommentTarget.SECTION:
        assert (stored.section.number, stored.chapter.number) == ("2.1", "2")
    elif kind is CommentTarget.CHAPTER:
        assert (stored.chapter.number, stored.section_id) == ("2", None)
    else:
        assert (stored.chapter_id, stored.section_id) == (None, None)


@pytest.mark.parametrize("offset, allowed", [(-TICK, True), (timedelta(0), False)])
def test_save_draft_is_refused_once_the_late_grace_ends(participant, offset, allowed):
    participation, _ = participant
    moment = taking_nothing_from(participation.consultation) + offset
    if allowed:
        save(participation, moment)
    else:
        with pytest.raises(services.ConsultationNotOpen):
            save(participation, moment)
    assert count(Comment, Comment.participation_id == participation.id) == (1 if allowed else 0)


def test_save_draft_is_refused_before_opens_at(participant):
    participation, _ = participant
    with pytest.raises(services.ConsultationNotOpen) as refused:
        save(participation, participation.consultation.opens_at - TICK)
    assert refused.value.consultation_status is ConsultationStatus.UPCOMING
    assert count(Comment, Comment.participation_id == participation.id) == 0


def test_update_and_delete_are_refused_exactly_when_the_late_grace_ends(participant):
    participation, now = participant
    comment = save(participation, now, body="Original words.")
    closes_at = taking_nothing_from(participation.consultation)
    with pytest.raises(services.ConsultationNotOpen):
        services.update_draft(comment, "Changed words.", None, closes_at)
    with pytest.raises(services.ConsultationNotOpen):
        services.delete_draft(comment, closes_at)
    db.session.expire_all()
    assert db.session.get(Comment, comment.id).body == "Original words."


def test_update_and_delete_work_on_drafts_while_open(participant):
    participation, now = participant
    kept = save(participation, now, body="Original words.", section="2.1")
    removed = save(participation, now, body="Delete me.")
    services.update_draft(kept, "Changed words.", "A thin probe", participation.consultation.closes_at - TICK)
    services.delete_draft(removed, now)
    db.session.expire_all()
    assert (db.session.get(Comment, kept.id).body, db.session.get(Comment, kept.id).quote) == \
        ("Changed words.", "A thin probe")
    assert db.session.get(Comment, removed.id) is None


@pytest.mark.parametrize("body", ["", "   \n\t ", " \u00a0\u200b\u2060 ", "\ufeff\u200d"])
def test_empty_body_is_refused(participant, body):
    participation, now = participant
    with pytest.raises(services.InvalidComment, match="Enter your comment"):
        save(participation, now, body=body)


def test_body_of_10000_characters_is_accepted_and_10001_refused_with_the_count(participant):
    participation, now = participant
    assert len(save(participation, now, body="a" * 10_000).body) == 10_000
    with pytest.raises(services.InvalidComment) as refused:
        save(participation, now, body="a" * 10_001)
    assert "10,000 characters or fewer" in str(refused.value)
    assert "It has 10,001" in str(refused.value)


def test_quote_is_matched_with_whitespace_differences_tolerated(participant):
    participation, now = participant
    comment = save(participation, now, section="2.1", quote="  A thin\n  probe   is passed\tthrough ")
    assert comment.quote == "A thin probe is passed through"


def test_a_quote_of_a_list_and_bold_words_as_shown_or_as_written_is_accepted():
    from consult.consultations.models import Section

    section = Section(number="1.1", text="Offer it only when:\n- the person has tried **conservative** care\n"
                                         "- the team includes a surgeon")
    shown = "only when: the person has tried conservative care the team"
    assert services.clean_quote(shown, section) == shown  # selected or pasted from the page, JavaScript or not
    written = "when: - the person has tried **conservative**"
    assert services.clean_quote(written, section) == written
    with pytest.raises(services.InvalidComment):
        services.clean_quote("tried conservative care and surgery", section)


def test_quote_not_in_the_section_is_refused_naming_the_section(participant):
    participation, now = participant
    with pytest.raises(services.InvalidComment, match="section 2.1"):
        # The words are in the document, but in 2.2, not the section commented on.
        save(participation, now, section="2.1", quote="can be repeated if pain returns")
    assert count(Comment, Comment.participation_id == participation.id) == 0


@pytest.mark.parametrize("where", [{}, {"chapter": "1"}])
def test_quote_is_refused_on_document_and_chapter_comments(participant, where):
    participation, now = participant
    with pytest.raises(services.InvalidComment, match="only be added to a comment on a section"):
        save(participation, now, quote="A thin probe", **where)


def test_target_from_another_consultation_is_refused(participant, make_consultation):
    participation, now = participant
    other = make_consultation()
    with pytest.raises(services.InvalidComment, match="another consultation"):
        services.save_draft(participation, target(other, section="1.1"), "Body", None, now)


def test_comments_are_listed_in_document_order_whatever_order_they_were_written(participant):
    participation, now = participant
    consultation = participation.consultation
    import_document(consultation, parse_document("# Second document\n\n## 1 Only\n\n1.1 Words.\n"))
    db.session.flush()
    written = [
        save(participation, now, body="second document", document_position=2),
        save(participation, now, body="on 2.2", section="2.2"),
        save(participation, now, body="on chapter 2", chapter="2"),
        save(participation, now, body="on 1.1", section="1.1"),
        save(participation, now, body="whole document"),
    ]
    assert len(written) == 5
    listed = [c.body for c in services.list_comments(participation)]
    assert listed == ["whole document", "on 1.1", "on chapter 2", "on 2.2", "second document"]


# --- Submission ----------------------------------------------------------------

def test_submit_numbers_drafts_in_document_order_and_gives_a_receipt(participant):
    participation, now = participant
    reference = participation.consultation.reference
    later = save(participation, now, body="on 2.2", section="2.2")
    first = save(participation, now, body="whole document")
    middle = save(participation, now, body="on 1.1", section="1.1")
    services.submit_response(participation, now)
    db.session.expire_all()
    assert [db.session.get(Comment, c.id).reference for c in (first, middle, later)] == \
        [f"{reference}-0001", f"{reference}-0002", f"{reference}-0003"]
    assert all(db.session.get(Comment, c.id).status is CommentStatus.SUBMITTED for c in (first, middle, later))
    assert participation.submitted_at == now
    assert participation.receipt_reference.startswith(f"{reference}-")


def test_the_receipt_email_says_how_many_comments_and_answers_were_submitted(participant):
    from consult.mail.models import OutboxEmail
    from consult.questions.models import Question, QuestionKind
    from consult.questions.services import save_answer

    participation, now = participant
    save(participation, now, body="Only comment.")
    for position in (1, 2):
        question = Question(consultation_id=participation.consultation_id, kind=QuestionKind.YES_NO,
                            position=position, text=f"Question number {position}?")
        db.session.add(question)
        db.session.flush()
        save_answer(participation, question, position == 1, "", now)
    services.submit_response(participation, now)
    receipt = db.session.scalar(select(OutboxEmail).where(OutboxEmail.to == participation.user.email,
                                                          OutboxEmail.kind == "submission_receipt"))
    for body in (receipt.text, receipt.html):
        assert "Comments submitted: 1" in body and "Answers submitted: 2" in body
    assert "Read your submitted comments and answers" in receipt.html


def test_submit_is_idempotent(participant):
    participation, now = participant
    save(participation, now, body="Only comment.")
    services.submit_response(participation, now)
    receipt, submitted_at = participation.receipt_reference, participation.submitted_at
    again = services.submit_response(participation, now + timedelta(minutes=1))
    db.session.expire_all()
    assert again.receipt_reference == receipt and again.submitted_at == submitted_at
    numbers = db.session.scalars(select(Comment.number).where(Comment.participation_id == participation.id)).all()
    assert numbers == [1]
    assert participation.consultation.last_comment_number == 1


def test_comment_numbers_are_unique_and_consecutive_across_participants(participant, make_user):
    participation, now = participant
    consultation = participation.consultation
    other = services.choose_participation(make_user(), consultation, AS_CHARITY, now)
    for body in ("first", "second"):
        save(participation, now, body=body)
    for section in ("1.1", "1.2", "2.1"):
        save(other, now, body=f"on {section}", section=section)
    services.submit_response(participation, now)
    services.submit_response(other, now)
    db.session.expire_all()
    numbers = db.session.scalars(
        select(Comment.number).where(Comment.consultation_id == consultation.id).order_by(Comment.number)
    ).all()
    assert numbers == [1, 2, 3, 4, 5]
    assert [c.number for c in services.list_comments(other)] == [3, 4, 5]
    assert participation.receipt_reference != other.receipt_reference


def test_a_submission_that_arrives_within_the_late_grace_is_taken(participant):
    participation, now = participant
    save(participation, now)
    consultation = participation.consultation
    arrived = consultation.closes_at + timedelta(seconds=consultation.late_grace_seconds) - TICK
    assert consultation.status_at(arrived) is ConsultationStatus.CLOSED  # pages say it has closed

    services.submit_response(participation, arrived)

    assert participation.is_submitted and consultation.late_grace_seconds == 15


def test_without_a_late_grace_the_deadline_is_exact(participant):
    participation, now = participant
    save(participation, now)
    participation.consultation.late_grace_seconds = 0
    with pytest.raises(services.ConsultationNotOpen):
        services.submit_response(participation, participation.consultation.closes_at)
    services.submit_response(participation, participation.consultation.closes_at - TICK)
    assert participation.is_submitted


def test_submit_with_no_drafts_is_refused(participant):
    participation, now = participant
    with pytest.raises(services.NothingToSubmit):
        services.submit_response(participation, now)
    assert participation.submitted_at is None and participation.receipt_reference is None


def test_submit_is_refused_exactly_when_the_late_grace_ends_and_drafts_stay_drafts(participant):
    participation, now = participant
    comment = save(participation, now)
    with pytest.raises(services.ConsultationNotOpen):
        services.submit_response(participation, taking_nothing_from(participation.consultation))
    db.session.expire_all()
    assert db.session.get(Comment, comment.id).status is CommentStatus.DRAFT
    assert participation.submitted_at is None


def test_submitted_comments_cannot_be_added_to_changed_or_deleted(participant):
    participation, now = participant
    comment = save(participation, now, body="Final words.")
    services.submit_response(participation, now)
    with pytest.raises(services.ResponseAlreadySubmitted):
        save(participation, now, body="An afterthought.")
    with pytest.raises(services.ResponseAlreadySubmitted):
        services.update_draft(comment, "Changed.", None, now)
    with pytest.raises(services.ResponseAlreadySubmitted):
        services.delete_draft(comment, now)
    db.session.expire_all()
    assert [c.body for c in services.list_comments(participation)] == ["Final words."]


# --- What the database itself refuses ------------------------------------------

def _raw_comment(participation, **overrides) -> Comment:
    document = participation.consultation.documents[0]
    values = {"participation_id": participation.id, "consultation_id": participation.consultation_id,
              "document_id": document.id, "target": CommentTarget.DOCUMENT, "body": "Body",
              "status": CommentStatus.DRAFT, **overrides}
    return Comment(**values)


@pytest.mark.parametrize("overrides", [
    {"body": "a" * 10_001},
    {"body": ""},
    {"quote": "A quote on a whole-document comment"},
    {"status": CommentStatus.SUBMITTED},  # submitted without a number
])
def test_database_check_constraints_refuse_invalid_comments(participant, overrides):
    participation, _ = participant
    with pytest.raises(IntegrityError):
        with db.session.begin_nested():
            db.session.add(_raw_comment(participation, **overrides))
    assert count(Comment, Comment.participation_id == participation.id) == 0


def test_database_accepts_a_body_of_exactly_10000_characters(participant):
    participation, _ = participant
    with db.session.begin_nested():
        db.session.add(_raw_comment(participation, body="a" * 10_000))
    assert count(Comment, Comment.participation_id == participation.id) == 1


def test_database_refuses_a_comment_for_a_missing_participation(participant):
    participation, _ = participant
    with pytest.raises(IntegrityError):
        with db.session.begin_nested():
            db.session.add(_raw_comment(participation, participation_id=participation.id + 10_000))


def test_commenting_errors_carry_the_field_and_status_the_pages_show(participant):
    participation, now = participant
    with pytest.raises(services.InvalidComment) as wrong_quote:
        save(participation, now, quote="Words from nowhere", section="2.1")
    assert (wrong_quote.value.field, wrong_quote.value.status) == ("quote", 200)
    with pytest.raises(services.InvalidComment) as empty:
        save(participation, now, body="   ")
    assert (empty.value.field, empty.value.status) == ("body", 200)
    with pytest.raises(services.ConsultationNotOpen) as closed:
        save(participation, taking_nothing_from(participation.consultation))
    assert (closed.value.field, closed.value.status) == (None, 409)


def test_a_colleagues_drafts_close_when_their_organisation_responds(make_consultation):
    from consult.database import utcnow
    from consult.organisations import services as organisation_services
    from tests.organisations.conftest import new_lead, respond_leaving_a_draft

    consultation = make_consultation()
    lead = new_lead()
    code = organisation_services.share_code(lead, consultation, utcnow())
    _, colleague, draft = respond_leaving_a_draft(consultation, lead, code)
    for refused in (lambda: services.save_draft(colleague, target(consultation, "2.1"), "After", None, utcnow()),
                    lambda: services.update_draft(draft, "After", None, utcnow()),
                    lambda: services.delete_draft(draft, utcnow())):
        with pytest.raises(organisation_services.ResponseClosedToColleague):
            refused()
        db.session.rollback()
    assert [c.body for c in services.list_comments(colleague)] == ["Kept back"]
    with pytest.raises(organisation_services.ResponseClosedToColleague):
        services.require_changeable(colleague, draft)


def test_editing_or_submitting_a_draft_sends_no_statement_about_publication(participant):
    """Only staff acts on submitted comments can change a published page: an author's edits cost nothing more."""
    from tests.query_counting import counted_queries

    participation, now = participant
    comment = services.save_draft(participation, services.CommentTargetRef(participation.consultation.documents[0]),
                                  "First words.", None, now)
    db.session.flush()
    with counted_queries() as statements:
        services.update_draft(comment, "Changed words.", None, now)
        db.session.flush()
        services.submit_response(participation, now)
        db.session.flush()
    assert not [s for s in statements if "UPDATE consultations" in s and "published_revision" in s], statements
