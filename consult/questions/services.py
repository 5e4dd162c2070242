"""The rules of questions: staff shape them until the consultation opens; participants answer until they submit.

Every function takes plain values and the moment it acts at (`now`), raises
a QuestionError when a rule is broken, flushes, and leaves the commit to the
view. Every staff change is written to the audit trail with before and after.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from consult.audit.services import record, snapshot
from consult.comments.models import Participation
from consult.comments.services import claim_unsubmitted, require_open
from consult.consultations.models import Consultation, ConsultationStatus, Document
from consult.errors import DomainError
from consult.extensions import db
from consult.questions.models import (
    MAX_ANSWER_LENGTH,
    MAX_QUESTION_LENGTH,
    Answer,
    Declaration,
    Question,
    QuestionKind,
)
from consult.text import is_blank

# NICE's usual questions, in our own words; staff add them with one button and change them as they like.
STANDARD_QUESTIONS = [
    (QuestionKind.YES_NO, "Has all of the relevant evidence been taken into account?"),
    (QuestionKind.YES_NO, "Are the summaries of the clinical and cost evidence reasonable interpretations "
                          "of that evidence?"),
    (QuestionKind.YES_NO, "Are the recommendations sound, and a suitable basis for guidance to the NHS?"),
    (QuestionKind.OPEN, "Are there any parts of the recommendations that need particular attention to avoid "
                        "unlawful discrimination, for example against people with a protected characteristic?"),
]

_AUDITED = ("consultation_id", "document_id", "kind", "text", "position", "declaration")


class QuestionError(DomainError):
    """A broken rule of questions or answers, with the sentence to show the person who broke it."""

    status = 409


class QuestionsLocked(QuestionError):
    message = ("The consultation has opened, so its questions can no longer be changed. "
               "People may already be answering them.")


class QuestionAnswered(QuestionError):
    message = "People have already answered this question, so it cannot be removed."


class QuestionAlreadyAsked(QuestionError):
    message = "This consultation already asks that question."
    field = "text"
    status = 200


class InvalidQuestion(QuestionError):
    field = "text"
    status = 200


class AnswersAlreadySubmitted(QuestionError):
    message = ("You have already submitted your response to this consultation, "
               "so answers can no longer be added or changed.")


class InvalidAnswer(QuestionError):
    field = "text"
    status = 200


class AnswerSentToLead(QuestionError):
    status = 409
    message = ("You have sent this answer to your organisation’s lead, so it can no longer be changed here. "
               "Ask your lead to change it in the organisation’s response.")


# --- Staff: the questions of a consultation -------------------------------------------

@dataclass(frozen=True)
class QuestionDraft:
    """A question as staff typed it: its kind, its words, and the document it is about (None: all of it)."""

    kind: QuestionKind
    text: str
    document_id: int | None = None


def can_change_questions(consultation: Consultation, now: datetime) -> bool:
    """Questions stay open to change while the public cannot answer them yet: a draft, or not yet open."""
    return consultation.status_at(now) in (ConsultationStatus.DRAFT, ConsultationStatus.UPCOMING)


def _require_changeable(consultation: Consultation, now: datetime) -> None:
    if not can_change_questions(consultation, now):
        raise QuestionsLocked()


def _clean_text(text: str, too_long: str, empty: str, limit: int, error=InvalidQuestion) -> str:
    text = (text or "").replace("\r\n", "\n").strip()
    if "\x00" in text:
        raise error("The text contains a NUL character, which cannot be stored. Remove it and try again.")
    if is_blank(text):
        raise error(empty)
    if len(text) > limit:
        raise error(f"{too_long} must be {limit:,} characters or fewer. It has {len(text):,}.")
    return text


def _clean_question(consultation: Consultation, draft: QuestionDraft) -> tuple[str, int | None]:
    text = _clean_text(draft.text, "The question", "Enter the question", MAX_QUESTION_LENGTH)
    if draft.document_id is not None and db.session.scalar(
            select(Document.id).where(Document.id == draft.document_id,
                                      Document.consultation_id == consultation.id)) is None:
        raise InvalidQuestion("Select a document of this consultation, or the whole consultation.",
                              field="document")
    return text, draft.document_id


def _refuse_duplicate(consultation: Consultation, text: str, except_id: int | None = None) -> None:
    query = select(Question.id).where(Question.consultation_id == consultation.id, Question.text == text)
    if except_id is not None:
        query = query.where(Question.id != except_id)
    if db.session.scalar(query) is not None:
        raise QuestionAlreadyAsked()


def list_questions(consultation_id: int) -> list[Question]:
    """The consultation's questions in the order staff chose, with their documents loaded."""
    return list(db.session.scalars(
        select(Question).where(Question.consultation_id == consultation_id)
        .options(joinedload(Question.document)).order_by(Question.position)))


