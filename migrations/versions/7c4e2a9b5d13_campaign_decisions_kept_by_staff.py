"""Staff decisions about campaigns, kept when the comments are grouped again.

campaign_members.placed_by_staff marks a member staff put in its campaign
(by merging two campaigns or splitting one); regrouping leaves it there.
Existing memberships were all found by the grouping job, hence the server
default false. campaign_detachments records each comment staff took out of
its campaign, who did it and when; regrouping never puts it back in one.

Revision ID: 7c4e2a9b5d13
Revises: b5d2f8a41c60
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

from consult.database import UTCDateTime


# revision identifiers, used by Alembic.
revision = '7c4e2a9b5d13'
down_revision = 'b5d2f8a41c60'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('campaign_members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('placed_by_staff', sa.Boolean(), nullable=False, server_default=sa.false()))

    op.create_table('campaign_detachments',
    sa.Column('comment_id', sa.Integer(), nullable=False),
    sa.Column('consultation_id', sa.Integer(), nullable=False),
    sa.Column('detached_by_id', sa.Integer(), nullable=True),
    sa.Column('detached_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['comment_id'], ['comments.id'], name=op.f('fk_campaign_detachments_comment_id_comments')),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultations.id'], name=op.f('fk_campaign_detachments_consultation_id_consultations')),
    sa.ForeignKeyConstraint(['detached_by_id'], ['users.id'], name=op.f('fk_campaign_detachments_detached_by_id_users')),
    sa.PrimaryKeyConstraint('comment_id', name=op.f('pk_campaign_detachments'))
    )
    with op.batch_alter_table('campaign_detachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaign_detachments_consultation_id'), ['consultation_id'], unique=False)


def downgrade():
    with op.batch_alter_table('campaign_detachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaign_detachments_consultation_id'))
    op.drop_table('campaign_detachments')

    with op.batch_alter_table('campaign_members', schema=None) as batch_op:
        batch_op.drop_column('placed_by_staff')
