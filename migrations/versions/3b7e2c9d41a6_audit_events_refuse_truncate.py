"""The audit trail refuses TRUNCATE on PostgreSQL, as it already refuses UPDATE and DELETE.

TRUNCATE fires no row-level trigger, so a statement-level BEFORE TRUNCATE
trigger calls the same function that raises 'audit_events is append-only'.
SQLite has no TRUNCATE, so there is nothing to add there.

Revision ID: 3b7e2c9d41a6
Revises: 01c1d073c04a
Create Date: 2026-12-04
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '3b7e2c9d41a6'
down_revision = '01c1d073c04a'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
            FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()
        """)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_events_no_truncate ON audit_events")
