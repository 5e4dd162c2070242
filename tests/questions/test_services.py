"""The rules of questions and answers, at the service layer, on whichever database the suite runs on."""

import csv
import io
from datetime import timedelta

import openpyxl
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from consult.audit.models import AuditEvent
from consult.comments import services as comment_services
from consult.database import utcnow
from consult.exports import services as export_services
from consult.exports.rows import COLUMNS, columns, export_comments, in_document_order, in_respondent_order, publishable
from consult.extensions import db
from consult.questions import services
from consult.questions.exports import export_answers, summarise_answers, write_question_sheets
from consult.questions.models import Answer, Declaration, Question, QuestionKind
from tests.conftest import new_consultation, new_participation, new_user, sections_of
from tests.exports.conftest import all_comments_of
from tests.questions.conftest import EVIDENCE, IMPACT, open_now
from tests.spreadsheets import rows_shown


def draft(text: str, kind: QuestionKind = QuestionKind.OPEN, document_id=None) -> services.QuestionDraft:
    return services.QuestionDraft(kind, text, document_id)


def texts(consultation) -> list[str]:
    return [q.text for q in services.list_questions(consultation.id)]


def actions(question_or_id) -> list[str]:
    object_id = str(getattr(question_or_id, "id", question_or_id))
    return list(db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.object_type == "questions", AuditEvent.object_id == object_id).order_by(AuditEvent.id)))


# --- Staff ---------------------------------------------------------------------------

def test_questions_are_added_in_order_about_the_consultation_or_a_document_and_audited(staff_user):
    consultation = new_consultation(state="upcoming")
    document = consultation.documents[0]
    first = services.add_question(staff_user, consultation, draft("  What is missing?  "), utcnow())
    second = services.add_question(staff_user, consultation, draft("Is it clear?", QuestionKind.YES_NO, document.id),
                                   utcnow())
    assert [(q.position, q.text, q.about) for q in services.list_questions(consultation.id)] == [
        (1, "What is missing?", "The whole consultation"), (2, "Is it clear?", document.title)]
    assert second.is_yes_no and not first.is_yes_no
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.object_id == str(second.id),
                                                       AuditEvent.object_type == "questions"))
    assert event.action == "question.add" and event.actor_id == staff_user.id
    assert event.after["text"] == "Is it clear?" and event.after["kind"] == "yes_no"


@pytest.mark.parametrize("state", ["open", "closed"])
def test_questions_cannot_change_once_the_consultation_has_opened(staff_user, state):
    consultation = new_consultation(state=state)
    with pytest.raises(services.QuestionsLocked, match="can no longer be changed"):
        services.add_question(staff_user, consultation, draft("Too late?"), utcnow())
    with pytest.raises(services.QuestionsLocked):
        services.add_standard_questions(staff_user, consultation, utcnow())


def test_a_question_written_before_opening_is_locked_after_it(staff_user, asking):
    consultation, yes_no, open_question = asking
    for change in (lambda: services.edit_question(staff_user, yes_no, draft("New words"), utcnow()),
                   lambda: services.move_question(staff_user, open_question, "up", utcnow()),
                   lambda: services.remove_question(staff_user, yes_no, utcnow()),
                   lambda: services.switch_declaration(staff_user, consultation, Declaration.FORMAL_SUPPORT, True,
                                                       utcnow())):
        with pytest.raises(services.QuestionsLocked):
            change()
    assert texts(consultation) == [EVIDENCE, IMPACT]


def test_a_draft_consultation_keeps_its_questions_open_to_change_whatever_its_dates(staff_user):
    consultation = new_consultation(state="open")
    consultation.is_draft = True
    services.add_question(staff_user, consultation, draft("Held back?"), utcnow())
    assert texts(consultation) == ["Held back?"]


@pytest.mark.parametrize("text,message", [
    ("   ", "Enter the question"),
    ("x" * 1001, "The question must be 1,000 characters or fewer. It has 1,001."),
    ("Bad\x00byte", "NUL character"),
])
def test_question_text_is_checked_with_a_clear_message(staff_user, text, message):
    consultation = new_consultation(state="upcoming")
    with pytest.raises(services.InvalidQuestion, match=message) as refused:
        services.add_question(staff_user, consultation, draft(text), utcnow())
    assert refused.value.field == "text"
    assert texts(consultation) == []


