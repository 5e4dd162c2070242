"""Downloads too large to build in the request, prepared by the worker instead.

A download of more rows than DOWNLOAD_JOB_ROWS becomes a BackgroundJob (see
consult.background): `prepared_download` in the request, `prepare_download`
in the worker. Both build the file with the same `builder` the request uses
for a small download, so a prepared file is the same file, only later.
"""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO
from urllib.parse import urlencode

from flask import current_app, redirect, render_template, url_for
from sqlalchemy import func, select

from consult.audit.models import AuditEvent
from consult.background import services as background
from consult.comments.models import Comment, Participation
from consult.consultations.models import Consultation
from consult.database import utcnow
from consult.downloads import DOCX, XLSX, table_csv, write_table_workbook
from consult.exports import publication, services
from consult.exports.rows import (
    comments_select,
    export_comments,
    in_document_order,
    in_respondent_order,
    publishable,
)
from consult.extensions import db
from consult.jobs import report_progress
from consult.moderation import queries
from consult.moderation.models import Theme
from consult.questions.exports import (
    count_answer_rows,
    count_given_answers,
    count_published_answers,
    export_answers,
    published_answer_rows,
    write_question_sheets,
)

# kind: (file suffix, MIME type)
KINDS = {
    "comments.xlsx": (".xlsx", XLSX),
    "comments.csv": (".csv", "text/csv"),
    "themed.xlsx": (".xlsx", XLSX),
    "table.docx": (".docx", DOCX),
    "published.csv": (".csv", "text/csv"),
    "published.xlsx": (".xlsx", XLSX),
}
PROGRESS_EVERY = 1000


@dataclass(frozen=True)
class DownloadRequest:
    """What was asked for, as plain values a job can carry: the file, whose view of it, and any filters."""

    kind: str
    consultation_id: int
    include_email: bool = False
    filters: queries.QueueFilters | None = None  # the queue's filters; a narrowed download has no answers
    group_by: str = "section"

    @property
    def public(self) -> bool:
        return self.kind.startswith("published.")


def comments_query(consultation_id: int, filters: queries.QueueFilters | None, order=in_document_order):
    """The consultation's publishable comments, narrowed by the queue's filters if given.

    In document order, or `order` (in_respondent_order for NICE's comments table, answers merged in)."""
    query = publishable(comments_select().where(Comment.consultation_id == consultation_id))
    if filters is not None:
        matching = queries.matching_comments(consultation_id, filters).with_only_columns(Comment.id).order_by(None)
        query = query.where(Comment.id.in_(matching))
    return order(query)


def comments_for(request: "DownloadRequest"):
    """The query a file's comments come from: the comments table goes respondent by respondent (each one's
    answers after their comments, as NICE's table does); the themed workbook and the Word table by document."""
    order = in_respondent_order if request.kind in ("comments.xlsx", "comments.csv") else in_document_order
    return comments_query(request.consultation_id, request.filters, order)


def _published_query(consultation_id: int):
    consultation = db.session.get(Consultation, consultation_id)
    return in_document_order(publication.published_comments_query(consultation))


class _Tally:
    """The rows going into a file, counted as they pass through it, across every stream its writer reads
    (comments, then answers), and reported to the progress bar every PROGRESS_EVERY rows.

    A prepared file's count is this, not what a writer returns: CSV is written
    64 rows a chunk, and the Word table and the themed workbook count comments.
    """

    def __init__(self, total: int, progress: Callable[[int, int], None] | None):
        self.done, self.total, self.progress = 0, total, progress

    def __call__(self, rows: Iterable) -> Iterator:
        for row in rows:
            self.done += 1
            if self.progress is not None and self.done % PROGRESS_EVERY == 0:
                self.progress(self.done, self.total)
            yield row


def _answers(request: DownloadRequest):
    return () if request.filters is not None else export_answers(request.consultation_id)


def _theme_names(consultation_id: int) -> list[str]:
    return list(db.session.scalars(select(Theme.name).where(Theme.consultation_id == consultation_id)
                                   .order_by(Theme.name)))


def _theme_summaries(consultation_id: int) -> dict[str, str]:
    return dict(db.session.execute(select(Theme.name, Theme.summary).where(
        Theme.consultation_id == consultation_id, Theme.summary != "")).all())


def count_rows(request: DownloadRequest) -> int:
    """How many rows the file will hold, counted on indexes: its comments, then the answers it lists,
    as the builder will count them (see _Tally)."""
    query = (_published_query(request.consultation_id) if request.public
             else comments_query(request.consultation_id, request.filters))
    comments = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    if request.public:
        return comments + count_published_answers(request.consultation_id)
    if request.filters is not None:  # narrowed by the queue's filters, a file is about comments alone
        return comments
    if request.kind in ("themed.xlsx", "table.docx"):  # their answers are the answers given
        return comments + count_given_answers(request.consultation_id)
    # The comments table (NICE's workbook): a row for each question each participant was asked.
    return comments + count_answer_rows(request.consultation_id)


