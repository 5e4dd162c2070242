"""The rules of an organisation's response: leads, codes, colleagues, the one submission."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from consult.accounts.models import Role
from consult.audit.models import AuditEvent
from consult.comments import services as comment_services
from consult.comments.models import Comment, OrganisationRole, OrganisationType, ParticipantKind, Participation
from consult.database import utcnow
from consult.extensions import db
from consult.organisations import services
from consult.organisations.models import Organisation, OrganisationCode
from consult.questions.models import Question, QuestionKind
from consult.questions.services import AnswerSentToLead, answers_by_question, save_answer
from tests.conftest import new_participation, new_user
from tests.organisations.conftest import draft_on, new_colleague, new_lead, respond_leaving_a_draft

# --- leads ------------------------------------------------------------------------------


def test_marking_a_lead_records_the_organisation_and_is_audited(app_context):
    admin = new_user(role=Role.ADMIN)
    user = new_user(name="Lena")
    lead = services.mark_lead(user, "  Foot  Health UK ", OrganisationType.CHARITY_OR_PATIENT_GROUP, admin)
    db.session.commit()
    assert lead.organisation.name == "Foot Health UK"
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.actor_id == admin.id)).all()
    assert sorted(actions) == ["organisation.create", "organisation.lead_marked"]


def test_a_second_lead_joins_the_same_organisation_whatever_the_case(app_context):
    first = new_lead(organisation="Foot Health UK")
    second = new_lead(name="Second", organisation="foot health uk")
    assert services.lead_of(first.id).organisation_id == services.lead_of(second.id).organisation_id
    assert db.session.scalar(select(func.count()).select_from(Organisation)) == 1


@pytest.mark.parametrize("typed", ["Fo\u200bot Health UK", "Fοot Health UK", "Fооt Неаlth UK", "ＦＯＯＴ HEALTH UK"])
def test_a_look_alike_name_is_the_same_organisation(app_context, typed):
    """A zero-width space or a Greek or Cyrillic look-alike letter does not make a second organisation."""
    first = new_lead(organisation="Foot Health UK")
    second = new_lead(name="Second", organisation=typed)
    assert services.lead_of(first.id).organisation_id == services.lead_of(second.id).organisation_id
    assert db.session.scalar(select(func.count()).select_from(Organisation)) == 1
    assert services.organisation_with_leads(typed).name == "Foot Health UK"


def test_an_organisation_is_recorded_without_invisible_characters(app_context):
    lead = services.mark_lead(new_user(), "\u200bLeeds\u2060 Trust\ufeff", OrganisationType.OTHER,
                              new_user(role=Role.ADMIN))
    assert (lead.organisation.name, lead.organisation.name_key) == ("Leeds Trust", "leeds trust")


def test_an_organisation_name_that_changes_the_direction_of_text_is_refused(app_context):
    with pytest.raises(services.InvalidLead, match="must not include hidden characters that change the direction"):
        services.mark_lead(new_user(), "\u202eKU htlaeH tooF", OrganisationType.OTHER, new_user(role=Role.ADMIN))
    assert db.session.scalar(select(func.count()).select_from(Organisation)) == 0


def test_a_lead_leads_one_organisation(app_context):
    user = new_lead(organisation="Foot Health UK")
    with pytest.raises(services.InvalidLead, match="already the commenting lead of Foot Health UK"):
        services.mark_lead(user, "Another Charity", OrganisationType.OTHER, new_user(role=Role.ADMIN))


def test_an_organisation_on_record_keeps_its_type(app_context):
    new_lead(organisation="Foot Health UK", organisation_type=OrganisationType.CHARITY_OR_PATIENT_GROUP)
    with pytest.raises(services.InvalidLead, match="recorded as “Charity or patient group”"):
        services.mark_lead(new_user(), "Foot Health UK", OrganisationType.OTHER, new_user(role=Role.ADMIN))


def test_staff_accounts_cannot_be_leads(app_context):
    with pytest.raises(services.InvalidLead, match="Only a stakeholder account"):
        services.mark_lead(new_user(role=Role.STAFF), "Foot Health UK", OrganisationType.OTHER,
                           new_user(role=Role.ADMIN))


def test_removing_a_lead_is_audited(app_context):
    admin = new_user(role=Role.ADMIN)
    user = new_lead()
    services.remove_lead(user, admin)
    db.session.commit()
    assert services.lead_of(user.id) is None
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.actor_id == admin.id)) == \
        "organisation.lead_removed"


# --- codes -----------------------------------------------------------------------------


def test_a_code_is_twelve_digits_without_a_leading_zero_and_the_same_when_asked_again(shared):
    consultation, lead, code = shared
    assert len(code.code) == 12 and code.code.isdigit() and code.code[0] != "0"
    assert code.shown == f"{code.code[:4]} {code.code[4:8]} {code.code[8:]}"
    assert services.share_code(lead, consultation, utcnow()).code == code.code
    second_lead = new_lead(name="Second lead")
    assert services.share_code(second_lead, consultation, utcnow()).code == code.code


def test_a_clashing_code_is_drawn_again(shared, make_consultation, monkeypatch):
    _, _, taken = shared
    draws = iter([taken.code, "123456789012"])
    monkeypatch.setattr(services, "_new_code", lambda: next(draws))
    code = services.share_code(new_lead(name="Other", organisation="Other org"), make_consultation(), utcnow())
    assert code.code == "123456789012"


def test_the_database_refuses_a_code_with_a_leading_zero(shared):
    _, _, code = shared
    with pytest.raises(IntegrityError):
        with db.session.begin_nested():
            db.session.execute(update(OrganisationCode).where(OrganisationCode.id == code.id)
                               .values(code="012345678901"))


def test_only_a_lead_can_share(make_consultation, app_context):
    with pytest.raises(services.NotALead):
        services.share_code(new_user(), make_consultation(), utcnow())


def test_a_code_cannot_be_shared_on_a_closed_consultation(make_consultation, app_context):
    with pytest.raises(comment_services.ConsultationNotOpen):
        services.share_code(new_lead(), make_consultation(state="closed"), utcnow())


@pytest.mark.parametrize("typed", ["999999999999", "1234", "", "abcdabcdabcd"])
def test_a_wrong_code_is_refused(shared, typed):
    consultation, _, _ = shared
    with pytest.raises((services.IncorrectCode, services.CodeFormatWrong)):
        services.check_code(new_user(), consultation, typed, utcnow())


def test_another_consultations_code_gets_the_same_message_as_a_made_up_one(shared, make_consultation):
    consultation, lead, _ = shared
    other = make_consultation()
    other_code = services.share_code(lead, other, utcnow())
    with pytest.raises(services.IncorrectCode) as for_other:
        services.check_code(new_user(), consultation, other_code.code, utcnow())
    with pytest.raises(services.IncorrectCode) as made_up:
        services.check_code(new_user(), consultation, "987654321098", utcnow())
    assert for_other.value.message == made_up.value.message
    assert "Incorrect code" in made_up.value.message


def test_a_code_typed_with_spaces_works(shared):
    consultation, _, code = shared
    assert services.check_code(new_user(), consultation, f" {code.shown} ", utcnow()).id == code.id


# --- colleagues -------------------------------------------------------------------------


def test_a_colleague_takes_part_on_behalf_of_the_organisation(shared):
    consultation, _, code = shared
    _, participation = new_colleague(consultation, code.code)
    assert participation.kind is ParticipantKind.ORGANISATION
    assert participation.organisation_name == "Foot Health UK"
    assert participation.organisation_type is OrganisationType.CHARITY_OR_PATIENT_GROUP
    assert participation.organisation_role is OrganisationRole.COLLEAGUE
    assert participation.organisation_id == code.organisation_id


def test_someone_already_taking_part_cannot_use_a_code(shared):
    consultation, _, code = shared
    user = new_user()
    new_participation(user, consultation)
    with pytest.raises(services.AlreadyTakingPart, match="as an individual"):
        services.join_with_code(user, consultation, code.code, utcnow())


def test_a_colleague_never_submits(shared):
    consultation, _, code = shared
    _, participation = new_colleague(consultation, code.code)
    draft_on(participation)
    with pytest.raises(comment_services.ColleaguesSendToLead):
        comment_services.submit_response(participation, utcnow())
    with pytest.raises(IntegrityError):  # and the database agrees
        with db.session.begin_nested():
            db.session.execute(update(Participation).where(Participation.id == participation.id)
                               .values(submitted_at=utcnow()))


def test_sending_makes_the_originals_read_only_and_gives_the_lead_editable_copies(shared):
    consultation, lead, code = shared
    _, participation = new_colleague(consultation, code.code)
    original = draft_on(participation, body="Please add quality of life")
    sent = services.send_to_lead(participation, utcnow())
    db.session.commit()
    assert [c.id for c in sent.comments] == [original.id]
    with pytest.raises(comment_services.SentToLead):
        comment_services.update_draft(original, "Changed", None, utcnow())
    db.session.rollback()
    with pytest.raises(comment_services.SentToLead):
        comment_services.delete_draft(original, utcnow())
    db.session.rollback()
    lead_response = comment_services.find_participation(lead.id, consultation.id)
    (copy,) = comment_services.list_comments(lead_response)
    assert copy.original_comment_id == original.id and copy.body == "Please add quality of life"
    comment_services.update_draft(copy, "Please add quality of life outcomes", None, utcnow())
    db.session.commit()
    assert db.session.get(Comment, original.id).body == "Please add quality of life"


def test_nothing_to_send_is_said_plainly(shared):
    consultation, _, code = shared
    _, participation = new_colleague(consultation, code.code)
    with pytest.raises(services.NothingToSend):
        services.send_to_lead(participation, utcnow())


def test_a_lead_who_starts_later_gets_copies_of_what_was_already_sent(shared):
    consultation, _, code = shared
    _, participation = new_colleague(consultation, code.code)
    draft_on(participation)
    services.send_to_lead(participation, utcnow())
    db.session.commit()
    latecomer = new_lead(name="Late lead")
    response = services.start_lead_response(latecomer, consultation, utcnow())
    assert len(comment_services.list_comments(response)) == 1


def test_the_lead_filters_by_colleague_and_sees_who_sent(shared):
    consultation, lead, code = shared
    first, first_participation = new_colleague(consultation, code.code, name="First")
    second, second_participation = new_colleague(consultation, code.code, name="Second")
    draft_on(first_participation, body="From the first")
    draft_on(second_participation, "1.1", body="From the second")
    services.send_to_lead(first_participation, utcnow())
    services.send_to_lead(second_participation, utcnow())
    response = comment_services.find_participation(lead.id, consultation.id)
    assert [c.body for c in services.lead_response_comments(response, second.id)] == ["From the second"]
    assert {c.email for c in services.colleagues_who_sent(response.organisation_id, consultation.id)} == {
        first.email, second.email}
    rows = [services.sent_values(c) for c in services.sent_comments(response.organisation_id, consultation.id)]
    assert [(row[1], row[-1]) for row in rows] == [(first.email, "From the first"),
                                                   (second.email, "From the second")]


# --- the one submission -------------------------------------------------------------------


def test_the_lead_submits_once_for_the_organisation_and_the_code_stops_working(shared):
    consultation, lead, code = shared
    _, participation = new_colleague(consultation, code.code)
    draft_on(participation)
    services.send_to_lead(participation, utcnow())
    response = comment_services.find_participation(lead.id, consultation.id)
    services.submit_organisation_response(response, True, "Funding in 2019", utcnow())
    db.session.commit()
    assert response.is_submitted and response.has_tobacco_links and response.tobacco_details == "Funding in 2019"
    assert all(not c.is_draft for c in comment_services.list_comments(response))
    with pytest.raises(services.OrganisationAlreadyResponded):
        services.check_code(new_user(), consultation, code.code, utcnow())
    with pytest.raises(services.OrganisationAlreadyResponded):
        draft_on(participation, "1.2")
    db.session.rollback()
    with pytest.raises(services.OrganisationAlreadyResponded):
        services.send_to_lead(participation, utcnow())


def test_the_tobacco_declaration_is_required(shared):
    consultation, lead, _ = shared
    response = comment_services.find_participation(lead.id, consultation.id)
    draft_on(response)
    with pytest.raises(services.InvalidDeclaration):
        services.submit_organisation_response(response, None, "", utcnow())
    with pytest.raises(services.InvalidDeclaration, match="Give details"):
        services.submit_organisation_response(response, True, "  ", utcnow())


def test_a_second_lead_finds_the_organisation_has_responded(shared):
    consultation, lead, _ = shared
    other = new_lead(name="Other lead")
    first = comment_services.find_participation(lead.id, consultation.id)
    second = services.start_lead_response(other, consultation, utcnow())
    draft_on(first)
    draft_on(second)
    services.submit_organisation_response(first, False, "", utcnow())
    db.session.commit()
    with pytest.raises(services.OrganisationAlreadyResponded):
        services.submit_organisation_response(second, False, "", utcnow())


def test_the_database_lets_one_response_per_organisation_be_submitted(shared):
    consultation, lead, _ = shared
    other = new_lead(name="Other lead")
    first = comment_services.find_participation(lead.id, consultation.id)
    second = services.start_lead_response(other, consultation, utcnow())
    db.session.commit()
    now = utcnow()
    db.session.execute(update(Participation).where(Participation.id == first.id).values(submitted_at=now))
    with pytest.raises(IntegrityError):
        with db.session.begin_nested():
            db.session.execute(update(Participation).where(Participation.id == second.id)
                               .values(submitted_at=now + timedelta(seconds=1)))


def test_a_lead_taking_part_as_an_individual_cannot_lead_that_consultation(make_consultation, app_context):
    consultation = make_consultation()
    lead = new_lead()
    new_participation(lead, consultation)
    with pytest.raises(services.AlreadyTakingPart):
        services.start_lead_response(lead, consultation, utcnow())


def test_a_lead_cannot_use_their_own_organisations_code(shared):
    consultation, _, code = shared
    second = new_lead(name="Second lead")
    with pytest.raises(services.LeadUsesOwnResponse):
        services.check_code(second, consultation, code.code, utcnow())


def test_a_lead_cannot_comment_for_another_organisation_with_its_code(shared):
    """Their one participation would be another organisation's, and their own would go unled."""
    consultation, _, code = shared
    other = new_lead(name="Third lead", organisation="Third Org")
    with pytest.raises(services.LeadOfAnotherOrganisation) as refused:
        services.check_code(other, consultation, code.code, utcnow())
    assert "You are the commenting lead of Third Org" in refused.value.message
    assert comment_services.find_participation(other.id, consultation.id) is None


