"""One comment: its page, the moderation decisions on it (accept, reject, redact) and its themes."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from consult.access import can_see_original_of_redacted, committee_or_staff, is_staff, staff
from consult.comments.models import Comment
from consult.database import utcnow
from consult.extensions import db
from consult.forms import EmptyForm, valid_versioned_post
from consult.loaders import reviewable_consultation_and_comment_or_404, theme_or_404
from consult.moderation import messages, queries, services
from consult.moderation.filters import filter_form, filters_of
from consult.moderation.forms import AcceptForm, RedactForm, RejectForm, TagForm, TriageNoteForm, options
from consult.moderation.models import CommentResponse, ModerationDecision
from consult.moderation.states import ModerationState, RejectionReason
from consult.moderation.views import bp
from consult.moderation.views.common import (
    actor,
    attempt,
    change_on_comment_page,
    comment_form_page,
    comment_url,
    conflict_page,
    queue_args,
)


def _render_comment(consultation, comment: Comment, tag_form: TagForm | None = None,
                    note_form: TriageNoteForm | None = None, status: int = 200):
    decisions = list(db.session.scalars(
        select(ModerationDecision).where(ModerationDecision.comment_id == comment.id)
        .options(joinedload(ModerationDecision.actor))
        .order_by(ModerationDecision.decided_at, ModerationDecision.id)))
    tags = queries.tags_for([comment.id])
    response = db.session.scalar(select(CommentResponse).where(CommentResponse.comment_id == comment.id)
                                 .options(joinedload(CommentResponse.updated_by)))
    can_edit = is_staff(current_user)
    if can_edit and tag_form is None:
        tag_form = TagForm(formdata=None)
    if tag_form is not None:
        tagged = {tag.theme_id for tag in tags}
        tag_form.theme.choices = options([("", "Select a theme")] + [
            (str(t.id), t.name) for t in queries.themes_of(consultation.id) if t.id not in tagged])
    can_accept = can_edit and comment.moderation_state is not ModerationState.ACCEPTED and not (
        services.would_reveal_original(comment, services.Decision(ModerationState.ACCEPTED), current_user))
    mark = queries.marks_for([comment.id]).get(comment.id)
    if can_edit and note_form is None:
        note_form = TriageNoteForm(formdata=None, note=mark.note if mark else "",
                                   note_version=mark.note_version if mark else 0)
    filters_form = filter_form(consultation, request.args)
    previous, following = queries.neighbours(consultation.id, filters_of(filters_form), comment.number)
    now = utcnow()
    return render_template(
        "moderation/comment.html", consultation=consultation, comment=comment, decisions=decisions, tags=tags,
        response=response, can_edit=can_edit, tag_form=tag_form, can_accept=can_accept,
        accept_form=AcceptForm(formdata=None, version=comment.version) if can_edit else None,
        untag_form=EmptyForm(formdata=None) if can_edit else None,
        participant_type=queries.ParticipantType.of(comment.participation),
        show_original=can_see_original_of_redacted(current_user), queue_args=queue_args(),
        mark=mark, note_form=note_form, flag_form=EmptyForm(formdata=None) if can_edit else None,
        held_by_other=services.read_by_someone_else(mark, current_user.id, now),
        reading_now=mark is not None and mark.reader_id == current_user.id,
        previous_url=_neighbour_url(consultation, previous), next_url=_neighbour_url(consultation, following),
        search=filters_form.q.data if not filters_form.q.errors else "",
        reject_reasons=[(reason.value, reason.label) for reason in RejectionReason],
    ), status


def _neighbour_url(consultation, number: int | None) -> str | None:
    """A comment's page in the same filtered queue; the queue's page is left behind, as it may differ."""
    if number is None:
        return None
    args = {key: value for key, value in queue_args().items() if key != "page"}
    return url_for("moderation.comment", reference=consultation.reference, number=number, **args)


@bp.get("/consultations/<reference>/comments/<int:number>")
@committee_or_staff
def comment(reference: str, number: int):
    """The comment; opening it tells colleagues that a member of staff is reading it (see start_reading)."""
    consultation, comment = reviewable_consultation_and_comment_or_404(reference, number)
    if is_staff(current_user):
        services.start_reading(comment, actor(), utcnow())
        db.session.commit()
    return _render_comment(consultation, comment)


def _decide(consultation, comment: Comment, decision: services.Decision, expected_version: int, form=None,
            template: str | None = None):
    """Run one decision; a stale version shows both versions, bad input goes back to the form."""

    def conflict(error: services.StaleComment):
        return conflict_page(consultation, error.comment, "This comment", error, messages.decision_rows(decision),
                             messages.current_comment_rows(error.comment), comment_url(consultation, error.comment))

    with attempt(form, back_url=comment_url(consultation, comment), conflict=conflict) as decided:
        services.decide_comment(comment, decision, actor(), expected_version, utcnow())
    if decided.response is not None:
        return decided.response
    if not decided.ok:
        return comment_form_page(template, consultation, comment, form)
    db.session.commit()
    flash(messages.decided(comment, decision), "success")
    return redirect(comment_url(consultation, comment))


@bp.post("/consultations/<reference>/comments/<int:number>/accept")
@staff
def accept_comment(reference: str, number: int):
    consultation, comment = reviewable_consultation_and_comment_or_404(reference, number)
    form = AcceptForm()
    if not form.validate_on_submit():
        abort(400)
    return _decide(consultation, comment, services.Decision(ModerationState.ACCEPTED), form.version.data)


@bp.route("/consultations/<reference>/comments/<int:number>/reject", methods=["GET", "POST"])
@staff
def reject_comment(reference: str, number: int):
    consultation, comment = reviewable_consultation_and_comment_or_404(reference, number)
    form = RejectForm()
    if request.method == "GET":
        form.version.data = comment.version
        if comment.moderation_state is ModerationState.REJECTED:
            form.reason.data = comment.rejection_reason.value
            form.note.data = comment.moderation_note
    elif valid_versioned_post(form):
        decision = services.Decision(ModerationState.REJECTED, reason=form.chosen_reason, note=form.note.data)
        return _decide(consultation, comment, decision, form.version.data, form, "moderation/reject.html")
    return comment_form_page("moderation/reject.html", consultation, comment, form)


@bp.route("/consultations/<reference>/comments/<int:number>/redact", methods=["GET", "POST"])
@staff
def redact_comment(reference: str, number: int):
    consultation, comment = reviewable_consultation_and_comment_or_404(reference, number)
    form = RedactForm()
    if comment.quote is None:
        del form.redacted_quote
    if request.method == "GET":
        form.version.data = comment.version
        redacted = comment.moderation_state is ModerationState.REDACTED
        form.redacted_body.data = comment.redacted_body if redacted else comment.body
        if comment.quote is not None:
            form.redacted_quote.data = comment.shown_quote or ""
        if redacted:
            latest = db.session.scalar(
                select(ModerationDecision).where(ModerationDecision.comment_id == comment.id)
                .order_by(ModerationDecision.decided_at.desc(), ModerationDecision.id.desc()).limit(1))
            form.reason.data = latest.reason.value if latest and latest.reason else None
            form.note.data = comment.moderation_note
    elif valid_versioned_post(form):
        decision = services.Decision(
            ModerationState.REDACTED, reason=form.chosen_reason, note=form.note.data,
            redacted_body=form.redacted_body.data,
            redacted_quote=form.redacted_quote.data if "redacted_quote" in form else None)
        return _decide(consultation, comment, decision, form.version.data, form, "moderation/redact.html")
    return comment_form_page("moderation/redact.html", consultation, comment, form)


@bp.post("/consultations/<reference>/comments/<int:number>/themes")
@staff
def tag_comment(reference: str, number: int):
    consultation, comment = reviewable_consultation_and_comment_or_404(reference, number)
    form = TagForm()
    form.theme.choices = options((str(t.id), t.name) for t in queries.themes_of(consultation.id))
    if not form.validate_on_submit():
        return _render_comment(consultation, comment, tag_form=form)
    theme = theme_or_404(consultation, form.theme.data)
    return change_on_comment_page(consultation, comment, "themes",
                                  lambda: services.tag_comment(comment, theme, actor(), utcnow()),
                                  messages.theme_added(theme, comment))


@bp.post("/consultations/<reference>/comments/<int:number>/themes/<int:theme_id>/remove")
@staff
def untag_comment(reference: str, number: int, theme_id: int):
    consultation, comment = reviewable_consultation_and_comment_or_404(reference, number)
    theme = theme_or_404(consultation, theme_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    return change_on_comment_page(consultation, comment, "themes",
                                  lambda: services.untag_comment(comment, theme, actor()),
                                  messages.theme_removed(theme, comment))
