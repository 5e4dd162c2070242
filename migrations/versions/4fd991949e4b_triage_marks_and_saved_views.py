"""Triage marks (a flag, a note, who is reading a comment) and staff's saved queue views.

triage_marks holds at most one row per comment, made the first time someone
flags, notes or opens it; nothing in it is a moderation decision, so it lives
beside the comment rather than moving the comment's version. saved_views are
a member of staff's own named filter sets, one name once per consultation.

Revision ID: 4fd991949e4b
Revises: f5c2d8a1b3e4
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '4fd991949e4b'
down_revision = 'f5c2d8a1b3e4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('saved_views',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('consultation_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('query', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultations.id'],
                            name=op.f('fk_saved_views_consultation_id_consultations')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_saved_views_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_views')),
    sa.UniqueConstraint('user_id', 'consultation_id', 'name',
                        name=op.f('uq_saved_views_user_id_consultation_id_name'))
    )
    with op.batch_alter_table('saved_views', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_saved_views_consultation_id'), ['consultation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_saved_views_user_id'), ['user_id'], unique=False)

    op.create_table('triage_marks',
    sa.Column('comment_id', sa.Integer(), nullable=False),
    sa.Column('flagged', sa.Boolean(), nullable=False),
    sa.Column('flagged_by_id', sa.Integer(), nullable=True),
    sa.Column('flagged_at', sa.DateTime(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('note_by_id', sa.Integer(), nullable=True),
    sa.Column('note_at', sa.DateTime(), nullable=True),
    sa.Column('note_version', sa.Integer(), nullable=False),
    sa.Column('reader_id', sa.Integer(), nullable=True),
    sa.Column('reading_since', sa.DateTime(), nullable=True),
    sa.CheckConstraint("note = '' OR (note_by_id IS NOT NULL AND note_at IS NOT NULL)",
                       name=op.f('ck_triage_marks_note_has_who_and_when')),
    sa.CheckConstraint('(reader_id IS NULL) = (reading_since IS NULL)',
                       name=op.f('ck_triage_marks_reader_has_since')),
    sa.CheckConstraint('NOT flagged OR (flagged_by_id IS NOT NULL AND flagged_at IS NOT NULL)',
                       name=op.f('ck_triage_marks_flag_has_who_and_when')),
    sa.ForeignKeyConstraint(['comment_id'], ['comments.id'], name=op.f('fk_triage_marks_comment_id_comments')),
    sa.ForeignKeyConstraint(['flagged_by_id'], ['users.id'], name=op.f('fk_triage_marks_flagged_by_id_users')),
    sa.ForeignKeyConstraint(['note_by_id'], ['users.id'], name=op.f('fk_triage_marks_note_by_id_users')),
    sa.ForeignKeyConstraint(['reader_id'], ['users.id'], name=op.f('fk_triage_marks_reader_id_users')),
    sa.PrimaryKeyConstraint('comment_id', name=op.f('pk_triage_marks'))
    )
    with op.batch_alter_table('triage_marks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_triage_marks_reader_id'), ['reader_id'], unique=False)


def downgrade():
    with op.batch_alter_table('triage_marks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_triage_marks_reader_id'))
    op.drop_table('triage_marks')
    with op.batch_alter_table('saved_views', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_saved_views_user_id'))
        batch_op.drop_index(batch_op.f('ix_saved_views_consultation_id'))
    op.drop_table('saved_views')
