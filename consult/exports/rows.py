"""The rows every committee output is made of, read in batches from the database.

Every output respects moderation: rejected comments are left out, redacted
comments appear as redacted, and a person is named only with their consent.
"""

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload

from consult.comments.models import Comment, CommentStatus, ParticipantKind, Participation
from consult.consultations.models import Chapter, Document, Section
from consult.extensions import db
from consult.moderation.models import CommentResponse, CommentTheme, Theme
from consult.moderation.states import ModerationState, ResponseState

UK = ZoneInfo("Europe/London")
BATCH = 1000

COLUMNS = [
    "Comment number", "User", "Email address", "Consultation", "Document", "Chapter", "Section number",
    "Section heading", "Selected text", "Comment", "Represents an organisation", "Organisation",
    "Participant type", "Has tobacco links", "Tobacco link details", "Themes", "Moderation state",
    "Response", "Submitted at (UK time)",
]
EMAIL_COLUMN = COLUMNS.index("Email address")


def columns(include_email: bool) -> list[str]:
    return COLUMNS if include_email else COLUMNS[:EMAIL_COLUMN] + COLUMNS[EMAIL_COLUMN + 1:]


def participant_type(participation: Participation) -> str:
    if participation.kind is ParticipantKind.ORGANISATION:
        return f"Organisation ({participation.organisation_type.label.lower()})"
    return f"Individual ({participation.individual_type.label.lower()})"


def stakeholder_name(participation: Participation) -> str:
    """The name an output may show: the organisation, or the person only if they agreed."""
    if participation.kind is ParticipantKind.ORGANISATION:
        return participation.organisation_name
    if participation.publish_name:
        return participation.user.name
    return participant_type(participation)


def response_text(response: CommentResponse | None) -> str:
    if response is None:
        return ""
    if response.state is ResponseState.NOT_NEEDED:
        return f"No response needed: {response.reason}"
    return response.text


@dataclass(frozen=True)
class ExportComment:
    """One comment with everything an output shows about it, already moderated."""

    comment: Comment
    themes: tuple[str, ...]
    response: CommentResponse | None

    @property
    def participation(self) -> Participation:
        return self.comment.participation

    def values(self, include_email: bool) -> list:
        comment, participation = self.comment, self.participation
        is_organisation = participation.kind is ParticipantKind.ORGANISATION
        submitted: datetime | None = comment.submitted_at
        row = [
            comment.reference,
            stakeholder_name(participation),
            participation.user.email,
            comment.consultation.reference,
            comment.document.title,
            comment.chapter.label if comment.chapter else "",
            comment.section.number if comment.section else "",
            (comment.section.heading or "") if comment.section else "",
            comment.shown_quote or "",
            comment.shown_body,
            "Yes" if is_organisation else "No",
            participation.organisation_name or "",
            participant_type(participation),
            "Yes" if participation.has_tobacco_links else "No",
            participation.tobacco_details,
            "; ".join(self.themes),
            comment.moderation_state.label,
            response_text(self.response),
            submitted.astimezone(UK).replace(tzinfo=None) if submitted else None,
        ]
        if not include_email:
            del row[EMAIL_COLUMN]
        return row


def publishable(query: Select) -> Select:
    """Submitted comments that moderation has not rejected."""
    return query.where(Comment.status == CommentStatus.SUBMITTED,
                       Comment.moderation_state != ModerationState.REJECTED)


def in_document_order(query: Select) -> Select:
    return (query.join(Document, Comment.document_id == Document.id)
            .outerjoin(Chapter, Comment.chapter_id == Chapter.id)
            .outerjoin(Section, Comment.section_id == Section.id)
            .order_by(Document.position, Chapter.position.is_not(None), Chapter.position,
                      Section.position.is_not(None), Section.position, Comment.number))


def export_comments(query: Select) -> Iterator[ExportComment]:
    """Stream the comments a query selects, with themes and responses, BATCH at a time.

    Many-to-one context is joined into the comment query; themes and
    responses come from one query each per batch, so the cost per batch is
    fixed whatever the number of comments.
    """
    query = query.options(
        joinedload(Comment.participation).joinedload(Participation.user),
        joinedload(Comment.consultation), joinedload(Comment.document),
        joinedload(Comment.chapter), joinedload(Comment.section),
    ).execution_options(yield_per=BATCH)
    for partition in db.session.execute(query).scalars().partitions(BATCH):
        ids = [comment.id for comment in partition]
        themes: dict[int, list[str]] = defaultdict(list)
        for comment_id, name in db.session.execute(
                select(CommentTheme.comment_id, Theme.name).join(Theme, CommentTheme.theme_id == Theme.id)
                .where(CommentTheme.comment_id.in_(ids)).order_by(Theme.name)):
            themes[comment_id].append(name)
        responses = {r.comment_id: r for r in db.session.scalars(
            select(CommentResponse).where(CommentResponse.comment_id.in_(ids)))}
        for comment in partition:
            yield ExportComment(comment, tuple(themes[comment.id]), responses.get(comment.id))


OWN_COLUMNS = ["Comment number", "Status", "Document", "Chapter", "Section number", "Section heading",
               "Selected text", "Comment", "Submitted at (UK time)"]


def own_values(comment: Comment) -> list:
    """A stakeholder's own comment as they wrote it, for their own download."""
    return [
        comment.reference or "",
        comment.status.label,
        comment.document.title,
        comment.chapter.label if comment.chapter else "",
        comment.section.number if comment.section else "",
        (comment.section.heading or "") if comment.section else "",
        comment.quote or "",
        comment.body,
        comment.submitted_at.astimezone(UK).replace(tzinfo=None) if comment.submitted_at else None,
    ]
