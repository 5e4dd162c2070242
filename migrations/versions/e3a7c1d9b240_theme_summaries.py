"""A committee summary on each theme.

themes.summary holds what staff write about the comments under a theme, for
the committee's review page, the themed workbook and the Word table. It is
added with a server default of '' so that existing themes get an empty
summary, and the default is then dropped, as the model sets the value itself
(see 5ea9cfaa1ee7 for why no server default is kept).

Revision ID: e3a7c1d9b240
Revises: a7c4e2f9d130
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e3a7c1d9b240'
down_revision = 'a7c4e2f9d130'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('themes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('summary', sa.Text(), nullable=False, server_default=''))
    with op.batch_alter_table('themes', schema=None) as batch_op:
        batch_op.alter_column('summary', existing_type=sa.Text(), existing_nullable=False,
                              existing_server_default='', server_default=None)


def downgrade():
    with op.batch_alter_table('themes', schema=None) as batch_op:
        batch_op.drop_column('summary')
