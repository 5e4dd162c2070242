"""The developer's response to one comment: write or change it, or record that none is needed."""

from flask import flash, redirect, request

from consult.access import staff
from consult.comments.models import Comment
from consult.database import utcnow
from consult.extensions import db
from consult.forms import valid_versioned_post
from consult.loaders import reviewable_consultation_and_comment_or_404
from consult.moderation import messages, services
from consult.moderation.forms import NoResponseForm, ResponseForm
from consult.moderation.messages import Rows
from consult.moderation.states import ResponseState
from consult.moderation.views import bp
from consult.moderation.views.common import (
    actor,
    attempt,
    comment_form_page,
    comment_url,
    conflict_page,
)


def _respond(consultation, comment: Comment, form, template: str, save, yours: Rows):
    """Run a response change; a stale version shows both versions, bad input goes back to the form."""
    back_url = comment_url(consultation, comment, _anchor="response")

    def conflict(error: services.StaleResponse):
        return conflict_page(consultation, comment, "The response to this comment", error, yours,
                             messages.response_rows(error.response), back_url)

    with attempt(form, back_url=back_url, conflict=conflict) as saved:
        save()
    if saved.response is not None:
        return saved.response
    if not saved.ok:
        return comment_form_page(template, consultation, comment, form)
    db.session.commit()
    flash(messages.response_saved(comment), "success")
    return redirect(back_url)


def _current_response(form, comment: Comment):
    """The comment's response as it stands, if any; its version goes on the form, so a change made since the
    page was opened is refused rather than overwritten."""
    response = services.find_response(comment.id)
    form.version.data = response.version if response else None
    return response


@bp.route("/consultations/<reference>/comments/<int:number>/response", methods=["GET", "POST"])
@staff
def edit_response(reference: str, number: int):
    consultation, comment = reviewable_consultation_and_comment_or_404(reference, number)
    form = ResponseForm()
    if request.method == "GET":
        if (response := _current_response(form, comment)) is not None:
            form.text.data = response.text
            if response.state is not ResponseState.NOT_NEEDED:
                form.state.data = response.state.value
    elif valid_versioned_post(form):
        return _respond(
            consultation, comment, form, "moderation/response.html",
            lambda: services.save_response(comment, form.text.data, form.chosen_state, actor(),
                                           form.version.data, utcnow()),
            messages.written_response_rows(form.chosen_state, form.text.data))
    return comment_form_page("moderation/response.html", consultation, comment, form)


@bp.route("/consultations/<reference>/comments/<int:number>/no-response", methods=["GET", "POST"])
@staff
def no_response(reference: str, number: int):
    consultation, comment = reviewable_consultation_and_comment_or_404(reference, number)
    form = NoResponseForm()
    if request.method == "GET":
        if (response := _current_response(form, comment)) is not None:
            form.reason.data = response.reason
    elif valid_versioned_post(form):
        return _respond(
            consultation, comment, form, "moderation/no_response.html",
            lambda: services.mark_no_response_needed(comment, form.reason.data, actor(), form.version.data,
                                                     utcnow()),
            messages.no_response_rows(form.reason.data))
    return comment_form_page("moderation/no_response.html", consultation, comment, form)
