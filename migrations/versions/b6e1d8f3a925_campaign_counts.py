"""Running counts per campaign: its comments, its identical copies, and its publishable comments.

The queue, the committee's review and the campaign pages counted a
campaign's members on every view (a grouped count over every member of
every campaign); a mail campaign can hold most of 100,000 comments. The
counts are now kept with the others (consult/moderation/counters.py), and
the data step below counts each existing campaign once, by the same rules:
submitted members; of those, the ones grouped as identical; and the ones
moderation has not rejected.

Revision ID: b6e1d8f3a925
Revises: a9d4e6f1c372
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'b6e1d8f3a925'
down_revision = 'a9d4e6f1c372'
branch_labels = None
depends_on = None

DIMENSIONS = {
    "campaign": "",
    "campaign_identical": "AND m.method = 'identical'",
    "pub_campaign": "AND c.moderation_state != 'rejected'",
}


def fill_campaign_counts(connection) -> None:
    """Count each campaign's submitted members, by each rule (none yet stored)."""
    for dimension, condition in DIMENSIONS.items():
        connection.execute(sa.text(
            "INSERT INTO progress_counters (consultation_id, dimension, key, n) "
            f"SELECT c.consultation_id, '{dimension}', CAST(m.campaign_id AS VARCHAR(80)), COUNT(*) "
            "FROM campaign_members m JOIN comments c ON c.id = m.comment_id "
            f"WHERE c.status = 'submitted' {condition} "
            "GROUP BY c.consultation_id, m.campaign_id"))


def upgrade():
    fill_campaign_counts(op.get_bind())


def downgrade():
    op.execute("DELETE FROM progress_counters WHERE dimension IN ('campaign', 'campaign_identical', 'pub_campaign')")
