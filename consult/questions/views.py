"""The stakeholder's questions: read them (and print them) beside the document, answer one per page.

Each view: load or 404, check the rule, validate, call the service, commit
once, flash, redirect. Domain errors become a message on the page.
"""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from consult.access import public, signed_in
from consult.comments import services as comment_services
from consult.database import utcnow
from consult.errors import Outcome, form_errors
from consult.extensions import db
from consult.forms import YES, EmptyForm
from consult.limits import comment_writes_per_user
from consult.loaders import (
    public_consultation_or_404,
    public_or_preview_consultation_and_participation_or_404,
    question_or_404,
)
from consult.organisations.services import colleague_response_closed
from consult.questions import services
from consult.questions.forms import AnswerForm
from consult.questions.models import MAX_ANSWER_LENGTH
from consult.web import current_path

bp = Blueprint("questions", __name__, url_prefix="/consultations/<reference>/questions")


def _participation(consultation):
    if not current_user.is_authenticated:
        return None
    return comment_services.find_participation(current_user.id, consultation.id)


@bp.route("/")
@public
def index(reference: str):
    # Staff preview a draft's questions as the public will read them, as they do its documents; nobody answers.
    consultation, participation = public_or_preview_consultation_and_participation_or_404(reference)
    return render_template(
        "questions/index.html", consultation=consultation, participation=participation, preview=consultation.is_draft,
        questions=services.questions_for(participation) if participation else services.list_questions(consultation.id),
        answers=services.answers_by_question(participation) if participation else {},
        is_open=consultation.is_open_at(utcnow()), closed=participation and colleague_response_closed(participation),
    )


@bp.route("/print")
@public
def printable(reference: str):
    consultation, _ = public_or_preview_consultation_and_participation_or_404(reference)
    return render_template("questions/print.html", consultation=consultation, preview=consultation.is_draft,
                           questions=services.list_questions(consultation.id))


def _answer_page(consultation, participation, question, form, number: int, total: int, status: int = 200,
                 sent=None, answered: bool = False):
    return render_template("questions/answer.html", consultation=consultation, participation=participation,
                           question=question, form=form, number=number, total=total, sent=sent, answered=answered,
                           sent_message=services.AnswerSentToLead.message, max_length=MAX_ANSWER_LENGTH), status


def _question_and_participation(reference: str, question_id: int):
    """The open consultation, its question (or 404), and the signed-in person's participation in it, if any."""
    consultation = public_consultation_or_404(reference)
    return consultation, question_or_404(consultation, question_id), _participation(consultation)


def _answers_fixed_page(consultation, participation):
    """Where to go instead when this person's answers can no longer change (submitted, or closed), else None.

    A colleague whose organisation has responded is refused by require_changeable, which raises.
    """
    if participation.is_submitted:
        flash(services.AnswersAlreadySubmitted.message, "info")
        return redirect(url_for("comments.review", reference=consultation.reference, show="answers"))
    if request.method == "GET" and not consultation.is_open_at(utcnow()):
        error = comment_services.ConsultationNotOpen(consultation, consultation.status)
        return render_template("comments/not_open.html", consultation=consultation, participation=participation,
                               message=error.message), error.status
    comment_services.require_changeable(participation)
    return None


@bp.route("/<int:question_id>", methods=["GET", "POST"])
@signed_in
@comment_writes_per_user
def answer(reference: str, question_id: int):
    consultation, question, participation = _question_and_participation(reference, question_id)
    if participation is None:
        flash("Tell us how you are taking part in this consultation before you answer its questions.", "info")
        return redirect(url_for("comments.take_part", reference=consultation.reference, next=current_path()))
    if (instead := _answers_fixed_page(consultation, participation)) is not None:
        return instead
    questions = services.questions_for(participation)
    if question not in questions:  # a declaration not meant for this participant
        abort(404)
    number = next(i for i, q in enumerate(questions, start=1) if q.id == question.id)
    existing = services.answers_by_question(participation).get(question.id)
    if existing is not None and existing.sent_to_lead_at is not None:  # read-only: the lead has it now
        return _answer_page(consultation, participation, question, None, number, len(questions), sent=existing,
                            status=200 if request.method == "GET" else services.AnswerSentToLead.status)
    form = AnswerForm()
    form.shape_for(question)
    if request.method == "GET" and existing is not None:
        if "yes_no" in form and existing.yes_no is not None:
            form.yes_no.data = YES if existing.yes_no else "no"
        form.text.data = existing.text
    if form.validate_on_submit():
        yes_no = (form.yes_no.data == YES) if "yes_no" in form else None
        with form_errors(form) as outcome:
            services.save_answer(participation, question, yes_no, form.text.data or "", utcnow())
        if outcome.ok:
            db.session.commit()
            flash("Your answer has been saved as a draft. It is not sent until you "
                  f"{comment_services.how_drafts_are_sent(participation)}.", "success")
            following = questions[number] if number < len(questions) else None
            if following is not None:
                return redirect(url_for("questions.answer", reference=consultation.reference,
                                        question_id=following.id))
            return redirect(url_for("questions.index", reference=consultation.reference))
        return _answer_page(consultation, participation, question, form, number, len(questions),
                            status=outcome.status, answered=existing is not None)
    return _answer_page(consultation, participation, question, form, number, len(questions),
                        answered=existing is not None)


@bp.route("/<int:question_id>/remove", methods=["GET", "POST"])
@signed_in
@comment_writes_per_user
def remove(reference: str, question_id: int):
    """Ask, then withdraw the person's draft answer to one question: answering is optional."""
    consultation, question, participation = _question_and_participation(reference, question_id)
    questions_page = url_for("questions.index", reference=consultation.reference)
    if participation is None:
        return redirect(questions_page)
    if (instead := _answers_fixed_page(consultation, participation)) is not None:
        return instead
    existing = services.answers_by_question(participation).get(question.id)
    if existing is None:  # never answered, or removed already (in another tab, or a second press)
        flash("You have not answered this question.", "info")
        return redirect(questions_page)
    if existing.sent_to_lead_at is not None:  # the answer page says why it can no longer change
        return redirect(url_for("questions.answer", reference=consultation.reference, question_id=question.id))
    form = EmptyForm()
    form.submit.label.text = "Yes, remove this answer"
    outcome = Outcome()
    if form.validate_on_submit():
        with form_errors(form) as outcome:
            services.remove_answer(participation, question, utcnow())
        if outcome.ok:
            db.session.commit()
            flash("Your answer has been removed. The question is now unanswered.", "success")
            return redirect(questions_page)
        if isinstance(outcome.error, comment_services.ConsultationNotOpen):  # it closed while the page was open
            return render_template("comments/not_open.html", consultation=consultation,
                                   participation=participation, message=outcome.error.message), outcome.status
    return render_template("questions/remove.html", consultation=consultation, participation=participation,
                           question=question, answer=existing, form=form), outcome.status
