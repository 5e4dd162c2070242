"""The rows every committee output is made of, read in batches from the database.

Every output respects moderation: rejected comments are left out, redacted
comments appear as redacted, and a person is named only with their consent.
"""

from collections.abc import Iterator
from datetime import datetime, tzinfo
from typing import NamedTuple

from sqlalchemy import Index, Select, func, literal, select
from sqlalchemy.orm import aliased

from consult.accounts.models import User
from consult.analysis.models import Campaign, CampaignMember
from consult.comments.models import (
    Comment,
    CommentStatus,
    ParticipantKind,
    Participation,
    participant_type_label,
)
from consult.consultations.models import Chapter, Consultation, Document, Section
from consult.extensions import db
from consult.moderation.models import CommentResponse, CommentTheme, Theme
from consult.moderation.queries import publishable_campaign_sizes
from consult.moderation.states import ModerationState, ResponseState
from consult.uk_time import display_zone

BATCH = 1000

# Pages of published comments and the committee's drill-downs walk one
# document part at a time by comment number; this index serves each step as
# a short range scan in order, with no sort and no offset.
Index("ix_comments_part_number", Comment.consultation_id, Comment.document_id, Comment.chapter_id,
      Comment.section_id, Comment.number)

COLUMNS = [
    "Comment number", "Stakeholder", "Email address", "Consultation", "Document", "Chapter", "Section number",
    "Section heading", "Selected text", "Comment", "Question text", "Yes/No answer", "Answer text",
    "Represents an organisation", "Organisation",
    "Participant type", "Has tobacco links", "Tobacco link details", "Other interests declared", "Themes",
    "Moderation state",
    "Response", "Submitted at (UK time)", "Campaign", "Campaign size",
]
EMAIL_COLUMN = COLUMNS.index("Email address")


def columns(include_email: bool) -> list[str]:
    return COLUMNS if include_email else COLUMNS[:EMAIL_COLUMN] + COLUMNS[EMAIL_COLUMN + 1:]


def stakeholder_name(kind: ParticipantKind, organisation_name: str | None, publish_name: bool, person: str,
                      type_label: str) -> str:
    """The name an output may show: the organisation, or the person only if they agreed."""
    if kind is ParticipantKind.ORGANISATION:
        return organisation_name
    return person if publish_name else type_label


def response_text(state: ResponseState | None, text: str = "", reason: str = "") -> str:
    """The Response column of every committee output, so that each says the same.

    A draft is not yet agreed, so it says so wherever it is shown: a
    committee reading a spreadsheet must not take it for the agreed answer.
    What the public reads is decided apart from this (exports.publication),
    which shows an agreed response only.
    """
    if state is None:
        return ""
    if state is ResponseState.NOT_NEEDED:
        return f"No response needed: {reason}"
    if state is ResponseState.DRAFT:
        return f"Draft response: {text}"
    return text


class ExportItem(NamedTuple):
    """One comment as every output shows it: moderated, named as consent allows, flat.

    A named tuple: as immutable as a frozen dataclass, and built in a third
    of the time, which counts once per comment of a 100,000-row export.
    """

    comment_id: int
    reference: str
    consultation_reference: str
    document_title: str
    chapter_label: str
    section_id: int | None
    section_number: str
    section_heading: str
    target_label: str
    quote: str
    body: str
    moderation_label: str
    stakeholder: str
    email: str
    is_organisation: bool
    organisation_name: str
    participant_type: str
    has_tobacco_links: bool
    tobacco_details: str
    other_interests: str  # for staff and the committee only: never published (exports.publication)
    submitted_at: datetime | None
    themes: tuple[str, ...] = ()
    response_state: ResponseState | None = None
    response: str = ""
    number: int = 0
    participation_id: int = 0
    campaign: str = ""  # its name, or "Campaign <id>" until staff name it
    campaign_size: int | None = None

    def values(self, include_email: bool, zone: tzinfo | None = None) -> list:
        """The row in COLUMNS order; `zone` is the display zone, looked up once by a caller writing many rows."""
        submitted_at = self.submitted_at
        if submitted_at is not None:
            submitted_at = submitted_at.astimezone(zone or display_zone()).replace(tzinfo=None)
        row = [
            self.reference, self.stakeholder, self.email, self.consultation_reference, self.document_title,
            self.chapter_label, self.section_number, self.section_heading, self.quote, self.body, "", "", "",
            "Yes" if self.is_organisation else "No", self.organisation_name, self.participant_type,
            "Yes" if self.has_tobacco_links else "No", self.tobacco_details, self.other_interests,
            "; ".join(self.themes), self.moderation_label, self.response,
            submitted_at, self.campaign,
            "" if self.campaign_size is None else self.campaign_size,
        ]
        if not include_email:
            del row[EMAIL_COLUMN]
        return row


def publishable(query: Select) -> Select:
    """Submitted comments that moderation has not rejected."""
    return query.where(Comment.status == CommentStatus.SUBMITTED,
                       Comment.moderation_state != ModerationState.REJECTED)


def in_document_order(query: Select, number: bool = True) -> Select:
    """Whole-document comments first, then by chapter and section position; by number within each."""
    query = query.order_by(Document.position, Chapter.position.is_not(None), Chapter.position,
                           Section.position.is_not(None), Section.position)
    return query.order_by(Comment.number) if number else query


def in_respondent_order(query: Select) -> Select:
    """NICE's table: respondent by respondent (in the order they took part), each one's comments in document order.

    questions.exports.export_answers reads answers in the same respondent
    order, so the two streams merge in one pass (exports.services).
    """
    return in_document_order(query.order_by(Participation.id))


