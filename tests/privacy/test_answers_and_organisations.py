"""People's own data covers answers to questions and their part in an organisation's response,
and deleting an account handles both without losing the organisation's record."""

import io
import json

import openpyxl
import pytest
from sqlalchemy import select

from consult.accounts.models import User
from consult.comments.models import Comment, Participation
from consult.database import utcnow
from consult.extensions import db
from consult.organisations import services as organisation_services
from consult.organisations.models import OrganisationLead
from consult.privacy import services
from consult.questions import services as question_services
from consult.questions.models import Answer
from tests.conftest import PASSWORD, new_user
from tests.organisations.conftest import draft_on, new_colleague, new_lead
from tests.questions.conftest import EVIDENCE, IMPACT, asking, staff_user  # noqa: F401
from tests.spreadsheets import rows_shown

LEAD_ANSWER = "Our members need more evidence on recurrence"
SENT_ANSWER = "=HYPERLINK(\"x\") podiatrists see it weekly"
DRAFT_ANSWER = "Still thinking about this one"


@pytest.fixture
def organisation(asking):
    """A lead who shared the code and submitted the organisation's response with an answer of their own,
    and a colleague who sent one answer and one comment to the lead and kept another answer as a draft."""
    consultation, yes_no, open_question = asking
    lead = new_lead(name="Lena Lead", organisation="Foot Health UK")
    code = organisation_services.share_code(lead, consultation, utcnow())
    db.session.commit()
    colleague, colleague_part = new_colleague(consultation, code.code, name="Cal Colleague")
    draft_on(colleague_part, "2.1", "A colleague's comment for the lead")
    question_services.save_answer(colleague_part, open_question, None, SENT_ANSWER, utcnow())
    organisation_services.send_to_lead(colleague_part, utcnow())
    question_services.save_answer(colleague_part, yes_no, True, DRAFT_ANSWER, utcnow())
    db.session.commit()
    lead_part = organisation_services.start_lead_response(lead, consultation, utcnow())
    question_services.save_answer(lead_part, yes_no, False, LEAD_ANSWER, utcnow())
    organisation_services.submit_organisation_response(lead_part, False, "", utcnow())
    db.session.commit()
    return {"consultation": consultation, "lead": lead, "code": code, "lead_part": lead_part,
            "colleague": colleague, "colleague_part": colleague_part}


def test_your_data_lists_answers_as_draft_sent_or_submitted(organisation):
    colleague_data = services.collect_your_data(organisation["colleague"])
    assert {(a["question"], a["status"], a["yes_no"], a["answer"]) for a in colleague_data.answers} == {
        (EVIDENCE, "Draft", True, DRAFT_ANSWER),
        (IMPACT, "Sent to your organisation's lead", None, SENT_ANSWER),
    }
    assert colleague_data.participations[0]["organisation_role"] == "Colleague"
    assert colleague_data.organisation == []

    lead_data = services.collect_your_data(organisation["lead"])
    submitted = [a for a in lead_data.answers if a["status"] == "Submitted"]
    # The lead's own answer, and the colleague's that the submission took, both in the organisation's response.
    assert {(a["question"], a["answer"]) for a in submitted} == {(EVIDENCE, LEAD_ANSWER), (IMPACT, SENT_ANSWER)}
    assert all(a["submitted_at"] is not None for a in submitted)
    assert lead_data.participations[0]["organisation_role"] == "Commenting lead"
    assert [(row["what"], row["organisation"], row["consultation"], row["code"]) for row in lead_data.organisation] == [
        ("Commenting lead", "Foot Health UK", None, None),
        ("Code shared with colleagues", "Foot Health UK", organisation["consultation"].reference,
         organisation["code"].shown),
    ]
    assert DRAFT_ANSWER not in services.your_data_json(lead_data)  # the colleague's own draft is theirs alone


