from flask import Blueprint, abort, redirect, render_template, url_for

from consult.access import public
from consult.comments.services import list_comments, may_still_draft
from consult.consultations import document_cache, services
from consult.consultations.deadlines import deadline_wording
from consult.consultations.guidance_text import guidance_html, guidance_plain
from consult.consultations.models import ConsultationStatus
from consult.database import utcnow
from consult.loaders import public_consultation_or_404, public_or_preview_consultation_and_participation_or_404

bp = Blueprint("consultations", __name__)

# Until comments and exports import the loader itself; then this goes.
load_consultation_or_404 = public_consultation_or_404


@bp.app_template_filter("deadline")
def deadline(consultation) -> str:
    """'Closes in 3 days (5pm on 9 December)': the consultation's dates as they stand now."""
    return deadline_wording(consultation.opens_at, consultation.closes_at, utcnow())


bp.add_app_template_filter(guidance_html, "guidance_html")
bp.add_app_template_filter(guidance_plain, "guidance_plain")


@bp.route("/")
@public
def home():
    return redirect(url_for("consultations.index"))


@bp.route("/consultations/")
@public
def index():
    grouped = services.list_public_consultations(utcnow())
    return render_template("consultations/index.html", grouped=grouped, statuses=ConsultationStatus)


@bp.route("/consultations/<reference>")
@public
def show(reference: str):
    consultation, participation = public_or_preview_consultation_and_participation_or_404(reference)
    comments = list_comments(participation) if participation else []
    return render_template(
        "consultations/show.html", consultation=consultation, participation=participation,
        comments=comments, preview=consultation.is_draft,
    )


@bp.route("/consultations/<reference>/documents/<int:document_id>")
@public
def document(reference: str, document_id: int):
    consultation, participation = public_or_preview_consultation_and_participation_or_404(reference)
    document = next((d for d in consultation.documents if d.id == document_id), None)
    if document is None:
        abort(404)
    preview = consultation.is_draft  # the loader gives a draft only to those who may preview it
    if preview:
        counts, can_comment = {}, False
        body = document_cache.preview_body(consultation, document)
    else:
        counts = document_cache.comment_counts(participation.id, document.id) if participation else {}
        # Links to comment only while comments can be made: not before it opens, nor once it has closed.
        can_comment = consultation.is_open_at(utcnow()) and may_still_draft(participation)
        body = document_cache.document_body(consultation, document, can_comment, counts)
    return render_template(
        "consultations/document.html", consultation=consultation, document=document, preview=preview,
        participation=participation, can_comment=can_comment,
        document_counter=document_cache.counter(counts, "document", document.id), body=body,
    )
