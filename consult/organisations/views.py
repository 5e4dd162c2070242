"""Organisation responses: the code, colleagues sending to the lead, the lead's response, and the admin's leads.

Colleagues need an account of their own, with a confirmed email address:
the email is what the lead sees beside each comment, so every act is
attributable. Each view: load or 404, check the rule, validate, call the
service, commit once, flash, redirect.
"""

from collections.abc import Callable
from functools import wraps

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user

from consult.access import admin, signed_in
from consult.comments import services as comment_services
from consult.comments.models import OrganisationRole, OrganisationType
from consult.comments.pages import not_open_page
from consult.consultations.models import Consultation
from consult.database import utcnow
from consult.downloads import XLSX, csv_download, file_download, table_csv, write_table_workbook
from consult.errors import DomainError, Outcome, attach_error, form_errors
from consult.extensions import db
from consult.forms import YES, ConfirmShownForm, EmptyForm
from consult.limits import organisation_code_attempts_per_address, organisation_code_attempts_per_user
from consult.loaders import LARGEST_ID, public_consultation_or_404, user_or_404
from consult.organisations import services
from consult.organisations.forms import CodeForm, ColleagueFilterForm, DeclarationForm, LeadForm
from consult.questions.models import Answer
from consult.questions.services import answers_by_question, list_questions
from consult.text import comments_and_answers
from consult.web import request_arrived_at

bp = Blueprint("organisations", __name__)

_PENDING_CODE = "pending_organisation_code"
_CONSULTATION = "/consultations/<reference>/organisation"


def _participation(consultation):
    return comment_services.find_participation(current_user.id, consultation.id)


def _hub(consultation):
    return redirect(url_for("organisations.hub", reference=consultation.reference))


# --- The organisation page of a consultation ------------------------------------

@bp.get(_CONSULTATION)
@signed_in
def hub(reference: str):
    """What the person can do for an organisation here: share, send, or enter a code."""
    consultation = public_consultation_or_404(reference)
    participation = _participation(consultation)
    lead = services.lead_of(current_user.id)
    is_open = consultation.is_open_at(utcnow())
    context = {"consultation": consultation, "participation": participation, "lead": lead, "is_open": is_open,
               "form": EmptyForm(), "code": None, "responded": None, "sent": [], "unsent": []}
    organisation_id = (participation.organisation_id if participation and participation.organisation_id
                       else lead.organisation_id if lead else None)
    context["former_lead"] = services.former_lead(participation)
    if organisation_id is not None and not context["former_lead"]:
        context["responded"] = services.organisation_response(organisation_id, consultation.id)
        context["sent"] = services.everything_sent(organisation_id, consultation.id)
    if lead is not None:
        context["code"] = services.find_code(lead.organisation_id, consultation.id)
    if participation is not None and participation.organisation_role is OrganisationRole.COLLEAGUE:
        context["unsent"] = services.unsent(participation)
    return render_template("organisations/hub.html", **context)


def _lead_button(reference: str, act: Callable[[Consultation], object]) -> tuple[Consultation, bool]:
    """A lead's button on the organisation page: the consultation, and whether `act` was done and committed.

    Anyone who is not a lead gets NotALead, a 403 page. When the service
    refuses, its message is flashed for the organisation page, where the
    button was.
    """
    consultation = public_consultation_or_404(reference)
    services.require_lead(current_user.id)
    form = EmptyForm()
    if not form.validate_on_submit():
        return consultation, False
    with form_errors(form) as outcome:
        act(consultation)
    if not outcome.ok:
        flash(outcome.error.message, "error")
        return consultation, False
    db.session.commit()
    return consultation, True


@bp.post(f"{_CONSULTATION}/lead/share")
@signed_in
def share(reference: str):
    """'Share with colleagues': the organisation's one code for this consultation, shown to the lead."""
    consultation, shared = _lead_button(
        reference, lambda consultation: services.share_code(current_user, consultation, utcnow()))
    if shared:
        flash("Share this code with colleagues who will comment for your organisation. "
              "We do not send it to anyone.", "success")
    return _hub(consultation)


# --- Colleagues: the code ------------------------------------------------------------

@bp.route(f"{_CONSULTATION}/code", methods=["GET", "POST"])
@signed_in
@organisation_code_attempts_per_user
@organisation_code_attempts_per_address
def enter_code(reference: str):
    consultation = public_consultation_or_404(reference)
    existing = _participation(consultation)
    if request.method == "GET" and existing is not None:
        # Already taking part (how cannot change): a code could only be refused, and each try would count
        # towards the limit on guessing codes.
        return render_template("organisations/enter_code.html", consultation=consultation, form=None,
                               already=services.AlreadyTakingPart(existing).message)
    form = CodeForm()
    outcome = Outcome()
    if form.validate_on_submit():
        with form_errors(form) as outcome:
            found = services.check_code(current_user, consultation, form.code.data, utcnow())
        if outcome.ok:
            session[_PENDING_CODE] = {**session.get(_PENDING_CODE, {}), str(consultation.id): found.code}
            return redirect(url_for("organisations.confirm_code", reference=consultation.reference))
    return render_template("organisations/enter_code.html", consultation=consultation, form=form), outcome.status


