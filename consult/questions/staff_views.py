"""Staff pages for a consultation's questions: write, order, reuse, switch declarations on, moderate answers.

Every route is for staff and admins. Each view: load or 404, validate the form,
call the service inside ``form_errors``, commit once, flash, redirect. Once the
consultation has opened the pages still show the questions, and every change is
refused with the reason.
"""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from consult.access import can_see_original_of_redacted, staff
from consult.comments.models import participant_type_label
from consult.database import utcnow
from consult.errors import form_errors
from consult.exports.rows import stakeholder_name
from consult.extensions import db
from consult.forms import EmptyForm, valid_versioned_post
from consult.loaders import LARGEST_ID, staff_consultation_and_question_or_404, staff_consultation_or_404
from consult.moderation import messages
from consult.moderation.forms import AcceptForm
from consult.moderation.services import NothingToChange
from consult.questions import moderation, services
from consult.questions.forms import (
    WHOLE_CONSULTATION,
    BankSearchForm,
    DeclarationForm,
    MoveQuestionForm,
    QuestionForm,
    RedactAnswerForm,
    ReuseQuestionForm,
    WithholdAnswerForm,
)
from consult.questions.models import (
    MAX_ANSWER_LENGTH,
    MAX_QUESTION_LENGTH,
    Answer,
    AnswerState,
    Declaration,
    Question,
    QuestionKind,
)

bp = Blueprint("staff_questions", __name__, url_prefix="/staff/consultations/<reference>/questions")


def _back_to_list(consultation, anchor: str | None = None):
    return redirect(url_for("staff_questions.index", reference=consultation.reference, _anchor=anchor))


def _number_of(question: Question) -> int:
    """The question's number as staff and participants read it: its place in the order, whatever gaps removals left."""
    return 1 + [q.id for q in services.list_questions(question.consultation_id)].index(question.id)


def _refuse_if_locked(consultation):
    """Once the consultation has opened, every change page sends staff back to the list with the reason."""
    if services.can_change_questions(consultation, utcnow()):
        return None
    flash(services.QuestionsLocked.message, "info")
    return _back_to_list(consultation)


@bp.route("/")
@staff
def index(reference: str):
    consultation = staff_consultation_or_404(reference)
    questions = services.list_questions(consultation.id)
    now = utcnow()
    return render_template(
        "staff/questions/index.html", consultation=consultation, questions=questions,
        can_change=services.can_change_questions(consultation, now), opening_passed=consultation.opens_at <= now,
        move_form=MoveQuestionForm(),
        standard_form=EmptyForm(), declaration_form=DeclarationForm(),
        formal_support=services.find_declaration(consultation.id, Declaration.FORMAL_SUPPORT),
        standard=services.STANDARD_QUESTIONS,
    )


def _form_page(consultation, form: QuestionForm, question: Question | None = None, status: int = 200):
    return render_template("staff/questions/form.html", consultation=consultation, form=form, question=question,
                           max_length=MAX_QUESTION_LENGTH), status


def _draft(form: QuestionForm) -> services.QuestionDraft:
    return services.QuestionDraft(kind=QuestionKind(form.kind.data), text=form.text.data,
                                  document_id=form.document_id())


@bp.route("/new", methods=["GET", "POST"])
@staff
def new(reference: str):
    consultation = staff_consultation_or_404(reference)
    if (refused := _refuse_if_locked(consultation)) is not None:
        return refused
    form = QuestionForm()
    form.offer_documents(consultation.documents)
    if request.method == "GET":
        form.document.data = WHOLE_CONSULTATION
    if form.validate_on_submit():
        with form_errors(form) as outcome:
            question = services.add_question(current_user, consultation, _draft(form), utcnow())
        if outcome.ok:
            db.session.commit()
            flash(f"Question {_number_of(question)} added.", "success")
            return _back_to_list(consultation, f"question-{question.id}")
        return _form_page(consultation, form, status=outcome.status)
    return _form_page(consultation, form)