def test_a_colleague_confirms_their_email_before_sending(shared):
    consultation, _, code = shared
    user, participation = new_colleague(consultation, code.code)
    user.email_verified_at = None
    draft_on(participation)
    with pytest.raises(services.EmailNotConfirmed):
        services.send_to_lead(participation, utcnow())


def test_erasing_a_colleagues_account_keeps_the_leads_copies(shared):
    from consult.privacy.services import anonymise_account

    consultation, lead, code = shared
    colleague, participation = new_colleague(consultation, code.code)
    original = draft_on(participation, body="Colleague's words")
    original_id = original.id
    services.send_to_lead(participation, utcnow())
    db.session.commit()
    anonymise_account(colleague, colleague, utcnow(), "Asked to delete their account")
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Comment, original_id) is None
    (copy,) = comment_services.list_comments(comment_services.find_participation(lead.id, consultation.id))
    assert copy.body == "Colleague's words" and copy.original_comment_id is None


# --- answers to the consultation's questions -------------------------------------------


def _question(consultation, position: int, text: str) -> Question:
    question = Question(consultation_id=consultation.id, kind=QuestionKind.YES_NO, text=text, position=position)
    db.session.add(question)
    db.session.flush()
    return question


def _colleague_answers(consultation, code, question, yes_no: bool, text: str = ""):
    _, participation = new_colleague(consultation, code.code)
    save_answer(participation, question, yes_no, text, utcnow())
    services.send_to_lead(participation, utcnow())
    db.session.commit()
    return participation


