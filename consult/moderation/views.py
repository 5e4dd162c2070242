"""Staff workspace: the dashboard, the triage queue, comment pages, themes and responses.

Each view: load the consultation (404 unless the user may review it), load
the comment or theme (404 unless it belongs to that consultation), validate
the form, call the service, commit once, flash, redirect. Committee members
may read a consultation they are assigned to; every route that changes
something is staff-only, so the route rule refuses them with 403 before the
view runs, and the pages they read show no controls.
"""

from datetime import datetime
from urllib.parse import parse_qsl, urlencode

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.datastructures import MultiDict

from consult.access import can_review_consultation, can_see_original_of_redacted, committee_or_staff, is_staff, staff
from consult.comments.models import Comment
from consult.consultations.services import find_consultation
from consult.database import utcnow
from consult.extensions import db
from consult.forms import EmptyForm
from consult.moderation import queries, services
from consult.moderation.filters import filter_form, filters_of, kept_queue_args
from consult.moderation.filters import queue_filters_from  # noqa: F401  (the downloads import it from here)
from consult.moderation.forms import (
    YES,
    AcceptForm,
    BulkForm,
    DeleteThemeForm,
    MergeThemeForm,
    NoResponseForm,
    RedactForm,
    RejectForm,
    ResponseForm,
    TagForm,
    ThemeForm,
    ThemeResponseForm,
    options,
)
from consult.moderation.models import CommentResponse, ModerationDecision, Theme
from consult.moderation.states import ModerationState, ResponseState

bp = Blueprint("moderation", __name__, url_prefix="/staff")

# Ids and numbers beyond a 32-bit integer cannot exist; the databases would refuse even to compare them.
_LARGEST_ID = 2**31 - 1


# --- Loading -------------------------------------------------------------------------


def _actor():
    return current_user._get_current_object()


def _consultation_or_404(reference: str):
    """Any consultation, drafts included, that the user may review; to anyone else it does not exist."""
    consultation = find_consultation(reference)
    if consultation is None or not can_review_consultation(current_user, consultation):
        abort(404)
    return consultation


def _comment_or_404(consultation, number: int) -> Comment:
    """A submitted comment of this consultation by its number; drafts have none, so never match."""
    if number > _LARGEST_ID:
        abort(404)
    comment = db.session.scalar(
        queries.submitted_comments(consultation.id).where(Comment.number == number)
        .options(joinedload(Comment.participation), joinedload(Comment.section), joinedload(Comment.chapter),
                 joinedload(Comment.document), joinedload(Comment.moderated_by))
    )
    if comment is None:
        abort(404)
    return comment


def _theme_or_404(consultation, theme_id) -> Theme:
    try:
        theme_id = int(theme_id)
    except (TypeError, ValueError):
        abort(404)
    theme = db.session.get(Theme, theme_id) if 0 < theme_id <= _LARGEST_ID else None
    if theme is None or theme.consultation_id != consultation.id:
        abort(404)
    return theme


def _queue_args(source=None) -> dict[str, str]:
    """The queue's filters and page from a query string, so that links back keep them."""
    return kept_queue_args(request.args if source is None else source)


def _comment_url(consultation, comment, **extra) -> str:
    return url_for("moderation.comment", reference=consultation.reference, number=comment.number,
                   **_queue_args(), **extra)


def _attach(form, error: services.ModerationError, fields: dict[str, str] | None = None) -> None:
    """Put a domain error beside the field it is about, so that the error summary links to it."""
    name = (fields or {}).get(error.field, error.field)
    if not name or name not in form:
        name = next(f.name for f in form if f.type not in ("CSRFTokenField", "HiddenField", "IntegerField",
                                                            "SubmitField"))
    form[name].errors = [*form[name].errors, str(error)]


def _uk_datetime(value) -> str:
    return current_app.jinja_env.filters["uk_datetime"](value)


# --- Dashboard ------------------------------------------------------------------------


@bp.get("/")
@committee_or_staff
def dashboard():
    consultations = queries.reviewable_consultations(current_user)
    progress = queries.progress_for(c.id for c in consultations)
    return render_template("moderation/dashboard.html", consultations=consultations, progress=progress,
                           can_edit=is_staff(current_user))


