"""Theme suggestions for staff: review them, see what to tag next and possible new topics.

Staff only. Each view: load the consultation (404 unless the user may
review it), validate the form, call the service, commit once, flash,
redirect. The heavy work happened in the worker; these pages read rows.
"""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from consult.access import staff
from consult.analysis import review
from consult.analysis.forms import BulkDecisionCheckForm, BulkDecisionForm, TopicThemeForm, options
from consult.database import utcnow
from consult.errors import DomainError, form_errors
from consult.extensions import db
from consult.forms import EmptyForm
from consult.loaders import reviewable_consultation_and_comment_or_404, reviewable_consultation_or_404, theme_or_404
from consult.moderation import services as moderation_services
from consult.web import query_id, query_page, safe_next_url

bp = Blueprint("analysis", __name__, url_prefix="/staff")
bp.add_app_template_filter(review.shown_percent, "confidence_percent")


def _list_url(consultation, **args) -> str:
    return url_for("analysis.suggestions", reference=consultation.reference, **args)


def _theme_choices(consultation):
    return options((str(row.theme.id), row.theme.name) for row in review.suggestion_counts(consultation.id))


def _filters() -> tuple[int | None, float, int, list[str]]:
    """The list's filters from the query string (the confidence as the percentage typed); a bad value is
    dropped with a message, never a 500."""
    problems = []
    theme_id = query_id("theme")
    try:
        percent = review.confidence_percent(request.args.get("confidence", "0") or "0")
    except DomainError as error:
        problems.append(error.message)
        percent = 0.0
    page = query_page()
    return theme_id, percent, page, problems


@bp.get("/consultations/<reference>/suggestions")
@staff
def suggestions(reference: str, bulk_form: BulkDecisionForm | None = None):
    consultation = reviewable_consultation_or_404(reference)
    theme_id, percent, page, problems = _filters()
    rows, more = review.suggestion_page(consultation.id, theme_id, review.lowest_confidence(percent), page)
    if bulk_form is None:
        bulk_form = BulkDecisionForm(formdata=None)
        bulk_form.theme.data = str(theme_id) if theme_id else None
    bulk_form.theme.choices = _theme_choices(consultation)
    return render_template("analysis/suggestions.html", consultation=consultation, rows=rows, more=more,
                           page=page, theme_id=theme_id, minimum=f"{percent:g}", problems=problems,
                           counts=review.suggestion_counts(consultation.id), run=review.latest_run(consultation.id),
                           decide_form=EmptyForm(), bulk_form=bulk_form, nav="suggestions")


def _decide(reference: str, number: int, theme_id: int, accept: bool):
    consultation, comment = reviewable_consultation_and_comment_or_404(reference, number)
    theme = theme_or_404(consultation, theme_id)
    form = EmptyForm()
    back = safe_next_url(request.form.get("next")) or _list_url(consultation)
    if not form.validate_on_submit():
        flash("This suggestion could not be decided. Try again.", "error")
        return redirect(back)
    suggestion = review.suggestion_for(comment, theme)
    try:
        if accept:
            review.accept_suggestion(suggestion, current_user, utcnow())
        else:
            review.reject_suggestion(suggestion, current_user, utcnow())
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(back)
    db.session.commit()
    verb = "accepted: the comment now has the theme" if accept else "rejected for the theme"
    flash(f"Suggestion {verb} ‘{theme.name}’ (comment {comment.reference}).", "success")
    return redirect(back)


@bp.post("/consultations/<reference>/comments/<int:number>/suggestions/<int:theme_id>/accept")
@staff
def accept(reference: str, number: int, theme_id: int):
    return _decide(reference, number, theme_id, accept=True)


@bp.post("/consultations/<reference>/comments/<int:number>/suggestions/<int:theme_id>/reject")
@staff
def reject(reference: str, number: int, theme_id: int):
    return _decide(reference, number, theme_id, accept=False)


