"""One action for many comments: chosen on the queue, then confirmed on a page that states the count."""

from datetime import datetime
from urllib.parse import parse_qsl

from flask import abort, current_app, flash, redirect, render_template, url_for
from werkzeug.datastructures import MultiDict

from consult.access import staff
from consult.database import utcnow
from consult.extensions import db
from consult.forms import YES
from consult.loaders import LARGEST_ID, reviewable_consultation_or_404, theme_or_404
from consult.moderation import jobs, messages, queries, services
from consult.moderation.filters import filter_form, filters_of
from consult.moderation.forms import BulkForm
from consult.moderation.views import bp
from consult.moderation.views.common import actor, apply_in_worker, attempt, queue_args
from consult.moderation.views.queue import bulk_choices, render_queue

# The services' field names, as the bulk form calls them.
_BULK_FIELDS = {"reason": "reason", "note": "note", "text": "response_text", "state": "response_state",
                "theme": "tag_theme", "selected": "selected", "action": "action"}


def _parse_items(values) -> dict[int, int]:
    """'id:version' pairs from checkboxes or the confirmation page; anything else is a bad request."""
    items: dict[int, int] = {}
    for value in values:
        for pair in filter(None, (value or "").split(",")):
            comment_id, _, version = pair.partition(":")
            if not (comment_id.isdigit() and version.isdigit()) or max(int(comment_id), int(version)) > LARGEST_ID:
                abort(400)
            items[int(comment_id)] = int(version)
    return items


def _loaded_at(form: BulkForm) -> datetime:
    """When the person loaded the queue, carried by the form; anything else is a bad request."""
    try:
        loaded_at = datetime.fromisoformat(form.snapshot.data or "")
    except ValueError:
        abort(400)
    if loaded_at.tzinfo is None:
        abort(400)
    return loaded_at


def _action(consultation, form: BulkForm) -> services.BulkAction:
    """The chosen action as plain values; a theme to add that is not this consultation's is not found."""
    return services.BulkAction(
        form.action.data, reason=form.chosen_reason, note=form.note.data or "",
        theme=theme_or_404(consultation, form.tag_theme.data) if form.action.data == "tag" else None,
        response_text=form.response_text.data, response_state=form.chosen_response_state)


def _plan(consultation, form: BulkForm, args, action: services.BulkAction) -> services.BulkPlan:
    if form.scope.data != "all":
        return services.plan_selected(consultation.id, _parse_items(form.selected.data or []), action, actor())
    loaded_at = _loaded_at(form)
    filters_form = filter_form(consultation, args)
    if filters_form.errors:
        raise services.InvalidInput(messages.FIX_FILTERS, "scope")
    total = form.total.data
    return services.plan_matching(consultation.id, filters_of(filters_form), loaded_at, action,
                                  int(total) if total and total.isdigit() else None, actor())


@bp.post("/consultations/<reference>/comments/bulk")
@staff
def bulk(reference: str):
    """Two steps on one URL: the queue's choice, then the confirmation that states the count."""
    consultation = reviewable_consultation_or_404(reference)
    form = BulkForm()
    bulk_choices(form, queries.themes_of(consultation.id))
    args = MultiDict(parse_qsl(form.filters.data or ""))
    queue_url = url_for("moderation.queue", reference=consultation.reference, **queue_args(args))
    if not form.validate_on_submit():
        return render_queue(consultation, args, bulk_form=form)
    with attempt(form, fields=_BULK_FIELDS) as checked:
        action = _action(consultation, form)
        services.check_bulk_action(action)
        if not form.is_confirmed:
            plan = _plan(consultation, form, args, action)
    if not checked.ok:
        return render_queue(consultation, args, bulk_form=form)
    if form.is_confirmed:
        return _apply(consultation, form, action, queue_url, args)
    form.confirmed.data = YES
    form.items.data = ",".join(f"{i}:{v}" for i, v in plan.items.items())
    form.matched.data = f"{plan.count}:{plan.checksum}" if form.scope.data == "all" else ""
    return render_template(
        "moderation/bulk_confirm.html", consultation=consultation, form=form, plan=plan,
        notes=messages.plan_notes(plan), sentence=messages.action_sentence(action, plan.to_change),
        queue_url=queue_url,
    )


def _matched(form: BulkForm) -> tuple[int, int]:
    """The (count, checksum) the confirmation page stated; anything else is a bad request."""
    count, _, checksum = (form.matched.data or "").partition(":")
    if not (count.isdigit() and checksum.isdigit()) or int(count) > LARGEST_ID:
        abort(400)
    return int(count), int(checksum)


def _apply(consultation, form: BulkForm, action: services.BulkAction, queue_url: str, args=None):
    if form.scope.data == "all":
        matched, loaded_at = _matched(form), _loaded_at(form)
        filters_form = filter_form(consultation, args)
        if filters_form.errors:
            abort(400)

        if matched[0] > current_app.config["BULK_JOB_COMMENTS"]:
            return apply_in_worker(consultation, jobs.BulkRequest.of(
                consultation.id, filters_of(filters_form), loaded_at, matched, action, actor()), queue_url)

        def apply():
            return services.apply_to_matching(consultation.id, filters_of(filters_form), loaded_at, matched,
                                              action, actor(), utcnow())
    else:
        items = _parse_items([form.items.data or ""])
        if not items:
            abort(400)

        def apply():
            return services.apply_bulk_action(consultation.id, items, action, actor(), utcnow())
    with attempt(back_url=queue_url) as applied:
        outcome = apply()
        summary = messages.bulk_summary(action, outcome)  # before the commit expires what it names
    if applied.response is not None:
        return applied.response
    db.session.commit()
    for category, message in summary:
        flash(message, category)
    return redirect(queue_url)


