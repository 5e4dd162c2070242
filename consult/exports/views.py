"""Committee review and downloads, and the public page of published comments and responses."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict
from sqlalchemy import select

from consult.access import committee_or_staff, is_staff, public, staff
from consult.comments import search
from consult.comments.models import Comment
from consult.consultations.models import ConsultationStatus, Section
from consult.database import utcnow
from consult.downloads import XLSX, csv_download, file_download, table_csv
from consult.exports import jobs, publication, review, services
from consult.exports.forms import PublicationCheckForm, ThemeSummaryForm
from consult.exports.paging import Part, document_parts, keyset_page, part_key
from consult.exports.rows import (
    comments_select,
    export_comments,
    in_document_order,
    publishable,
)
from consult.errors import form_errors
from consult.extensions import db
from consult.loaders import (
    part_of_consultation_or_404,
    published_consultation_or_404,
    question_or_404,
    reviewable_consultation_and_theme_or_404,
    reviewable_consultation_or_404,
    theme_or_404,
)
from consult.moderation.filters import queue_filters_from
from consult.moderation.models import CommentTheme
from consult.moderation.services import StaleTheme
from consult.questions.exports import (
    export_answers,
    published_answer_rows,
    published_answers_page,
    summarise_answers,
)
from consult.questions.services import list_questions

bp = Blueprint("exports", __name__)


def cursor_arg(name: str) -> int | None:
    """A comment-number cursor from the query string: absent, or a plain number, or the request is bad."""
    value = request.args.get(name)
    if value is None:
        return None
    if not (value.isascii() and value.isdigit() and len(value) <= 9):
        abort(400)
    return int(value)


def _keyset_links(endpoint: str, page, **args) -> dict | None:
    """govukPagination parameters for a keyset page: Previous and Next only, as there is no page count."""
    if not (page.has_previous or page.has_next):
        return None
    previous_part, previous_before = page.first
    next_part, next_after = page.last
    return {
        "previous": {"href": url_for(endpoint, **args, part=previous_part, before=previous_before)}
        if page.has_previous else None,
        "next": {"href": url_for(endpoint, **args, part=next_part, after=next_after)} if page.has_next else None,
        "landmarkLabel": "Pages of comments",
    }


@bp.route("/staff/consultations/<reference>/review")
@committee_or_staff
def committee_review(reference: str):
    consultation = reviewable_consultation_or_404(reference)
    drill_title, page, drill_args = None, None, {}
    theme_key, section_key = request.args.get("theme"), request.args.get("section", type=int)
    words, search_error = _review_search(request.args.get("q"))
    query = publishable(comments_select().where(Comment.consultation_id == consultation.id))
    if theme_key == "none":
        drill_title, drill_args = "Comments with no theme", {"theme": "none"}
        query = query.where(~select(CommentTheme.comment_id).where(CommentTheme.comment_id == Comment.id).exists())
        parts = document_parts(consultation.id)
    elif theme_key:
        theme = theme_or_404(consultation, theme_key)
        drill_title, drill_args = f"Theme: {theme.name}", {"theme": theme.id}
        query = review.carrying_theme(query, theme)
        parts = document_parts(consultation.id)
    elif words:
        drill_title, drill_args = f"Comments matching ‘{words}’", {"q": words}
        query = query.where(search.matches(words, Comment.id))
        parts = document_parts(consultation.id)
    elif section_key:
        section = part_of_consultation_or_404(Section, section_key, consultation)
        drill_title = f"Section {section.number}" + (f": {section.heading}" if section.heading else "")
        drill_args = {"section": section.id}
        parts = [Part(part_key(section.document_id, section.chapter_id, section.id), drill_title,
                      section.document_id, section.chapter_id, section.id)]
    if drill_title:
        after, before = cursor_arg("after"), cursor_arg("before")
        if after is not None and before is not None:
            abort(400)
        page = keyset_page(query, parts, request.args.get("part"), after, before)
        if page is None:
            abort(404)
    # The counts and charts cost a pass over every comment; a drill-down is a
    # page of one theme or section, and links back to them instead.
    summary = None if drill_title else review.summarise(consultation)
    return render_template("exports/review.html", consultation=consultation, summary=summary,
                           question_summaries=[] if drill_title else summarise_answers(consultation.id),
                           campaigns=None if drill_title else review.campaigns_for_review(consultation.id),
                           drill_title=drill_title, page=page,
                           page_links=page and _keyset_links("exports.committee_review", page,
                                                             reference=consultation.reference, **drill_args,
                                                             _anchor="drill-down"),
                           can_publish=is_staff(current_user), search_error=search_error,
                           # A refused search is shown back as typed (less any NUL), to correct rather than retype.
                           search_words=" ".join((request.args.get("q") or "").replace("\x00", "").split())
                           if search_error else words)


REVIEW_SEARCH_MAX = 200


def _review_search(value: str | None) -> tuple[str, str | None]:
    """The review's search words, and a message instead when they cannot be searched for."""
    words = " ".join((value or "").split())
    if "\x00" in words:
        return "", "Search must not contain invisible control characters"
    if len(words) > REVIEW_SEARCH_MAX:
        return "", f"Search must be {REVIEW_SEARCH_MAX} characters or fewer"
    return words, None


