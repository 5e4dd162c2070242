"""Staff pages for building consultations: create, edit, import drafts, assign committees.

Every route here is for staff and admins. Each view: load or 404, validate the form, call the
service inside ``form_errors``, commit once, flash, redirect. Form mistakes come back on the page
(200), a refused file with its reason (400), and a change that clashes with what is saved now (409).
"""

from pathlib import Path

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from consult.access import staff
from consult.consultations import services
from consult.consultations.importing import (
    ACCEPTED_EXTENSIONS,
    DocumentFormatError,
    ImportStaging,
    PreviewNotFound,
    check_upload,
    parse_upload,
    with_introduction,
)
from consult.consultations.models import ConsultationStatus
from consult.consultations.staff.forms import (
    AssignCommitteeMemberForm,
    CloseConsultationForm,
    ConfirmImportForm,
    ConsultationForm,
    RemoveCommitteeMemberForm,
    UploadDraftForm,
)
from consult.database import utcnow
from consult.errors import Outcome, form_errors
from consult.extensions import db
from consult.loaders import staff_consultation_or_404
from consult.text import quantity
from consult.uk_time import display_zone, uk_datetime
from consult.web import request_arrived_at

bp = Blueprint("staff_consultations", __name__, url_prefix="/staff/consultations")


def _staging() -> ImportStaging:
    return ImportStaging(Path(current_app.config["IMPORT_STAGING_DIR"]))


def _details(form: ConsultationForm, opens_at, closes_at) -> services.ConsultationDetails:
    return services.ConsultationDetails(
        reference=form.reference.data, title=form.title.data, summary=form.summary.data or "",
        opens_at=opens_at, closes_at=closes_at, is_draft=bool(form.is_draft.data),
        late_grace_seconds=form.late_grace_seconds.data,
    )


def _status(outcome: Outcome) -> int:
    """The status to show a form again with after the service refused.

    A typed value the service cannot accept (422) comes back at 200, as the
    form's own checks do; a refused file (400) or a clash with what is saved
    now (409) keeps its own status.
    """
    return 200 if outcome.status == 422 else outcome.status


# --- Consultations -----------------------------------------------------------

@bp.route("/")
@staff
def index():
    return render_template("staff/consultations/index.html", rows=services.list_all_consultations())


@bp.route("/new", methods=["GET", "POST"])
@staff
def new():
    form = ConsultationForm()
    del form.version, form.digest
    form.submit.label.text = "Create consultation"
    if not form.is_submitted():
        # Held back until staff choose to open it: a new consultation has no document yet to comment on.
        form.is_draft.data = True
    status = 200
    if form.validate_on_submit() and (times := form.times(display_zone())):
        with form_errors(form) as outcome:
            consultation = services.add_consultation(current_user, _details(form, *times), utcnow())
        if outcome.ok:
            db.session.commit()
            flash(f"Consultation {consultation.reference} created. Next, import its draft document.", "success")
            return redirect(url_for("staff_consultations.show", reference=consultation.reference))
        status = _status(outcome)
    return render_template("staff/consultations/form.html", form=form, consultation=None), status


@bp.route("/<reference>")
@staff
def show(reference: str):
    consultation = staff_consultation_or_404(reference)
    return _show_page(consultation, AssignCommitteeMemberForm())


def _show_page(consultation, form: AssignCommitteeMemberForm, status: int = 200):
    return render_template(
        "staff/consultations/show.html", consultation=consultation, form=form,
        remove_form=RemoveCommitteeMemberForm(), members=services.list_committee_members(consultation),
    ), status


@bp.route("/<reference>/edit", methods=["GET", "POST"])
@staff
def edit(reference: str):
    consultation = staff_consultation_or_404(reference)
    zone = display_zone()
    form = ConsultationForm()
    form.submit.label.text = "Save changes"
    status = 200
    if request.method == "GET":
        form.fill_from(consultation, zone)
        _remember_seen(form, consultation)
    elif form.validate_on_submit() and (times := form.times(zone, saved=consultation)):
        if not (form.version.data or "").isdigit():
            abort(400)
        details = _details(form, *times)
        with form_errors(form) as outcome:
            try:
                changed = services.edit_consultation(current_user, consultation, details,
                                                     int(form.version.data), form.digest.data or "", utcnow())
            except services.EditConflict as conflict:
                # A conflict is not about one field: it has a page of its own showing both versions.
                db.session.rollback()
                # Saving again from this page now means "keep my version", knowing theirs.
                _remember_seen(form, consultation)
                return _edit_page(form, consultation, conflict=conflict, yours=details), 409
        if outcome.ok:
            db.session.commit()
            flash(f"Consultation {consultation.reference} updated." if changed
                  else "No changes were made.", "success" if changed else "info")
            return redirect(url_for("staff_consultations.show", reference=consultation.reference))
        status = _status(outcome)
    return _edit_page(form, consultation), status


