"""Answers as rows of the comments workbook and CSV: one per answer, and an empty one per unanswered question.

Read in batches of participants, like exports.rows reads comments, so an
export holds one batch of answers at a time however large the consultation;
only the consultation's questions (a handful) are held throughout.

Every output respects moderation as comments do: the committee's outputs
show a redacted answer as redacted and never show withheld words; the
public reads only what staff accepted or redacted (questions.moderation).
A participant's own download keeps their own words.
"""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, select

from consult.accounts.models import User
from consult.comments.models import ParticipantKind, Participation, participant_type_label
from consult.comments.services import own_declaration
from consult.consultations.models import Consultation
from consult.exports.rows import BATCH, columns, stakeholder_name
from consult.extensions import db
from consult.questions.models import Answer, AnswerState, Question
from consult.questions.moderation import published, shown_text
from consult.questions.services import list_questions, questions_for
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
    other_interests: str
    submitted_at: datetime | None
    moderation_label: str = ""
    participation_id: int = 0
    answered: bool = False  # False for the empty row NICE's workbook keeps for a question left unanswered

    @property
    def yes_no_label(self) -> str:
        return "" if self.yes_no is None else ("Yes" if self.yes_no else "No")

    def values(self, include_email: bool) -> list:
        cells = {
            "Stakeholder": self.stakeholder, "Email address": self.email, "Consultation": self.consultation_reference,
            "Document": self.document_title, "Question text": self.question_text,
            "Yes/No answer": self.yes_no_label, "Answer text": self.text,
            "Represents an organisation": "Yes" if self.is_organisation else "No",
            "Organisation": self.organisation_name, "Participant type": self.participant_type,
            "Has tobacco links": "Yes" if self.has_tobacco_links else "No",
            "Tobacco link details": self.tobacco_details, "Other interests declared": self.other_interests,
            "Moderation state": self.moderation_label,
            "Submitted at (UK time)": spreadsheet_time(self.submitted_at),
        }
        return [cells.get(heading, "") for heading in columns(include_email)]


def export_answers(consultation_id: int) -> Iterator[AnswerRow]:
    """Every submitted participant's answers, participant by participant (in the order they took part),
    then in the order of the questions: the order exports.rows.in_respondent_order gives comments, so the
    two streams merge into NICE's table in one pass.

    Drafts are never exported: a participant's answers appear once their
    response is submitted. Each participant gets a row for every question
    they were asked, empty where they gave no answer, so gaps show. Words
    appear as moderated: redacted where redacted, none where withheld.
    """
    questions = list_questions(consultation_id)
    if not questions:
        return
    query = (
        select(Participation.id, Participation.kind, Participation.individual_type, Participation.organisation_name,
               Participation.organisation_type, Participation.has_tobacco_links, Participation.tobacco_details,
               Participation.other_interests, Participation.publish_name, Participation.submitted_at, User.name,
               User.email, Consultation.reference)
        .join(User, User.id == Participation.user_id)
        .join(Consultation, Consultation.id == Participation.consultation_id)
        .where(Participation.consultation_id == consultation_id, Participation.submitted_at.is_not(None))
        .order_by(Participation.id)
    )
    result = db.session.execute(query.execution_options(yield_per=BATCH))
    for partition in result.partitions(BATCH):
        ids = [row[0] for row in partition]
        given = {(participation_id, question_id): (yes_no, text, _moderation_label(state, written))
                 for participation_id, question_id, yes_no, text, state, written in db.session.execute(
                     select(Answer.participation_id, Answer.question_id, Answer.yes_no, shown_text(),
                            Answer.moderation_state, Answer.text)
                     .where(Answer.participation_id.in_(ids)))}
        for (participation_id, kind, individual_type, organisation_name, organisation_type, tobacco,
             tobacco_details, other_interests, publish_name, submitted_at, person, email, reference) in partition:
            type_label = participant_type_label(kind, individual_type, organisation_type)
            for question in questions:
                if not question.is_for(kind):
                    continue
                answer = given.get((participation_id, question.id))
                yes_no, text, moderation_label = answer or (None, "", "")
                yield AnswerRow(
                    consultation_reference=reference,
                    document_title=question.document.title if question.document else "",
                    question_text=question.text, yes_no=yes_no, text=text,
                    stakeholder=stakeholder_name(kind, organisation_name, publish_name, person, type_label),
                    email=email, is_organisation=kind is ParticipantKind.ORGANISATION,
                    organisation_name=organisation_name or "", participant_type=type_label,
                    has_tobacco_links=tobacco, tobacco_details=tobacco_details,
                    other_interests=other_interests or "", submitted_at=submitted_at,
                    moderation_label=moderation_label, participation_id=participation_id,
                    answered=answer is not None,
                )