@bp.route("/<int:question_id>/edit", methods=["GET", "POST"])
@staff
def edit(reference: str, question_id: int):
    consultation, question = staff_consultation_and_question_or_404(reference, question_id)
    if (refused := _refuse_if_locked(consultation)) is not None:
        return refused
    form = QuestionForm()
    form.submit.label.text = "Save changes"
    form.offer_documents(consultation.documents)
    if request.method == "GET":
        form.kind.data = question.kind.value
        form.text.data = question.text
        form.document.data = str(question.document_id) if question.document_id else WHOLE_CONSULTATION
    if form.validate_on_submit():
        with form_errors(form) as outcome:
            changed = services.edit_question(current_user, question, _draft(form), utcnow())
        if outcome.ok:
            db.session.commit()
            flash("Question updated." if changed else "No changes were made.", "success" if changed else "info")
            return _back_to_list(consultation, f"question-{question.id}")
        return _form_page(consultation, form, question, status=outcome.status)
    return _form_page(consultation, form, question)


@bp.route("/<int:question_id>/remove", methods=["GET", "POST"])
@staff
def remove(reference: str, question_id: int):
    consultation, question = staff_consultation_and_question_or_404(reference, question_id)
    if (refused := _refuse_if_locked(consultation)) is not None:
        return refused
    form = EmptyForm()
    form.submit.label.text = "Yes, remove this question"
    status = 200
    if form.validate_on_submit():
        with form_errors(form) as outcome:
            services.remove_question(current_user, question, utcnow())
        if outcome.ok:
            db.session.commit()
            flash("Question removed.", "success")
            return _back_to_list(consultation)
        status = outcome.status
    return render_template("staff/questions/remove.html", consultation=consultation, question=question,
                           form=form), status


@bp.route("/<int:question_id>/move", methods=["POST"])
@staff
def move(reference: str, question_id: int):
    consultation, question = staff_consultation_and_question_or_404(reference, question_id)
    form = MoveQuestionForm()
    if not form.validate_on_submit() or form.direction.data not in ("up", "down"):
        flash("Choose whether to move the question up or down.", "info")
        return _back_to_list(consultation)
    with form_errors(form) as outcome:
        moved = services.move_question(current_user, question, form.direction.data, utcnow())
    if not outcome.ok:
        flash(str(outcome.error), "info")
        return _back_to_list(consultation)
    db.session.commit()
    if moved:
        flash(f"Question moved {form.direction.data}. It is now question {_number_of(question)}.", "success")
    else:
        flash(f"The question is already {'first' if form.direction.data == 'up' else 'last'}.", "info")
    return _back_to_list(consultation, f"question-{question.id}")


@bp.route("/standard", methods=["POST"])
@staff
def add_standard(reference: str):
    consultation = staff_consultation_or_404(reference)
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    with form_errors(form) as outcome:
        added = services.add_standard_questions(current_user, consultation, utcnow())
    if not outcome.ok:
        flash(str(outcome.error), "info")
        return _back_to_list(consultation)
    db.session.commit()
    if added:
        flash(f"{len(added)} standard question{'' if len(added) == 1 else 's'} added. "
              "Change or remove any that this consultation does not need.", "success")
    else:
        flash("This consultation already asks every standard question.", "info")
    return _back_to_list(consultation)


@bp.route("/bank", methods=["GET", "POST"])
@staff
def bank(reference: str):
    consultation = staff_consultation_or_404(reference)
    reuse_form = ReuseQuestionForm()
    if request.method == "POST":
        if (refused := _refuse_if_locked(consultation)) is not None:
            return refused
        source_id = reuse_form.source_id.data or ""
        if not reuse_form.validate_on_submit() or not source_id.isdigit() or not 0 < int(source_id) <= LARGEST_ID:
            flash("Choose a question to add.", "info")
            return redirect(url_for("staff_questions.bank", reference=consultation.reference))
        source = db.session.get(Question, int(source_id))
        if source is None:
            abort(404)
        with form_errors(reuse_form) as outcome:
            question = services.reuse_question(current_user, consultation, source, utcnow())
        if not outcome.ok:
            flash(str(outcome.error), "info")
            return redirect(url_for("staff_questions.bank", reference=consultation.reference))
        db.session.commit()
        flash(f"Question {_number_of(question)} added: “{question.text}”", "success")
        return _back_to_list(consultation, f"question-{question.id}")
    search = BankSearchForm(request.args)
    words = (search.q.data or "")[:200]
    return render_template("staff/questions/bank.html", consultation=consultation, search=search, words=words,
                           results=services.search_bank(consultation, words), reuse_form=reuse_form,
                           can_change=services.can_change_questions(consultation, utcnow()))