def test_a_question_about_another_consultations_document_is_refused(staff_user):
    consultation, other = new_consultation(state="upcoming"), new_consultation(state="upcoming")
    with pytest.raises(services.InvalidQuestion, match="Select a document of this consultation"):
        services.add_question(staff_user, consultation, draft("Where?", document_id=other.documents[0].id), utcnow())


def test_the_same_question_is_not_asked_twice(staff_user):
    consultation = new_consultation(state="upcoming")
    services.add_question(staff_user, consultation, draft("Is it clear?"), utcnow())
    with pytest.raises(services.QuestionAlreadyAsked):
        services.add_question(staff_user, consultation, draft("Is it clear?"), utcnow())


def test_editing_changes_the_question_and_audits_before_and_after(staff_user):
    consultation = new_consultation(state="upcoming")
    question = services.add_question(staff_user, consultation, draft("Is it clear?"), utcnow())
    assert services.edit_question(staff_user, question, draft("Is it clear enough?", QuestionKind.YES_NO), utcnow())
    assert not services.edit_question(staff_user, question, draft("Is it clear enough?", QuestionKind.YES_NO),
                                      utcnow())
    assert actions(question) == ["question.add", "question.edit"]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "question.edit",
                                                       AuditEvent.object_id == str(question.id)))
    assert event.before["text"] == "Is it clear?" and event.after["text"] == "Is it clear enough?"
    assert event.before["kind"] == "open" and event.after["kind"] == "yes_no"


def test_moving_swaps_with_the_neighbour_and_stops_at_either_end(staff_user):
    consultation = new_consultation(state="upcoming")
    a, b, c = (services.add_question(staff_user, consultation, draft(t), utcnow()) for t in ("A?", "B?", "C?"))
    assert services.move_question(staff_user, c, "up", utcnow())
    assert texts(consultation) == ["A?", "C?", "B?"]
    assert services.move_question(staff_user, a, "down", utcnow())
    assert texts(consultation) == ["C?", "A?", "B?"]
    assert not services.move_question(staff_user, c, "up", utcnow())
    assert not services.move_question(staff_user, b, "down", utcnow())
    assert actions(c) == ["question.add", "question.move"]


def test_removing_a_question_is_audited_and_the_order_stays_whole(staff_user):
    consultation = new_consultation(state="upcoming")
    a, b = (services.add_question(staff_user, consultation, draft(t), utcnow()) for t in ("A?", "B?"))
    a_id = a.id
    services.remove_question(staff_user, a, utcnow())
    assert texts(consultation) == ["B?"]
    assert actions(a_id) == ["question.add", "question.remove"]
    services.add_question(staff_user, consultation, draft("C?"), utcnow())
    assert texts(consultation) == ["B?", "C?"]


def test_an_answered_question_is_never_removed(staff_user, asking):
    consultation, yes_no, _ = asking
    participation = new_participation(new_user(), consultation)
    services.save_answer(participation, yes_no, True, "", utcnow())
    consultation.is_draft = True  # held back again after people answered
    with pytest.raises(services.QuestionAnswered):
        services.remove_question(staff_user, yes_no, utcnow())


def test_the_standard_questions_are_added_once_in_their_order(staff_user):
    consultation = new_consultation(state="upcoming")
    services.add_question(staff_user, consultation, draft(services.STANDARD_QUESTIONS[1][1]), utcnow())
    added = services.add_standard_questions(staff_user, consultation, utcnow())
    assert [q.text for q in added] == [text for _, text in services.STANDARD_QUESTIONS if
                                       text != services.STANDARD_QUESTIONS[1][1]]
    assert services.add_standard_questions(staff_user, consultation, utcnow()) == []
    assert len(texts(consultation)) == len(services.STANDARD_QUESTIONS)
    assert "question.add_standard" in actions(added[0])


def test_the_bank_finds_other_consultations_questions_by_their_words_once_each(staff_user):
    here = new_consultation(state="upcoming")
    for other in (new_consultation(state="upcoming"), new_consultation(state="upcoming")):
        services.add_question(staff_user, other, draft("Is the evidence on costs complete?"), utcnow())
        services.add_question(staff_user, other, draft("Any 100% certain harms?"), utcnow())
    services.add_question(staff_user, here, draft("Is the evidence here enough?"), utcnow())
    assert [q.text for q in services.search_bank(here, "EVIDENCE")] == ["Is the evidence on costs complete?"]
    assert [q.text for q in services.search_bank(here, "100%")] == ["Any 100% certain harms?"]
    assert services.search_bank(here, "0%c") == []  # a wildcard typed is a character searched for
    assert len(services.search_bank(here)) == 2


