"""Running counts: each theme's comments that already have a response (theme_responded|<theme id>).

The pages that answer, merge or delete a theme say how many of its comments
already have a response; they counted the theme's tags on every view, and a
theme can hold most of 100,000 comments. The count is now kept with the
others (consult/moderation/counters.py), and the data step below counts each
existing theme once, by the same rule: a submitted comment carrying the
theme, with a response in any state.

Revision ID: f7b3c9e2a514
Revises: e5a8b3d1f926
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'f7b3c9e2a514'
down_revision = 'e5a8b3d1f926'
branch_labels = None
depends_on = None


def fill_theme_responded(connection) -> None:
    """Count each theme's submitted comments with a response (none yet stored)."""
    connection.execute(sa.text(
        "INSERT INTO progress_counters (consultation_id, dimension, key, n) "
        "SELECT c.consultation_id, 'theme_responded', CAST(t.theme_id AS VARCHAR(80)), COUNT(*) "
        "FROM comment_themes t JOIN comments c ON c.id = t.comment_id "
        "JOIN comment_responses r ON r.comment_id = c.id "
        "WHERE c.status = 'submitted' "
        "GROUP BY c.consultation_id, t.theme_id"))


def upgrade():
    fill_theme_responded(op.get_bind())


def downgrade():
    op.execute("DELETE FROM progress_counters WHERE dimension = 'theme_responded'")