def count_answer_rows(consultation_id: int) -> int:
    """How many rows export_answers yields, without reading them: one per question each submitted participant
    was asked, answered or not. One count of participants by kind; the questions are a handful."""
    questions = list_questions(consultation_id)
    if not questions:
        return 0
    by_kind = db.session.execute(
        select(Participation.kind, func.count())
        .where(Participation.consultation_id == consultation_id, Participation.submitted_at.is_not(None))
        .group_by(Participation.kind))
    return sum(count * sum(1 for question in questions if question.is_for(kind)) for kind, count in by_kind)


def count_given_answers(consultation_id: int) -> int:
    """How many answers submitted participants gave: the rows of write_question_sheets' sheets."""
    return db.session.scalar(
        select(func.count(Answer.participation_id))
        .join(Participation, Participation.id == Answer.participation_id)
        .where(Participation.consultation_id == consultation_id, Participation.submitted_at.is_not(None)))


def _moderation_label(state: AnswerState, written: str) -> str:
    """An answer's moderation as the workbook states it; a bare yes or no has none to state."""
    return state.label if written else ""


def own_answer_rows(participation: Participation, headings: list[str]) -> list[list]:
    """A participant's own answers for their own download, under `headings`: one row per question, in order,
    empty where they gave no answer. Bounded by the consultation's questions, so built in full."""
    answers = {answer.question_id: answer for answer in db.session.scalars(
        select(Answer).where(Answer.participation_id == participation.id))}
    status = "Submitted" if participation.is_submitted else "Draft"
    rows = []
    for question in questions_for(participation):
        answer = answers.get(question.id)
        cells = {
            "Status": status if answer else "Not answered",
            "Document": question.document.title if question.document else "",
            "Question text": question.text,
            "Yes/No answer": answer.yes_no_label if answer else "",
            "Answer text": answer.text if answer else "",
            "Submitted at (UK time)": spreadsheet_time(participation.submitted_at) if answer else "",
            **own_declaration(participation),
        }
        rows.append([cells.get(heading, "") for heading in headings])
    return rows


# --- Per-question summaries: the themed workbook's question sheets and the committee's review -----------

YES, NO, NO_CHOICE = "Yes", "No", "Answered in words"
QUESTION_SHEET_COLUMNS = ["Stakeholder", "Participant type", "Yes/No answer", "Answer text"]


@dataclass(frozen=True)
class QuestionSummary:
    """One question's submitted answers counted by participant type, with some of what people wrote."""

    question: Question
    counts: dict[str, dict[str, int]]  # participant type -> {"Yes": n, "No": n, "Answered in words": n}
    texts: list[tuple[str, str, str, str]]  # (stakeholder, participant type, yes/no, text), newest first

    @property
    def types(self) -> list[str]:
        return sorted(self.counts)

    @property
    def columns(self) -> list[str]:
        return [YES, NO] if self.question.is_yes_no else [NO_CHOICE]

    @property
    def total(self) -> int:
        return sum(sum(by_answer.values()) for by_answer in self.counts.values())


def _submitted_answers(consultation_id: int):
    """Submitted answers with their words as moderated, and what naming their author needs."""
    return (
        select(Answer.question_id, Answer.yes_no, shown_text(), Participation.kind, Participation.individual_type,
               Participation.organisation_name, Participation.organisation_type, Participation.publish_name,
               User.name)
        .join(Participation, Participation.id == Answer.participation_id)
        .join(User, User.id == Participation.user_id)
        .where(Participation.consultation_id == consultation_id, Participation.submitted_at.is_not(None))
    )


def _answer_label(yes_no: bool | None) -> str:
    return NO_CHOICE if yes_no is None else (YES if yes_no else NO)


def _named(row) -> tuple[str, str, str, str]:
    _, yes_no, text, kind, individual_type, organisation_name, organisation_type, publish_name, person = row
    type_label = participant_type_label(kind, individual_type, organisation_type)
    return (stakeholder_name(kind, organisation_name, publish_name, person, type_label), type_label,
            "" if yes_no is None else (YES if yes_no else NO), text)


def summarise_answers(consultation_id: int, texts_per_question: int = 10) -> list[QuestionSummary]:
    """Every question's submitted answers counted by participant type and answer, with the newest words.

    One grouped count for all the questions, and one short query per question
    for its newest written answers: the full text of every answer is in the
    themed workbook.
    """
    questions = list_questions(consultation_id)
    if not questions:
        return []
    counts: dict[int, dict[str, dict[str, int]]] = {q.id: {} for q in questions}
    grouped = (select(Answer.question_id, Participation.kind, Participation.individual_type,
                      Participation.organisation_type, Answer.yes_no, func.count())
               .join(Participation, Participation.id == Answer.participation_id)
               .where(Participation.consultation_id == consultation_id, Participation.submitted_at.is_not(None))
               .group_by(Answer.question_id, Participation.kind, Participation.individual_type,
                         Participation.organisation_type, Answer.yes_no))
    for question_id, kind, individual_type, organisation_type, yes_no, count in db.session.execute(grouped):
        by_type = counts[question_id].setdefault(participant_type_label(kind, individual_type, organisation_type), {})
        by_type[_answer_label(yes_no)] = by_type.get(_answer_label(yes_no), 0) + count
    summaries = []
    for question in questions:
        newest = db.session.execute(
            _submitted_answers(consultation_id).where(Answer.question_id == question.id, shown_text() != "")
            .order_by(Answer.updated_at.desc(), Answer.id.desc()).limit(texts_per_question))
        summaries.append(QuestionSummary(question, counts[question.id], [_named(row) for row in newest]))
    return summaries