@bp.route("/declarations/formal-support", methods=["POST"])
@staff
def formal_support(reference: str):
    consultation = staff_consultation_or_404(reference)
    form = DeclarationForm()
    if not form.validate_on_submit() or form.on.data not in ("yes", "no"):
        flash("Choose whether to ask about formal support.", "info")
        return _back_to_list(consultation, "declarations")
    on = form.on.data == "yes"
    with form_errors(form) as outcome:
        changed = services.switch_declaration(current_user, consultation, Declaration.FORMAL_SUPPORT, on, utcnow())
    if not outcome.ok:
        flash(str(outcome.error), "info")
        return _back_to_list(consultation, "declarations")
    db.session.commit()
    if changed:
        flash("Organisations will be asked whether they are interested in formal support." if on
              else "Organisations will no longer be asked about formal support.", "success")
    return _back_to_list(consultation, "declarations")


# --- Moderating answers ---------------------------------------------------------------------------------


def _answer_or_404(question: Question, answer_id: int) -> Answer:
    """A submitted answer to this question; a draft, or another question's, is not found."""
    answer = db.session.get(Answer, answer_id) if 0 < answer_id <= LARGEST_ID else None
    if answer is None or answer.question_id != question.id or answer.participation.submitted_at is None:
        abort(404)
    return answer


def _list_args() -> dict[str, str]:
    """Which answers the list showed, and from where, so a decision returns to the same place."""
    args = {}
    if request.args.get("show") in moderation.SHOW_CHOICES:
        args["show"] = request.args["show"]
    after = request.args.get("after", "")
    if after.isascii() and after.isdigit() and len(after) <= 9:
        args["after"] = after
    return args


def _answers_url(consultation, question: Question, answer: Answer | None = None) -> str:
    return url_for("staff_questions.answers", reference=consultation.reference, question_id=question.id,
                   **_list_args(), _anchor=f"answer-{answer.id}" if answer else None)


@bp.route("/<int:question_id>/answers")
@staff
def answers(reference: str, question_id: int):
    """One question's submitted answers with words, a page at a time, each with its moderation."""
    consultation, question = staff_consultation_and_question_or_404(reference, question_id)
    args = _list_args()
    show = args.get("show", "waiting")
    after = int(args["after"]) if "after" in args else None
    if request.args.get("after") is not None and after is None:
        abort(400)
    page = moderation.answers_page(question, show, after, moderation.PAGE_SIZE)
    return render_template(
        "staff/questions/answers.html", consultation=consultation, question=question,
        number=_number_of(question), page=page, show=show, shows=moderation.SHOW_CHOICES, after=after,
        accept_form=AcceptForm(formdata=None), list_args=args,
        show_original=can_see_original_of_redacted(current_user), can_accept_redacted=can_see_original_of_redacted(
            current_user),
        next_url=url_for("staff_questions.answers", reference=consultation.reference, question_id=question.id,
                         show=show, after=page.next_after) if page.next_after else None,
    )


def _decide_answer(consultation, question: Question, answer: Answer, decision: moderation.AnswerDecision,
                   form, template: str | None = None):
    """Run one decision: done goes back to the list; stale shows both versions; bad input goes back to the form."""
    actor = current_user._get_current_object()
    with form_errors(form) as outcome:
        moderation.decide_answer(answer, decision, actor, form.version.data, utcnow())
    if outcome.ok:
        db.session.commit()
        flash(f"Answer {answer.id} is now {decision.state.label.lower()}.", "success")
        return redirect(_answers_url(consultation, question, answer))
    if isinstance(outcome.error, moderation.StaleAnswer):
        return render_template(
            "moderation/conflict.html", consultation=consultation, comment=None, subject="This answer",
            change=outcome.error.change, yours=_decision_rows(decision), current=_current_rows(answer),
            back_url=_answers_url(consultation, question, answer)), 409
    if isinstance(outcome.error, NothingToChange) or template is None:
        flash(str(outcome.error), "info")
        return redirect(_answers_url(consultation, question, answer))
    return _answer_form_page(template, consultation, question, answer, form)  # mistakes shown beside their fields


