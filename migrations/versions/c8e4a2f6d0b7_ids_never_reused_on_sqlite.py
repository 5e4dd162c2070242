"""Ids never given out twice on SQLite, for the rows people delete on pages that name them by id.

SQLite gives a new row the highest id in use plus one, so once the newest
theme is merged away or deleted, the next theme made gets its id. A merge
or delete form of the old theme sent again (Back, then the button) then
acted on that new theme, which nobody chose; an edit of a deleted draft
could land on a newer draft the same way. PostgreSQL's sequences never
give an id out twice, and with AUTOINCREMENT neither does SQLite. Each table
people delete rows of by id (themes, saved views, comments, questions,
answers, campaigns, theme suggestions) is rebuilt in batch mode with it.
The comments table's full-text search triggers go with the old table, so
they are made again, as revision f5c2d8a1b3e4 made them.

PostgreSQL needs nothing: this revision does nothing there.

Revision ID: c8e4a2f6d0b7
Revises: d1c7e5a3f849
Create Date: 2026-12-05
"""
import re

from alembic import op

# revision identifiers, used by Alembic.
revision = 'c8e4a2f6d0b7'
down_revision = 'd1c7e5a3f849'
branch_labels = None
depends_on = None

TABLES = ("themes", "saved_views", "questions", "answers", "campaigns", "theme_suggestions", "comments")

# As revision f5c2d8a1b3e4 wrote them (copied, as a migration must not change when that one's module does).
SEARCH_TABLE = "comment_search"
SHOWN_SQL = ("(CASE WHEN moderation_state = 'redacted' THEN COALESCE(redacted_body, '') ELSE body END"
             " || ' ' || CASE WHEN moderation_state = 'redacted' AND redacted_quote IS NOT NULL"
             " THEN redacted_quote ELSE COALESCE(quote, '') END)")
ORIGINAL_SQL = "(body || ' ' || COALESCE(quote, ''))"
_COLUMN = re.compile(r"\b(moderation_state|redacted_body|redacted_quote|body|quote)\b")


def _search_triggers() -> None:
    shown, original = (_COLUMN.sub(lambda m: f"new.{m.group(1)}", sql) for sql in (SHOWN_SQL, ORIGINAL_SQL))
    insert = f"INSERT INTO {SEARCH_TABLE}(rowid, shown, original) VALUES (new.id, {shown}, {original});"
    op.execute(f"CREATE TRIGGER {SEARCH_TABLE}_insert AFTER INSERT ON comments BEGIN {insert} END")
    op.execute(f"CREATE TRIGGER {SEARCH_TABLE}_update AFTER UPDATE OF body, quote, redacted_body, redacted_quote, "
               f"moderation_state ON comments BEGIN DELETE FROM {SEARCH_TABLE} WHERE rowid = old.id; {insert} END")
    op.execute(f"CREATE TRIGGER {SEARCH_TABLE}_delete AFTER DELETE ON comments BEGIN "
               f"DELETE FROM {SEARCH_TABLE} WHERE rowid = old.id; END")


def _rebuild(autoincrement: bool) -> None:
    if op.get_context().dialect.name != "sqlite":
        return
    for table in TABLES:
        with op.batch_alter_table(table, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}):
            pass
    _search_triggers()


def upgrade():
    _rebuild(autoincrement=True)


def downgrade():
    _rebuild(autoincrement=False)