def write_question_sheets(book, formats, taken: set[str], sheet_name, consultation_id: int,
                          counted: Callable[[Iterable], Iterable] = iter) -> None:
    """A 'Questions' sheet of counts by participant type, then one sheet per question with every answer given.

    `sheet_name(name, taken)` makes Excel-safe unique names. Answers are read
    in one streamed query in question order, so each sheet is written in turn,
    passing through `counted` (for a prepared file's count of its rows).
    """
    from consult.downloads import SheetWriter, write_text

    summaries = summarise_answers(consultation_id, texts_per_question=0)
    if not summaries:
        return
    summary = book.add_worksheet(sheet_name("Questions", taken))
    summary.set_column(0, 0, 40)
    summary.set_column(1, 4, 16)
    row = 0
    for number, item in enumerate(summaries, start=1):
        write_text(summary, row, 0, f"Question {number}: {item.question.text}", formats, "header")
        header = ["Participant type", *item.columns, "Total"]
        for column, heading in enumerate(header):
            summary.write_string(row + 1, column, heading, formats["header"])
        row += 2
        for type_label in item.types:
            summary.write_string(row, 0, type_label)
            for column, answer in enumerate(item.columns, start=1):
                summary.write_number(row, column, item.counts[type_label].get(answer, 0))
            summary.write_number(row, len(item.columns) + 1, sum(item.counts[type_label].values()))
            row += 1
        if not item.types:
            summary.write_string(row, 0, "No answers")
            row += 1
        row += 1
    sheets = {item.question.id: SheetWriter(book, sheet_name(f"Q{number} {item.question.text}", taken),
                                            QUESTION_SHEET_COLUMNS, formats)
              for number, item in enumerate(summaries, start=1)}
    positions = {item.question.id: index for index, item in enumerate(summaries)}
    query = (_submitted_answers(consultation_id).join(Question, Question.id == Answer.question_id)
             .order_by(Question.position, Participation.submitted_at, Participation.id))
    for row_values in counted(db.session.execute(query.execution_options(yield_per=BATCH))):
        if row_values[0] in positions:
            sheets[row_values[0]].write(list(_named(row_values)))
    for sheet in sheets.values():
        sheet.finish()


PUBLISHED_PAGE_SIZE = 50


def count_published_answers(consultation_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(_submitted_answers(consultation_id)
                                                               .where(published()).subquery()))


def has_published_answer() -> ColumnElement[bool]:
    """Whether the enclosing query's Participation has an answer the published pages and files show.

    The rule they apply (published_answers_page, published_answer_rows): a
    submitted response, and an answer moderation lets out. An EXISTS that the
    unique index on answers (participation, question) serves, for a count of
    participations that loads no rows.
    """
    return and_(Participation.submitted_at.is_not(None),
                select(Answer.id).where(Answer.participation_id == Participation.id, published()).exists())


def published_answer_rows(consultation_id: int) -> Iterator[tuple[str, str, str, str, str]]:
    """Every published answer, question by question in the order staff chose, streamed for the public
    downloads: (question, stakeholder, participant type, yes/no, words), named as published_answers_page names."""
    query = (_submitted_answers(consultation_id).add_columns(Question.text)
             .join(Question, Question.id == Answer.question_id)
             .where(published()).order_by(Question.position, Answer.id))
    for row in db.session.execute(query.execution_options(yield_per=1000)):
        yield (row[-1], *_named(row[:-1]))


@dataclass(frozen=True)
class PublishedAnswers:
    """A page of one question's submitted answers, as the public reads them, and where the next page starts."""

    question: Question
    answers: list[tuple[str, str, str, str]]  # (stakeholder, participant type, yes/no, text)
    next_after: int | None


def published_answers_page(question: Question, after: int | None = None) -> PublishedAnswers:
    """Published answers to `question` in the order they were first saved, `size` at a time by keyset.

    Only what moderation lets out (questions.moderation.published): words
    staff accepted, or their redaction; a bare yes or no; the yes or no of
    an answer whose words were withheld. Named as published comments are:
    organisations by name, individuals only with their consent, never an
    email address.
    """
    size = PUBLISHED_PAGE_SIZE
    query = (_submitted_answers(question.consultation_id).add_columns(Answer.id)
             .where(Answer.question_id == question.id, published()).order_by(Answer.id).limit(size + 1))
    if after is not None:
        query = query.where(Answer.id > after)
    rows = db.session.execute(query).all()
    more = len(rows) > size
    rows = rows[:size]
    return PublishedAnswers(question, [_named(row[:-1]) for row in rows], rows[-1][-1] if more else None)