def _download_request(kind: str, consultation, group_by: str = "section") -> jobs.DownloadRequest:
    """What this request asks for; the queue's filters, if any, read as the asker may apply them."""
    filter_args = MultiDict([(key, value) for key, value in request.args.items(multi=True) if key != "group"])
    filters = queue_filters_from(consultation, filter_args)[0] if filter_args else None
    return jobs.DownloadRequest(kind, consultation.id, include_email=is_staff(current_user),  # never for the committee
                                filters=filters, group_by=group_by)


def _staff_download(kind: str, consultation, filename: str, group_by: str = "section"):
    """A large download is prepared by the worker (a page to wait on); a small one is built now."""
    wanted = _download_request(kind, consultation, group_by)
    prepared = jobs.prepared_download(wanted, request.args, current_user, filename)
    if prepared is not None:
        return prepared
    if kind == "comments.csv":
        items = export_comments(jobs.comments_for(wanted))
        answers = () if wanted.filters is not None else export_answers(consultation.id)
        return csv_download(services.comments_csv(items, wanted.include_email, answers), filename)
    return file_download(jobs.builder(wanted), filename, jobs.KINDS[kind][1])


@bp.route("/staff/consultations/<reference>/downloads/comments.xlsx")
@committee_or_staff
def download_comments_workbook(reference: str):
    consultation = reviewable_consultation_or_404(reference)
    return _staff_download("comments.xlsx", consultation, f"{consultation.reference}-comments.xlsx")


@bp.route("/staff/consultations/<reference>/downloads/comments.csv")
@committee_or_staff
def download_comments_csv(reference: str):
    consultation = reviewable_consultation_or_404(reference)
    return _staff_download("comments.csv", consultation, f"{consultation.reference}-comments.csv")


@bp.route("/staff/consultations/<reference>/downloads/themed.xlsx")
@committee_or_staff
def download_themed_workbook(reference: str):
    consultation = reviewable_consultation_or_404(reference)
    return _staff_download("themed.xlsx", consultation, f"{consultation.reference}-comments-by-theme.xlsx")


@bp.route("/staff/consultations/<reference>/downloads/table.docx")
@committee_or_staff
def download_word_table(reference: str):
    consultation = reviewable_consultation_or_404(reference)
    group_by = request.args.get("group", "section")
    if group_by not in ("section", "theme"):
        abort(404)
    return _staff_download("table.docx", consultation, f"{consultation.reference}-comments-by-{group_by}.docx",
                           group_by)


@bp.route("/staff/consultations/<reference>/review/themes/<int:theme_id>/summary", methods=["GET", "POST"])
@staff
def theme_summary(reference: str, theme_id: int):
    """Write the committee summary of one theme; a change by someone else meanwhile is shown, not overwritten."""
    consultation, theme = reviewable_consultation_and_theme_or_404(reference, theme_id)
    form = ThemeSummaryForm()
    status, current = 200, None
    if request.method == "GET":
        form.summary.data, form.version.data = theme.summary, theme.version
    elif form.validate_on_submit():
        with form_errors(form) as outcome:
            changed = review.write_theme_summary(theme, form.summary.data or "", current_user,
                                                 form.version.data)
        if outcome.ok:
            db.session.commit()
            flash(f"The summary of ‘{theme.name}’ has been saved." if changed
                  else f"The summary of ‘{theme.name}’ was already as you left it.", "success")
            return redirect(url_for("exports.committee_review", reference=consultation.reference,
                                    _anchor=f"theme-{theme.id}"))
        status = outcome.status
        if isinstance(outcome.error, StaleTheme):
            # Theirs is kept in the box; the saved one is shown beside it, and saving again replaces it knowingly.
            current = theme.summary
            form.version.data, form.version.raw_data = theme.version, [str(theme.version)]
    elif form.version.errors and not form.summary.errors:
        abort(400)
    else:
        status = 400
    return render_template("exports/theme_summary.html", consultation=consultation, theme=theme, form=form,
                           current=current), status


_ACTS = {
    "publish": {
        "service": lambda consultation, actor, seen: publication.publish_comments(consultation, actor, utcnow(), seen),
        "done": "The comments and responses are now published.",
    },
    "withdraw": {
        "service": publication.withdraw_publication,
        "done": "The published comments and responses have been withdrawn.",
    },
}