@bp.route(f"{_CONSULTATION}/code/confirm", methods=["GET", "POST"])
@signed_in
@organisation_code_attempts_per_user
@organisation_code_attempts_per_address
def confirm_code(reference: str):
    """Show the organisation's name before the person takes part on its behalf; only the confirming POST acts."""
    consultation = public_consultation_or_404(reference)
    pending = session.get(_PENDING_CODE, {}).get(str(consultation.id))
    if pending is None:
        return redirect(url_for("organisations.enter_code", reference=consultation.reference))
    form = ConfirmShownForm()
    form.submit.label.text = "Yes, comment for this organisation"
    try:
        found = services.check_code(current_user, consultation, pending, utcnow())
    except services.OrganisationError as error:
        _forget_code(consultation)
        flash(error.message, "error")
        return redirect(url_for("organisations.enter_code", reference=consultation.reference))
    except comment_services.ConsultationNotOpen as error:
        _forget_code(consultation)
        flash(error.message, "error")
        return _hub(consultation)
    status, submitted = 200, form.validate_on_submit()
    if submitted and not form.confirms(pending):
        form.form_errors.append(CODE_CHANGED)
        status = 409
    elif submitted:
        services.join_with_code(current_user, consultation, pending, request_arrived_at())
        _forget_code(consultation)
        db.session.commit()
        flash(f"You are commenting on behalf of {found.organisation.name}. When you have finished, "
              "send your comments to your organisation’s commenting lead.", "success")
        return redirect(url_for("consultations.show", reference=consultation.reference))
    form.show(pending)
    return render_template("organisations/confirm_code.html", consultation=consultation,
                           organisation=found.organisation, form=form), status


UNSENT_CHANGED = ("What you have to send changed after this page was shown, in another tab or window. "
                  "Check it below, then send it.")
RESPONSE_CHANGED = ("Your organisation’s response changed after this page was shown: a colleague sent you "
                    "comments or answers, or it was changed in another tab or window. Check it, then submit it.")
CODE_CHANGED = ("An organisation code was entered in another tab or window after this page was shown. "
                "Check the organisation below, then confirm again.")


def _forget_code(consultation) -> None:
    pending = dict(session.get(_PENDING_CODE, {}))
    pending.pop(str(consultation.id), None)
    session[_PENDING_CODE] = pending


# --- Colleagues: sending to the lead ------------------------------------------------

@bp.route(f"{_CONSULTATION}/send", methods=["GET", "POST"])
@signed_in
def send(reference: str):
    consultation = public_consultation_or_404(reference)
    participation = _participation(consultation)
    if participation is None or participation.organisation_role is not OrganisationRole.COLLEAGUE:
        flash(services.NotAColleague.message, "info")
        return _hub(consultation)
    services.require_colleague_response_open(participation)
    if request.method == "GET" and not consultation.is_open_at(utcnow()):
        return not_open_page(consultation, participation)
    form = ConfirmShownForm()
    form.submit.label.text = "Send to your commenting lead"
    unsent = services.unsent(participation)
    shown = comment_services.as_shown(unsent.comments, unsent.answers)
    outcome = Outcome()
    if form.validate_on_submit():
        if not unsent and services.has_sent(participation):
            # Sent twice (a double press, or Back then Send): the first one sent everything.
            flash(services.NothingMoreToSend.message, "info")
            return _hub(consultation)
        with form_errors(form) as outcome:
            if not form.still_shows(shown):
                raise comment_services.ChangedSinceShown(UNSENT_CHANGED)
            sent = services.send_to_lead(participation, request_arrived_at())
        if outcome.ok:
            db.session.commit()
            flash(f"You sent {sent.counted} to your organisation’s commenting lead. "
                  f"{'It' if len(sent.comments) + len(sent.answers) == 1 else 'They'} can no longer be changed.",
                  "success")
            return _hub(consultation)
        if isinstance(outcome.error, comment_services.ConsultationNotOpen):
            return not_open_page(consultation, participation, outcome.error)
    unsent = services.unsent(participation)
    form.show(comment_services.as_shown(unsent.comments, unsent.answers))
    return render_template("organisations/send.html", consultation=consultation, participation=participation,
                           unsent=unsent, form=form, already_sent=not unsent and services.has_sent(participation),
                           email_unconfirmed=isinstance(outcome.error, services.EmailNotConfirmed)), outcome.status


