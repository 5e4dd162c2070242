"""Running counts: accepted or redacted comments with an agreed response (pub_agreed|total).

The check before publishing says how many public comments have no agreed
response; it counted them over the whole consultation on every view. The
count is now kept with the others (consult/moderation/counters.py), and the
data step below counts each existing consultation once, by the same rule.

Revision ID: c8e1f4a7b392
Revises: b7d2e9a4c1f6
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c8e1f4a7b392'
down_revision = 'b7d2e9a4c1f6'
branch_labels = None
depends_on = None


def fill_agreed(connection) -> None:
    """Count each consultation's accepted or redacted comments with an agreed response (none yet stored)."""
    connection.execute(sa.text(
        "INSERT INTO progress_counters (consultation_id, dimension, key, n) "
        "SELECT c.consultation_id, 'pub_agreed', 'total', COUNT(*) FROM comments c "
        "JOIN comment_responses r ON r.comment_id = c.id "
        "WHERE c.status = 'submitted' AND c.moderation_state IN ('accepted', 'redacted') AND r.state = 'agreed' "
        "GROUP BY c.consultation_id"))


def upgrade():
    fill_agreed(op.get_bind())


def downgrade():
    op.execute("DELETE FROM progress_counters WHERE dimension = 'pub_agreed'")