def _edit_page(form: ConsultationForm, consultation, **shown):
    """The edit form, saying what opening has fixed (the reference, the public state), however it is drawn.

    For a closed consultation it says that a closing time in the future opens it again; on a conflict whose
    unsaved version would do that (its edit page was opened before a close), it says so beside both versions.
    """
    now = utcnow()
    closed = consultation.status_at(now) is ConsultationStatus.CLOSED
    yours = shown.get("yours")
    return render_template("staff/consultations/form.html", form=form, consultation=consultation,
                           reference_fixed=services.reference_is_fixed(consultation, now),
                           opened=services.has_opened(consultation, now), closed=closed,
                           reopens=closed and yours is not None and yours.closes_at > now, **shown)


def _remember_seen(form: ConsultationForm, consultation) -> None:
    form.version.data = str(consultation.version)
    form.digest.data = services.details_digest(consultation)


# --- Closing now -------------------------------------------------------------------

@bp.route("/<reference>/close", methods=["GET", "POST"])
@staff
def close(reference: str):
    """The check before closing an open consultation now, and the close.

    The close is timed by when its request arrived, as every write judged against the deadline is. A
    consultation that is not open (a draft, not yet open, already closed, by a replay or in another tab)
    has nothing to confirm: the refusal goes back to its staff page as a notice.
    """
    consultation = staff_consultation_or_404(reference)
    back = url_for("staff_consultations.show", reference=consultation.reference)
    form = CloseConsultationForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        with form_errors(form) as outcome:
            services.close_consultation(current_user, consultation, request_arrived_at())
        if not outcome.ok:
            flash(f"{outcome.error} Nothing was changed.", "info")
            return redirect(back)
        db.session.commit()
        flash(f"Consultation {consultation.reference} closed at {uk_datetime(consultation.closes_at)}. "
              "Nobody can add, change or submit comments now.", "success")
        return redirect(back)
    try:
        services.check_closable(consultation, utcnow())
    except services.NotOpenToClose as refused:
        flash(str(refused), "info")
        return redirect(back)
    return render_template("staff/consultations/close.html", consultation=consultation, form=form,
                           counts=services.closing_counts(consultation))


# --- Importing a draft ---------------------------------------------------------

@bp.route("/<reference>/import", methods=["GET", "POST"])
@staff
def upload(reference: str):
    consultation = staff_consultation_or_404(reference)
    form = UploadDraftForm()
    form.offer_documents(consultation.documents)
    if form.validate_on_submit():
        replace_id = form.replace_document_id()
        replacing = _document(consultation, replace_id)
        if replace_id is not None and replacing is None:
            abort(404)
        with form_errors(form) as outcome:
            if replacing is not None:
                services.check_replaceable(replacing)
            checked = check_upload(form.draft.data.filename, form.draft.data.stream)
            parsed = parse_upload(checked)
            services.check_parsed_document(parsed)
        if not outcome.ok:
            return _upload_page(consultation, form, _status(outcome))
        pending = _staging().stage(
            user_id=current_user.id, consultation_id=consultation.id, filename=checked.filename,
            replace_document_id=replace_id, parsed=parsed, now=utcnow(),
        )
        return redirect(url_for("staff_consultations.preview", reference=consultation.reference, token=pending.token))
    return _upload_page(consultation, form)


def _upload_page(consultation, form: UploadDraftForm, status: int = 200):
    return render_template("staff/consultations/upload.html", consultation=consultation, form=form,
                           accept=ACCEPTED_EXTENSIONS), status


def _document(consultation, document_id: int | None):
    """The consultation's document with this id; None for no id, or for one it no longer has."""
    return next((d for d in consultation.documents if d.id == document_id), None)


