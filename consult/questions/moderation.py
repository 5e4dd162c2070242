"""Staff moderation of answers: accept, redact or withhold each free-text answer before it is published.

The same care as comments get, with the same words where they fit. The
participant's words are never changed: a redaction is a copy published
instead, and withheld words are not published at all. Only words staff
accepted or redacted reach the public; a yes or no is published once staff
have decided about the words beside it (withholding them withholds the
words, not the choice), or at once when no words were given, as a choice
between yes and no carries nothing that needs reading first.

Two staff may moderate the same answer at once. A form carries the version
of the answer its user opened; a decision made since is refused with
StaleAnswer, naming who made it, and nothing is overwritten, unless the
answer now holds exactly the decision sent (the form sent twice, or a
colleague deciding the same): that is already so, and nothing more
changes. Every decision is written to the audit trail with before and
after, and functions flush but never commit.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import joinedload

from consult.access import can_see_original_of_redacted
from consult.accounts.models import User
from consult.comments.models import Participation, participant_type_label
from consult.exports.rows import stakeholder_name
from consult.extensions import db
from consult.moderation.services import (
    REDACTION_REASONS,
    Change,
    InvalidInput,
    NothingToChange,
    StaleVersion,
    last_change,
)
from consult.moderation.services.common import (
    already_decided,
    check_note,
    clean_text,
    require_reason,
    write_decision,
)
from consult.moderation.states import RejectionReason
from consult.questions.models import MAX_ANSWER_LENGTH, Answer, AnswerState, Question

PAGE_SIZE = 50
PUBLIC_STATES = (AnswerState.ACCEPTED, AnswerState.REDACTED)

_AUDITED = ("moderation_state", "moderation_reason", "moderation_note", "redacted_text", "moderated_by_id",
            "moderated_at", "version")
_ACTIONS = {AnswerState.ACCEPTED: "answer.accept", AnswerState.REDACTED: "answer.redact",
            AnswerState.WITHHELD: "answer.withhold"}

REVEAL_REFUSED = ("Only an admin can accept a redacted answer, because accepting it publishes the original "
                  "text. Change the redaction, or withhold the answer, instead.")


# --- What each output shows -------------------------------------------------------------


def shown_text() -> ColumnElement[str]:
    """The words every committee output shows, as SQL: the redacted copy, nothing when withheld, else as written."""
    return case((Answer.moderation_state == AnswerState.REDACTED, func.coalesce(Answer.redacted_text, "")),
                (Answer.moderation_state == AnswerState.WITHHELD, ""), else_=Answer.text)


def published() -> ColumnElement[bool]:
    """Answers the public may read: a bare yes or no, or words staff have decided about.

    A withheld answer stays only for its yes or no (its words are blanked by
    shown_text); a withheld answer to an open question has nothing left.
    """
    return or_(Answer.text == "", Answer.moderation_state.in_(PUBLIC_STATES),
               and_(Answer.moderation_state == AnswerState.WITHHELD, Answer.yes_no.is_not(None)))


def needs_moderation() -> ColumnElement[bool]:
    """Answers with words that staff have not yet read: none of them is published."""
    return and_(Answer.moderation_state == AnswerState.NEW, Answer.text != "")


def waiting_count(consultation_id: int) -> int:
    """Submitted answers in this consultation still waiting for moderation, for the publication check."""
    return db.session.scalar(
        select(func.count()).select_from(Answer)
        .join(Question, Question.id == Answer.question_id)
        .join(Participation, Participation.id == Answer.participation_id)
        .where(Question.consultation_id == consultation_id, Participation.submitted_at.is_not(None),
               needs_moderation())) or 0


# --- Staff's list of one question's answers ----------------------------------------------------


@dataclass(frozen=True)
class ModeratedAnswer:
    """One submitted answer as staff see it on the question's answers page."""

    answer: Answer
    stakeholder: str
    participant_type: str


@dataclass(frozen=True)
class AnswersPage:
    answers: list[ModeratedAnswer]
    next_after: int | None


