"""Colleagues' answers can be sent to their organisation's lead (answers.sent_to_lead_at).

A colleague sends their comments and answers to the lead together. Sent answers
become read-only; the lead's response takes each one, and where colleagues
answered a question differently the lead chooses before submitting.

Revision ID: a7c4e2f9d130
Revises: c3e9a1f5d247
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'a7c4e2f9d130'
down_revision = 'c3e9a1f5d247'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sent_to_lead_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.drop_column('sent_to_lead_at')