@bp.post("/consultations/<reference>/suggestions/bulk")
@staff
def bulk(reference: str):
    """Decide many suggestions at once: the choices, then a check page saying how many, then confirm.

    The confirm carries the number the check page showed; if the waiting
    suggestions are no longer that many, nothing is decided and the check
    page is shown again with the number as it is now.
    """
    consultation = reviewable_consultation_or_404(reference)
    if "seen" in request.form:
        return _confirm_bulk(consultation)
    form = BulkDecisionForm()
    form.theme.choices = _theme_choices(consultation)
    if form.validate_on_submit():
        with form_errors(form) as outcome:
            theme = theme_or_404(consultation, int(form.theme.data))
            minimum = review.lowest_confidence(review.confidence_percent(form.confidence.data))
            waiting = review.count_pending(consultation.id, theme, minimum)
            if not waiting:
                raise DomainError(f"No suggestions for ‘{theme.name}’ are waiting at "
                                  f"{_percent_typed(form.confidence.data)}% confidence or above", "confidence")
        if outcome.ok:
            check = BulkDecisionCheckForm(formdata=None, theme=str(theme.id), decision=form.decision.data,
                                          confidence=_percent_typed(form.confidence.data), seen=str(waiting))
            return _bulk_check_page(consultation, theme, check, waiting)
    return suggestions(reference, bulk_form=form), 400


def _percent_typed(confidence: str) -> str:
    """The percentage as the pages show it back: 80, 80.5 (the typed form is checked by confidence_percent)."""
    return f"{review.confidence_percent(confidence):g}"


def _bulk_check_page(consultation, theme, form: BulkDecisionCheckForm, waiting: int, status: int = 200):
    form.submit.label.text = (f"{'Accept' if form.decision.data == 'accept' else 'Reject'} {waiting} "
                              f"{'suggestion' if waiting == 1 else 'suggestions'}")
    back = _list_url(consultation, theme=theme.id, confidence=form.confidence.data)
    return render_template("analysis/bulk_check.html", consultation=consultation, theme=theme, form=form,
                           waiting=waiting, back=back, nav="suggestions"), status


def _confirm_bulk(consultation):
    form = BulkDecisionCheckForm()
    if not form.validate_on_submit() or form.decision.data not in ("accept", "reject") \
            or not (form.seen.data or "").isdigit() or not (form.theme.data or "").isdigit():
        abort(400)  # the check page always sends these: this did not come from it
    theme = theme_or_404(consultation, int(form.theme.data))
    accept = form.decision.data == "accept"
    try:
        minimum = review.lowest_confidence(review.confidence_percent(form.confidence.data))
        decided = review.bulk_decide(consultation.id, theme, minimum, accept, current_user, utcnow(),
                                     seen=int(form.seen.data))
    except review.SuggestionsChangedSinceChecked as changed:
        db.session.rollback()
        form.form_errors.append(changed.message)
        form.seen.data = str(changed.now)
        if not changed.now:
            flash(changed.message, "info")
            return redirect(_list_url(consultation, theme=theme.id))
        return _bulk_check_page(consultation, theme, form, changed.now, changed.status)
    except DomainError:
        abort(400)
    db.session.commit()
    verb = "Accepted" if accept else "Rejected"
    flash(f"{verb} {decided} {'suggestion' if decided == 1 else 'suggestions'} for ‘{theme.name}’ "
          f"at {form.confidence.data}% confidence or above.", "success")
    return redirect(_list_url(consultation, theme=theme.id))


@bp.get("/consultations/<reference>/suggestions/tag-next")
@staff
def tag_next(reference: str):
    consultation = reviewable_consultation_or_404(reference)
    return render_template("analysis/tag_next.html", consultation=consultation,
                           comments=review.comments_to_tag_next(consultation.id),
                           run=review.latest_run(consultation.id), nav="suggestions")


@bp.route("/consultations/<reference>/suggestions/new-topics", methods=["GET", "POST"])
@staff
def new_topics(reference: str):
    consultation = reviewable_consultation_or_404(reference)
    run = review.latest_run(consultation.id)
    topics = list(run.topics) if run else []
    form = TopicThemeForm()
    if form.validate_on_submit():
        with form_errors(form) as outcome:
            theme = moderation_services.create_theme(consultation.id, form.name.data, form.description.data,
                                                     current_user)
        if outcome.ok:
            db.session.commit()
            flash(f"Theme ‘{theme.name}’ created. Suggestions for it follow once the worker has retrained.",
                  "success")
            return redirect(_list_url(consultation))
    typical = review.comments_by_id(consultation.id, [i for t in topics for i in t["typical"]])
    return render_template("analysis/new_topics.html", consultation=consultation, topics=topics, typical=typical,
                           form=form, run=run, nav="suggestions"), 400 if form.errors else 200


@bp.app_context_processor
def comment_analysis():
    """`analysis_of(comment)` for the comment page: its pending suggestions and similar comments."""
    def analysis_of(comment):
        return {"suggestions": review.comment_suggestions(comment), "similar": review.similar_comments(comment),
                "decide_form": EmptyForm()}

    return {"analysis_of": analysis_of}