def _lock_consultation(consultation: Consultation) -> None:
    """Queue behind any other change to this consultation's questions (a no-op UPDATE takes the row lock)."""
    db.session.execute(update(Consultation).where(Consultation.id == consultation.id)
                       .values(updated_at=Consultation.updated_at)
                       .execution_options(synchronize_session=False))


def _next_position(consultation: Consultation) -> int:
    return (db.session.scalar(select(func.max(Question.position))
                              .where(Question.consultation_id == consultation.id)) or 0) + 1


def _insert(actor, consultation: Consultation, kind: QuestionKind, text: str, document_id: int | None,
            action: str, declaration: Declaration | None = None) -> Question:
    _lock_consultation(consultation)
    question = Question(consultation_id=consultation.id, document_id=document_id, kind=kind, text=text,
                        position=_next_position(consultation), declaration=declaration)
    db.session.add(question)
    db.session.flush()
    record(actor, action, question, after=snapshot(question, _AUDITED))
    return question


def add_question(actor, consultation: Consultation, draft: QuestionDraft, now: datetime) -> Question:
    """Ask a new question, last in the order. Refused once the consultation has opened."""
    _require_changeable(consultation, now)
    text, document_id = _clean_question(consultation, draft)
    _refuse_duplicate(consultation, text)
    return _insert(actor, consultation, draft.kind, text, document_id, "question.add")


def edit_question(actor, question: Question, draft: QuestionDraft, now: datetime) -> bool:
    """Change a question's kind, words or document; returns whether anything changed."""
    consultation = question.consultation
    _require_changeable(consultation, now)
    if question.declaration is not None:
        raise QuestionError("A declaration's wording is fixed. Switch it off if this consultation does not need it.")
    text, document_id = _clean_question(consultation, draft)
    _refuse_duplicate(consultation, text, except_id=question.id)
    before = snapshot(question, _AUDITED)
    question.kind, question.text, question.document_id = draft.kind, text, document_id
    after = snapshot(question, _AUDITED)
    if after == before:
        return False
    db.session.flush()
    record(actor, "question.edit", question, before=before, after=after)
    return True


def remove_question(actor, question: Question, now: datetime) -> None:
    """Take a question away. Never one somebody has answered, so no answer is lost."""
    _require_changeable(question.consultation, now)
    if db.session.scalar(select(Answer.id).where(Answer.question_id == question.id).limit(1)) is not None:
        raise QuestionAnswered()
    record(actor, "question.remove", question, before=snapshot(question, _AUDITED))
    db.session.delete(question)
    db.session.flush()


def move_question(actor, question: Question, direction: str, now: datetime) -> bool:
    """Swap a question with its neighbour above ("up") or below ("down"); False at either end."""
    consultation = question.consultation
    _require_changeable(consultation, now)
    if direction not in ("up", "down"):
        raise QuestionError("Choose whether to move the question up or down.", status=400)
    _lock_consultation(consultation)
    db.session.refresh(question)
    up = direction == "up"
    neighbour = db.session.scalar(
        select(Question).where(Question.consultation_id == consultation.id,
                               Question.position < question.position if up else Question.position > question.position)
        .order_by(Question.position.desc() if up else Question.position).limit(1))
    if neighbour is None:
        return False
    mine, theirs = question.position, neighbour.position
    # Positions are unique, so one of the pair steps aside while the other takes its place.
    question.position = -mine
    db.session.flush()
    neighbour.position = mine
    db.session.flush()
    question.position = theirs
    db.session.flush()
    record(actor, "question.move", question, before={"position": mine}, after={"position": theirs})
    return True


