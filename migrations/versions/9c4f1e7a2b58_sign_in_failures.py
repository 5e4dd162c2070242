"""Sign-in attempts counted in the database, so every worker and instance shares one count.

One row per bucket (an account as untrusted browsers reach it, or one
trusted device of it, stored as a hash) and time window; the application
adds to `attempts` with a single INSERT ... ON CONFLICT DO UPDATE, so two
processes counting at once never lose an attempt.

Revision ID: 9c4f1e7a2b58
Revises: 3b7e2c9d41a6
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '9c4f1e7a2b58'
down_revision = '3b7e2c9d41a6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'sign_in_failures',
        sa.Column('bucket', sa.String(length=64), nullable=False),
        sa.Column('window_start', sa.DateTime(), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.CheckConstraint('attempts >= 0', name=op.f('ck_sign_in_failures_attempts_not_negative')),
        sa.PrimaryKeyConstraint('bucket', 'window_start', name=op.f('pk_sign_in_failures')),
    )


def downgrade():
    op.drop_table('sign_in_failures')
