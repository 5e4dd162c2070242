"""Drop the server defaults that only filled in rows existing before 161a9d8cf022.

comments.moderation_state ('new'), comments.moderation_note ('') and
consultations.version (1) were given server defaults so that the NOT NULL
columns could be added to existing rows. The models set these values
themselves and declare no server default, so the defaults made the database
differ from the models, and an INSERT that forgot a column would have been
quietly filled in rather than refused. Existing rows keep their values.

Revision ID: 5ea9cfaa1ee7
Revises: acdfe6e8acdb
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '5ea9cfaa1ee7'
down_revision = 'acdfe6e8acdb'
branch_labels = None
depends_on = None

MODERATION_STATE = sa.Enum('new', 'accepted', 'rejected', 'redacted', name='moderation_state', native_enum=False,
                           create_constraint=True, length=40)


def upgrade():
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.alter_column('moderation_state', existing_type=MODERATION_STATE, existing_nullable=False,
                              existing_server_default='new', server_default=None)
        batch_op.alter_column('moderation_note', existing_type=sa.Text(), existing_nullable=False,
                              existing_server_default='', server_default=None)

    with op.batch_alter_table('consultations', schema=None) as batch_op:
        batch_op.alter_column('version', existing_type=sa.Integer(), existing_nullable=False,
                              existing_server_default='1', server_default=None)


def downgrade():
    with op.batch_alter_table('consultations', schema=None) as batch_op:
        batch_op.alter_column('version', existing_type=sa.Integer(), existing_nullable=False, server_default='1')

    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.alter_column('moderation_note', existing_type=sa.Text(), existing_nullable=False,
                              server_default='')
        batch_op.alter_column('moderation_state', existing_type=MODERATION_STATE, existing_nullable=False,
                              server_default='new')