# --- The queue ------------------------------------------------------------------------


def _bulk_choices(form: BulkForm, themes) -> None:
    form.tag_theme.choices = options([("", "Select a theme")] + [(str(t.id), t.name) for t in themes])


def _render_queue(consultation, args, bulk_form: BulkForm | None = None, status: int = 200):
    themes = queries.themes_of(consultation.id)
    documents = queries.documents_with_parts(consultation.id)
    filters_form = filter_form(consultation, args, themes, documents)
    filters = filters_of(filters_form)
    page = queries.queue_page(consultation.id, filters, page=args.get("page", 1, type=int) or 1,
                              per_page=filters_form.page_size)
    can_edit = is_staff(current_user)
    if can_edit:
        if bulk_form is None:
            bulk_form = BulkForm(formdata=None)
        # The page shows the queue as it is now, so a new choice starts from now.
        _bulk_choices(bulk_form, themes)
        bulk_form.filters.data = urlencode(filters_form.query_args())
        bulk_form.snapshot.data = utcnow().isoformat()
        bulk_form.total.data = str(page.total)
    query_args = filters_form.query_args()
    selected = set(bulk_form.selected.data or []) if bulk_form is not None else set()
    return render_template(
        "moderation/queue.html", consultation=consultation, filters_form=filters_form, bulk_form=bulk_form,
        page=page, query_args=query_args, page_links=_page_links(consultation, page, query_args),
        comment_args={**query_args, **({"page": str(page.page)} if page.page > 1 else {})},
        progress=queries.progress_for([consultation.id])[consultation.id], can_edit=can_edit,
        selected=selected, filtered=any(k != "per_page" for k in query_args), many_documents=len(documents) > 1,
    ), status


def _page_links(consultation, page: queries.QueuePage, query_args: dict) -> dict | None:
    """govukPagination parameters: first, last, and the pages either side of this one."""
    if page.pages <= 1:
        return None

    def href(number: int) -> str:
        return url_for("moderation.queue", reference=consultation.reference, **query_args, page=number)

    items, last_shown = [], 0
    for number in range(1, page.pages + 1):
        if number in (1, page.pages) or abs(number - page.page) <= 1:
            if number - last_shown > 1:
                items.append({"ellipsis": True})
            items.append({"number": number, "href": href(number), "current": number == page.page})
            last_shown = number
    return {
        "previous": {"href": href(page.page - 1)} if page.page > 1 else None,
        "next": {"href": href(page.page + 1)} if page.page < page.pages else None,
        "items": items,
        "landmarkLabel": "Pages of comments",
    }


@bp.get("/consultations/<reference>/comments")
@committee_or_staff
def queue(reference: str):
    consultation = _consultation_or_404(reference)
    return _render_queue(consultation, request.args)


# --- Bulk actions ---------------------------------------------------------------------


_BULK_FIELDS = {"reason": "reason", "note": "note", "text": "response_text", "state": "response_state",
                "theme": "tag_theme", "selected": "selected", "action": "action"}


def _parse_items(values) -> dict[int, int]:
    """'id:version' pairs from checkboxes or the confirmation page; anything else is a bad request."""
    items: dict[int, int] = {}
    for value in values:
        for pair in filter(None, (value or "").split(",")):
            comment_id, _, version = pair.partition(":")
            if not (comment_id.isdigit() and version.isdigit()) or max(int(comment_id), int(version)) > _LARGEST_ID:
                abort(400)
            items[int(comment_id)] = int(version)
    return items


def _bulk_decision(form: BulkForm) -> services.Decision | None:
    if form.action.data == "accept":
        return services.Decision(ModerationState.ACCEPTED, note=form.note.data or "")
    if form.action.data == "reject":
        return services.Decision(ModerationState.REJECTED, reason=form.chosen_reason, note=form.note.data or "")
    return None