# --- The lead's response --------------------------------------------------------------

@bp.post(f"{_CONSULTATION}/lead/start")
@signed_in
def start(reference: str):
    """Start the organisation's response: the lead's own comments and every copy of what colleagues sent."""
    consultation, started = _lead_button(
        reference, lambda consultation: services.start_lead_response(current_user, consultation, request_arrived_at()))
    if not started:
        return _hub(consultation)
    return redirect(url_for("organisations.lead_response", reference=consultation.reference))


def _started_lead_response(consultation):
    """The lead's own participation in the organisation's response, once they have started it (else None).

    Anyone who is not a lead gets NotALead, a 403 page; someone no longer the lead of the response they
    started gets NoLongerLead.
    """
    participation = _participation(consultation)
    if services.former_lead(participation):
        raise services.NoLongerLead()
    services.require_lead(current_user.id)
    if participation is None or participation.organisation_role is not OrganisationRole.LEAD:
        return None
    return participation


def _lead_response_page(view):
    """A page of the lead's response: until the lead has started it, the organisation page says to start."""

    @wraps(view)
    def with_response(reference: str, **kwargs):
        consultation = public_consultation_or_404(reference)
        if services.former_lead(_participation(consultation)):
            flash(services.NoLongerLead.message, "info")
            return _hub(consultation)
        participation = _started_lead_response(consultation)
        if participation is None:
            flash("Start your organisation’s response first.", "info")
            return _hub(consultation)
        return view(consultation, participation, **kwargs)

    return with_response


def _colleague_id() -> int | None:
    value = request.args.get("colleague", "")
    return int(value) if value.isdigit() and 0 < int(value) <= LARGEST_ID else None


@bp.get(f"{_CONSULTATION}/lead/response")
@signed_in
@_lead_response_page
def lead_response(consultation, participation):
    colleagues = services.colleagues_who_sent(participation.organisation_id, consultation.id)
    filter_form = ColleagueFilterForm(formdata=request.args)
    filter_form.colleague.choices = [("", "Everyone")] + [(str(c.user_id), c.email) for c in colleagues]
    colleague_id = _colleague_id()
    comments = services.lead_response_comments(participation, colleague_id)
    return render_template("organisations/lead_response.html", consultation=consultation,
                           participation=participation, comments=comments, filter_form=filter_form,
                           questions=list_questions(consultation.id), own_answers=answers_by_question(participation),
                           sent_answers=services.sent_answers(participation.organisation_id, consultation.id),
                           empty_form=EmptyForm(),
                           filtered=colleague_id is not None, is_open=consultation.is_open_at(utcnow()),
                           responded=services.organisation_response(participation.organisation_id, consultation.id))


@bp.post(f"{_CONSULTATION}/lead/answers/<int:answer_id>/use")
@signed_in
@_lead_response_page
def adopt_answer(consultation, participation, answer_id: int):
    colleague_answer = db.session.get(Answer, answer_id) if answer_id <= LARGEST_ID else None
    if colleague_answer is None:  # e.g. the colleague's account was erased since the page was shown
        flash(services.AnswerNotThere.message, "info")
        return redirect(url_for("organisations.lead_response", reference=consultation.reference, _anchor="answers"))
    try:
        services.adopt_answer(participation, colleague_answer, request_arrived_at())
    except DomainError as refused:
        db.session.rollback()
        flash(refused.message, "info")
    else:
        db.session.commit()
        flash(f"Your organisation’s answer to “{colleague_answer.question.text}” is now the one "
              f"{colleague_answer.participation.user.email} sent.", "success")
    return redirect(url_for("organisations.lead_response", reference=consultation.reference, _anchor="answers"))