def test_a_question_from_the_bank_is_asked_again_here_and_not_twice(staff_user):
    here, other = new_consultation(state="upcoming"), new_consultation(state="upcoming")
    source = services.add_question(staff_user, other, draft("Is it fair?", QuestionKind.YES_NO), utcnow())
    copy = services.reuse_question(staff_user, here, source, utcnow())
    assert (copy.consultation_id, copy.text, copy.kind) == (here.id, "Is it fair?", QuestionKind.YES_NO)
    assert actions(copy) == ["question.reuse"]
    with pytest.raises(services.QuestionAlreadyAsked):
        services.reuse_question(staff_user, here, source, utcnow())


def test_the_formal_support_declaration_switches_on_and_off(staff_user):
    consultation = new_consultation(state="upcoming")
    assert services.switch_declaration(staff_user, consultation, Declaration.FORMAL_SUPPORT, True, utcnow())
    assert not services.switch_declaration(staff_user, consultation, Declaration.FORMAL_SUPPORT, True, utcnow())
    question = services.find_declaration(consultation.id, Declaration.FORMAL_SUPPORT)
    assert question.is_yes_no and "formally supporting" in question.text
    with pytest.raises(services.QuestionError, match="wording is fixed"):
        services.edit_question(staff_user, question, draft("Other words"), utcnow())
    assert services.search_bank(new_consultation(state="upcoming")) == []  # declarations are not in the bank
    assert services.switch_declaration(staff_user, consultation, Declaration.FORMAL_SUPPORT, False, utcnow())
    assert services.find_declaration(consultation.id, Declaration.FORMAL_SUPPORT) is None


def test_the_database_allows_one_position_and_one_declaration_per_consultation(staff_user):
    consultation = new_consultation(state="upcoming")
    services.add_question(staff_user, consultation, draft("A?"), utcnow())
    db.session.commit()
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.add(Question(consultation_id=consultation.id, kind=QuestionKind.OPEN, text="B?", position=1))
    services.switch_declaration(staff_user, consultation, Declaration.FORMAL_SUPPORT, True, utcnow())
    db.session.commit()
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.add(Question(consultation_id=consultation.id, kind=QuestionKind.YES_NO, text="C?", position=9,
                                declaration=Declaration.FORMAL_SUPPORT))


# --- Answering -----------------------------------------------------------------------

def test_an_answer_is_a_draft_that_a_second_save_replaces(asking):
    consultation, yes_no, open_question = asking
    participation = new_participation(new_user(), consultation)
    services.save_answer(participation, yes_no, False, "  Trials after 2020 are missing.  ", utcnow())
    services.save_answer(participation, yes_no, True, "", utcnow())
    services.save_answer(participation, open_question, True, "Longer waits", utcnow())
    answers = services.answers_by_question(participation)
    assert (answers[yes_no.id].yes_no, answers[yes_no.id].text) == (True, "")
    assert (answers[open_question.id].yes_no, answers[open_question.id].text) == (None, "Longer waits")
    assert db.session.scalar(select(func.count(Answer.id)).where(Answer.participation_id == participation.id)) == 2


@pytest.mark.parametrize("which,yes_no,text,message", [
    ("yes_no", None, "", "Select yes or no"),
    ("open", None, "  ", "Enter your answer"),
    ("open", None, "\u200b \u00a0", "Enter your answer"),
    ("open", None, "x" * 10_001, "Your answer must be 10,000 characters or fewer. It has 10,001."),
    ("yes_no", True, "x" * 10_001, "Further information must be 10,000 characters or fewer. It has 10,001."),
    ("open", None, "Nul\x00here", "NUL character"),
    ("yes_no", False, "Nul\x00here", "NUL character"),
])
def test_answers_are_checked_with_a_clear_message(asking, which, yes_no, text, message):
    consultation, yes_no_question, open_question = asking
    participation = new_participation(new_user(), consultation)
    question = yes_no_question if which == "yes_no" else open_question
    with pytest.raises(services.InvalidAnswer, match=message):
        services.save_answer(participation, question, yes_no, text, utcnow())
    assert services.answers_by_question(participation) == {}