def _check_bulk_input(consultation, form: BulkForm) -> Theme | None:
    """The action's own input, checked by the same rules the services apply; the theme to tag, if any."""
    decision = _bulk_decision(form)
    if decision is not None:
        services.clean_decision(decision)
    if form.action.data == "respond":
        services.check_response_input(form.response_text.data, form.chosen_response_state)
    if form.action.data == "tag":
        return _theme_or_404(consultation, form.tag_theme.data)
    return None


def _action_sentence(form: BulkForm, count: int, theme: Theme | None) -> str:
    comments = "1 comment" if count == 1 else f"{count} comments"
    action = form.action.data
    if action == "accept":
        return f"accept {comments}"
    if action == "reject":
        return f"reject {comments} as {form.chosen_reason.label}"
    if action == "tag":
        return f"add the theme ‘{theme.name}’ to {comments}"
    state = form.chosen_response_state.label.lower()
    return f"apply this response to {comments}, marked {state}"


@bp.post("/consultations/<reference>/comments/bulk")
@staff
def bulk(reference: str):
    """Two steps on one URL: the queue's choice, then the confirmation that states the count."""
    consultation = _consultation_or_404(reference)
    form = BulkForm()
    _bulk_choices(form, queries.themes_of(consultation.id))
    queue_args = MultiDict(parse_qsl(form.filters.data or ""))
    if not form.validate_on_submit():
        return _render_queue(consultation, queue_args, bulk_form=form)
    try:
        theme = _check_bulk_input(consultation, form)
    except services.InvalidInput as error:
        _attach(form, error, _BULK_FIELDS)
        return _render_queue(consultation, queue_args, bulk_form=form)
    if form.is_confirmed:
        return _apply_bulk(consultation, form, queue_args, theme)
    try:
        plan = _bulk_plan(consultation, form, queue_args)
    except services.InvalidInput as error:
        _attach(form, error, _BULK_FIELDS)
        return _render_queue(consultation, queue_args, bulk_form=form)
    return render_template(
        "moderation/bulk_confirm.html", consultation=consultation, form=form, plan=plan, theme=theme,
        sentence=_action_sentence(form, len(plan["items"]), theme), confirmed=YES,
        items=",".join(f"{i}:{v}" for i, v in plan["items"].items()),
        queue_url=url_for("moderation.queue", reference=consultation.reference, **_queue_args(queue_args)),
    )


def _bulk_plan(consultation, form: BulkForm, queue_args) -> dict:
    """Which comments the action would change, and which it will not because they changed since."""
    checks_versions = form.action.data in ("accept", "reject")
    conflicts: list[services.Conflict] = []
    notes: list[str] = []
    if form.scope.data == "all":
        try:
            snapshot = datetime.fromisoformat(form.snapshot.data or "")
        except ValueError:
            abort(400)
        if snapshot.tzinfo is None:
            abort(400)
        filters_form = filter_form(consultation, queue_args)
        if filters_form.errors:
            raise services.InvalidInput("Correct the filters before you act on all the comments matching them",
                                        "scope")
        filters = filters_of(filters_form)
        matched = queries.matching_snapshot(consultation.id, filters)
        arrived = [m for m in matched if m.submitted_at > snapshot]
        matched = [m for m in matched if m.submitted_at <= snapshot]
        if not matched:
            raise services.InvalidInput("No comments match these filters", "selected")
        changed_ids = {m.id for m in matched if checks_versions and m.updated_at > snapshot}
        if changed_ids:
            changed = queries.comments_by_id(consultation.id, changed_ids)
            conflicts = [services.Conflict(c, services.last_comment_change(c))
                         for c in sorted(changed.values(), key=lambda c: c.number)]
        items = {m.id: m.version for m in matched if m.id not in changed_ids}
        if arrived:
            notes.append(f"{len(arrived)} {'comment was' if len(arrived) == 1 else 'comments were'} submitted "
                         "since you loaded the queue. They are not included.")
        if form.total.data and form.total.data.isdigit() and int(form.total.data) != len(matched) + len(arrived):
            notes.append(f"The queue showed {form.total.data} comments matching these filters. "
                         f"{len(matched) + len(arrived)} match now, because comments have changed since.")
    else:
        selected = _parse_items(form.selected.data or [])
        if not selected:
            raise services.InvalidInput("Select at least one comment, or choose all the comments matching "
                                        "the filters", "selected")
        found = queries.comments_by_id(consultation.id, selected)
        if len(found) != len(selected):
            abort(404)
        items = {}
        for comment in sorted(found.values(), key=lambda c: c.number):
            if checks_versions and comment.version != selected[comment.id]:
                conflicts.append(services.Conflict(comment, services.last_comment_change(comment)))
            else:
                items[comment.id] = selected[comment.id]
    references = queries.comments_by_id(consultation.id, items)
    return {"items": items, "conflicts": conflicts, "notes": notes,
            "references": [references[i].reference for i in sorted(items, key=lambda i: references[i].number)]}


