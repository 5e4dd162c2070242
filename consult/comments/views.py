"""The stakeholder journey: take part, comment, review, submit, receipt.

Each view: load or 404, check the rule, validate, call the service, commit
once, flash, redirect. Domain errors become a message on the page.
"""

from functools import wraps

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from consult.access import signed_in
from consult.comments import services
from consult.comments.forms import CommentForm, EditCommentForm
from consult.comments.models import MAX_COMMENT_LENGTH, Comment, OrganisationRole
from consult.comments.pages import not_open_page
from consult.consultations.models import Chapter, Document, Section
from consult.database import utcnow, write_lock_at_first_write
from consult.downloads import XLSX, csv_download, file_download, table_csv, write_table_workbook
from consult.errors import Outcome, form_errors
from consult.extensions import db
from consult.forms import ConfirmShownForm, EmptyForm
from consult.limits import comment_writes_per_user
from consult.loaders import (
    own_comment_or_none,
    public_consultation_or_404,
    public_part_and_participation_or_404,
)
from consult.organisations.services import colleague_response_closed
from consult.questions import services as question_services
from consult.questions.exports import own_answer_rows
from consult.text import comments_and_answers
from consult.web import current_path, request_arrived_at, safe_next_url

bp = Blueprint("comments", __name__, url_prefix="/consultations/<reference>")
bp.app_template_global("how_drafts_are_sent")(services.how_drafts_are_sent)


def own_participation(consultation):
    return services.find_participation(current_user.id, consultation.id)


def _redirect_to_take_part(consultation):
    """First say how you take part: unless the consultation takes no responses now, which is all to say."""
    if not consultation.is_open_at(utcnow()):
        return not_open_page(consultation, None)
    flash(services.ParticipationRequired.message, "info")
    return redirect(url_for("comments.take_part", reference=consultation.reference, next=current_path()))


def _taking_part(view):
    """A page of the person's own response: loaded for them, or first they say how they are taking part."""

    @wraps(view)
    def with_participation(reference: str):
        consultation = public_consultation_or_404(reference)
        participation = own_participation(consultation)
        if participation is None:
            return _redirect_to_take_part(consultation)
        return view(consultation, participation)

    return with_participation


def lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


# --- Comments ----------------------------------------------------------------

def _reading_place(target: services.CommentTargetRef) -> str:
    """The part of the document the comment is about, where its reader was."""
    part = target.section or target.chapter
    return url_for("consultations.document", reference=target.document.consultation.reference,
                   document_id=target.document.id, _anchor=part.anchor if part else None)


def _comment_page(consultation, participation, target: services.CommentTargetRef, form,
                  comment: Comment | None = None, status: int = 200):
    back_href = safe_next_url(request.args.get("next")) or _reading_place(target)
    return render_template(
        "comments/comment_form.html", consultation=consultation, participation=participation,
        target=target, form=form, comment=comment, max_length=MAX_COMMENT_LENGTH, back_href=back_href,
    ), status


def _draft_changed(consultation, message: str):
    """A draft written, changed or deleted: commit, say so, and show the response the draft belongs to."""
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("comments.review", reference=consultation.reference))


def _draft_gone(consultation, deleting: bool = False):
    """A change sent for a draft that is no longer there (deleted in another tab, or never the person's).

    A page asked for is simply not found. A delete sent again is told the draft has gone. An edit is not
    saved, but not lost either (_not_saved). The same answer (a 404) serves a comment that is someone else's,
    and it shows only what this request sent.
    """
    if request.method != "POST":
        abort(404)
    heading = "This draft comment is no longer there"
    if deleting:
        return _not_saved(consultation, heading, "It has already been deleted, perhaps in another tab or window.",
                          status=404)
    return _not_saved(consultation, heading, "Your changes have not been saved: the draft was deleted, perhaps in "
                      "another tab or window.", status=404, may_comment=True)


