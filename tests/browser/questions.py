"""Seeding questions for the browser tests: written straight to the live server's database.

The consultations the browser tests use are already open, when the staff
services refuse new questions; so the rows are added as staff would have
added them before opening.
"""

from sqlalchemy import func, select

from consult.consultations.models import Document
from consult.extensions import db
from consult.questions.models import Question, QuestionKind

EVIDENCE = "Has all of the relevant evidence been taken into account?"
IMPACT = "What difference would these recommendations make to your practice?"


def seed_questions(live_server, seeded) -> list[int]:
    """A yes/no question and then an open one on the seeded consultation (once); returns their ids in order."""
    with live_server.app_context():
        consultation_id = db.session.get(Document, seeded.document_id).consultation_id
        existing = list(db.session.scalars(select(Question.id).where(Question.consultation_id == consultation_id)
                                           .order_by(Question.position)))
        if existing:
            return existing
        start = db.session.scalar(select(func.count(Question.id)).where(Question.consultation_id == consultation_id))
        questions = [Question(consultation_id=consultation_id, kind=kind, text=text, position=start + index)
                     for index, (kind, text) in enumerate([(QuestionKind.YES_NO, EVIDENCE),
                                                           (QuestionKind.OPEN, IMPACT)], start=1)]
        db.session.add_all(questions)
        db.session.flush()
        return [question.id for question in questions]


def seed_submitted_answers(live_server, seeded) -> list[int]:
    """Questions on the seeded consultation, and an answer to the first from each submitted participant (once).

    Answers with words are accepted, as staff would have done before publishing, except every fourth
    participant's, which is still waiting for moderation.
    """
    from consult.comments.models import Participation
    from consult.questions.models import Answer, AnswerState

    ids = seed_questions(live_server, seeded)
    with live_server.app_context():
        consultation_id = db.session.get(Document, seeded.document_id).consultation_id
        answered = set(db.session.scalars(select(Answer.participation_id).where(Answer.question_id == ids[0])))
        people = db.session.scalars(select(Participation).where(Participation.consultation_id == consultation_id,
                                                                Participation.submitted_at.is_not(None)))
        for index, person in enumerate(people):
            if person.id not in answered:
                db.session.add(Answer(participation_id=person.id, question_id=ids[0], yes_no=index % 2 == 0,
                                      text="Two trials published after 2020 are missing." if index % 2 else "",
                                      moderation_state=AnswerState.NEW if index % 4 == 3 else AnswerState.ACCEPTED))
    return ids


def answer_with_words(live_server, question_id: int) -> int:
    """The id of a submitted answer to the question that has words to moderate."""
    from consult.questions.models import Answer

    with live_server.app_context():
        return db.session.scalar(select(Answer.id).where(Answer.question_id == question_id, Answer.text != "")
                                 .order_by(Answer.id).limit(1))
