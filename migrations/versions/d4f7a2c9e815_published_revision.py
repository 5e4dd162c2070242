"""Consultations count the changes to what their published pages show (published_revision).

The public pages of published comments are kept per process, keyed by the
consultation and its publication. A decision, a redaction or a response
made after publication did not change that key, so each process went on
showing what it had first read: a comment rejected after publication stayed
public, and two processes could show different pages. The revision moves in
the same transaction as any such change, and the pages are keyed by it too.

Revision ID: d4f7a2c9e815
Revises: c8e1f4a7b392
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'd4f7a2c9e815'
down_revision = 'c8e1f4a7b392'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("consultations") as batch:
        batch.add_column(sa.Column("published_revision", sa.Integer(), nullable=False, server_default=sa.text("0")))


def downgrade():
    with op.batch_alter_table("consultations") as batch:
        batch.drop_column("published_revision")