def _apply_bulk(consultation, form: BulkForm, queue_args, theme: Theme | None):
    items = _parse_items([form.items.data or ""])
    if not items:
        abort(400)
    actor, now = _actor(), utcnow()
    action = form.action.data
    try:
        if action in ("accept", "reject"):
            outcome = services.bulk_decide(consultation.id, items, _bulk_decision(form), actor, now)
        elif action == "tag":
            outcome = services.bulk_tag(consultation.id, items, theme, actor, now)
        else:
            outcome = services.apply_response(consultation.id, items, form.response_text.data,
                                              form.chosen_response_state, actor, now)
    except services.InvalidSelection:
        db.session.rollback()
        abort(404)
    except services.SelectionChanged as error:
        db.session.rollback()
        flash(str(error), "info")
        return redirect(url_for("moderation.queue", reference=consultation.reference, **_queue_args(queue_args)))
    summary = _bulk_summary(form, outcome, theme)
    db.session.commit()
    for category, message in summary:
        flash(message, category)
    return redirect(url_for("moderation.queue", reference=consultation.reference, **_queue_args(queue_args)))


def _count(number: int) -> str:
    return "1 comment" if number == 1 else f"{number} comments"


def _bulk_summary(form: BulkForm, outcome: services.BulkOutcome, theme: Theme | None) -> list[tuple[str, str]]:
    """What happened, as flash messages: what changed, what already was so, what someone else had changed."""
    action = form.action.data
    reason = form.chosen_reason.label if form.chosen_reason else ""
    changed = _count(len(outcome.changed))
    done = {
        "accept": f"Accepted {changed}.",
        "reject": f"Rejected {changed} as {reason}.",
        "tag": f"Added the theme ‘{theme.name if theme else ''}’ to {changed}.",
        "respond": f"Applied the response to {changed}.",
    }[action]
    messages = [("success", done)]
    if outcome.unchanged:
        why = {"accept": "they were already accepted", "reject": f"they were already rejected as {reason}",
               "tag": "they already had this theme",
               "respond": "they already had a response, which was kept"}[action]
        references = ", ".join(c.reference for c in outcome.unchanged)
        messages.append(("info", f"Not changed because {why}: {references}."))
    if outcome.refused:
        references = ", ".join(c.reference for c in outcome.refused)
        messages.append(("info", f"Not changed because they are redacted: {references}. "
                                 + services.REVEAL_REFUSED))
    if outcome.conflicts:
        one = len(outcome.conflicts) == 1
        listed = "; ".join(
            f"{c.comment.reference} (changed by {c.change.by}"
            f"{' at ' + _uk_datetime(c.change.at) if c.change.at else ''})" for c in outcome.conflicts)
        messages.append(("info", f"{_count(len(outcome.conflicts))} {'was' if one else 'were'} not changed because "
                                 f"someone else changed {'it' if one else 'them'} since you loaded the queue: "
                                 f"{listed}."))
    return messages


# --- One comment ------------------------------------------------------------------------


def _render_comment(consultation, comment: Comment, tag_form: TagForm | None = None):
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
    return render_template(
        "moderation/comment.html", consultation=consultation, comment=comment, decisions=decisions, tags=tags,
        response=response, can_edit=can_edit, tag_form=tag_form, can_accept=can_accept,
        participant_type=queries.ParticipantType.of(comment.participation),
        show_original=can_see_original_of_redacted(current_user), queue_args=_queue_args(),
    )


