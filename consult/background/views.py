"""The progress page of a prepared download or bulk action, its status for the page's script, and the file."""

from flask import Blueprint, Response, abort, jsonify, render_template, url_for
from flask_login import current_user

from consult.access import public
from consult.background import services
from consult.background.models import BackgroundJob, JobState
from consult.consultations.models import Consultation
from consult.database import utcnow
from consult.extensions import db
from consult.text import quantity

bp = Blueprint("background", __name__)


def _job_or_404(job_id: int) -> BackgroundJob:
    """The job, for the person who asked or staff (anyone, for published comments); anyone else is not told
    it exists."""
    job = db.session.get(BackgroundJob, job_id)
    if job is None or not services.can_see_job(current_user, job):
        abort(404)
    return job


def _unit(job: BackgroundJob) -> str:
    return "row" if job.is_download else "comment"


def _back_url(job: BackgroundJob, consultation: Consultation) -> str:
    if not job.is_download:
        return job.params  # a bulk action keeps the queue it was chosen on
    if job.requested_by_id is None:
        return url_for("exports.published_comments", reference=consultation.reference)
    return url_for("exports.committee_review", reference=consultation.reference)


@bp.route("/prepared/<int:job_id>")
@public
def progress(job_id: int):
    """How far the job has got; it refreshes itself (by script, or by the page's own refresh without one)."""
    job = _job_or_404(job_id)
    consultation = db.session.get(Consultation, job.consultation_id)
    now = utcnow()
    status = services.job_status(job, now)
    expired = job.state is JobState.DONE and job.is_download and (
        services.file_path(job) is None or (job.expires_at is not None and job.expires_at <= now))
    return render_template("background/progress.html", job=job, consultation=consultation, status=status,
                           unit=_unit(job), expired=expired, back_url=_back_url(job, consultation),
                           ready_count=quantity(job.done, _unit(job)))


@bp.route("/prepared/<int:job_id>/status")
@public
def status(job_id: int):
    job = _job_or_404(job_id)
    body = services.job_status(job, utcnow()).as_json(_unit(job))
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/prepared/<int:job_id>/file")
@public
def download(job_id: int):
    """The finished file, while it is kept; after that the progress page says it has expired."""
    job = _job_or_404(job_id)
    path = services.file_path(job)
    if path is None or (job.expires_at is not None and job.expires_at <= utcnow()):
        if job.state is JobState.DONE:
            return render_template("background/expired.html", job=job,
                                   back_url=_back_url(job, db.session.get(Consultation, job.consultation_id))), 410
        abort(404)
    handle = open(path, "rb")  # opened now, so a clean-up after this point cannot take it away mid-download

    def chunks():
        try:
            while chunk := handle.read(64 * 1024):
                yield chunk
        finally:
            handle.close()

    return Response(chunks(), mimetype=job.mimetype, direct_passthrough=True, headers={
        "Content-Disposition": f'attachment; filename="{job.download_name}"', "Cache-Control": "no-store",
        "Content-Length": str(path.stat().st_size)})