def _not_saved(consultation, heading: str, reason: str, status: int = 409, may_comment: bool = False,
               next_href: str | None = None, next_text: str = "Go to your response"):
    """A comment sent that cannot be saved any more, shown with what was typed so that it is not lost."""
    kept = [(key, request.form.get(key, "")) for key in ("quote", "body")]
    return render_template("comments/not_saved.html", consultation=consultation, heading=heading, reason=reason,
                           kept=kept, may_comment=may_comment, next_text=next_text,
                           next_href=next_href or url_for("comments.review", reference=consultation.reference)
                           ), status


def _already_submitted(consultation):
    """A change asked of a submitted response: the receipt, which shows what was submitted, and why not.
    What a comment sent then had typed is shown, not dropped."""
    if request.method == "POST" and request.form.get("body", "").strip():
        return _not_saved(consultation, "Your comment has not been saved", services.ResponseAlreadySubmitted.message,
                          next_href=url_for("comments.receipt", reference=consultation.reference),
                          next_text="View your receipt")
    flash(services.ResponseAlreadySubmitted.message, "info")
    return redirect(url_for("comments.receipt", reference=consultation.reference))


def _not_changeable(participation, comment=None):
    """services.require_changeable, for a page: None if the comment may be written, else the answer to give.

    A form asked for gets the refusal's own page; one sent, with its words, gets them shown back
    (a colleague whose comment went to the lead, or whose organisation has responded).
    """
    try:
        services.require_changeable(participation, comment)
    except services.CommentingError as refused:
        if request.method != "POST":
            raise
        return _not_saved(participation.consultation, "Your comment has not been saved", str(refused))
    return None


def _new_comment(participation, target: services.CommentTargetRef):
    consultation = target.document.consultation
    if participation is None:
        return _redirect_to_take_part(consultation)
    if participation.is_submitted:
        return _already_submitted(consultation)
    if refused := _not_changeable(participation):
        return refused
    form = CommentForm(section=target.section)
    if target.section is None:
        del form.quote
    if request.method == "GET" and not consultation.is_open_at(utcnow()):
        return not_open_page(consultation, participation)
    if request.method == "GET" and target.section is not None and request.args.get("quote"):
        form.quote.data = request.args["quote"][:5000]
    if form.validate_on_submit():
        with form_errors(form) as outcome:
            services.save_draft(participation, target, form.body.data,
                                form.quote.data if "quote" in form else None, request_arrived_at(), once=True)
        if outcome.ok:
            return _draft_changed(consultation, "Your comment has been saved as a draft. It is not sent until you "
                                                f"{services.how_drafts_are_sent(participation)}.")
        if isinstance(outcome.error, services.DraftAlreadySaved):
            flash(outcome.error.message, "info")
            return redirect(url_for("comments.review", reference=consultation.reference))
        return _comment_page(consultation, participation, target, form, status=outcome.status)
    return _comment_page(consultation, participation, target, form)


@bp.route("/documents/<int:document_id>/comment", methods=["GET", "POST"])
@signed_in
@write_lock_at_first_write
@comment_writes_per_user
def comment_on_document(reference: str, document_id: int):
    document, participation = public_part_and_participation_or_404(Document, document_id, reference)
    return _new_comment(participation, services.CommentTargetRef(document=document))


@bp.route("/chapters/<int:chapter_id>/comment", methods=["GET", "POST"])
@signed_in
@write_lock_at_first_write
@comment_writes_per_user
def comment_on_chapter(reference: str, chapter_id: int):
    chapter, participation = public_part_and_participation_or_404(Chapter, chapter_id, reference)
    return _new_comment(participation, services.CommentTargetRef(document=chapter.document, chapter=chapter))


@bp.route("/sections/<int:section_id>/comment", methods=["GET", "POST"])
@signed_in
@write_lock_at_first_write
@comment_writes_per_user
def comment_on_section(reference: str, section_id: int):
    section, participation = public_part_and_participation_or_404(Section, section_id, reference)
    return _new_comment(participation, services.CommentTargetRef(
        document=section.document, chapter=section.chapter, section=section))