@bp.get("/consultations/<reference>/comments/<int:number>")
@committee_or_staff
def comment(reference: str, number: int):
    consultation = _consultation_or_404(reference)
    return _render_comment(consultation, _comment_or_404(consultation, number))


def _decision_rows(decision: services.Decision) -> list[tuple[str, str]]:
    """What a person asked for, to show beside the current version when they collide."""
    rows = [("Decision", decision.state.label)]
    if decision.reason is not None:
        rows.append(("Reason", decision.reason.label))
    if decision.note:
        rows.append(("Note", decision.note))
    if decision.redacted_body is not None:
        rows.append(("Redacted comment", decision.redacted_body))
    if decision.redacted_quote is not None:
        rows.append(("Redacted quoted passage", decision.redacted_quote or "(withheld)"))
    return rows


def _current_comment_rows(comment: Comment) -> list[tuple[str, str]]:
    rows = [("Decision", comment.moderation_state.label)]
    if comment.rejection_reason is not None:
        rows.append(("Reason", comment.rejection_reason.label))
    if comment.moderation_note:
        rows.append(("Note", comment.moderation_note))
    if comment.moderation_state is ModerationState.REDACTED:
        rows.append(("Redacted comment", comment.redacted_body))
        if comment.redacted_quote is not None:
            rows.append(("Redacted quoted passage", comment.redacted_quote or "(withheld)"))
    return rows


def _conflict(consultation, comment: Comment | None, subject: str, change: services.Change,
              yours: list[tuple[str, str]], current: list[tuple[str, str]], back_url: str):
    """Both versions side by side, after a change that was refused because someone else's came first."""
    return render_template(
        "moderation/conflict.html", consultation=consultation, comment=comment, subject=subject, change=change,
        yours=yours, current=current, back_url=back_url,
    ), 409


def _decide(consultation, comment: Comment, decision: services.Decision, expected_version: int, form=None,
            template: str | None = None):
    """Run one decision; a stale version shows both versions, bad input goes back to the form."""
    try:
        services.decide_comment(comment, decision, _actor(), expected_version, utcnow())
    except services.StaleComment as error:
        current = _current_comment_rows(error.comment)  # as the service saw it, before this request rolls back
        db.session.rollback()
        return _conflict(consultation, error.comment, "This comment", error.change, _decision_rows(decision),
                         current, _comment_url(consultation, error.comment))
    except services.NothingToChange as error:
        db.session.rollback()
        flash(str(error), "info")
        return redirect(_comment_url(consultation, comment))
    except services.InvalidInput as error:
        db.session.rollback()
        if form is None:
            flash(str(error), "info")
            return redirect(_comment_url(consultation, comment))
        _attach(form, error)
        return render_template(template, consultation=consultation, comment=comment, form=form,
                               queue_args=_queue_args())
    db.session.commit()
    flash(f"Comment {comment.reference} is now {decision.state.label.lower()}.", "success")
    return redirect(_comment_url(consultation, comment))


@bp.post("/consultations/<reference>/comments/<int:number>/accept")
@staff
def accept_comment(reference: str, number: int):
    consultation = _consultation_or_404(reference)
    comment = _comment_or_404(consultation, number)
    form = AcceptForm()
    if not form.validate_on_submit():
        abort(400)
    return _decide(consultation, comment, services.Decision(ModerationState.ACCEPTED), form.version.data)


@bp.route("/consultations/<reference>/comments/<int:number>/reject", methods=["GET", "POST"])
@staff
def reject_comment(reference: str, number: int):
    consultation = _consultation_or_404(reference)
    comment = _comment_or_404(consultation, number)
    form = RejectForm()
    if request.method == "GET":
        form.version.data = comment.version
        if comment.moderation_state is ModerationState.REJECTED:
            form.reason.data = comment.rejection_reason.value
            form.note.data = comment.moderation_note
    elif form.validate_on_submit():
        decision = services.Decision(ModerationState.REJECTED, reason=form.chosen_reason, note=form.note.data)
        return _decide(consultation, comment, decision, form.version.data, form, "moderation/reject.html")
    elif form.version.errors:
        abort(400)
    return render_template("moderation/reject.html", consultation=consultation, comment=comment, form=form,
                           queue_args=_queue_args())


