"""Staff workspace: moderation, themes, responses, committee assignments and the audit trail.

Existing comments start as moderation state 'new' and existing consultations
at version 1 (server defaults, so the NOT NULL columns can be added to rows
that already exist). A rejection must carry a reason and a redaction its
redacted text. Audit events are append-only: besides the ORM guard,
triggers refuse UPDATE and DELETE on audit_events from any client.

Revision ID: 161a9d8cf022
Revises: 8720330f3a9d
Create Date: 2026-11-21
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '161a9d8cf022'
down_revision = '8720330f3a9d'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=80), nullable=False),
    sa.Column('object_type', sa.String(length=40), nullable=False),
    sa.Column('object_id', sa.String(length=40), nullable=False),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.Column('occurred_at', sa.DateTime(), nullable=False),
    sa.Column('request_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_audit_events_actor_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_occurred_at'), ['occurred_at'], unique=False)
    _create_audit_guard()

    op.create_table('committee_assignments',
    sa.Column('consultation_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('assigned_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultations.id'], name=op.f('fk_committee_assignments_consultation_id_consultations')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_committee_assignments_user_id_users')),
    sa.PrimaryKeyConstraint('consultation_id', 'user_id', name=op.f('pk_committee_assignments'))
    )
    with op.batch_alter_table('committee_assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_committee_assignments_user_id'), ['user_id'], unique=False)

    op.create_table('themes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('consultation_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultations.id'], name=op.f('fk_themes_consultation_id_consultations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_themes')),
    sa.UniqueConstraint('consultation_id', 'name', name=op.f('uq_themes_consultation_id_name'))
    )
    with op.batch_alter_table('themes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_themes_consultation_id'), ['consultation_id'], unique=False)

    op.create_table('comment_responses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('comment_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('draft', 'agreed', 'not_needed', name='response_state', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("state != 'not_needed' OR length(reason) > 0", name=op.f('ck_comment_responses_not_needed_has_reason')),
    sa.CheckConstraint("state = 'not_needed' OR length(text) > 0", name=op.f('ck_comment_responses_response_has_text')),
    sa.ForeignKeyConstraint(['comment_id'], ['comments.id'], name=op.f('fk_comment_responses_comment_id_comments')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_comment_responses_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_comment_responses')),
    sa.UniqueConstraint('comment_id', name=op.f('uq_comment_responses_comment_id'))
    )
    op.create_table('comment_themes',
    sa.Column('comment_id', sa.Integer(), nullable=False),
    sa.Column('theme_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.Enum('person', 'system', name='tag_source', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('tagged_by_id', sa.Integer(), nullable=True),
    sa.Column('tagged_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['comment_id'], ['comments.id'], name=op.f('fk_comment_themes_comment_id_comments')),
    sa.ForeignKeyConstraint(['tagged_by_id'], ['users.id'], name=op.f('fk_comment_themes_tagged_by_id_users')),
    sa.ForeignKeyConstraint(['theme_id'], ['themes.id'], name=op.f('fk_comment_themes_theme_id_themes')),
    sa.PrimaryKeyConstraint('comment_id', 'theme_id', name=op.f('pk_comment_themes'))
    )
    with op.batch_alter_table('comment_themes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_comment_themes_theme_id'), ['theme_id'], unique=False)

    op.create_table('moderation_decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('comment_id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=False),
    sa.Column('from_state', sa.Enum('new', 'accepted', 'rejected', 'redacted', name='from_state', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('to_state', sa.Enum('new', 'accepted', 'rejected', 'redacted', name='to_state', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('reason', sa.Enum('offensive', 'personal_data', 'out_of_scope', 'duplicate', 'spam', 'other', name='rejection_reason', native_enum=False, create_constraint=True, length=40), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_moderation_decisions_actor_id_users')),
    sa.ForeignKeyConstraint(['comment_id'], ['comments.id'], name=op.f('fk_moderation_decisions_comment_id_comments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_moderation_decisions'))
    )
    with op.batch_alter_table('moderation_decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_moderation_decisions_comment_id'), ['comment_id'], unique=False)

    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('moderation_state', sa.Enum('new', 'accepted', 'rejected', 'redacted', name='moderation_state', native_enum=False, create_constraint=True, length=40), nullable=False, server_default='new'))
        batch_op.add_column(sa.Column('rejection_reason', sa.Enum('offensive', 'personal_data', 'out_of_scope', 'duplicate', 'spam', 'other', name='rejection_reason', native_enum=False, create_constraint=True, length=40), nullable=True))
        batch_op.add_column(sa.Column('moderation_note', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('redacted_body', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('redacted_quote', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('moderated_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('moderated_at', sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_comments_moderation_state'), ['moderation_state'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_comments_moderated_by_id_users'), 'users', ['moderated_by_id'], ['id'])
        batch_op.create_check_constraint(
            op.f('ck_comments_rejection_has_reason'),
            "moderation_state != 'rejected' OR rejection_reason IS NOT NULL")
        batch_op.create_check_constraint(
            op.f('ck_comments_redaction_has_text'),
            "moderation_state != 'redacted' OR redacted_body IS NOT NULL")

    with op.batch_alter_table('consultations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('published_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='1'))



def downgrade():
    _drop_audit_guard()
    with op.batch_alter_table('consultations', schema=None) as batch_op:
        batch_op.drop_column('version')
        batch_op.drop_column('published_at')

    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_comments_redaction_has_text'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_comments_rejection_has_reason'), type_='check')
        # The enums' own CHECKs name the columns dropped below.
        batch_op.drop_constraint(batch_op.f('ck_comments_rejection_reason'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_comments_moderation_state'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_comments_moderated_by_id_users'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_comments_moderation_state'))
        batch_op.drop_column('moderated_at')
        batch_op.drop_column('moderated_by_id')
        batch_op.drop_column('redacted_quote')
        batch_op.drop_column('redacted_body')
        batch_op.drop_column('moderation_note')
        batch_op.drop_column('rejection_reason')
        batch_op.drop_column('moderation_state')

    with op.batch_alter_table('moderation_decisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_moderation_decisions_comment_id'))

    op.drop_table('moderation_decisions')
    with op.batch_alter_table('comment_themes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_comment_themes_theme_id'))

    op.drop_table('comment_themes')
    op.drop_table('comment_responses')
    with op.batch_alter_table('themes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_themes_consultation_id'))

    op.drop_table('themes')
    with op.batch_alter_table('committee_assignments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_committee_assignments_user_id'))

    op.drop_table('committee_assignments')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_occurred_at'))
        batch_op.drop_index(batch_op.f('ix_audit_events_actor_id'))
        batch_op.drop_index(batch_op.f('ix_audit_events_action'))

    op.drop_table('audit_events')


def _create_audit_guard():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION audit_events_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'audit_events is append-only';
            END;
            $$ LANGUAGE plpgsql
        """)
        op.execute("""
            CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
            FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()
        """)
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(f"""
                CREATE TRIGGER audit_events_no_{event.lower()} BEFORE {event} ON audit_events
                BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END
            """)


def _drop_audit_guard():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_events_append_only ON audit_events")
        op.execute("DROP FUNCTION audit_events_append_only()")
    else:
        op.execute("DROP TRIGGER audit_events_no_update")
        op.execute("DROP TRIGGER audit_events_no_delete")