def add_standard_questions(actor, consultation: Consultation, now: datetime) -> list[Question]:
    """Add NICE's usual questions that the consultation does not already ask, in their usual order."""
    _require_changeable(consultation, now)
    asked = set(db.session.scalars(select(Question.text).where(Question.consultation_id == consultation.id)))
    return [_insert(actor, consultation, kind, text, None, "question.add_standard")
            for kind, text in STANDARD_QUESTIONS if text not in asked]


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_bank(consultation: Consultation, words: str = "", limit: int = 50) -> list[Question]:
    """Questions other consultations asked, newest first, once per wording, optionally containing `words`.

    Declarations are not in the bank: staff switch those on where they are needed.
    """
    query = (select(Question).join(Consultation, Consultation.id == Question.consultation_id)
             .where(Question.consultation_id != consultation.id, Question.declaration.is_(None))
             .options(joinedload(Question.consultation))
             .order_by(Question.created_at.desc(), Question.id.desc()))
    words = (words or "").strip()
    if words:
        query = query.where(func.lower(Question.text).like(_like_pattern(words.lower()), escape="\\"))
    found: dict[str, Question] = {}
    # Reads a bounded window of the newest matches; duplicates of a wording are dropped as they pass.
    for question in db.session.scalars(query.limit(limit * 5)):
        found.setdefault(question.text, question)
        if len(found) == limit:
            break
    return list(found.values())


def reuse_question(actor, consultation: Consultation, source: Question, now: datetime) -> Question:
    """Ask a question from the bank again here, about the whole consultation, last in the order."""
    _require_changeable(consultation, now)
    if source.declaration is not None or source.consultation_id == consultation.id:
        raise QuestionError("That question cannot be reused here.", status=400)
    _refuse_duplicate(consultation, source.text)
    return _insert(actor, consultation, source.kind, source.text, None, "question.reuse")


def find_declaration(consultation_id: int, declaration: Declaration) -> Question | None:
    return db.session.scalar(select(Question).where(Question.consultation_id == consultation_id,
                                                    Question.declaration == declaration))


def switch_declaration(actor, consultation: Consultation, declaration: Declaration, on: bool,
                       now: datetime) -> bool:
    """Ask, or stop asking, a declaration in this consultation; returns whether anything changed.

    Once on, it is a yes/no question like any other, last in the order, so
    participants meet it on its own page and its answers go into every export.
    """
    _require_changeable(consultation, now)
    existing = find_declaration(consultation.id, declaration)
    if on and existing is None:
        try:
            with db.session.begin_nested():
                _insert(actor, consultation, QuestionKind.YES_NO, declaration.question_text, None,
                        "question.declaration_on", declaration=declaration)
        except IntegrityError:  # switched on by someone else a moment ago: already as asked
            return False
        return True
    if not on and existing is not None:
        remove_question(actor, existing, now)
        return True
    return False


# --- Participants: answering ------------------------------------------------------------

@dataclass(frozen=True)
class ResponseFilter:
    """What 'Your response' shows: all, only comments or only answers; and one document, or every one."""

    show: str = "all"
    document_id: int | None = None

    @property
    def comments(self) -> bool:
        return self.show in ("all", "comments")

    @property
    def answers(self) -> bool:
        return self.show in ("all", "answers")


def answers_by_question(participation: Participation) -> dict[int, Answer]:
    return {answer.question_id: answer for answer in db.session.scalars(
        select(Answer).where(Answer.participation_id == participation.id))}


