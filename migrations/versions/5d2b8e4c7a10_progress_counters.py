"""Running counts per consultation (progress_counters), filled from the comments already there.

Pages that show progress, theme usage and the committee's review read these
rows instead of counting every comment; the services that move a count keep
them in step in the same transaction. The data step below counts each
existing consultation once, with the same rules as
consult/moderation/counters.py (which documents each dimension).

Revision ID: 5d2b8e4c7a10
Revises: b7d2e4a6c810
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '5d2b8e4c7a10'
down_revision = 'b7d2e4a6c810'
branch_labels = None
depends_on = None

SUBMITTED = ("FROM comments c JOIN participations p ON p.id = c.participation_id "
             "WHERE c.status = 'submitted'")
TYPE_KEY = ("p.kind || CASE WHEN COALESCE(p.individual_type, p.organisation_type) IS NULL THEN '' "
            "ELSE ':' || COALESCE(p.individual_type, p.organisation_type) END")
TAGGED = "EXISTS (SELECT 1 FROM comment_themes t WHERE t.comment_id = c.id)"
ANSWERED = ("EXISTS (SELECT 1 FROM comment_responses r WHERE r.comment_id = c.id "
            "AND r.state IN ('agreed', 'not_needed'))")
PUBLISHABLE = "c.moderation_state != 'rejected'"
THEME = "CAST(ct.theme_id AS VARCHAR(20))"

# (dimension, key expression, extra join, extra condition): one grouped count each.
COUNTS = [
    ("all", "'submitted'", "", ""),
    ("all", "'triaged'", "", "c.moderation_state != 'new'"),
    ("all", "'themed'", "", TAGGED),
    ("all", "'answered'", "", ANSWERED),
    ("state", "c.moderation_state", "", ""),
    ("theme_type", f"{THEME} || '|' || {TYPE_KEY}", "JOIN comment_themes ct ON ct.comment_id = c.id", ""),
    ("pub", "'total'", "", PUBLISHABLE),
    ("pub_theme", THEME, "JOIN comment_themes ct ON ct.comment_id = c.id", PUBLISHABLE),
    ("pub_theme", "'none'", "", f"{PUBLISHABLE} AND NOT {TAGGED}"),
    ("pub_section", "COALESCE(CAST(c.section_id AS VARCHAR(20)), '') || '|' || "
                    "COALESCE(CAST(c.chapter_id AS VARCHAR(20)), '')", "", PUBLISHABLE),
    ("pub_theme_type", f"{THEME} || '|' || {TYPE_KEY}", "JOIN comment_themes ct ON ct.comment_id = c.id",
     PUBLISHABLE),
    ("pub_theme_type", f"'none|' || {TYPE_KEY}", "", f"{PUBLISHABLE} AND NOT {TAGGED}"),
]


def fill_counters(connection) -> None:
    """Count every consultation's comments afresh into progress_counters (assumed empty)."""
    for dimension, key, join, condition in COUNTS:
        source = SUBMITTED.replace(" WHERE ", f" {join} WHERE ") if join else SUBMITTED
        where = f" AND {condition}" if condition else ""
        connection.execute(sa.text(
            f"INSERT INTO progress_counters (consultation_id, dimension, key, n) "
            f"SELECT c.consultation_id, '{dimension}', {key}, COUNT(*) {source}{where} "
            "GROUP BY 1, 3"))  # by position: PostgreSQL refuses a constant key in GROUP BY
    connection.execute(sa.text(
        "INSERT INTO progress_counters (consultation_id, dimension, key, n) "
        "SELECT id, 'all', 'built', 1 FROM consultations"))


def upgrade():
    op.create_table('progress_counters',
    sa.Column('consultation_id', sa.Integer(), nullable=False),
    sa.Column('dimension', sa.String(length=20), nullable=False),
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultations.id'],
                            name=op.f('fk_progress_counters_consultation_id_consultations')),
    sa.PrimaryKeyConstraint('consultation_id', 'dimension', 'key', name=op.f('pk_progress_counters'))
    )
    fill_counters(op.get_bind())


def downgrade():
    op.drop_table('progress_counters')
