"""Email outbox; confirmed email addresses and deactivated accounts.

Accounts that exist before this revision were made before addresses were
confirmed, so they count as confirmed from the day they were created: a
person part-way through a consultation is not stopped from submitting.

Revision ID: 3c5e7a1f9b20
Revises: 9c4f1e7a2b58
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '3c5e7a1f9b20'
down_revision = '9c4f1e7a2b58'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('outbox_emails',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('to', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('html', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'sending', 'sent', 'failed', name='outbox_status', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
    sa.Column('claimed_at', sa.DateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_emails'))
    )
    with op.batch_alter_table('outbox_emails', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_emails_status_next_attempt_at', ['status', 'next_attempt_at'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_verified_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('deactivated_at', sa.DateTime(), nullable=True))
    op.execute("UPDATE users SET email_verified_at = created_at")


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('deactivated_at')
        batch_op.drop_column('email_verified_at')

    with op.batch_alter_table('outbox_emails', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_emails_status_next_attempt_at')
    op.drop_table('outbox_emails')