def questions_for(participation: Participation) -> list[Question]:
    """The questions this participant is asked, in order: every one, less declarations not meant for them."""
    return [q for q in list_questions(participation.consultation_id) if q.is_for(participation.kind)]


def _own_answer(participation: Participation, question: Question) -> Answer | None:
    return db.session.scalar(select(Answer).where(Answer.participation_id == participation.id,
                                                  Answer.question_id == question.id))


def save_answer(participation: Participation, question: Question, yes_no: bool | None, text: str,
                now: datetime) -> Answer:
    """Keep the participant's draft answer to one question, replacing any earlier one.

    An open question needs words; a yes/no question needs yes or no, and its
    further information is optional. One answer per question: a second save
    changes the first, and two saves that race end with one row (the unique
    constraint refuses the other insert, which then updates the winner).
    """
    if participation.is_submitted:
        raise AnswersAlreadySubmitted()
    require_open(participation.consultation, now)
    if question.consultation_id != participation.consultation_id:
        raise InvalidAnswer("That question belongs to another consultation.", status=400)
    if not question.is_for(participation.kind):
        raise InvalidAnswer("That question is asked of organisations only.", status=400)
    if question.is_yes_no:
        if yes_no is None:
            raise InvalidAnswer("Select yes or no", field="yes_no")
        text = (text or "").replace("\r\n", "\n").strip()
        if "\x00" in text:
            raise InvalidAnswer("Your answer contains a NUL character, which cannot be stored. Remove it and try again.")
        if len(text) > MAX_ANSWER_LENGTH:
            raise InvalidAnswer(f"Further information must be {MAX_ANSWER_LENGTH:,} characters or fewer. "
                                f"It has {len(text):,}.")
    else:
        yes_no = None
        text = _clean_text(text, "Your answer", "Enter your answer", MAX_ANSWER_LENGTH, InvalidAnswer)
    if not claim_unsubmitted(participation, now):
        raise AnswersAlreadySubmitted()
    answer = _own_answer(participation, question)
    if answer is None:
        answer = Answer(participation_id=participation.id, question_id=question.id, yes_no=yes_no, text=text)
        try:
            with db.session.begin_nested():
                db.session.add(answer)
        except IntegrityError:
            answer = _own_answer(participation, question)
            if answer is None:
                raise
    if answer.sent_to_lead_at is not None:
        raise AnswerSentToLead()
    answer.yes_no, answer.text = yes_no, text
    db.session.flush()
    return answer


def remove_answer(participation: Participation, question: Question, now: datetime) -> None:
    """Withdraw a draft answer, leaving the question unanswered; answering is optional, so this must be possible.

    The same rules as changing it: not once submitted, closed, or sent to
    the lead. An answer already gone (removed in another tab) is not an
    error: what the person asked for is so. Audited, without the words.
    """
    if participation.is_submitted:
        raise AnswersAlreadySubmitted()
    require_open(participation.consultation, now)
    answer = _own_answer(participation, question)
    if answer is None:
        return
    if answer.sent_to_lead_at is not None:
        raise AnswerSentToLead()
    if not claim_unsubmitted(participation, now):
        raise AnswersAlreadySubmitted()
    record(participation.user, "answer.remove", participation,
           {"consultation": participation.consultation.reference, "question_id": question.id}, None)
    db.session.delete(answer)
    db.session.flush()


def unanswered_questions(participation: Participation) -> list[Question]:
    """The consultation's questions this participant has not answered, in order."""
    answered = answers_by_question(participation)
    return [q for q in questions_for(participation) if q.id not in answered]


def own_answer_values(participation: Participation) -> list[list]:
    """[question, yes/no, answer] per question, in order; empty cells where a question is unanswered."""
    answers = answers_by_question(participation)
    rows = []
    for question in questions_for(participation):
        answer = answers.get(question.id)
        rows.append([question.text, answer.yes_no_label if answer else "", answer.text if answer else ""])
    return rows
