"""Accounts: when each last signed in, and when it was anonymised.

last_signed_in_at feeds the retention job, which anonymises stakeholder
accounts unused for ACCOUNT_RETENTION_YEARS. Existing accounts start with
no sign-in recorded, so the job counts from their creation date (or their
last comment) instead. anonymised_at marks an account whose email and name
have been erased; both columns are nullable, so no existing row changes.

Revision ID: acdfe6e8acdb
Revises: 161a9d8cf022
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'acdfe6e8acdb'
down_revision = '161a9d8cf022'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_signed_in_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('anonymised_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('anonymised_at')
        batch_op.drop_column('last_signed_in_at')