SHOW_CHOICES = {"waiting": "Waiting for moderation", "all": "All answers with words"}


def answers_page(question: Question, show: str = "waiting", after: int | None = None,
                 size: int = PAGE_SIZE) -> AnswersPage:
    """A page of the submitted answers to `question` that have words, oldest first, by keyset on the answer's id.

    `show` is "waiting" (not yet moderated) or "all". Each page is a range
    scan of the index on (question, state, id): its cost does not grow with
    the number of answers before it.
    """
    query = (select(Answer, Participation.kind, Participation.individual_type, Participation.organisation_name,
                    Participation.organisation_type, Participation.publish_name, User.name)
             .join(Participation, Participation.id == Answer.participation_id)
             .join(User, User.id == Participation.user_id)
             .where(Answer.question_id == question.id, Participation.submitted_at.is_not(None), Answer.text != "")
             .options(joinedload(Answer.moderated_by))
             .order_by(Answer.id).limit(size + 1))
    if show == "waiting":
        query = query.where(Answer.moderation_state == AnswerState.NEW)
    if after is not None:
        query = query.where(Answer.id > after)
    rows = db.session.execute(query).all()
    found = []
    for answer, kind, individual_type, organisation_name, organisation_type, publish_name, person in rows[:size]:
        type_label = participant_type_label(kind, individual_type, organisation_type)
        found.append(ModeratedAnswer(answer, stakeholder_name(kind, organisation_name, publish_name, person,
                                                               type_label), type_label))
    return AnswersPage(found, found[-1].answer.id if len(rows) > size else None)


# --- Decisions ------------------------------------------------------------------------------


class StaleAnswer(StaleVersion):
    """The answer was moderated after the person opened it: carries the current row and who changed it."""

    def __init__(self, answer: Answer, change: Change):
        self.answer = answer
        super().__init__("This answer", change)


def last_answer_change(answer: Answer) -> Change:
    """Who last moderated the answer (its version only moves on a decision), else its audit trail."""
    if answer.moderated_by is not None:
        return Change(answer.moderated_by.name, answer.moderated_at, answer.moderated_by_id)
    return last_change(answer)


@dataclass(frozen=True)
class AnswerDecision:
    """What a member of staff decided about an answer's words, as plain values."""

    state: AnswerState
    reason: RejectionReason | None = None
    note: str = ""
    redacted_text: str | None = None

    @property
    def action(self) -> str:
        return _ACTIONS[self.state]


def _refuse_nul(value: str, field: str, what: str) -> None:
    if "\x00" in value:
        raise InvalidInput(f"{what} contains a NUL character, which cannot be stored. Remove it and try again.",
                           field)


def clean_answer_decision(answer: Answer, decision: AnswerDecision) -> AnswerDecision:
    """The decision with its text tidied, or InvalidInput naming what is missing or wrong.

    Withholding needs a reason (and, for 'other', an explanation); a
    redaction needs a reason and a redacted copy that differs from the words
    the participant wrote and fits the limit on answers.
    """
    note = clean_text(decision.note)
    _refuse_nul(note, "note", "The note")
    check_note(note)
    if decision.state is AnswerState.ACCEPTED:
        return AnswerDecision(AnswerState.ACCEPTED, note=note)
    if decision.state is AnswerState.WITHHELD:
        require_reason(decision.reason, note, "the answer is withheld")
        return AnswerDecision(AnswerState.WITHHELD, reason=decision.reason, note=note)
    if decision.state is AnswerState.REDACTED:
        require_reason(decision.reason, note, "the answer is redacted", REDACTION_REASONS)
        text = clean_text(decision.redacted_text)
        _refuse_nul(text, "redacted_text", "The redacted answer")
        if not text:
            raise InvalidInput("Enter the redacted answer. To publish none of it, withhold the answer instead.",
                               "redacted_text")
        if len(text) > MAX_ANSWER_LENGTH:
            raise InvalidInput(f"The redacted answer must be {MAX_ANSWER_LENGTH:,} characters or fewer. "
                               f"It has {len(text):,}.", "redacted_text")
        if text == answer.text:
            raise InvalidInput("The redacted answer is the same as the original. Remove the words that must "
                               "not be published, or accept the answer instead.", "redacted_text")
        return AnswerDecision(AnswerState.REDACTED, reason=decision.reason, note=note, redacted_text=text)
    raise InvalidInput("Choose whether to accept, redact or withhold the answer.", "state")