def _preview_gone(consultation, missing: PreviewNotFound):
    """No such preview (expired, used, or never there): say so, and go back to the upload form."""
    flash(missing.message, "info")
    return redirect(url_for("staff_consultations.upload", reference=consultation.reference))


@bp.route("/<reference>/import/preview")
@staff
def preview(reference: str):
    consultation = staff_consultation_or_404(reference)
    try:
        pending = _staging().load(request.args.get("token"), user_id=current_user.id,
                                  consultation_id=consultation.id, now=utcnow())
    except PreviewNotFound as missing:
        return _preview_gone(consultation, missing)
    form = ConfirmImportForm(token=pending.token)
    form.offer_skipped(pending.parsed)
    return _preview_page(consultation, pending, form)


def _preview_page(consultation, pending, confirm_form: ConfirmImportForm | None, error: str | None = None,
                  status: int = 200):
    replacing = _document(consultation, pending.replace_document_id)
    return render_template("staff/consultations/preview.html", consultation=consultation, pending=pending,
                           parsed=pending.parsed, replacing=replacing, confirm_form=confirm_form,
                           error=error), status


@bp.route("/<reference>/import/confirm", methods=["POST"])
@staff
def confirm_import(reference: str):
    consultation = staff_consultation_or_404(reference)
    form = ConfirmImportForm()
    try:
        staged = _staging().load(form.token.data, user_id=current_user.id,
                                 consultation_id=consultation.id, now=utcnow())
    except PreviewNotFound as missing:
        return _preview_gone(consultation, missing)
    form.offer_skipped(staged.parsed)
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        return _preview_page(consultation, staged, form, status=400)
    try:
        pending = _staging().claim(form.token.data, user_id=current_user.id,
                                   consultation_id=consultation.id, now=utcnow())
    except PreviewNotFound as missing:
        return _preview_gone(consultation, missing)
    parsed = with_introduction(pending.parsed, form.chosen)
    with form_errors(form) as outcome:
        if pending.replace_document_id is None:
            document = services.add_document(current_user, consultation, parsed, pending.filename)
        elif (replacing := _document(consultation, pending.replace_document_id)) is None:
            raise DocumentFormatError("The document you chose to replace no longer exists, so nothing was "
                                      "imported. Upload the file again.")
        else:
            document = services.replace_document(current_user, consultation, replacing, parsed,
                                                 pending.filename)
    if not outcome.ok:
        return _preview_page(consultation, pending, None, str(outcome.error), _status(outcome))
    db.session.commit()
    sections = sum(len(chapter.sections) for chapter in parsed.chapters)
    introduced = len(parsed.chapters) > len(pending.parsed.chapters)
    flash(f"Imported “{document.title}”: {quantity(len(parsed.chapters), 'chapter')} and "
          f"{quantity(sections, 'section')}"
          + (", counting the introduction as a chapter." if introduced else "."), "success")
    return redirect(url_for("staff_consultations.show", reference=consultation.reference))


# --- Committee -----------------------------------------------------------------

@bp.route("/<reference>/committee", methods=["POST"])
@staff
def assign_committee_member(reference: str):
    consultation = staff_consultation_or_404(reference)
    form = AssignCommitteeMemberForm()
    if not form.validate_on_submit():
        return _show_page(consultation, form)
    with form_errors(form) as outcome:
        services.assign_committee_member(current_user, consultation, form.email.data)
    if not outcome.ok:
        return _show_page(consultation, form, _status(outcome))
    db.session.commit()
    flash(f"{form.email.data.strip()} can now review {consultation.reference}.", "success")
    return redirect(url_for("staff_consultations.show", reference=consultation.reference, _anchor="committee"))


@bp.route("/<reference>/committee/remove", methods=["POST"])
@staff
def unassign_committee_member(reference: str):
    consultation = staff_consultation_or_404(reference)
    form = RemoveCommitteeMemberForm()
    if not form.validate_on_submit():
        flash("Choose a committee member to remove.", "info")
        return redirect(url_for("staff_consultations.show", reference=consultation.reference, _anchor="committee"))
    with form_errors(form) as outcome:
        user = services.unassign_committee_member(current_user, consultation, form.user_id.data)
    if outcome.ok:
        db.session.commit()
        flash(f"{user.name} ({user.email}) can no longer review {consultation.reference}.", "success")
    else:
        flash(str(outcome.error), "info")
    return redirect(url_for("staff_consultations.show", reference=consultation.reference, _anchor="committee"))