def _stakeholder(answer: Answer) -> str:
    """Who answered, named as every output names them: the organisation, or the person only with consent."""
    p = answer.participation
    type_label = participant_type_label(p.kind, p.individual_type, p.organisation_type)
    return stakeholder_name(p.kind, p.organisation_name, p.publish_name, p.user.name, type_label)


def _decision_rows(decision: moderation.AnswerDecision) -> list[tuple[str, str]]:
    """A decision in words, for both sides of a conflict, worded as a comment's decision is."""
    redactions = [] if decision.redacted_text is None else [("Redacted answer", decision.redacted_text)]
    return messages.ruling_rows(decision.state, decision.reason, decision.note, redactions)


def _current_rows(answer: Answer) -> list[tuple[str, str]]:
    return _decision_rows(moderation.AnswerDecision(answer.moderation_state, answer.moderation_reason,
                                                    answer.moderation_note, answer.redacted_text))


def _answer_form_page(template: str, consultation, question: Question, answer: Answer, form):
    return render_template(template, consultation=consultation, question=question, number=_number_of(question),
                           answer=answer, form=form, stakeholder=_stakeholder(answer), list_args=_list_args(),
                           max_length=MAX_ANSWER_LENGTH,
                           show_original=can_see_original_of_redacted(current_user))


@bp.post("/<int:question_id>/answers/<int:answer_id>/accept")
@staff
def accept_answer(reference: str, question_id: int, answer_id: int):
    consultation, question = staff_consultation_and_question_or_404(reference, question_id)
    answer = _answer_or_404(question, answer_id)
    form = AcceptForm()
    if not form.validate_on_submit():
        abort(400)
    return _decide_answer(consultation, question, answer, moderation.AnswerDecision(AnswerState.ACCEPTED), form)


def _rule_on_answer(reference: str, question_id: int, answer_id: int, form, state: AnswerState, template: str):
    """Redact or withhold an answer: the form opens with the answer's version, and with the decision as it
    stands when the answer already has this state; a redaction form also holds the words to publish."""
    consultation, question = staff_consultation_and_question_or_404(reference, question_id)
    answer = _answer_or_404(question, answer_id)
    redacts = "redacted_text" in form
    if request.method == "GET":
        form.version.data = answer.version
        already = answer.moderation_state is state
        if redacts:
            form.redacted_text.data = answer.redacted_text if already else answer.text
        if already:
            form.reason.data = answer.moderation_reason.value if answer.moderation_reason else None
            form.note.data = answer.moderation_note
    elif valid_versioned_post(form):
        decision = moderation.AnswerDecision(state, reason=form.chosen_reason, note=form.note.data,
                                             redacted_text=form.redacted_text.data if redacts else None)
        return _decide_answer(consultation, question, answer, decision, form, template)
    return _answer_form_page(template, consultation, question, answer, form)


@bp.route("/<int:question_id>/answers/<int:answer_id>/redact", methods=["GET", "POST"])
@staff
def redact_answer(reference: str, question_id: int, answer_id: int):
    return _rule_on_answer(reference, question_id, answer_id, RedactAnswerForm(), AnswerState.REDACTED,
                           "staff/questions/redact_answer.html")


@bp.route("/<int:question_id>/answers/<int:answer_id>/withhold", methods=["GET", "POST"])
@staff
def withhold_answer(reference: str, question_id: int, answer_id: int):
    return _rule_on_answer(reference, question_id, answer_id, WithholdAnswerForm(), AnswerState.WITHHELD,
                           "staff/questions/withhold_answer.html")
