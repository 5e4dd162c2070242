"""Index comments by document part and number, for paging published comments and drill-downs.

The public page of published comments and the committee's drill-downs read
one document part (a section, a chapter, or a whole document) at a time,
in comment-number order, from a cursor. With this index each page is a
short range scan that needs no sort, whatever the consultation's size.

Revision ID: b7d2e4a6c810
Revises: 3c5e7a1f9b20
Create Date: 2026-12-04
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'b7d2e4a6c810'
down_revision = '3c5e7a1f9b20'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_comments_part_number', 'comments',
                    ['consultation_id', 'document_id', 'chapter_id', 'section_id', 'number'])


def downgrade():
    op.drop_index('ix_comments_part_number', table_name='comments')