def test_a_sent_answer_is_read_only_and_agreeing_answers_become_the_organisations(shared):
    consultation, lead, code = shared
    question = _question(consultation, 1, "Has all of the relevant evidence been taken into account?")
    first = _colleague_answers(consultation, code, question, True, "Yes, all of it")
    _colleague_answers(consultation, code, question, True, "Yes, all of it")
    with pytest.raises(AnswerSentToLead):
        save_answer(first, question, False, "Changed my mind", utcnow())
    db.session.rollback()

    response = comment_services.find_participation(lead.id, consultation.id) or services.start_lead_response(
        lead, consultation, utcnow())
    services.submit_organisation_response(response, False, "", utcnow())
    db.session.commit()
    [answer] = answers_by_question(response).values()
    assert (answer.yes_no, answer.text) == (True, "Yes, all of it") and response.is_submitted


def test_differing_answers_stop_the_submission_until_the_lead_chooses(shared):
    consultation, lead, code = shared
    agreed = _question(consultation, 1, "Are the recommendations sound?")
    split = _question(consultation, 2, "Has all of the relevant evidence been taken into account?")
    _colleague_answers(consultation, code, agreed, True)
    _colleague_answers(consultation, code, split, True, "Yes")
    dissent = _colleague_answers(consultation, code, split, False, "The 2024 trial is missing")
    response = comment_services.find_participation(lead.id, consultation.id) or services.start_lead_response(
        lead, consultation, utcnow())
    db.session.commit()

    with pytest.raises(services.AnswersToMerge) as refused:
        services.submit_organisation_response(response, False, "", utcnow())
    assert "question 2, “Has all of the relevant evidence" in str(refused.value)
    assert "question 1" not in str(refused.value)
    db.session.rollback()
    assert not response.is_submitted

    [chosen] = [a for a in services.sent_answers(response.organisation_id, consultation.id)[split.id]
                if a.participation_id == dissent.id]
    services.adopt_answer(response, chosen, utcnow())
    services.submit_organisation_response(response, False, "", utcnow())
    db.session.commit()
    answers = answers_by_question(response)
    assert (answers[split.id].yes_no, answers[split.id].text) == (False, "The 2024 trial is missing")
    assert answers[agreed.id].yes_no is True and response.is_submitted


