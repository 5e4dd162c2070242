"""Organisations, their commenting leads, and the codes leads share with colleagues.

An organisation (name, type) responds through accounts staff mark as its
commenting leads; a lead leads one organisation (organisation_leads is keyed
by the user). A lead asks for one code per organisation and consultation
(organisation_codes, unique per pair and across the service, 12 digits with
no leading zero). Colleagues who enter it take part on the organisation's
behalf: participations gain the organisation and the role in its response
(lead or colleague); a colleague never submits, and a partial unique index
lets one participation per organisation and consultation be submitted.
Comments gain the moment a colleague sent them to the lead (then read-only)
and, on the lead's copy, the original they were copied from (set to NULL if
the original goes when its author's account is erased; the copy stays).

Revision ID: e3a9c5d17b42
Revises: e3a91c5d7f20
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

from consult.database import UTCDateTime

# revision identifiers, used by Alembic.
revision = 'e3a9c5d17b42'
down_revision = 'e3a91c5d7f20'
branch_labels = None
depends_on = None

ORGANISATION_TYPES = ('charity_or_patient_group', 'professional_body', 'nhs_or_public_body', 'company_or_industry',
                      'other')
SUBMITTED = sa.text('submitted_at IS NOT NULL')


def upgrade():
    op.create_table('organisations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_key', sa.String(length=200), nullable=False),
    sa.Column('type', sa.Enum(*ORGANISATION_TYPES, name='organisation_type', native_enum=False,
                              create_constraint=True, length=40), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisations')),
    sa.UniqueConstraint('name_key', name=op.f('uq_organisations_name_key'))
    )
    op.create_table('organisation_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('consultation_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=12), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.CheckConstraint("length(code) = 12 AND substr(code, 1, 1) != '0'",
                       name=op.f('ck_organisation_codes_code_shape')),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultations.id'],
                            name=op.f('fk_organisation_codes_consultation_id_consultations')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_organisation_codes_created_by_id_users')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'],
                            name=op.f('fk_organisation_codes_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation_codes')),
    sa.UniqueConstraint('code', name=op.f('uq_organisation_codes_code')),
    sa.UniqueConstraint('organisation_id', 'consultation_id',
                        name=op.f('uq_organisation_codes_organisation_id_consultation_id'))
    )
    with op.batch_alter_table('organisation_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organisation_codes_consultation_id'), ['consultation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_organisation_codes_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('organisation_leads',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('marked_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['marked_by_id'], ['users.id'], name=op.f('fk_organisation_leads_marked_by_id_users')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'],
                            name=op.f('fk_organisation_leads_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_organisation_leads_user_id_users')),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_organisation_leads'))
    )
    with op.batch_alter_table('organisation_leads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organisation_leads_organisation_id'), ['organisation_id'], unique=False)

    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sent_to_lead_at', UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('original_comment_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_comments_original_comment_id'), ['original_comment_id'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_comments_participation_id_original_comment_id'),
                                          ['participation_id', 'original_comment_id'])
        batch_op.create_foreign_key(batch_op.f('fk_comments_original_comment_id_comments'), 'comments',
                                    ['original_comment_id'], ['id'], ondelete='SET NULL')
        batch_op.create_check_constraint(op.f('ck_comments_sent_to_lead_stays_draft'),
                                         "sent_to_lead_at IS NULL OR status = 'draft'")

    with op.batch_alter_table('participations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('organisation_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('organisation_role', sa.Enum('lead', 'colleague', name='organisation_role',
                                                                   native_enum=False, create_constraint=True,
                                                                   length=40), nullable=True))
        batch_op.create_index(batch_op.f('ix_participations_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index('uq_participations_one_submission_per_organisation',
                              ['organisation_id', 'consultation_id'], unique=True,
                              sqlite_where=SUBMITTED, postgresql_where=SUBMITTED)
        batch_op.create_foreign_key(batch_op.f('fk_participations_organisation_id_organisations'), 'organisations',
                                    ['organisation_id'], ['id'])
        batch_op.create_check_constraint(
            op.f('ck_participations_organisation_role_needs_organisation'),
            "organisation_role IS NULL OR (kind = 'organisation' AND organisation_id IS NOT NULL)")
        batch_op.create_check_constraint(
            op.f('ck_participations_colleague_never_submits'),
            "organisation_role IS NULL OR organisation_role = 'lead' OR submitted_at IS NULL")


def downgrade():
    with op.batch_alter_table('participations', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_participations_colleague_never_submits'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_participations_organisation_role_needs_organisation'), type_='check')
        # The enum's own CHECK names the column dropped below.
        batch_op.drop_constraint(batch_op.f('ck_participations_organisation_role'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_participations_organisation_id_organisations'), type_='foreignkey')
        batch_op.drop_index('uq_participations_one_submission_per_organisation',
                            sqlite_where=SUBMITTED, postgresql_where=SUBMITTED)
        batch_op.drop_index(batch_op.f('ix_participations_organisation_id'))
        batch_op.drop_column('organisation_role')
        batch_op.drop_column('organisation_id')

    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_comments_sent_to_lead_stays_draft'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_comments_original_comment_id_comments'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_comments_participation_id_original_comment_id'), type_='unique')
        batch_op.drop_index(batch_op.f('ix_comments_original_comment_id'))
        batch_op.drop_column('original_comment_id')
        batch_op.drop_column('sent_to_lead_at')

    with op.batch_alter_table('organisation_leads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organisation_leads_organisation_id'))
    op.drop_table('organisation_leads')
    with op.batch_alter_table('organisation_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organisation_codes_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_organisation_codes_consultation_id'))
    op.drop_table('organisation_codes')
    op.drop_table('organisations')