def test_the_database_holds_one_answer_per_participation_and_question(asking):
    consultation, yes_no, _ = asking
    participation = new_participation(new_user(), consultation)
    services.save_answer(participation, yes_no, True, "", utcnow())
    db.session.commit()
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.add(Answer(participation_id=participation.id, question_id=yes_no.id, yes_no=False, text=""))


def test_answers_can_be_submitted_alone_and_are_read_only_after(asking):
    consultation, yes_no, open_question = asking
    participation = new_participation(new_user(), consultation)
    services.save_answer(participation, open_question, None, "Longer waits", utcnow())
    assert [q.id for q in services.unanswered_questions(participation)] == [yes_no.id]
    comment_services.submit_response(participation, utcnow())
    assert participation.is_submitted
    with pytest.raises(services.AnswersAlreadySubmitted):
        services.save_answer(participation, yes_no, True, "", utcnow())
    with pytest.raises(services.AnswersAlreadySubmitted):
        services.save_answer(participation, open_question, None, "Changed my mind", utcnow())
    assert services.answers_by_question(participation)[open_question.id].text == "Longer waits"


def test_nothing_to_submit_without_comments_or_answers(asking):
    consultation, _, _ = asking
    participation = new_participation(new_user(), consultation)
    with pytest.raises(comment_services.NothingToSubmit, match="answer a question"):
        comment_services.submit_response(participation, utcnow())


def test_answers_are_refused_when_the_consultation_is_not_open(asking):
    consultation, yes_no, _ = asking
    participation = new_participation(new_user(), consultation)
    consultation.closes_at = utcnow() - timedelta(minutes=1)
    with pytest.raises(comment_services.ConsultationNotOpen):
        services.save_answer(participation, yes_no, True, "", utcnow())


def test_another_consultations_question_cannot_be_answered(asking, staff_user):
    consultation, _, _ = asking
    other = new_consultation(state="upcoming")
    foreign = services.add_question(staff_user, other, draft("Elsewhere?"), utcnow())
    open_now(other)
    participation = new_participation(new_user(), consultation)
    with pytest.raises(services.InvalidAnswer, match="another consultation"):
        services.save_answer(participation, foreign, None, "Sneaky", utcnow())


# --- Exports -------------------------------------------------------------------------

def _read(data: bytes) -> list[list]:
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    return [["" if value is None else value for value in row] for row in rows_shown(sheet)]


def test_the_comments_workbook_has_a_row_per_answer_and_an_empty_one_per_unanswered_question(asking):
    """NICE's table: respondent by respondent, each one's comments and then their answers."""
    consultation, yes_no, open_question = asking
    answerer = new_participation(new_user(name="Ann Answerer"), consultation)
    services.save_answer(answerer, yes_no, False, "=Trials after 2020 are missing.", utcnow())
    comment_services.submit_response(answerer, utcnow())
    commenter = new_participation(new_user(name="Cam Commenter"), consultation, kind="organisation",
                                  organisation_name="Neuroma Support")
    section = sections_of(consultation)["2.1"]
    comment_services.save_draft(commenter, comment_services.CommentTargetRef(section.document, section.chapter,
                                                                              section), "A comment", None, utcnow())
    comment_services.submit_response(commenter, utcnow())
    drafter = new_participation(new_user(name="Dee Drafter"), consultation)
    services.save_answer(drafter, open_question, None, "Never sent", utcnow())  # a draft: never exported
    db.session.commit()

    buffer = io.BytesIO()
    items = export_comments(in_respondent_order(publishable(all_comments_of(consultation))))
    count = export_services.write_comments_workbook(items, buffer, True, export_answers(consultation.id))
    rows = _read(buffer.getvalue())
    assert rows[0] == COLUMNS
    assert COLUMNS[COLUMNS.index("Comment") + 1:COLUMNS.index("Comment") + 4] == [
        "Question text", "Yes/No answer", "Answer text"]
    table = [dict(zip(COLUMNS, row)) for row in rows[1:]]
    assert count == len(table) == 5  # one comment; two questions for each of two submitted participants
    rows_in_order = [(r["Organisation"] or r["Participant type"], r["Comment"], r["Question text"],
                      r["Yes/No answer"], r["Answer text"], r["Moderation state"]) for r in table]
    assert rows_in_order == [
        ("Individual (patient or carer)", "", EVIDENCE, "No", "'=Trials after 2020 are missing.",
         "Waiting for moderation"),
        ("Individual (patient or carer)", "", IMPACT, "", "", ""),
        ("Neuroma Support", "A comment", "", "", "", "New"),
        ("Neuroma Support", "", EVIDENCE, "", "", ""),
        ("Neuroma Support", "", IMPACT, "", "", ""),
    ]
    assert table[0]["Stakeholder"] == "Individual (patient or carer)"  # named only with consent, as comments are
    assert "Never sent" not in str(rows)