def _publication_check(reference: str, act: str):
    """The check page before publishing or withdrawing, and its confirmation.

    The page shows the counts; the confirmation carries them back, and the
    service refuses if they changed in between, so staff publish what they saw.
    A refusal for any other reason (not closed, already published) goes back
    to the review page as a notice, as the page has nothing left to confirm.
    """
    consultation = reviewable_consultation_or_404(reference)
    form = PublicationCheckForm()
    error = None
    if request.method == "POST":
        if form.validate_on_submit():
            with form_errors(form) as outcome:
                _ACTS[act]["service"](consultation, current_user, form.seen())
            if outcome.ok:
                db.session.commit()
                flash(_ACTS[act]["done"], "success")
                return redirect(url_for("exports.committee_review", reference=consultation.reference))
            if not isinstance(outcome.error, publication.PublicationCountsChanged):
                flash(outcome.error.message, "info")
                return redirect(url_for("exports.committee_review", reference=consultation.reference))
            error = outcome.error.message
        elif form.csrf_token.errors:
            abort(400)
        else:
            error = "The numbers you checked did not come with your confirmation. Check them again before you confirm."
    refusal = _publication_refusal(consultation, act)
    if refusal:
        flash(refusal, "info")
        return redirect(url_for("exports.committee_review", reference=consultation.reference))
    counts = publication.publication_counts(consultation)
    form.fill(counts)
    return render_template("exports/publication_check.html", consultation=consultation, act=act, counts=counts,
                           confirm_form=form, error=error, queue_link=_queue_link(consultation)), \
        (409 if error else 200)


def _publication_refusal(consultation, act: str) -> str | None:
    """Why the check page has nothing to confirm now, if so."""
    if act == "withdraw":
        return None if consultation.published_at else "The comments and responses are not published."
    if consultation.published_at:
        return "The comments and responses are already published."
    if consultation.status_at(utcnow()) is not ConsultationStatus.CLOSED:
        return "Comments can only be published after the consultation closes."
    return None


def _queue_link(consultation):
    def link(**filters) -> str:
        return url_for("moderation.queue", reference=consultation.reference, **filters)
    return link


@bp.route("/staff/consultations/<reference>/publication", methods=["GET", "POST"])
@staff
def publish(reference: str):
    return _publication_check(reference, "publish")


@bp.route("/staff/consultations/<reference>/publication/withdraw", methods=["GET", "POST"])
@staff
def withdraw(reference: str):
    return _publication_check(reference, "withdraw")


def _published_items(consultation):
    return export_comments(in_document_order(publication.published_comments_query(consultation)))


@bp.route("/consultations/<reference>/published-comments")
@public
def published_comments(reference: str):
    consultation = published_consultation_or_404(reference)
    after, before = cursor_arg("after"), cursor_arg("before")
    if after is not None and before is not None:
        abort(400)
    page = publication.published_page(consultation, request.args.get("part"), after, before)
    if page is None:
        abort(404)
    return render_template("exports/published.html", consultation=consultation, page=page,
                           parts=publication.published_parts(consultation),
                           page_links=_keyset_links("exports.published_comments", page,
                                                    reference=consultation.reference),
                           tobacco_declaration=publication.tobacco_declaration,
                           published_response=publication.published_response,
                           questions=list_questions(consultation.id))


@bp.route("/consultations/<reference>/published-answers/<int:question_id>")
@public
def published_answers(reference: str, question_id: int):
    consultation = published_consultation_or_404(reference)
    question = question_or_404(consultation, question_id)
    page = published_answers_page(question, cursor_arg("after"))
    next_link = {"next": {"href": url_for("exports.published_answers", reference=consultation.reference,
                                          question_id=question.id, after=page.next_after)},
                 "landmarkLabel": "Pages of answers"} if page.next_after else None
    return render_template("questions/published_answers.html", consultation=consultation, page=page,
                           questions=list_questions(consultation.id), page_links=next_link)


@bp.route("/consultations/<reference>/published-comments.csv")
@public
def published_comments_csv(reference: str):
    consultation = published_consultation_or_404(reference)
    filename = f"{consultation.reference}-comments-and-responses.csv"
    prepared = jobs.prepared_download(jobs.DownloadRequest("published.csv", consultation.id), request.args,
                                      None, filename)
    if prepared is not None:
        return prepared
    rows = publication.published_rows(_published_items(consultation), published_answer_rows(consultation.id))
    return csv_download(table_csv(rows, publication.PUBLISHED_COLUMNS), filename)


@bp.route("/consultations/<reference>/published-comments.xlsx")
@public
def published_comments_workbook(reference: str):
    consultation = published_consultation_or_404(reference)
    wanted = jobs.DownloadRequest("published.xlsx", consultation.id)
    filename = f"{consultation.reference}-comments-and-responses.xlsx"
    return (jobs.prepared_download(wanted, request.args, None, filename)
            or file_download(jobs.builder(wanted), filename, XLSX))