def test_only_a_lead_adopts_an_answer_sent_to_their_own_organisation(shared, make_consultation):
    consultation, lead, code = shared
    question = _question(consultation, 1, "Are the recommendations sound?")
    colleague = _colleague_answers(consultation, code, question, True)
    [sent] = services.sent_answers(colleague.organisation_id, consultation.id)[question.id]
    with pytest.raises(services.NotALead):
        services.adopt_answer(colleague, sent, utcnow())
    other_lead = services.mark_lead(new_user(), "Another Charity", OrganisationType.CHARITY_OR_PATIENT_GROUP, None)
    other = services.start_lead_response(other_lead.user, consultation, utcnow())
    with pytest.raises(services.AnswerNotThere):
        services.adopt_answer(other, sent, utcnow())


def test_answers_alone_are_sent_to_the_lead_and_counted_with_the_comments(shared):
    consultation, lead, code = shared
    first = _question(consultation, 1, "Are the recommendations sound?")
    second = _question(consultation, 2, "Has all of the relevant evidence been taken into account?")
    _, participation = new_colleague(consultation, code.code)
    answer = save_answer(participation, first, True, "Sound", utcnow())
    db.session.commit()
    waiting = services.unsent(participation)
    assert (waiting.comments, [a.id for a in waiting.answers], waiting.counted) == ([], [answer.id], "1 answer")

    sent = services.send_to_lead(participation, utcnow())
    db.session.commit()
    assert (sent.comments, [a.id for a in sent.answers], sent.counted) == ([], [answer.id], "1 answer")
    assert answer.sent_to_lead_at is not None and not services.unsent(participation)
    [received] = services.sent_answers(participation.organisation_id, consultation.id)[first.id]
    assert received.id == answer.id

    draft_on(participation)
    save_answer(participation, second, False, "", utcnow())
    another = _question(consultation, 3, "Is anything missing?")
    save_answer(participation, another, True, "", utcnow())
    assert services.unsent(participation).counted == "1 comment and 2 answers"