@bp.route("/comments/<int:comment_id>/edit", methods=["GET", "POST"])
@signed_in
@write_lock_at_first_write
@comment_writes_per_user
def edit_comment(reference: str, comment_id: int):
    consultation = public_consultation_or_404(reference)
    comment = own_comment_or_none(consultation, comment_id)
    if comment is None:
        return _draft_gone(consultation)
    participation = comment.participation
    target = services.CommentTargetRef(document=comment.document, chapter=comment.chapter, section=comment.section)
    if not comment.is_draft:
        return _already_submitted(consultation)
    if refused := _not_changeable(participation, comment):
        return refused
    if request.method == "GET" and not consultation.is_open_at(utcnow()):
        return not_open_page(consultation, comment.participation)
    form = EditCommentForm(obj=comment, section=comment.section)
    form.submit.label.text = "Save changes"
    if comment.section is None:
        del form.quote
    if form.validate_on_submit():
        with form_errors(form) as outcome:
            services.update_draft(comment, form.body.data, form.quote.data if "quote" in form else None,
                                  request_arrived_at(), form.seen_version())
        if outcome.ok:
            return _draft_changed(consultation, "Your draft comment has been updated.")
        if isinstance(outcome.error, services.DraftGone):
            return _draft_gone(consultation)
        if isinstance(outcome.error, services.DraftChangedElsewhere):
            # What they typed stays on the page; saving it again is now a choice made knowing.
            form.version.data = str(db.session.get(Comment, comment.id).version)
        return _comment_page(consultation, participation, target, form, comment, status=outcome.status)
    return _comment_page(consultation, participation, target, form, comment)


@bp.route("/comments/<int:comment_id>/delete", methods=["GET", "POST"])
@signed_in
@write_lock_at_first_write
@comment_writes_per_user
def delete_comment(reference: str, comment_id: int):
    consultation = public_consultation_or_404(reference)
    comment = own_comment_or_none(consultation, comment_id)
    if comment is None:
        return _draft_gone(consultation, deleting=True)
    if not comment.is_draft:
        return _already_submitted(consultation)
    services.require_changeable(comment.participation, comment)
    if request.method == "GET" and not consultation.is_open_at(utcnow()):
        return not_open_page(consultation, comment.participation)
    form = EmptyForm()
    form.submit.label.text = "Yes, delete this draft"
    outcome = Outcome()
    if form.validate_on_submit():
        with form_errors(form) as outcome:
            services.delete_draft(comment, request_arrived_at())
        if outcome.ok:
            return _draft_changed(consultation, "Your draft comment has been deleted.")
        if isinstance(outcome.error, services.DraftGone):
            return _draft_gone(consultation, deleting=True)
        if isinstance(outcome.error, services.ConsultationNotOpen):  # not a page whose button would be refused
            return not_open_page(consultation, comment.participation, outcome.error)
    return render_template("comments/delete_comment.html", consultation=consultation,
                           participation=comment.participation, comment=comment, form=form), outcome.status


# --- Review, submit, receipt -------------------------------------------------

@bp.route("/response")
@signed_in
@_taking_part
def review(consultation, participation):
    if participation.organisation_role is OrganisationRole.LEAD and not participation.is_submitted:
        return redirect(url_for("organisations.lead_response", reference=consultation.reference))
    comments = services.list_comments(participation)
    shown = _response_filter(consultation, request.args)
    return render_template("comments/review.html", consultation=consultation, participation=participation,
                           comments=[c for c in comments if shown.document_id in (None, c.document_id)],
                           has_comments=bool(comments), is_open=consultation.is_open_at(utcnow()),
                           closed=colleague_response_closed(participation),
                           shown=shown, **_answers_context(participation, shown))


def _response_filter(consultation, args) -> question_services.ResponseFilter:
    """'Your response' narrowed to comments or answers, and to one document; anything unknown shows all."""
    show = args.get("show") if args.get("show") in ("comments", "answers") else "all"
    document_ids = {document.id: document for document in consultation.documents}
    raw = args.get("document", "")
    document_id = int(raw) if raw.isascii() and raw.isdigit() and int(raw) in document_ids else None
    return question_services.ResponseFilter(show=show, document_id=document_id)


def _answers_context(participation, shown: question_services.ResponseFilter | None = None) -> dict:
    """The consultation's questions with this participant's answers, for the response pages."""
    questions = question_services.questions_for(participation)
    if shown is not None and shown.document_id is not None:
        questions = [q for q in questions if q.document_id == shown.document_id]
    return {"questions": questions, "answers": question_services.answers_by_question(participation)}


