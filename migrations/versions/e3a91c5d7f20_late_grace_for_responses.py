"""Consultations take responses that arrive a few seconds after closing (late_grace_seconds).

At a deadline many people submit at once, and a response sent at 16:59:59 can
reach a web worker after 17:00:00. Each consultation now says how many seconds
after closes_at such late arrivals are still taken (15 unless staff change it,
at most 600); the pages still say the consultation has closed.

Revision ID: e3a91c5d7f20
Revises: 5d2b8e4c7a10
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e3a91c5d7f20'
down_revision = '5d2b8e4c7a10'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('consultations', schema=None) as batch_op:
        # The server default fills existing rows; the model gives new rows the same value.
        batch_op.add_column(sa.Column('late_grace_seconds', sa.Integer(), nullable=False, server_default='15'))
        batch_op.create_check_constraint(op.f('ck_consultations_late_grace_in_range'),
                                        'late_grace_seconds BETWEEN 0 AND 600')
    with op.batch_alter_table('consultations', schema=None) as batch_op:
        batch_op.alter_column('late_grace_seconds', server_default=None)


def downgrade():
    with op.batch_alter_table('consultations', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_consultations_late_grace_in_range'), type_='check')
        batch_op.drop_column('late_grace_seconds')
