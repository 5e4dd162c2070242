"""A consultation's themes: list, create, rename, merge and delete them, and answer all their comments at once."""

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.exceptions import NotFound

from consult.access import committee_or_staff, is_staff, staff
from consult.database import utcnow
from consult.errors import form_errors
from consult.extensions import db
from consult.loaders import reviewable_consultation_and_theme_or_404, reviewable_consultation_or_404, theme_or_404
from consult.moderation import jobs, messages, queries, services
from consult.moderation.forms import DeleteThemeForm, MergeThemeForm, ThemeForm, ThemeResponseForm, options
from consult.moderation.models import Theme
from consult.moderation.views import bp
from consult.moderation.views.common import actor, apply_in_worker, attempt, conflict_page


def _themes_url(consultation) -> str:
    return url_for("moderation.themes", reference=consultation.reference)


def _other_themes(consultation, theme: Theme) -> list[tuple[str, str]]:
    return [(str(t.id), t.name) for t in queries.themes_of(consultation.id) if t.id != theme.id]


@bp.get("/consultations/<reference>/themes")
@committee_or_staff
def themes(reference: str):
    consultation = reviewable_consultation_or_404(reference)
    usage, columns = queries.theme_usage(consultation.id)
    return render_template("moderation/themes.html", consultation=consultation, usage=usage, columns=columns,
                           can_edit=is_staff(current_user),
                           progress=queries.progress_for([consultation.id])[consultation.id])


@bp.route("/consultations/<reference>/themes/new", methods=["GET", "POST"])
@staff
def new_theme(reference: str):
    consultation = reviewable_consultation_or_404(reference)
    form = ThemeForm()
    if form.validate_on_submit():
        with form_errors(form) as outcome:
            theme = services.create_theme(consultation.id, form.name.data, form.description.data, actor())
        if outcome.ok:
            db.session.commit()
            flash(messages.theme_created(theme), "success")
            return redirect(_themes_url(consultation))
    return render_template("moderation/theme_form.html", consultation=consultation, form=form, theme=None)


@bp.route("/consultations/<reference>/themes/<int:theme_id>/edit", methods=["GET", "POST"])
@staff
def edit_theme(reference: str, theme_id: int):
    consultation, theme = reviewable_consultation_and_theme_or_404(reference, theme_id)
    form = ThemeForm()
    if request.method == "GET":
        form.name.data, form.description.data, form.version.data = theme.name, theme.description, theme.version
    elif form.validate_on_submit():
        if form.version.data is None:
            abort(400)

        def conflict(error: services.StaleTheme):
            return conflict_page(consultation, None, "This theme", error,
                                 messages.theme_rows(form.name.data, form.description.data),
                                 messages.theme_rows(error.theme.name, error.theme.description),
                                 url_for("moderation.edit_theme", reference=consultation.reference, theme_id=theme.id))

        with attempt(form, conflict=conflict) as saved:
            changed = services.update_theme(theme, form.name.data, form.description.data, actor(),
                                            form.version.data)
        if saved.response is not None:
            return saved.response
        if saved.ok:
            db.session.commit()
            flash(*messages.theme_saved(theme, changed))
            return redirect(_themes_url(consultation))
    return render_template("moderation/theme_form.html", consultation=consultation, form=form, theme=theme)


def _chosen_theme(consultation, chosen: str):
    """The theme of this consultation a form chose; None if it was one and has been merged or deleted since.
    An id that never was a theme of this consultation is not found."""
    try:
        return theme_or_404(consultation, chosen)
    except NotFound:
        if not chosen.isdigit() or services.theme_gone(consultation.id, int(chosen)) is None:
            raise
        return None


def _take_theme_away(reference: str, theme_id: int, form, target_field: str, no_target: str, template: str,
                     take_away, done):
    """Merge or delete a theme: both end it, moving its comments to the theme chosen in `target_field`, if any.

    `take_away(theme, target)` calls the service and returns how many comments moved; `done(name, moved,
    target)` says what happened. The page says how many comments have the theme, so staff know what moves.
    A theme already merged or deleted (the form sent twice, or again after Back) is that first success: the
    page goes where it went and says so. An id that was never a theme of this consultation is not found.
    """
    consultation = reviewable_consultation_or_404(reference)
    themes_url = _themes_url(consultation)
    try:
        theme = theme_or_404(consultation, theme_id)
    except NotFound:
        gone = services.theme_gone(consultation.id, theme_id)
        if gone is None:
            raise
        flash(str(gone), "info")
        return redirect(themes_url)
    form[target_field].choices = options([("", no_target)] + _other_themes(consultation, theme))
    if form.validate_on_submit():
        chosen = form[target_field].data
        target = _chosen_theme(consultation, chosen) if chosen else None
        if chosen and target is None:
            # Merged or deleted in another tab since this page listed it: choose again from the list as it is.
            form[target_field].errors.append("The theme you chose was merged or deleted since this page was "
                                             "shown. Choose another.")
        else:
            name = theme.name
            with attempt(form, back_url=themes_url) as outcome:
                moved = take_away(theme, target)
            if outcome.response is not None:
                return outcome.response
            if outcome.ok:
                db.session.commit()
                flash(done(name, moved, target), "success")
                return redirect(themes_url)
    return render_template(template, consultation=consultation, form=form, theme=theme,
                           used=queries.theme_response_counts(theme)[0])


@bp.route("/consultations/<reference>/themes/<int:theme_id>/merge", methods=["GET", "POST"])
@staff
def merge_theme(reference: str, theme_id: int):
    return _take_theme_away(reference, theme_id, MergeThemeForm(), "target", "Select a theme",
                            "moderation/theme_merge.html",
                            lambda theme, target: services.merge_themes(theme, target, actor()),
                            messages.themes_merged)


@bp.route("/consultations/<reference>/themes/<int:theme_id>/delete", methods=["GET", "POST"])
@staff
def delete_theme(reference: str, theme_id: int):
    return _take_theme_away(reference, theme_id, DeleteThemeForm(), "reassign_to", "Do not move them",
                            "moderation/theme_delete.html",
                            lambda theme, target: services.delete_theme(theme, actor(), reassign_to=target),
                            messages.theme_deleted)


@bp.route("/consultations/<reference>/themes/<int:theme_id>/response", methods=["GET", "POST"])
@staff
def theme_response(reference: str, theme_id: int):
    consultation, theme = reviewable_consultation_and_theme_or_404(reference, theme_id)
    form = ThemeResponseForm()
    used, answered = queries.theme_response_counts(theme)
    if form.validate_on_submit():
        back_url = url_for("moderation.theme_response", reference=consultation.reference, theme_id=theme.id)
        outcome = None
        with attempt(form, back_url=back_url) as applied:
            plan = services.plan_theme_response(theme, form.text.data, form.chosen_state, utcnow())
            if plan.count <= current_app.config["BULK_JOB_COMMENTS"]:
                outcome = services.apply_theme_response(plan, actor(), utcnow())
        if applied.response is not None:
            return applied.response
        if applied.ok and outcome is None:  # a theme of many comments: the worker answers them
            return apply_in_worker(consultation, jobs.BulkRequest.of(
                plan.consultation_id, plan.filters, plan.loaded_at, plan.confirmed, plan.action, actor()),
                _themes_url(consultation))
        if applied.ok:
            db.session.commit()
            for category, message in messages.theme_response_applied(theme, outcome):
                flash(message, category)
            return redirect(_themes_url(consultation))
    return render_template("moderation/theme_response.html", consultation=consultation, form=form, theme=theme,
                           used=used, answered=answered)