def comments_select() -> Select:
    """Every column an output needs, joined once; callers add filters and the order."""
    return (
        select(Comment.id, Comment.number, Comment.quote, Comment.body, Comment.moderation_state,
               Comment.redacted_body, Comment.redacted_quote, Comment.submitted_at, Comment.section_id,
               Consultation.reference, Document.title, Chapter.number, Chapter.title, Section.number,
               Section.heading, Participation.kind, Participation.individual_type, Participation.organisation_name,
               Participation.organisation_type, Participation.has_tobacco_links, Participation.tobacco_details,
               Participation.other_interests, Participation.publish_name, User.name, User.email, Participation.id)
        .select_from(Comment)
        .join(Participation, Participation.id == Comment.participation_id)
        .join(User, User.id == Participation.user_id)
        .join(Consultation, Consultation.id == Comment.consultation_id)
        .join(Document, Document.id == Comment.document_id)
        .outerjoin(Chapter, Chapter.id == Comment.chapter_id)
        .outerjoin(Section, Section.id == Comment.section_id)
    )


def _item(row, themes: tuple[str, ...], response: tuple) -> ExportItem:
    (comment_id, number, quote, body, state, redacted_body, redacted_quote, submitted_at, section_id,
     consultation_reference, document_title, chapter_number, chapter_title, section_number, section_heading,
     kind, individual_type, organisation_name, organisation_type, tobacco, tobacco_details, other_interests,
     publish_name, person, email, participation_id) = row
    redacted = state is ModerationState.REDACTED
    chapter_label = "" if chapter_title is None else (
        f"{chapter_number} {chapter_title}" if chapter_number else chapter_title)
    if section_number is not None:
        target = f"Section {section_number}"
    elif chapter_title is not None:
        target = f"Chapter: {chapter_label}"
    else:
        target = "The whole document"
    type_label = participant_type_label(kind, individual_type, organisation_type)
    return ExportItem(
        comment_id=comment_id,
        reference=f"{consultation_reference}-{number:04d}",
        consultation_reference=consultation_reference,
        document_title=document_title,
        chapter_label=chapter_label,
        section_id=section_id,
        section_number=section_number or "",
        section_heading=section_heading or "",
        target_label=target,
        quote=(redacted_quote if redacted and redacted_quote is not None else quote) or "",
        body=redacted_body if redacted else body,
        moderation_label=state.label,
        stakeholder=stakeholder_name(kind, organisation_name, publish_name, person, type_label),
        email=email,
        is_organisation=kind is ParticipantKind.ORGANISATION,
        organisation_name=organisation_name or "",
        participant_type=type_label,
        has_tobacco_links=tobacco,
        tobacco_details=tobacco_details,
        other_interests=other_interests or "",
        submitted_at=submitted_at,
        themes=themes,
        response_state=response[0],
        response=response_text(*response),
        number=number,
        participation_id=participation_id,
    )


# Joins a comment's theme names into one column; no theme name can hold this control character.
THEME_SEPARATOR = "\x1f"


def _theme_names_column():
    """A comment's theme names in one text column, correlated to each comment row."""
    if db.engine.dialect.name == "postgresql":
        joined = func.string_agg(Theme.name, literal(THEME_SEPARATOR))
    else:
        joined = func.group_concat(Theme.name, THEME_SEPARATOR)
    return (select(joined).select_from(CommentTheme).join(Theme, CommentTheme.theme_id == Theme.id)
            .where(CommentTheme.comment_id == Comment.id).scalar_subquery())


_RESPONSE = aliased(CommentResponse)
_MEMBER = aliased(CampaignMember)
_CAMPAIGN = aliased(Campaign)
_WIDTH = len(comments_select().selected_columns)


def _export_select(query: Select) -> Select:
    """A comments_select() query with each comment's response, theme names and campaign joined.

    Campaign sizes are not counted here: they come from the running counts
    (export_comments), as grouping every member of every campaign cost each
    page of a drill-down as much as a whole export.
    """
    return (query.add_columns(_RESPONSE.state, _RESPONSE.text, _RESPONSE.reason, _theme_names_column(),
                              _CAMPAIGN.id, _CAMPAIGN.name, _CAMPAIGN.consultation_id)
            .outerjoin(_RESPONSE, _RESPONSE.comment_id == Comment.id)
            .outerjoin(_MEMBER, _MEMBER.comment_id == Comment.id)
            .outerjoin(_CAMPAIGN, _CAMPAIGN.id == _MEMBER.campaign_id))


def export_comments(query: Select) -> Iterator[ExportItem]:
    """Stream the rows of a comments_select() query with their themes and responses, in one pass.

    Plain tuples from one query, not ORM objects: the response is joined and
    the theme names come in one column, so an export of 100,000 comments
    spends its time writing, not building objects or asking again per batch.
    Theme names are sorted by character, as the database's own order did.
    """
    result = db.session.connection().execute(_export_select(query).execution_options(yield_per=BATCH))
    # By consultation, read once each: publishable members only, as the rows here are (see publishable).
    campaign_sizes: dict[int, dict[int, int]] = {}
    try:
        for row in result:
            state, text, reason, names, campaign_id, campaign_name, consultation_id = row[_WIDTH:]
            item = _item(row[:_WIDTH], tuple(sorted(names.split(THEME_SEPARATOR))) if names else (),
                         _NO_RESPONSE if state is None else (state, text, reason))
            if campaign_id is not None:
                if consultation_id not in campaign_sizes:
                    campaign_sizes[consultation_id] = publishable_campaign_sizes(consultation_id)
                size = campaign_sizes[consultation_id].get(campaign_id, 0)
                item = item._replace(campaign=campaign_name or f"Campaign {campaign_id}", campaign_size=size)
            yield item
    finally:  # an export abandoned part-way (an error, a closed download) still closes its server-side cursor
        result.close()


_NO_RESPONSE = (None, "", "")