def test_every_row_of_a_respondent_carries_their_other_interests_answers_included(asking):
    """A respondent's declaration is on their comments and on each of their answer rows, answered or left
    empty, in the workbook and the CSV alike; a respondent who declared nothing has the cell empty."""
    consultation, yes_no, open_question = asking
    declared = new_participation(new_user(name="Dee Declared"), consultation, kind="organisation",
                                 organisation_name="Orthotics Ltd")
    declared.other_interests = "+Manufactures a competing insole"
    services.save_answer(declared, yes_no, True, "Yes, mostly", utcnow())
    section = sections_of(consultation)["2.1"]
    comment_services.save_draft(declared, comment_services.CommentTargetRef(section.document, section.chapter,
                                                                             section), "A comment", None, utcnow())
    comment_services.submit_response(declared, utcnow())
    plain = new_participation(new_user(name="Nat Nothing"), consultation)
    services.save_answer(plain, open_question, None, "Longer waits", utcnow())
    comment_services.submit_response(plain, utcnow())
    db.session.commit()

    def items():
        return export_comments(in_respondent_order(publishable(all_comments_of(consultation))))

    buffer = io.BytesIO()
    export_services.write_comments_workbook(items(), buffer, False, export_answers(consultation.id))
    workbook = _read(buffer.getvalue())
    text = "".join(export_services.comments_csv(items(), False, export_answers(consultation.id)))
    csv_rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    for rows in (workbook, csv_rows):
        header = rows[0]
        assert header.index("Other interests declared") == header.index("Tobacco link details") + 1
        table = [dict(zip(header, row)) for row in rows[1:]]
        assert [(r["Organisation"] or r["Participant type"], r["Comment"], r["Question text"],
                 r["Other interests declared"]) for r in table] == [
            ("Orthotics Ltd", "A comment", "", "'+Manufactures a competing insole"),
            ("Orthotics Ltd", "", EVIDENCE, "'+Manufactures a competing insole"),
            ("Orthotics Ltd", "", IMPACT, "'+Manufactures a competing insole"),
            ("Individual (patient or carer)", "", EVIDENCE, ""),
            ("Individual (patient or carer)", "", IMPACT, ""),
        ]


def test_an_answer_row_holds_the_declaration_under_its_own_heading(asking):
    consultation, yes_no, _ = asking
    person = new_participation(new_user(name="Ann"), consultation)
    person.other_interests = "Advises a device maker"
    services.save_answer(person, yes_no, False, "", utcnow())
    comment_services.submit_response(person, utcnow())
    db.session.commit()
    row = next(export_answers(consultation.id))
    for include_email in (True, False):
        cells = dict(zip(columns(include_email), row.values(include_email)))
        assert cells["Other interests declared"] == "Advises a device maker"
        assert cells["Tobacco link details"] == "" and cells["Has tobacco links"] == "No"


def _submit_answers(consultation, answers: list[tuple], **participation):
    person = new_participation(new_user(name=participation.pop("name", "Someone")), consultation, **participation)
    for question, yes_no, text in answers:
        services.save_answer(person, question, yes_no, text, utcnow())
    comment_services.submit_response(person, utcnow())
    return person


def test_answers_are_counted_by_participant_type_with_the_words_named_as_consent_allows(asking):
    consultation, yes_no, open_question = asking
    _submit_answers(consultation, [(yes_no, True, ""), (open_question, None, "Longer waits")], name="Pat")
    _submit_answers(consultation, [(yes_no, False, "Missing trials")], name="Cal", kind="organisation",
                    organisation_name="Neuroma Support")
    _submit_answers(consultation, [(yes_no, False, "")], name="Kim")
    drafter = new_participation(new_user(), consultation)
    services.save_answer(drafter, yes_no, True, "draft only", utcnow())
    summaries = {s.question.id: s for s in summarise_answers(consultation.id)}
    evidence = summaries[yes_no.id]
    assert evidence.columns == ["Yes", "No"]
    assert evidence.counts == {"Individual (patient or carer)": {"Yes": 1, "No": 1},
                               "Organisation (charity or patient group)": {"No": 1}}
    assert evidence.texts == [("Neuroma Support", "Organisation (charity or patient group)", "No",
                               "Missing trials")]
    impact = summaries[open_question.id]
    assert impact.counts == {"Individual (patient or carer)": {"Answered in words": 1}}
    assert impact.texts == [("Individual (patient or carer)", "Individual (patient or carer)", "", "Longer waits")]


