"""Publishing the comments and responses once a consultation has closed.

Publication is a recorded, audited act that can be withdrawn. What the
public reads is decided here, once: accepted and redacted comments only,
organisations named, individuals named only with consent, no emails.
"""

from datetime import datetime

from sqlalchemy import Select

from consult.audit.services import record, snapshot
from consult.comments.models import Comment, CommentStatus
from consult.consultations.models import Consultation, ConsultationStatus
from consult.exports.rows import ExportItem, comments_select
from consult.errors import DomainError
from consult.extensions import db
from consult.moderation.states import ModerationState, ResponseState

PUBLISHED_COLUMNS = ["Comment number", "Stakeholder", "Stakeholder type", "Section number", "Section heading",
                     "Selected text", "Comment", "Tobacco industry links", "Response"]


class PublicationRefused(DomainError):
    """Publishing or withdrawing that the consultation's state does not allow now."""

    status = 409


def publish_comments(consultation: Consultation, actor, now: datetime) -> None:
    """Make the comments and responses public. Refused before the consultation closes."""
    if consultation.status_at(now) is not ConsultationStatus.CLOSED:
        raise PublicationRefused(
            "Comments can only be published after the consultation closes "
            f"(it closes at {consultation.closes_at:%H:%M} UTC on {consultation.closes_at:%d %B %Y}).")
    if consultation.published_at is not None:
        raise PublicationRefused("The comments and responses are already published.")
    before = snapshot(consultation, ["published_at"])
    consultation.published_at = now
    record(actor, "consultation.publish_comments", consultation, before, snapshot(consultation, ["published_at"]))
    db.session.flush()


def withdraw_publication(consultation: Consultation, actor) -> None:
    """Take the published comments down again; the record of both acts stays in the audit trail."""
    if consultation.published_at is None:
        raise PublicationRefused("The comments and responses are not published.")
    before = snapshot(consultation, ["published_at"])
    consultation.published_at = None
    record(actor, "consultation.withdraw_comments", consultation, before, snapshot(consultation, ["published_at"]))
    db.session.flush()


def published_comments_query(consultation: Consultation) -> Select:
    return comments_select().where(
        Comment.consultation_id == consultation.id,
        Comment.status == CommentStatus.SUBMITTED,
        Comment.moderation_state.in_([ModerationState.ACCEPTED, ModerationState.REDACTED]),
    )


def tobacco_declaration(item: ExportItem) -> str:
    """As published alongside comments: the declared links, or that none were declared."""
    if item.has_tobacco_links:
        return f"Declared links with, or funding from, the tobacco industry: {item.tobacco_details}"
    return "None declared"


def published_response(item: ExportItem) -> str:
    """Only an agreed response is published; drafts and internal 'no response needed' reasons are not."""
    return item.response if item.response_state is ResponseState.AGREED else ""


def published_values(item: ExportItem) -> list:
    return [
        item.reference, item.stakeholder, item.participant_type, item.section_number,
        item.section_heading if item.section_number else (item.chapter_label or "Whole document"),
        item.quote, item.body, tobacco_declaration(item), published_response(item),
    ]