RESPONSE_CHANGED = ("Your response changed after this page was shown, in another tab or window. "
                    "Check what it holds now, then submit it.")


@bp.route("/response/submit", methods=["GET", "POST"])
@signed_in
@_taking_part
def submit(consultation, participation):
    if participation.is_submitted:
        return redirect(url_for("comments.receipt", reference=consultation.reference))
    # An organisation's response goes in through its lead, with the organisation's declaration.
    if participation.organisation_role is OrganisationRole.COLLEAGUE:
        return redirect(url_for("organisations.send", reference=consultation.reference))
    if participation.organisation_role is OrganisationRole.LEAD:
        return redirect(url_for("organisations.lead_submit", reference=consultation.reference))
    if request.method == "GET" and not consultation.is_open_at(utcnow()):
        return not_open_page(consultation, participation)
    form = ConfirmShownForm()
    form.submit.label.text = "Submit your response"
    comments = services.list_comments(participation)
    answers = _answers_context(participation)
    shown = services.as_shown(comments, answers["answers"].values())
    outcome = Outcome()
    if form.validate_on_submit():
        with form_errors(form) as outcome:
            if not form.still_shows(shown):
                raise services.ChangedSinceShown(RESPONSE_CHANGED)
            services.submit_response(participation, request_arrived_at())
        if outcome.ok:
            db.session.commit()
            return redirect(url_for("comments.receipt", reference=consultation.reference))
        if isinstance(outcome.error, services.ConsultationNotOpen):
            return not_open_page(consultation, participation, outcome.error)
    if not comments and not answers["answers"]:
        # Nothing to submit: the response page says what to do, instead of a button that would be refused.
        flash(services.NothingToSubmit.message, "info")
        return redirect(url_for("comments.review", reference=consultation.reference))
    form.show(shown)
    return render_template("comments/submit.html", consultation=consultation, participation=participation,
                           comments=comments, form=form, counted=comments_and_answers(
                               len(comments), len(answers["answers"])), **answers), outcome.status


@bp.route("/response/receipt")
@signed_in
@_taking_part
def receipt(consultation, participation):
    if not participation.is_submitted:
        why = _no_receipt(participation)
        if why:
            flash(why, "info")
        return redirect(url_for("comments.review", reference=consultation.reference))
    comments = services.list_comments(participation)
    return render_template("comments/receipt.html", consultation=consultation, participation=participation,
                           comments=comments, **_answers_context(participation))


def _no_receipt(participation) -> str | None:
    """Why there is no receipt yet, for the response page; None where that page already says why.

    A colleague has no receipt of their own: their organisation's lead
    submits. Once the organisation has responded, the response page says so,
    and nothing more is true to add.
    """
    if colleague_response_closed(participation) is not None:
        return None
    if not participation.consultation.accepts_responses_at(utcnow()):
        return "There is no receipt: no response was submitted before the consultation closed."
    if participation.organisation_role is OrganisationRole.COLLEAGUE:
        return ("There is no receipt for you: your organisation’s commenting lead submits its response. "
                "Send your comments and answers to them before the consultation closes.")
    return ("You have not submitted your response yet, so there is no receipt. "
            "Review your comments and submit them before the consultation closes.")


@bp.route("/response.xlsx")
@signed_in
@_taking_part
def download_response_workbook(consultation, participation):
    rows = _own_rows(participation)
    return file_download(lambda handle: write_table_workbook(rows, services.OWN_COLUMNS, handle, "Your response"),
                         f"{consultation.reference}-your-response.xlsx", XLSX)


@bp.route("/response.csv")
@signed_in
@_taking_part
def download_response_csv(consultation, participation):
    rows = _own_rows(participation)
    return csv_download(table_csv(rows, services.OWN_COLUMNS), f"{consultation.reference}-your-response.csv")


def _own_rows(participation) -> list[list]:
    """The participant's comments, then a row per question with their answer (empty where none)."""
    return ([services.own_values(comment) for comment in services.list_comments(participation)]
            + own_answer_rows(participation, services.OWN_COLUMNS))
