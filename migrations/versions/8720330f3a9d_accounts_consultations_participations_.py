"""Accounts, consultations with their documents, and stakeholders' participations and comments.

Times are stored as naive UTC (the app's UTCDateTime type adds the zone back).
Enums are VARCHAR plus a named CHECK so that SQLite and PostgreSQL behave alike.
The rules the stakeholder journey depends on live here as constraints:
one participation per user and consultation, comment numbers unique within a
consultation, a comment's target matching the ids it carries, and the
10,000-character limit on a comment.

Revision ID: 8720330f3a9d
Revises:
Create Date: 2026-11-21
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '8720330f3a9d'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('consultations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('opens_at', sa.DateTime(), nullable=False),
    sa.Column('closes_at', sa.DateTime(), nullable=False),
    sa.Column('is_draft', sa.Boolean(), nullable=False),
    sa.Column('last_comment_number', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('closes_at > opens_at', name=op.f('ck_consultations_closes_after_opens')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consultations')),
    sa.UniqueConstraint('reference', name=op.f('uq_consultations_reference'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.Enum('stakeholder', 'staff', 'committee', 'admin', name='role', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('session_token', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    op.create_table('documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('consultation_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('numbers_generated', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultations.id'], name=op.f('fk_documents_consultation_id_consultations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_documents')),
    sa.UniqueConstraint('consultation_id', 'position', name=op.f('uq_documents_consultation_id_position'))
    )
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_documents_consultation_id'), ['consultation_id'], unique=False)

    op.create_table('participations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('consultation_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('individual', 'organisation', name='participant_kind', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('individual_type', sa.Enum('member_of_public', 'patient_or_carer', 'health_professional', 'researcher', 'other', name='individual_type', native_enum=False, create_constraint=True, length=40), nullable=True),
    sa.Column('organisation_name', sa.String(length=200), nullable=True),
    sa.Column('organisation_type', sa.Enum('charity_or_patient_group', 'professional_body', 'nhs_or_public_body', 'company_or_industry', 'other', name='organisation_type', native_enum=False, create_constraint=True, length=40), nullable=True),
    sa.Column('has_tobacco_links', sa.Boolean(), nullable=False),
    sa.Column('tobacco_details', sa.Text(), nullable=False),
    sa.Column('other_interests', sa.Text(), nullable=False),
    sa.Column('publish_name', sa.Boolean(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=True),
    sa.Column('receipt_reference', sa.String(length=40), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("(kind = 'individual' AND individual_type IS NOT NULL AND organisation_name IS NULL AND organisation_type IS NULL) OR (kind = 'organisation' AND organisation_name IS NOT NULL AND organisation_type IS NOT NULL AND individual_type IS NULL)", name=op.f('ck_participations_kind_details')),
    sa.CheckConstraint("has_tobacco_links OR tobacco_details = ''", name=op.f('ck_participations_tobacco_details_only_with_links')),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultations.id'], name=op.f('fk_participations_consultation_id_consultations')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_participations_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_participations')),
    sa.UniqueConstraint('receipt_reference', name=op.f('uq_participations_receipt_reference')),
    sa.UniqueConstraint('user_id', 'consultation_id', name=op.f('uq_participations_user_id_consultation_id'))
    )
    with op.batch_alter_table('participations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_participations_consultation_id'), ['consultation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_participations_user_id'), ['user_id'], unique=False)

    op.create_table('chapters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=10), nullable=True),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('anchor', sa.String(length=80), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_chapters_document_id_documents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chapters')),
    sa.UniqueConstraint('document_id', 'anchor', name=op.f('uq_chapters_document_id_anchor')),
    sa.UniqueConstraint('document_id', 'position', name=op.f('uq_chapters_document_id_position'))
    )
    with op.batch_alter_table('chapters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chapters_document_id'), ['document_id'], unique=False)

    op.create_table('sections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('chapter_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('heading', sa.String(length=300), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('anchor', sa.String(length=80), nullable=False),
    sa.ForeignKeyConstraint(['chapter_id'], ['chapters.id'], name=op.f('fk_sections_chapter_id_chapters'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_sections_document_id_documents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sections')),
    sa.UniqueConstraint('document_id', 'anchor', name=op.f('uq_sections_document_id_anchor')),
    sa.UniqueConstraint('document_id', 'number', name=op.f('uq_sections_document_id_number')),
    sa.UniqueConstraint('document_id', 'position', name=op.f('uq_sections_document_id_position'))
    )
    with op.batch_alter_table('sections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sections_chapter_id'), ['chapter_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sections_document_id'), ['document_id'], unique=False)

    op.create_table('comments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('participation_id', sa.Integer(), nullable=False),
    sa.Column('consultation_id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('chapter_id', sa.Integer(), nullable=True),
    sa.Column('section_id', sa.Integer(), nullable=True),
    sa.Column('target', sa.Enum('document', 'chapter', 'section', name='comment_target', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('quote', sa.Text(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'submitted', name='comment_status', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('number', sa.Integer(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("(status = 'submitted') = (number IS NOT NULL)", name=op.f('ck_comments_number_once_submitted')),
    sa.CheckConstraint("(target = 'document' AND chapter_id IS NULL AND section_id IS NULL) OR (target = 'chapter' AND chapter_id IS NOT NULL AND section_id IS NULL) OR (target = 'section' AND chapter_id IS NOT NULL AND section_id IS NOT NULL)", name=op.f('ck_comments_target_matches_ids')),
    sa.CheckConstraint("quote IS NULL OR target = 'section'", name=op.f('ck_comments_quote_only_on_section')),
    sa.CheckConstraint('length(body) BETWEEN 1 AND 10000', name=op.f('ck_comments_body_length')),
    sa.ForeignKeyConstraint(['chapter_id'], ['chapters.id'], name=op.f('fk_comments_chapter_id_chapters')),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultations.id'], name=op.f('fk_comments_consultation_id_consultations')),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_comments_document_id_documents')),
    sa.ForeignKeyConstraint(['participation_id'], ['participations.id'], name=op.f('fk_comments_participation_id_participations')),
    sa.ForeignKeyConstraint(['section_id'], ['sections.id'], name=op.f('fk_comments_section_id_sections')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_comments')),
    sa.UniqueConstraint('consultation_id', 'number', name=op.f('uq_comments_consultation_id_number'))
    )
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_comments_chapter_id'), ['chapter_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_comments_consultation_id'), ['consultation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_comments_document_id'), ['document_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_comments_participation_id'), ['participation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_comments_section_id'), ['section_id'], unique=False)



def downgrade():
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_comments_section_id'))
        batch_op.drop_index(batch_op.f('ix_comments_participation_id'))
        batch_op.drop_index(batch_op.f('ix_comments_document_id'))
        batch_op.drop_index(batch_op.f('ix_comments_consultation_id'))
        batch_op.drop_index(batch_op.f('ix_comments_chapter_id'))

    op.drop_table('comments')
    with op.batch_alter_table('sections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sections_document_id'))
        batch_op.drop_index(batch_op.f('ix_sections_chapter_id'))

    op.drop_table('sections')
    with op.batch_alter_table('chapters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chapters_document_id'))

    op.drop_table('chapters')
    with op.batch_alter_table('participations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_participations_user_id'))
        batch_op.drop_index(batch_op.f('ix_participations_consultation_id'))

    op.drop_table('participations')
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_documents_consultation_id'))

    op.drop_table('documents')
    op.drop_table('users')
    op.drop_table('consultations')
