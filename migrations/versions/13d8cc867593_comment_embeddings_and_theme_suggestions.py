"""Comment embeddings, theme suggestions and the latest suggestion run per consultation.

comment_embeddings holds each comment's sentence embedding (float32 bytes)
and its nearest neighbours, written by the worker. theme_suggestions holds
the system's suggestions: never tags; a person accepting one writes the tag,
and a rejected one is kept so it is not suggested again. Deleting a theme
deletes its suggestions. suggestion_runs keeps one row per consultation with
the comments to tag next and the possible new topics.

Revision ID: 13d8cc867593
Revises: e3a7c1d9b240
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

from consult.database import UTCDateTime


# revision identifiers, used by Alembic.
revision = '13d8cc867593'
down_revision = 'e3a7c1d9b240'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('suggestion_runs',
    sa.Column('consultation_id', sa.Integer(), nullable=False),
    sa.Column('finished_at', UTCDateTime(), nullable=False),
    sa.Column('next_to_tag', sa.JSON(), nullable=False),
    sa.Column('topics', sa.JSON(), nullable=False),
    sa.Column('figures', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultations.id'], name=op.f('fk_suggestion_runs_consultation_id_consultations')),
    sa.PrimaryKeyConstraint('consultation_id', name=op.f('pk_suggestion_runs'))
    )
    op.create_table('comment_embeddings',
    sa.Column('comment_id', sa.Integer(), nullable=False),
    sa.Column('model', sa.String(length=80), nullable=False),
    sa.Column('vector', sa.LargeBinary(), nullable=False),
    sa.Column('neighbours', sa.JSON(), nullable=False),
    sa.Column('embedded_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['comment_id'], ['comments.id'], name=op.f('fk_comment_embeddings_comment_id_comments')),
    sa.PrimaryKeyConstraint('comment_id', name=op.f('pk_comment_embeddings'))
    )
    op.create_table('theme_suggestions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('consultation_id', sa.Integer(), nullable=False),
    sa.Column('comment_id', sa.Integer(), nullable=False),
    sa.Column('theme_id', sa.Integer(), nullable=False),
    sa.Column('confidence', sa.Float(), nullable=False),
    sa.Column('state', sa.Enum('pending', 'rejected', name='suggestion_state', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('suggested_at', UTCDateTime(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', UTCDateTime(), nullable=True),
    sa.CheckConstraint('confidence >= 0 AND confidence <= 1', name=op.f('ck_theme_suggestions_confidence_is_a_share')),
    sa.ForeignKeyConstraint(['comment_id'], ['comments.id'], name=op.f('fk_theme_suggestions_comment_id_comments')),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultations.id'], name=op.f('fk_theme_suggestions_consultation_id_consultations')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_theme_suggestions_decided_by_id_users')),
    sa.ForeignKeyConstraint(['theme_id'], ['themes.id'], name=op.f('fk_theme_suggestions_theme_id_themes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_theme_suggestions')),
    sa.UniqueConstraint('comment_id', 'theme_id', name=op.f('uq_theme_suggestions_comment_id_theme_id'))
    )
    with op.batch_alter_table('theme_suggestions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_theme_suggestions_comment_id'), ['comment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_theme_suggestions_consultation_id'), ['consultation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_theme_suggestions_theme_id'), ['theme_id'], unique=False)



def downgrade():
    with op.batch_alter_table('theme_suggestions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_theme_suggestions_theme_id'))
        batch_op.drop_index(batch_op.f('ix_theme_suggestions_consultation_id'))
        batch_op.drop_index(batch_op.f('ix_theme_suggestions_comment_id'))

    op.drop_table('theme_suggestions')
    op.drop_table('comment_embeddings')
    op.drop_table('suggestion_runs')