def would_reveal_original(answer: Answer, decision: AnswerDecision, actor) -> bool:
    """Accepting a redacted answer publishes its original, which only admins may see, so only they may."""
    return (answer.moderation_state is AnswerState.REDACTED and decision.state is AnswerState.ACCEPTED
            and not can_see_original_of_redacted(actor))


def _same_as_now(answer: Answer, decision: AnswerDecision) -> bool:
    if answer.moderation_state is not decision.state:
        return False
    if decision.state is AnswerState.WITHHELD:
        return answer.moderation_reason is decision.reason and answer.moderation_note == decision.note
    if decision.state is AnswerState.REDACTED:
        return answer.redacted_text == decision.redacted_text and answer.moderation_reason is decision.reason
    return True


def _exactly_as_now(answer: Answer, decision: AnswerDecision) -> bool:
    """Whether the answer already holds this decision in full, a redaction's note included."""
    return _same_as_now(answer, decision) and (
        decision.state is not AnswerState.REDACTED or answer.moderation_note == decision.note)


def _already(answer: Answer, decision: AnswerDecision) -> NothingToChange:
    return already_decided("answer", decision.state, decision.state is AnswerState.REDACTED, str(answer.id))


def _unless_already(stale: StaleAnswer, decision: AnswerDecision) -> StaleAnswer | NothingToChange:
    """The refusal of a decision made on an older version of the answer.

    When the answer now holds exactly that decision (the form sent twice, at
    once or after Back, or a colleague deciding the same), it is already so and
    nothing more is to change; otherwise `stale`, naming who changed it.
    """
    try:
        decision = clean_answer_decision(stale.answer, decision)
    except InvalidInput:
        return stale
    return _already(stale.answer, decision) if _exactly_as_now(stale.answer, decision) else stale


def decide_answer(answer: Answer, decision: AnswerDecision, actor, expected_version: int,
                  now: datetime) -> None:
    """Accept, redact or withhold the words of one submitted answer, as of the version the person opened.

    Refused for a draft or an answer without words (nothing to moderate).
    Raises StaleAnswer if the answer was moderated since `expected_version`,
    whether seen before saving or only by the database when two saves race;
    either way nothing is written. An answer that already holds exactly this
    decision raises NothingToChange instead, stale or not, so a decision sent
    twice reads as done. The audit event keeps before and after.
    """
    if answer.participation.submitted_at is None:
        raise InvalidInput("Only submitted answers can be moderated.")
    if not answer.text:
        raise InvalidInput("This answer has no words to moderate: its yes or no is published as it is.")
    if answer.version != expected_version:
        raise _unless_already(StaleAnswer(answer, last_answer_change(answer)), decision)
    decision = clean_answer_decision(answer, decision)
    if would_reveal_original(answer, decision, actor):
        raise InvalidInput(REVEAL_REFUSED)
    if _same_as_now(answer, decision):
        raise _already(answer, decision)

    def apply() -> None:
        answer.moderation_state = decision.state
        answer.moderation_reason = decision.reason if decision.state is not AnswerState.ACCEPTED else None
        answer.redacted_text = decision.redacted_text if decision.state is AnswerState.REDACTED else None
        answer.moderation_note = decision.note
        answer.moderated_by = actor
        answer.moderated_at = now

    write_decision(answer, decision.action, actor, _AUDITED, apply,
                   stale=lambda: _unless_already(StaleAnswer(answer, last_answer_change(answer)), decision))