def test_nothing_to_send_names_comments_and_answers(shared):
    consultation, _, code = shared
    _, participation = new_colleague(consultation, code.code)
    with pytest.raises(services.NothingToSend) as refused:
        services.send_to_lead(participation, utcnow())
    assert "no comments or answers to send" in refused.value.message
    assert "answer a question" in refused.value.message


def test_once_the_organisation_has_responded_a_colleague_can_add_change_delete_or_send_nothing(shared):
    consultation, lead, code = shared
    question = _question(consultation, 1, "Are the recommendations sound?")
    _, participation, unsent = respond_leaving_a_draft(consultation, lead, code)
    lead_response = comment_services.find_participation(lead.id, consultation.id)

    section = unsent.section
    target = comment_services.CommentTargetRef(section.document, section.chapter, section)
    refusals = [
        lambda: comment_services.save_draft(participation, target, "Too late", None, utcnow()),
        lambda: comment_services.update_draft(unsent, "Changed", None, utcnow()),
        lambda: comment_services.delete_draft(unsent, utcnow()),
        lambda: save_answer(participation, question, True, "", utcnow()),
        lambda: services.send_to_lead(participation, utcnow()),
    ]
    for refused in refusals:
        with pytest.raises(services.OrganisationAlreadyResponded) as error:
            refused()
        assert error.value.message == services.ResponseClosedToColleague.message
        db.session.rollback()
    assert "already responded" in services.ResponseClosedToColleague.message
    db.session.expire_all()
    assert [c.body for c in comment_services.list_comments(participation)] == ["Kept back"]
    assert answers_by_question(participation) == {}
    assert services.colleague_response_closed(participation) is not None
    assert services.colleague_response_closed(lead_response) is None