@bp.route("/consultations/<reference>/comments/<int:number>/redact", methods=["GET", "POST"])
@staff
def redact_comment(reference: str, number: int):
    consultation = _consultation_or_404(reference)
    comment = _comment_or_404(consultation, number)
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
    elif form.validate_on_submit():
        decision = services.Decision(
            ModerationState.REDACTED, reason=form.chosen_reason, note=form.note.data,
            redacted_body=form.redacted_body.data,
            redacted_quote=form.redacted_quote.data if "redacted_quote" in form else None)
        return _decide(consultation, comment, decision, form.version.data, form, "moderation/redact.html")
    elif form.version.errors:
        abort(400)
    return render_template("moderation/redact.html", consultation=consultation, comment=comment, form=form,
                           queue_args=_queue_args())


@bp.post("/consultations/<reference>/comments/<int:number>/themes")
@staff
def tag_comment(reference: str, number: int):
    consultation = _consultation_or_404(reference)
    comment = _comment_or_404(consultation, number)
    form = TagForm()
    form.theme.choices = options((str(t.id), t.name) for t in queries.themes_of(consultation.id))
    if not form.validate_on_submit():
        return _render_comment(consultation, comment, tag_form=form)
    theme = _theme_or_404(consultation, form.theme.data)
    try:
        services.tag_comment(comment, theme, _actor(), utcnow())
    except services.NothingToChange as error:
        db.session.rollback()
        flash(str(error), "info")
        return redirect(_comment_url(consultation, comment, _anchor="themes"))
    db.session.commit()
    flash(f"Added the theme ‘{theme.name}’ to comment {comment.reference}.", "success")
    return redirect(_comment_url(consultation, comment, _anchor="themes"))


