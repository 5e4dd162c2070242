"""Campaigns, and responses entered by staff from paper or email.

Campaigns group comments that are copies or rewordings of one letter; a
comment belongs to one campaign at most (campaign_members is keyed by the
comment), and each membership says how it was found: identical,
near-duplicate or paraphrase (VARCHAR plus CHECK, as every enum here).

Comments gain the sender's own id for a response entered by staff
(external_id, unique within a consultation, so one file cannot be imported
twice) and an entered_by_staff marker; existing comments were all written
by their authors, hence the server default false.

Revision ID: 01c1d073c04a
Revises: 5ea9cfaa1ee7
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

from consult.database import UTCDateTime

# revision identifiers, used by Alembic.
revision = '01c1d073c04a'
down_revision = '5ea9cfaa1ee7'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('campaigns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('consultation_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultations.id'], name=op.f('fk_campaigns_consultation_id_consultations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaigns'))
    )
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaigns_consultation_id'), ['consultation_id'], unique=False)

    op.create_table('campaign_members',
    sa.Column('comment_id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('method', sa.Enum('identical', 'near-duplicate', 'paraphrase', name='membership_method', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('score', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_campaign_members_campaign_id_campaigns')),
    sa.ForeignKeyConstraint(['comment_id'], ['comments.id'], name=op.f('fk_campaign_members_comment_id_comments')),
    sa.PrimaryKeyConstraint('comment_id', name=op.f('pk_campaign_members'))
    )
    with op.batch_alter_table('campaign_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaign_members_campaign_id'), ['campaign_id'], unique=False)

    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('external_id', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('entered_by_staff', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_unique_constraint(batch_op.f('uq_comments_consultation_id_external_id'), ['consultation_id', 'external_id'])


def downgrade():
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_comments_consultation_id_external_id'), type_='unique')
        batch_op.drop_column('entered_by_staff')
        batch_op.drop_column('external_id')

    with op.batch_alter_table('campaign_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaign_members_campaign_id'))
    op.drop_table('campaign_members')

    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaigns_consultation_id'))
    op.drop_table('campaigns')