def test_the_json_and_the_spreadsheet_carry_answers_and_organisation(client, login, organisation):
    login(organisation["lead"])
    data = json.loads(client.get("/account/your-data.json").data)
    assert list(data) == ["account", "participations", "comments", "answers", "organisation", "emails"]
    assert all(list(a) == [key for key, _ in services.ANSWER_FIELDS] for a in data["answers"])
    assert data["organisation"][0]["organisation"] == "Foot Health UK"

    login(organisation["colleague"])
    book = openpyxl.load_workbook(io.BytesIO(client.get("/account/your-data.xlsx").data))
    assert book.sheetnames == ["Account", "Participations", "Comments", "Answers", "Organisation", "Emails"]
    rows = rows_shown(book["Answers"])
    assert rows[0][:3] == ("Consultation", "Question", "About")
    answers = {row[rows[0].index("Answer")]: row for row in rows[1:]}
    assert "'" + SENT_ANSWER in answers  # formula-safe
    assert answers[DRAFT_ANSWER][rows[0].index("Yes or no")] == "Yes"


def test_deleting_a_colleague_with_draft_and_sent_answers_erases_them_and_keeps_the_organisations_response(
        organisation):
    colleague, colleague_part, lead_part = (organisation["colleague"], organisation["colleague_part"],
                                            organisation["lead_part"])
    result = services.delete_own_account(colleague, PASSWORD, utcnow())
    db.session.commit()

    assert (result.answers_deleted, result.participations_deleted) == (2, 1)
    db.session.expire_all()
    assert db.session.get(Participation, colleague_part.id) is None
    assert db.session.scalars(select(Answer).where(Answer.participation_id == colleague_part.id)).all() == []
    kept = {answer.text for answer in db.session.scalars(select(Answer).where(Answer.participation_id == lead_part.id))}
    assert kept == {LEAD_ANSWER, SENT_ANSWER}  # the organisation's submitted answers stay
    copies = db.session.scalars(select(Comment).where(Comment.participation_id == lead_part.id)).all()
    assert [c.body for c in copies] == ["A colleague's comment for the lead"]
    assert copies[0].original_comment_id is None
    assert db.session.get(User, colleague.id).email == services.erased_email(colleague.id)


def test_deleting_a_lead_ends_the_lead_role_and_keeps_the_submitted_response(organisation):
    lead, lead_part = organisation["lead"], organisation["lead_part"]
    result = services.delete_own_account(lead, PASSWORD, utcnow())
    db.session.commit()

    assert result.lead_role_ended and result.responses_kept == 1 and result.answers_deleted == 0
    db.session.expire_all()
    assert db.session.get(OrganisationLead, lead.id) is None
    response = db.session.get(Participation, lead_part.id)
    assert response.organisation_name == "Foot Health UK" and response.is_submitted
    assert len(db.session.scalars(select(Answer).where(Answer.participation_id == lead_part.id)).all()) == 2
    # The code stays, so colleagues can still send to the next lead.
    assert services.collect_your_data(db.session.get(User, lead.id)).organisation == [
        {"what": "Code shared with colleagues", "organisation": "Foot Health UK",
         "organisation_type": "Charity or patient group", "consultation": organisation["consultation"].reference,
         "code": organisation["code"].shown, "since": organisation["code"].created_at}]


def test_a_lead_with_an_unsubmitted_response_can_delete_their_account(asking):
    consultation, yes_no, _ = asking
    lead = new_lead()
    part = organisation_services.start_lead_response(lead, consultation, utcnow())
    question_services.save_answer(part, yes_no, True, "", utcnow())
    db.session.commit()

    result = services.delete_own_account(lead, PASSWORD, utcnow())
    db.session.commit()
    assert (result.answers_deleted, result.participations_deleted, result.lead_role_ended) == (1, 1, True)


def test_the_retention_job_anonymises_an_inactive_account_with_draft_answers(asking, make_participation):
    from datetime import timedelta

    consultation, _, open_question = asking
    person = new_user(name="Idle Person")
    participation = make_participation(person, consultation)
    question_services.save_answer(participation, open_question, None, DRAFT_ANSWER, utcnow())
    db.session.commit()
    long_ago = utcnow() + timedelta(days=1)  # a cutoff after everything this person did
    assert services.anonymise_if_inactive(person.id, long_ago, utcnow(), services.inactive_reason(3))
    db.session.commit()
    assert db.session.scalar(select(Answer).where(Answer.participation_id == participation.id)) is None