@bp.post("/consultations/<reference>/comments/<int:number>/themes/<int:theme_id>/remove")
@staff
def untag_comment(reference: str, number: int, theme_id: int):
    consultation = _consultation_or_404(reference)
    comment = _comment_or_404(consultation, number)
    theme = _theme_or_404(consultation, theme_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        services.untag_comment(comment, theme, _actor())
    except services.NothingToChange as error:
        db.session.rollback()
        flash(str(error), "info")
        return redirect(_comment_url(consultation, comment, _anchor="themes"))
    db.session.commit()
    flash(f"Removed the theme ‘{theme.name}’ from comment {comment.reference}.", "success")
    return redirect(_comment_url(consultation, comment, _anchor="themes"))


# --- Responses ---------------------------------------------------------------------------


def _response_rows(response: CommentResponse | None) -> list[tuple[str, str]]:
    if response is None:
        return [("Response", "(none)")]
    rows = [("Status", response.state.label)]
    if response.text:
        rows.append(("Response", response.text))
    if response.reason:
        rows.append(("Why no response is needed", response.reason))
    return rows


def _respond(consultation, comment: Comment, form, template: str, save, yours: list[tuple[str, str]]):
    """Run a response change; a stale version shows both versions, bad input goes back to the form."""
    try:
        save()
    except services.StaleResponse as error:
        current = _response_rows(error.response)
        db.session.rollback()
        return _conflict(consultation, comment, "The response to this comment", error.change, yours, current,
                         _comment_url(consultation, comment, _anchor="response"))
    except services.NothingToChange as error:
        db.session.rollback()
        flash(str(error), "info")
        return redirect(_comment_url(consultation, comment, _anchor="response"))
    except services.InvalidInput as error:
        db.session.rollback()
        _attach(form, error)
        return render_template(template, consultation=consultation, comment=comment, form=form,
                               queue_args=_queue_args())
    db.session.commit()
    flash(f"The response to comment {comment.reference} has been saved.", "success")
    return redirect(_comment_url(consultation, comment, _anchor="response"))


@bp.route("/consultations/<reference>/comments/<int:number>/response", methods=["GET", "POST"])
@staff
def edit_response(reference: str, number: int):
    consultation = _consultation_or_404(reference)
    comment = _comment_or_404(consultation, number)
    form = ResponseForm()
    if request.method == "GET":
        response = services.find_response(comment.id)
        form.version.data = response.version if response else None
        if response is not None:
            form.text.data = response.text
            if response.state is not ResponseState.NOT_NEEDED:
                form.state.data = response.state.value
    elif form.validate_on_submit():
        return _respond(
            consultation, comment, form, "moderation/response.html",
            lambda: services.save_response(comment, form.text.data, form.chosen_state, _actor(),
                                           form.version.data, utcnow()),
            [("Status", form.chosen_state.label if form.chosen_state else ""), ("Response", form.text.data or "")])
    elif form.version.errors:
        abort(400)
    return render_template("moderation/response.html", consultation=consultation, comment=comment, form=form,
                           queue_args=_queue_args())


@bp.route("/consultations/<reference>/comments/<int:number>/no-response", methods=["GET", "POST"])
@staff
def no_response(reference: str, number: int):
    consultation = _consultation_or_404(reference)
    comment = _comment_or_404(consultation, number)
    form = NoResponseForm()
    if request.method == "GET":
        response = services.find_response(comment.id)
        form.version.data = response.version if response else None
        if response is not None:
            form.reason.data = response.reason
    elif form.validate_on_submit():
        return _respond(
            consultation, comment, form, "moderation/no_response.html",
            lambda: services.mark_no_response_needed(comment, form.reason.data, _actor(), form.version.data,
                                                     utcnow()),
            [("Status", ResponseState.NOT_NEEDED.label), ("Why no response is needed", form.reason.data or "")])
    elif form.version.errors:
        abort(400)
    return render_template("moderation/no_response.html", consultation=consultation, comment=comment, form=form,
                           queue_args=_queue_args())


# --- Themes ---------------------------------------------------------------------------------


def _themes_url(consultation) -> str:
    return url_for("moderation.themes", reference=consultation.reference)


@bp.get("/consultations/<reference>/themes")
@committee_or_staff
def themes(reference: str):
    consultation = _consultation_or_404(reference)
    usage, columns = queries.theme_usage(consultation.id)
    return render_template("moderation/themes.html", consultation=consultation, usage=usage, columns=columns,
                           can_edit=is_staff(current_user),
                           progress=queries.progress_for([consultation.id])[consultation.id])


@bp.route("/consultations/<reference>/themes/new", methods=["GET", "POST"])
@staff
def new_theme(reference: str):
    consultation = _consultation_or_404(reference)
    form = ThemeForm()
    if form.validate_on_submit():
        try:
            theme = services.create_theme(consultation.id, form.name.data, form.description.data, _actor())
        except services.ModerationError as error:
            db.session.rollback()
            _attach(form, error)
        else:
            db.session.commit()
            flash(f"Theme ‘{theme.name}’ created.", "success")
            return redirect(_themes_url(consultation))
    return render_template("moderation/theme_form.html", consultation=consultation, form=form, theme=None)


@bp.route("/consultations/<reference>/themes/<int:theme_id>/edit", methods=["GET", "POST"])
@staff
def edit_theme(reference: str, theme_id: int):
    consultation = _consultation_or_404(reference)
    theme = _theme_or_404(consultation, theme_id)
    form = ThemeForm()
    if request.method == "GET":
        form.name.data, form.description.data, form.version.data = theme.name, theme.description, theme.version
    elif form.validate_on_submit():
        if form.version.data is None:
            abort(400)
        yours = [("Name", form.name.data or ""), ("Description", form.description.data or "")]
        try:
            changed = services.update_theme(theme, form.name.data, form.description.data, _actor(),
                                            form.version.data)
        except services.StaleTheme as error:
            current = [("Name", error.theme.name), ("Description", error.theme.description)]
            db.session.rollback()
            return _conflict(consultation, None, "This theme", error.change, yours, current,
                             url_for("moderation.edit_theme", reference=consultation.reference, theme_id=theme.id))
        except services.ModerationError as error:
            db.session.rollback()
            _attach(form, error)
        else:
            db.session.commit()
            flash(f"Theme ‘{theme.name}’ saved." if changed else "Nothing was changed.",
                  "success" if changed else "info")
            return redirect(_themes_url(consultation))
    return render_template("moderation/theme_form.html", consultation=consultation, form=form, theme=theme)


def _other_themes(consultation, theme: Theme) -> list[tuple[str, str]]:
    return [(str(t.id), t.name) for t in queries.themes_of(consultation.id) if t.id != theme.id]


@bp.route("/consultations/<reference>/themes/<int:theme_id>/merge", methods=["GET", "POST"])
@staff
def merge_theme(reference: str, theme_id: int):
    consultation = _consultation_or_404(reference)
    theme = _theme_or_404(consultation, theme_id)
    form = MergeThemeForm()
    form.target.choices = options([("", "Select a theme")] + _other_themes(consultation, theme))
    if form.validate_on_submit():
        target = _theme_or_404(consultation, form.target.data)
        name = theme.name
        try:
            moved = services.merge_themes(theme, target, _actor())
        except services.ModerationError as error:
            db.session.rollback()
            _attach(form, error)
        else:
            db.session.commit()
            flash(f"Merged ‘{name}’ into ‘{target.name}’: {moved} "
                  f"{'comment' if moved == 1 else 'comments'} moved.", "success")
            return redirect(_themes_url(consultation))
    return render_template("moderation/theme_merge.html", consultation=consultation, form=form, theme=theme,
                           used=len(services.comment_ids_with_theme(theme)))


@bp.route("/consultations/<reference>/themes/<int:theme_id>/delete", methods=["GET", "POST"])
@staff
def delete_theme(reference: str, theme_id: int):
    consultation = _consultation_or_404(reference)
    theme = _theme_or_404(consultation, theme_id)
    form = DeleteThemeForm()
    form.reassign_to.choices = options([("", "Do not move them")] + _other_themes(consultation, theme))
    if form.validate_on_submit():
        target = _theme_or_404(consultation, form.reassign_to.data) if form.reassign_to.data else None
        name = theme.name
        try:
            moved = services.delete_theme(theme, _actor(), reassign_to=target)
        except services.ModerationError as error:
            db.session.rollback()
            _attach(form, error)
        else:
            db.session.commit()
            flash(f"Deleted the theme ‘{name}’." + (f" {moved} {'comment' if moved == 1 else 'comments'} moved "
                                                    f"to ‘{target.name}’." if target else ""), "success")
            return redirect(_themes_url(consultation))
    return render_template("moderation/theme_delete.html", consultation=consultation, form=form, theme=theme,
                           used=len(services.comment_ids_with_theme(theme)))


@bp.route("/consultations/<reference>/themes/<int:theme_id>/response", methods=["GET", "POST"])
@staff
def theme_response(reference: str, theme_id: int):
    consultation = _consultation_or_404(reference)
    theme = _theme_or_404(consultation, theme_id)
    form = ThemeResponseForm()
    ids = services.comment_ids_with_theme(theme)
    answered = len(queries.responses_by_comment(ids))
    if form.validate_on_submit():
        try:
            outcome = services.apply_response_to_theme(theme, form.text.data, form.chosen_state, _actor(),
                                                       utcnow())
        except services.InvalidInput as error:
            db.session.rollback()
            _attach(form, error)
        except services.SelectionChanged as error:
            db.session.rollback()
            flash(str(error), "info")
            return redirect(url_for("moderation.theme_response", reference=consultation.reference,
                                    theme_id=theme.id))
        else:
            db.session.commit()
            changed = len(outcome.changed)
            flash(f"Applied the response to {changed} {'comment' if changed == 1 else 'comments'} with the theme "
                  f"‘{theme.name}’.", "success")
            if outcome.unchanged:
                flash(f"{len(outcome.unchanged)} already had a response, which was kept: "
                      + ", ".join(c.reference for c in outcome.unchanged) + ". Edit those one at a time.", "info")
            return redirect(_themes_url(consultation))
    return render_template("moderation/theme_response.html", consultation=consultation, form=form, theme=theme,
                           used=len(ids), answered=answered)