def test_the_themed_workbook_has_a_sheet_of_counts_and_one_per_question(asking):
    consultation, yes_no, open_question = asking
    _submit_answers(consultation, [(yes_no, True, "+Good"), (open_question, None, "Longer waits")], name="Pat")
    _submit_answers(consultation, [(yes_no, False, "")], name="Cal")
    buffer = io.BytesIO()
    items = export_comments(in_document_order(publishable(all_comments_of(consultation))))

    def more(book, formats, taken, sheet_name):
        write_question_sheets(book, formats, taken, sheet_name, consultation.id)

    export_services.write_themed_workbook(items, [], buffer, more)
    book = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))
    cut = [f"Q{n} {text}"[:28].rstrip() + "..." for n, text in ((1, EVIDENCE), (2, IMPACT))]
    assert book.sheetnames[-3:] == ["Questions", *cut]  # each sheet's first row holds the question in full
    counts = [[c for c in row if c is not None] for row in book["Questions"].iter_rows(values_only=True)]
    assert counts[:4] == [[f"Question 1: {EVIDENCE}"], ["Participant type", "Yes", "No", "Total"],
                          ["Individual (patient or carer)", 1, 1, 2], []]
    first = [list(row) for row in rows_shown(book[book.sheetnames[-2]])]
    assert first[0] == ["Stakeholder", "Participant type", "Yes/No answer", "Answer text"]
    assert [row[2:] for row in first[1:]] == [["Yes", "'+Good"], ["No", None]]


def test_a_colleagues_answers_close_when_their_organisation_responds(asking):
    from consult.organisations import services as organisation_services
    from tests.organisations.conftest import new_colleague, new_lead

    consultation, yes_no, open_question = asking
    lead = new_lead()
    code = organisation_services.share_code(lead, consultation, utcnow())
    _, colleague = new_colleague(consultation, code.code)
    services.save_answer(colleague, yes_no, True, "Before", utcnow())
    lead_response = comment_services.find_participation(lead.id, consultation.id)
    services.save_answer(lead_response, open_question, None, "The organisation's answer", utcnow())
    organisation_services.submit_organisation_response(lead_response, False, "", utcnow())
    db.session.commit()
    for question, yes_no_answer, text in ((yes_no, False, "Changed"), (open_question, None, "New")):
        with pytest.raises(organisation_services.ResponseClosedToColleague):
            services.save_answer(colleague, question, yes_no_answer, text, utcnow())
        db.session.rollback()
    answers = services.answers_by_question(colleague)
    assert list(answers) == [yes_no.id] and answers[yes_no.id].text == "Before"


def test_a_draft_answer_is_removed_only_while_it_could_be_changed(asking):
    consultation, yes_no, open_question = asking
    participation = new_participation(new_user(), consultation)
    services.save_answer(participation, yes_no, True, "", utcnow())
    services.save_answer(participation, open_question, None, "Kept", utcnow())
    db.session.commit()

    services.remove_answer(participation, yes_no, utcnow())
    services.remove_answer(participation, yes_no, utcnow())  # already gone: what was asked for is so
    assert list(services.answers_by_question(participation)) == [open_question.id]

    with pytest.raises(comment_services.ConsultationNotOpen):
        services.remove_answer(participation, open_question, consultation.closes_at + timedelta(hours=1))
    answer = services.answers_by_question(participation)[open_question.id]
    answer.sent_to_lead_at = utcnow()
    with pytest.raises(services.AnswerSentToLead):
        services.remove_answer(participation, open_question, utcnow())
    answer.sent_to_lead_at = None
    comment_services.submit_response(participation, utcnow())
    with pytest.raises(services.AnswersAlreadySubmitted):
        services.remove_answer(participation, open_question, utcnow())
    assert services.answers_by_question(participation)[open_question.id].text == "Kept"
