"""Consultation questions and stakeholders' answers to them.

questions: asked about a whole consultation or one of its documents, in an
order staff choose (unique position per consultation); a declaration staff
switch on (interest in formal support) is a yes/no question marked with it.
answers: one per participation and question, enforced by a unique constraint.

Revision ID: c3e9a1f5d247
Revises: 4fd991949e4b
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c3e9a1f5d247'
down_revision = '4fd991949e4b'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'questions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('consultation_id', sa.Integer(), nullable=False),
        sa.Column('document_id', sa.Integer(), nullable=True),
        sa.Column('kind', sa.Enum('open', 'yes_no', name='question_kind', native_enum=False, length=40,
                                  create_constraint=True), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('declaration', sa.Enum('formal_support', name='declaration', native_enum=False, length=40,
                                         create_constraint=True), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint("declaration IS NULL OR (kind = 'yes_no' AND document_id IS NULL)",
                           name=op.f('ck_questions_declaration_is_yes_no')),
        sa.CheckConstraint('length(text) BETWEEN 1 AND 1000', name=op.f('ck_questions_text_length')),
        sa.ForeignKeyConstraint(['consultation_id'], ['consultations.id'],
                                name=op.f('fk_questions_consultation_id_consultations'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['document_id'], ['documents.id'],
                                name=op.f('fk_questions_document_id_documents'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_questions')),
        sa.UniqueConstraint('consultation_id', 'declaration', name=op.f('uq_questions_consultation_id_declaration')),
        sa.UniqueConstraint('consultation_id', 'position', name=op.f('uq_questions_consultation_id_position')),
    )
    with op.batch_alter_table('questions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_questions_consultation_id'), ['consultation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_questions_document_id'), ['document_id'], unique=False)

    op.create_table(
        'answers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('participation_id', sa.Integer(), nullable=False),
        sa.Column('question_id', sa.Integer(), nullable=False),
        sa.Column('yes_no', sa.Boolean(), nullable=True),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint('length(text) <= 10000', name=op.f('ck_answers_text_length')),
        sa.ForeignKeyConstraint(['participation_id'], ['participations.id'],
                                name=op.f('fk_answers_participation_id_participations')),
        sa.ForeignKeyConstraint(['question_id'], ['questions.id'], name=op.f('fk_answers_question_id_questions')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_answers')),
        sa.UniqueConstraint('participation_id', 'question_id', name=op.f('uq_answers_participation_id_question_id')),
    )
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_answers_question_id'), ['question_id'], unique=False)


def downgrade():
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_answers_question_id'))
    op.drop_table('answers')
    with op.batch_alter_table('questions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_questions_document_id'))
        batch_op.drop_index(batch_op.f('ix_questions_consultation_id'))
    op.drop_table('questions')
