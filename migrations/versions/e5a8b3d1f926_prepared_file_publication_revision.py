"""A prepared file of published comments records the publication's revision it was made from.

Such a file stayed downloadable at its own link after a later decision (a
comment rejected or redacted after publication), until it expired. The file
now carries the consultation's published_revision when it was asked for, and
is refused, and discarded, once the revision moves. NULL for every other file.

Revision ID: e5a8b3d1f926
Revises: d4f7a2c9e815
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e5a8b3d1f926'
down_revision = 'd4f7a2c9e815'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("background_jobs") as batch:
        batch.add_column(sa.Column("published_revision", sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table("background_jobs") as batch:
        batch.drop_column("published_revision")
