"""Answers are moderated before they are published, as comments are.

Each answer gains the moderation a comment has: its state (waiting,
accepted, redacted, withheld from publication), the redacted copy that is
published instead of the participant's words, the reason words were
redacted or withheld, a note, who decided and when, and a version so that a decision
made on a stale page is refused rather than overwriting a colleague's.
Answers already given start as waiting for moderation, so nothing is
published that staff have not read. A new index serves one question's
answers by state, and the count of answers still waiting.

Revision ID: b5d2f8a41c60
Revises: b4e8d2c6a913
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

from consult.database import UTCDateTime


# revision identifiers, used by Alembic.
revision = 'b5d2f8a41c60'
down_revision = 'b4e8d2c6a913'
branch_labels = None
depends_on = None

REASONS = ('offensive', 'personal_data', 'out_of_scope', 'duplicate', 'spam', 'other')


def upgrade():
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'moderation_state',
            sa.Enum('new', 'accepted', 'redacted', 'withheld', name='answer_state', native_enum=False,
                    create_constraint=True, length=40),
            server_default='new', nullable=False))
        batch_op.add_column(sa.Column('redacted_text', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column(
            'moderation_reason',
            sa.Enum(*REASONS, name='moderation_reason', native_enum=False, create_constraint=True, length=40),
            nullable=True))
        batch_op.add_column(sa.Column('moderation_note', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('moderated_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('moderated_at', UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))
        batch_op.create_foreign_key(batch_op.f('fk_answers_moderated_by_id_users'), 'users',
                                    ['moderated_by_id'], ['id'])
        batch_op.create_check_constraint(batch_op.f('ck_answers_redacted_has_text'),
                                         "(moderation_state = 'redacted') = (redacted_text IS NOT NULL)")
        batch_op.create_check_constraint(
            batch_op.f('ck_answers_decided_words_have_reason'),
            "moderation_state NOT IN ('redacted', 'withheld') OR moderation_reason IS NOT NULL")
        batch_op.create_index('ix_answers_question_state', ['question_id', 'moderation_state', 'id'], unique=False)
    # The empty note was only there to fill the rows that existed; new rows get theirs from the application.
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.alter_column('moderation_note', server_default=None)


def downgrade():
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.drop_index('ix_answers_question_state')
        batch_op.drop_constraint(batch_op.f('ck_answers_decided_words_have_reason'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_answers_redacted_has_text'), type_='check')
        # The enums' own CHECKs go too, or SQLite's table copy would keep them after their columns.
        batch_op.drop_constraint(batch_op.f('ck_answers_moderation_reason'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_answers_answer_state'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_answers_moderated_by_id_users'), type_='foreignkey')
        batch_op.drop_column('version')
        batch_op.drop_column('moderated_at')
        batch_op.drop_column('moderated_by_id')
        batch_op.drop_column('moderation_note')
        batch_op.drop_column('moderation_reason')
        batch_op.drop_column('redacted_text')
        batch_op.drop_column('moderation_state')