@bp.route(f"{_CONSULTATION}/lead/submit", methods=["GET", "POST"])
@signed_in
def lead_submit(reference: str):
    consultation = public_consultation_or_404(reference)
    participation = _started_lead_response(consultation)
    if participation is None:
        return redirect(url_for("organisations.lead_response", reference=consultation.reference))
    if participation.is_submitted:
        return redirect(url_for("comments.receipt", reference=consultation.reference))
    if request.method == "GET" and not consultation.is_open_at(utcnow()):
        return not_open_page(consultation, participation)
    form = DeclarationForm()
    shown = comment_services.as_shown(comment_services.list_comments(participation),
                                      answers_by_question(participation).values())
    outcome = Outcome()
    if form.validate_on_submit():
        with form_errors(form) as outcome:
            try:
                if not form.still_shows(shown):
                    raise comment_services.ChangedSinceShown(RESPONSE_CHANGED)
                services.submit_organisation_response(participation, form.has_tobacco_links.data == YES,
                                                      form.tobacco_details.data, request_arrived_at())
            except (comment_services.ChangedSinceShown, services.AnswersToMerge) as about_the_response:
                # About the response as a whole (what the page showed, or answers chosen on the response
                # page), not the declaration: beside no field here, and the summary links to what it is about.
                db.session.rollback()
                form.form_errors.append(str(about_the_response))
                outcome.error = about_the_response
        if outcome.ok:
            db.session.commit()
            return redirect(url_for("comments.receipt", reference=consultation.reference))
        if isinstance(outcome.error, services.OrganisationAlreadyResponded):
            flash(outcome.error.message, "info")
            return _hub(consultation)
        if isinstance(outcome.error, comment_services.ConsultationNotOpen):
            return not_open_page(consultation, participation, outcome.error)
    comments = comment_services.list_comments(participation)
    answers = services.questions_to_answer(participation)
    if not comments and not answers:
        # Nothing to submit: the response page says what to do, instead of a button that would be refused.
        flash("Your organisation’s response has no comments or answers yet, so there is nothing to submit. "
              "Add a comment or answer a question, or ask colleagues to send you theirs.", "info")
        return redirect(url_for("organisations.lead_response", reference=consultation.reference))
    form.show(comment_services.as_shown(comments, answers_by_question(participation).values()))
    counted = comments_and_answers(len(comments), answers)
    to_choose = outcome.error.questions if isinstance(outcome.error, services.AnswersToMerge) else []
    unsent = services.colleagues_with_unsent(participation.organisation_id, consultation.id)
    return render_template("organisations/lead_submit.html", consultation=consultation, participation=participation,
                           counted=counted, form=form, to_choose=to_choose, unsent=unsent,
                           changed=isinstance(outcome.error, comment_services.ChangedSinceShown)), outcome.status


def _sent_rows(consultation):
    services.require_lead(current_user.id)
    lead = services.lead_of(current_user.id)
    return [services.sent_values(c) for c in services.sent_comments(lead.organisation_id, consultation.id)]


@bp.get(f"{_CONSULTATION}/lead/colleagues.xlsx")
@signed_in
def colleagues_workbook(reference: str):
    consultation = public_consultation_or_404(reference)
    rows = _sent_rows(consultation)
    return file_download(
        lambda handle: write_table_workbook(rows, services.SENT_COLUMNS, handle, "Sent by colleagues"),
        f"{consultation.reference}-sent-by-colleagues.xlsx", XLSX)


@bp.get(f"{_CONSULTATION}/lead/colleagues.csv")
@signed_in
def colleagues_csv(reference: str):
    consultation = public_consultation_or_404(reference)
    rows = _sent_rows(consultation)
    return csv_download(table_csv(rows, services.SENT_COLUMNS), f"{consultation.reference}-sent-by-colleagues.csv")


# --- Admin: commenting leads ----------------------------------------------------------

@bp.route("/admin/users/<int:user_id>/organisation", methods=["GET", "POST"])
@admin
def admin_lead(user_id: int):
    """Mark an account as the commenting lead of one organisation, or stop it being one."""
    found = user_or_404(user_id)
    lead = services.lead_of(found.id)
    form = LeadForm(data={"name": lead.organisation.name, "type": lead.organisation.type.value} if lead else None)
    outcome = Outcome()
    if lead is None and form.validate_on_submit():
        with form_errors(form) as outcome:
            services.mark_lead(found, form.name.data, OrganisationType(form.type.data),
                               current_user._get_current_object())
        if outcome.ok:
            db.session.commit()
            organisation = services.lead_of(found.id).organisation
            flash(f"{found.name} is now the commenting lead of {organisation.name}.", "success")
            return redirect(url_for("organisations.admin_lead", user_id=found.id))
    elif lead is not None and request.method == "POST":
        attach_error(form, services.InvalidLead(f"{found.name} is already the commenting lead of "
                                                f"{lead.organisation.name}. Remove that first."))
    return render_template("organisations/admin_lead.html", user=found, lead=lead, form=form,
                           remove_form=EmptyForm(formdata=None)), outcome.status


@bp.post("/admin/users/<int:user_id>/organisation/remove")
@admin
def admin_remove_lead(user_id: int):
    found = user_or_404(user_id)
    form = EmptyForm()
    if form.validate_on_submit():
        with form_errors(form) as outcome:
            organisation = services.remove_lead(found, current_user._get_current_object())
        if outcome.ok:
            db.session.commit()
            flash(f"{found.name} is no longer the commenting lead of {organisation.name}.", "success")
        else:
            flash(outcome.error.message, "error")
    return redirect(url_for("organisations.admin_lead", user_id=found.id))
