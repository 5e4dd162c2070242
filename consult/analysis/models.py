"""Campaigns (groups of comments that are copies or rewordings of one letter), embeddings and theme suggestions.

Derived data: the grouping job rewrites memberships, keeping each campaign's
row (and the name staff gave it) when its members carry over; the
suggestion job rewrites pending suggestions and the latest run. What staff
decided is not derived and survives regrouping: a member staff placed
(`placed_by_staff`, by a merge or a split) stays where they put it, and a
comment staff detached (CampaignDetachment) is never grouped again.
"""

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consult.accounts.models import User
from consult.database import IDS_NEVER_REUSED, LabelledEnum, TimestampMixin, UTCDateTime, enum_type, utcnow
from consult.extensions import db
from consult.moderation.models import Theme


class MembershipMethod(LabelledEnum):
    # Compared as campaigns.tokens reads text: a mail merge's names and numbers, case and punctuation aside.
    IDENTICAL = ("identical", "Identical apart from names, numbers and punctuation")
    NEAR_DUPLICATE = ("near-duplicate", "Near-duplicate (mail merge)")
    PARAPHRASE = ("paraphrase", "Reworded")


class Campaign(TimestampMixin, db.Model):
    """One organised campaign found in a consultation; staff may name it later."""

    __tablename__ = "campaigns"
    __table_args__ = IDS_NEVER_REUSED

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}

    members: Mapped[list["CampaignMember"]] = relationship(back_populates="campaign")


class CampaignMember(db.Model):
    """A comment's place in a campaign, with why it was put there. A comment is in one campaign at most."""

    __tablename__ = "campaign_members"

    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id"), primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    method: Mapped[MembershipMethod] = mapped_column(enum_type(MembershipMethod, "membership_method"))
    # The signals that decided it, e.g. {"jaccard": 0.62} or {"cosine": 0.31, "overlap": 0.55}.
    score: Mapped[dict] = mapped_column(JSON, default=dict)
    # Staff put it here (a merge or a split): regrouping keeps it in this campaign.
    placed_by_staff: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    campaign: Mapped[Campaign] = relationship(back_populates="members")


class CampaignDetachment(db.Model):
    """A comment staff took out of its campaign: it stays out of every campaign, however often they are regrouped."""

    __tablename__ = "campaign_detachments"

    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id"), primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id"), index=True)
    detached_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    detached_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CommentEmbedding(db.Model):
    """A comment's sentence embedding, computed once when it arrives, with its nearest neighbours.

    `vector` holds the float32 values as bytes (384 for the MiniLM model);
    `neighbours` the most similar comments of the same consultation as
    [[comment id, cosine], ...], refreshed by the suggestion job so the
    comment page reads them instead of comparing against every comment.
    """

    __tablename__ = "comment_embeddings"

    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id"), primary_key=True)
    model: Mapped[str] = mapped_column(String(80))
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    neighbours: Mapped[list] = mapped_column(JSON, default=list)
    embedded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SuggestionState(LabelledEnum):
    PENDING = ("pending", "Suggested")
    REJECTED = ("rejected", "Rejected")


class ThemeSuggestion(db.Model):
    """The system's suggestion that a theme fits a comment. Never a tag: a person accepting it makes the tag.

    Pending rows are replaced by each run of the suggestion job; a rejected
    row stays, so the same suggestion is not made again, and records who
    rejected it. Accepting deletes the row and writes the tag (see
    consult/analysis/review.py).
    """

    __tablename__ = "theme_suggestions"
    __table_args__ = (
        UniqueConstraint("comment_id", "theme_id"),
        CheckConstraint("confidence >= 0 AND confidence <= 1", name="confidence_is_a_share"),
        IDS_NEVER_REUSED,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id"), index=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id"), index=True)
    theme_id: Mapped[int] = mapped_column(ForeignKey("themes.id", ondelete="CASCADE"), index=True)
    confidence: Mapped[float] = mapped_column(Float)
    state: Mapped[SuggestionState] = mapped_column(enum_type(SuggestionState, "suggestion_state"),
                                                  default=SuggestionState.PENDING)
    suggested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    theme: Mapped[Theme] = relationship()
    decided_by: Mapped[User | None] = relationship()


class SuggestionRun(db.Model):
    """The latest suggestion run of a consultation: what to tag next, possible new topics, how it went.

    `next_to_tag` is a list of comment ids, most useful first; `topics` a list
    of {"phrases": [...], "comment_ids": [...], "typical": [...]}; `figures`
    counts and seconds for the operator.
    """

    __tablename__ = "suggestion_runs"

    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id"), primary_key=True)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    next_to_tag: Mapped[list] = mapped_column(JSON, default=list)
    topics: Mapped[list] = mapped_column(JSON, default=list)
    figures: Mapped[dict] = mapped_column(JSON, default=dict)
