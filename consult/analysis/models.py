"""Campaigns: groups of comments that are copies or rewordings of one letter.

Derived data: the grouping job rewrites memberships, keeping each campaign's
row (and the name staff gave it) when its members carry over.
"""

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consult.database import LabelledEnum, TimestampMixin, enum_type
from consult.extensions import db


class MembershipMethod(LabelledEnum):
    IDENTICAL = ("identical", "Identical text")
    NEAR_DUPLICATE = ("near-duplicate", "Near-duplicate (mail merge)")
    PARAPHRASE = ("paraphrase", "Reworded")


class Campaign(TimestampMixin, db.Model):
    """One organised campaign found in a consultation; staff may name it later."""

    __tablename__ = "campaigns"

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

    campaign: Mapped[Campaign] = relationship(back_populates="members")
