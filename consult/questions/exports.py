"""Answers as rows of the comments workbook and CSV: one per answer, and an empty one per unanswered question.

Read in batches of participants, like exports.rows reads comments, so an
export holds one batch of answers at a time however large the consultation;
only the consultation's questions (a handful) are held throughout.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from consult.accounts.models import User
from consult.comments.models import ParticipantKind, Participation, participant_type_label
from consult.consultations.models import Consultation
from consult.exports.rows import BATCH, columns, stakeholder_name
from consult.extensions import db
from consult.questions.models import Answer
from consult.questions.services import list_questions
from consult.uk_time import spreadsheet_time


@dataclass(frozen=True, slots=True)
class AnswerRow:
    """One participant's answer to one question (empty when they left it), named as consent allows."""

    consultation_reference: str
    document_title: str
    question_text: str
    yes_no: bool | None
    text: str
    stakeholder: str
    email: str
    is_organisation: bool
    organisation_name: str
    participant_type: str
    has_tobacco_links: bool
    tobacco_details: str
    submitted_at: datetime | None

    @property
    def yes_no_label(self) -> str:
        return "" if self.yes_no is None else ("Yes" if self.yes_no else "No")

    def values(self, include_email: bool) -> list:
        cells = {
            "User": self.stakeholder, "Email address": self.email, "Consultation": self.consultation_reference,
            "Document": self.document_title, "Question text": self.question_text,
            "Yes/No answer": self.yes_no_label, "Answer text": self.text,
            "Represents an organisation": "Yes" if self.is_organisation else "No",
            "Organisation": self.organisation_name, "Participant type": self.participant_type,
            "Has tobacco links": "Yes" if self.has_tobacco_links else "No",
            "Tobacco link details": self.tobacco_details,
            "Submitted at (UK time)": spreadsheet_time(self.submitted_at),
        }
        return [cells.get(heading, "") for heading in columns(include_email)]


def export_answers(consultation_id: int) -> Iterator[AnswerRow]:
    """Every submitted participant's answers, in order of submission and then of the questions.

    Drafts are never exported: a participant's answers appear once their
    response is submitted. Each participant gets a row for every question,
    empty where they gave no answer, so gaps show.
    """
    questions = list_questions(consultation_id)
    if not questions:
        return
    query = (
        select(Participation.id, Participation.kind, Participation.individual_type, Participation.organisation_name,
               Participation.organisation_type, Participation.has_tobacco_links, Participation.tobacco_details,
               Participation.publish_name, Participation.submitted_at, User.name, User.email, Consultation.reference)
        .join(User, User.id == Participation.user_id)
        .join(Consultation, Consultation.id == Participation.consultation_id)
        .where(Participation.consultation_id == consultation_id, Participation.submitted_at.is_not(None))
        .order_by(Participation.submitted_at, Participation.id)
    )
    result = db.session.execute(query.execution_options(yield_per=BATCH))
    for partition in result.partitions(BATCH):
        ids = [row[0] for row in partition]
        given = {(participation_id, question_id): (yes_no, text)
                 for participation_id, question_id, yes_no, text in db.session.execute(
                     select(Answer.participation_id, Answer.question_id, Answer.yes_no, Answer.text)
                     .where(Answer.participation_id.in_(ids)))}
        for (participation_id, kind, individual_type, organisation_name, organisation_type, tobacco,
             tobacco_details, publish_name, submitted_at, person, email, reference) in partition:
            type_label = participant_type_label(kind, individual_type, organisation_type)
            for question in questions:
                yes_no, text = given.get((participation_id, question.id), (None, ""))
                yield AnswerRow(
                    consultation_reference=reference,
                    document_title=question.document.title if question.document else "",
                    question_text=question.text, yes_no=yes_no, text=text,
                    stakeholder=stakeholder_name(kind, organisation_name, publish_name, person, type_label),
                    email=email, is_organisation=kind is ParticipantKind.ORGANISATION,
                    organisation_name=organisation_name or "", participant_type=type_label,
                    has_tobacco_links=tobacco, tobacco_details=tobacco_details, submitted_at=submitted_at,
                )


def own_answer_rows(participation: Participation, headings: list[str]) -> list[list]:
    """A participant's own answers for their own download, under `headings`: one row per question, in order,
    empty where they gave no answer. Bounded by the consultation's questions, so built in full."""
    answers = {answer.question_id: answer for answer in db.session.scalars(
        select(Answer).where(Answer.participation_id == participation.id))}
    status = "Submitted" if participation.is_submitted else "Draft"
    rows = []
    for question in list_questions(participation.consultation_id):
        answer = answers.get(question.id)
        cells = {
            "Status": status if answer else "Not answered",
            "Document": question.document.title if question.document else "",
            "Question text": question.text,
            "Yes/No answer": answer.yes_no_label if answer else "",
            "Answer text": answer.text if answer else "",
            "Submitted at (UK time)": spreadsheet_time(participation.submitted_at) if answer else "",
        }
        rows.append([cells.get(heading, "") for heading in headings])
    return rows