def test_a_lead_cannot_adopt_an_answer_that_is_not_a_colleagues_sent_answer(shared, make_consultation):
    consultation, lead, code = shared
    question = _question(consultation, 1, "Are the recommendations sound?")
    response = comment_services.find_participation(lead.id, consultation.id)
    individual = new_participation(new_user(name="Ivy Individual"), consultation)
    theirs = save_answer(individual, question, True, "An individual's view", utcnow())
    _, colleague = new_colleague(consultation, code.code)
    unsent = save_answer(colleague, question, False, "Not sent yet", utcnow())
    db.session.commit()
    for answer in (theirs, unsent):
        with pytest.raises(services.AnswerNotThere) as refused:
            services.adopt_answer(response, answer, utcnow())
        assert refused.value.message == "That answer is no longer there. Choose from the answers shown now."
    assert answers_by_question(response) == {}


@pytest.mark.parametrize("kind,expected", [
    (OrganisationType.NHS_OR_PUBLIC_BODY, "Leeds Trust (NHS or public body)"),
    (OrganisationType.CHARITY_OR_PATIENT_GROUP, "Leeds Trust (charity or patient group)"),
])
def test_an_organisation_is_described_with_its_type_as_written_mid_sentence(kind, expected):
    assert Organisation(name="Leeds Trust", name_key="leeds trust", type=kind).description == expected


def test_everything_sent_and_the_questions_a_lead_will_answer_count_only_what_reached_the_lead(shared):
    consultation, lead, code = shared
    first, second, third = (_question(consultation, n, f"Question number {n}?") for n in (1, 2, 3))
    _, sender = new_colleague(consultation, code.code, name="Sender")
    comment = draft_on(sender, body="Sent comment")
    early = save_answer(sender, second, True, "", utcnow())
    services.send_to_lead(sender, utcnow())
    _, keeper = new_colleague(consultation, code.code, name="Keeper")
    save_answer(keeper, third, False, "Kept back", utcnow())
    other_lead = new_lead(name="Other Lead", organisation="Another Organisation")
    other_code = services.share_code(other_lead, consultation, utcnow())
    _, outsider = new_colleague(consultation, other_code.code, name="Outsider")
    save_answer(outsider, third, True, "", utcnow())
    services.send_to_lead(outsider, utcnow())
    db.session.commit()

    sent = services.everything_sent(sender.organisation_id, consultation.id)
    assert ([c.id for c in sent.comments], [a.id for a in sent.answers]) == ([comment.id], [early.id])
    response = comment_services.find_participation(lead.id, consultation.id)
    assert services.questions_to_answer(response) == 1
    save_answer(response, first, False, "", utcnow())
    save_answer(response, second, False, "", utcnow())
    assert services.questions_to_answer(response) == 2
