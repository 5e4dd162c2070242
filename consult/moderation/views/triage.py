"""Triage marks on one comment (a flag for a second look, a note), and staff's saved views of the queue."""

from urllib.parse import parse_qsl, urlencode

from flask import abort, flash, redirect, request, url_for
from werkzeug.datastructures import MultiDict

from consult.access import staff
from consult.database import utcnow
from consult.extensions import db
from consult.forms import EmptyForm
from consult.loaders import LARGEST_ID, reviewable_consultation_and_comment_or_404, reviewable_consultation_or_404
from consult.moderation import services
from consult.moderation.filters import filter_form
from consult.moderation.forms import DeleteSavedViewForm, SavedViewForm, TriageNoteForm
from consult.moderation.views import bp
from consult.moderation.views.comment import _render_comment
from consult.moderation.views.common import actor, attempt, change_on_comment_page, comment_url
from consult.moderation.views.queue import render_queue


def _set_flag(reference: str, number: int, flagged: bool):
    consultation, comment = reviewable_consultation_and_comment_or_404(reference, number)
    if not EmptyForm().validate_on_submit():
        abort(400)
    return change_on_comment_page(consultation, comment, "triage",
                                  lambda: services.set_flag(comment, flagged, actor(), utcnow()),
                                  f"Comment {comment.reference} is flagged for a second look." if flagged
                                  else f"The flag on comment {comment.reference} is removed.")


@bp.post("/consultations/<reference>/comments/<int:number>/flag")
@staff
def flag_comment(reference: str, number: int):
    return _set_flag(reference, number, True)


@bp.post("/consultations/<reference>/comments/<int:number>/unflag")
@staff
def unflag_comment(reference: str, number: int):
    return _set_flag(reference, number, False)


@bp.post("/consultations/<reference>/comments/<int:number>/note")
@staff
def note_comment(reference: str, number: int):
    consultation, comment = reviewable_consultation_and_comment_or_404(reference, number)
    form = TriageNoteForm()
    if not form.validate_on_submit():
        if form.note_version.errors:
            abort(400)
        return _render_comment(consultation, comment, note_form=form)
    back_url = comment_url(consultation, comment, _anchor="triage")
    with attempt(form, back_url=back_url) as saved:
        services.save_triage_note(comment, form.note.data, form.note_version.data, actor(), utcnow())
    if saved.response is not None:
        return saved.response
    if not saved.ok:
        return _render_comment(consultation, comment, note_form=form, status=409 if isinstance(
            saved.error, services.StaleVersion) else 200)
    db.session.commit()
    flash(f"Note saved on comment {comment.reference}." if form.note.data.strip()
          else f"Note removed from comment {comment.reference}.", "success")
    return redirect(back_url)


@bp.post("/consultations/<reference>/views")
@staff
def save_view(reference: str):
    """Save the queue's filters under a name; a bad name shows the queue again with the name's error."""
    consultation = reviewable_consultation_or_404(reference)
    form = SavedViewForm()
    args = MultiDict(parse_qsl(form.filters.data or ""))
    # Only valid filters are kept, so a saved view never holds a value the queue would refuse.
    query = urlencode(filter_form(consultation, args).query_args())
    if not form.validate_on_submit():
        abort(400)
    with attempt(form) as saved:
        view = services.save_view(actor(), consultation, form.name.data, query)
    if not saved.ok:
        return render_queue(consultation, args, view_form=form)
    db.session.commit()
    flash(f"View ‘{view.name}’ saved. You can open it from the staff workspace.", "success")
    return redirect(url_for("moderation.queue", reference=consultation.reference, **dict(parse_qsl(query))))


@bp.post("/saved-views/delete")
@staff
def delete_view():
    form = DeleteSavedViewForm()
    back_url = url_for("moderation.dashboard")
    if not form.validate_on_submit():
        if "view" in request.form:
            abort(400)
        flash("Choose a saved view to delete.", "info")
        return redirect(back_url)
    if form.view.data > LARGEST_ID:
        abort(404)
    view = services.delete_view(actor(), form.view.data)
    name = view.name
    db.session.commit()
    flash(f"View ‘{name}’ deleted.", "success")
    return redirect(back_url)