def data_fingerprint(consultation_id: int) -> str:
    """What a file was built from, cheaply: any submission, edit, staff act or publication changes it."""
    count, last_change = db.session.execute(select(func.count(Comment.id), func.max(Comment.updated_at)).where(
        Comment.consultation_id == consultation_id)).one()
    last_participation = db.session.scalar(select(func.max(Participation.updated_at)).where(
        Participation.consultation_id == consultation_id))
    last_act = db.session.scalar(select(func.max(AuditEvent.id)))
    published_at = db.session.scalar(select(Consultation.published_at).where(Consultation.id == consultation_id))
    stamp = lambda value: value.isoformat() if value else "-"  # noqa: E731
    return (f"c{count}/{stamp(last_change)}/p{stamp(last_participation)}/a{last_act or 0}"
            f"/pub{stamp(published_at)}")


def builder(request: DownloadRequest, total: int = 0,
            progress: Callable[[int, int], None] | None = None) -> Callable[[IO[bytes]], int]:
    """A function that writes the asked-for file to a binary handle and returns how many rows it holds:
    comments and answers, each once, as they passed into it (see _Tally)."""
    counted = _Tally(total, progress)
    write = _writer(request, counted)

    def build(handle: IO[bytes]) -> int:
        write(handle)
        return counted.done

    return build


def _writer(request: DownloadRequest, counted: _Tally) -> Callable[[IO[bytes]], object]:
    """A function that writes the asked-for file to a binary handle, every row passing through `counted`."""
    consultation = db.session.get(Consultation, request.consultation_id)
    if request.public:
        items = export_comments(_published_query(request.consultation_id))
        rows = counted(publication.published_rows(items, published_answer_rows(request.consultation_id)))
        if request.kind == "published.csv":
            return lambda handle: _write_csv(table_csv(rows, publication.PUBLISHED_COLUMNS), handle)
        return lambda handle: write_table_workbook(rows, publication.PUBLISHED_COLUMNS, handle)
    items = counted(export_comments(comments_for(request)))
    answers = counted(_answers(request))
    if request.kind == "comments.xlsx":
        return lambda handle: services.write_comments_workbook(items, handle, request.include_email, answers)
    if request.kind == "comments.csv":
        return lambda handle: _write_csv(services.comments_csv(items, request.include_email, answers), handle)
    if request.kind == "themed.xlsx":
        def question_sheets(book, formats, taken, sheet_name):
            if request.filters is None:  # a download narrowed by the queue's filters is about comments alone
                write_question_sheets(book, formats, taken, sheet_name, request.consultation_id, counted)

        names, summaries = _theme_names(request.consultation_id), _theme_summaries(request.consultation_id)
        return lambda handle: services.write_themed_workbook(items, names, handle, question_sheets, summaries)
    title = f"{consultation.reference} {consultation.title}: consultation comments and responses"
    summaries = _theme_summaries(request.consultation_id)
    given = counted(services.word_table_answers(_answers(request)))  # counted as they are written
    return lambda handle: services.write_word_table(items, handle, request.group_by, title, summaries, given)


def _write_csv(lines: Iterable[str], handle: IO[bytes]) -> None:
    for line in lines:
        handle.write(line.encode("utf-8"))


def prepare_download(job_id: int, request: DownloadRequest) -> str:
    """The worker's job: build the file for `job_id`, reporting progress, and keep it (see background)."""
    job = db.session.get(background.BackgroundJob, job_id)
    total = job.total if job is not None else 0
    db.session.rollback()
    return background.prepare_file(job_id, KINDS[request.kind][0], builder(request, total, report_progress))


def request_params(request: DownloadRequest, args) -> str:
    """The variant asked for, the same however the query string was ordered: for re-using a file."""
    return urlencode(sorted([("email", int(request.include_email)), ("group", request.group_by),
                             *((key, value) for key, values in args.lists() for value in values)]))


def prepared_download(request: DownloadRequest, args, requester, download_name: str):
    """Above DOWNLOAD_JOB_ROWS, the page of a prepared file (re-used while the data is unchanged);
    None for a download small enough to build now."""
    total = count_rows(request)
    if total <= current_app.config["DOWNLOAD_JOB_ROWS"]:
        return None
    now, params = utcnow(), request_params(request, args)
    fingerprint = data_fingerprint(request.consultation_id)
    requester_id = None if request.public else requester.id
    job = background.reusable_job(request.consultation_id, request.kind, params, fingerprint, requester_id, now)
    if job is not None and job.state is background.JobState.DONE and background.file_path(job) is None:
        job = None  # its file is gone (cleaned up early, or a different disk): prepare it again
    elif job is not None and request.public and not background.publication_stands(job):
        job = None  # asked for under an earlier publication or before a later decision: never offer it again
    if job is None:
        revision = db.session.scalar(select(Consultation.published_revision).where(
            Consultation.id == request.consultation_id)) if request.public else None
        job = background.create_job(request.kind, request.consultation_id, None if request.public else requester,
                                    params, fingerprint, total, download_name, KINDS[request.kind][1],
                                    published_revision=revision)
        db.session.commit()
        queued = background.enqueue_job(job, prepare_download, request)
        db.session.commit()
        if not queued:
            return render_template("background/unavailable.html", message=background.QUEUE_DOWN), 503
    return redirect(url_for("background.progress", job_id=job.id))
