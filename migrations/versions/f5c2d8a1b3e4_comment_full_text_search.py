"""Full-text search over comments: GIN indexes on PostgreSQL, an FTS5 table on SQLite.

consult/comments/search.py explains the query syntax and why two texts are indexed
(what staff can read, and the original words that only admins may search). The
expressions here are that module's, word for word: PostgreSQL uses an expression
index only for a query that repeats its expression.

On SQLite the comment_search table holds a copy of both texts per comment, kept in
step by three triggers on comments. A later migration that rebuilds the comments
table in batch mode drops those triggers with the old table and must create them
again, as create_sqlite_triggers() below does (tests/comments/test_search.py fails
if it does not).

Revision ID: f5c2d8a1b3e4
Revises: e3a9c5d17b42
Create Date: 2026-12-04
"""
import re

from alembic import op


# revision identifiers, used by Alembic.
revision = 'f5c2d8a1b3e4'
down_revision = 'e3a9c5d17b42'
branch_labels = None
depends_on = None

# Copied from consult/comments/search.py as they were when this ran; tests/comments/test_search.py
# checks the two still agree, since queries must repeat the indexed expressions exactly.
SEARCH_TABLE = "comment_search"
SHOWN_INDEX = "ix_comments_search_shown"
ORIGINAL_INDEX = "ix_comments_search_original"
SHOWN_SQL = ("(CASE WHEN moderation_state = 'redacted' THEN COALESCE(redacted_body, '') ELSE body END"
             " || ' ' || CASE WHEN moderation_state = 'redacted' AND redacted_quote IS NOT NULL"
             " THEN redacted_quote ELSE COALESCE(quote, '') END)")
ORIGINAL_SQL = "(body || ' ' || COALESCE(quote, ''))"
POSTGRES_DOCUMENT = "to_tsvector('english'::regconfig, {})"
_COLUMN = re.compile(r"\b(moderation_state|redacted_body|redacted_quote|body|quote)\b")


def _row(prefix: str) -> tuple[str, str]:
    """SHOWN_SQL and ORIGINAL_SQL reading the columns of NEW or OLD in a trigger."""
    return tuple(_COLUMN.sub(lambda m: f"{prefix}.{m.group(1)}", sql) for sql in (SHOWN_SQL, ORIGINAL_SQL))


def create_sqlite_triggers() -> None:
    shown, original = _row("new")
    insert = f"INSERT INTO {SEARCH_TABLE}(rowid, shown, original) VALUES (new.id, {shown}, {original});"
    op.execute(f"CREATE TRIGGER {SEARCH_TABLE}_insert AFTER INSERT ON comments BEGIN {insert} END")
    op.execute(f"CREATE TRIGGER {SEARCH_TABLE}_update AFTER UPDATE OF body, quote, redacted_body, redacted_quote, "
               f"moderation_state ON comments BEGIN DELETE FROM {SEARCH_TABLE} WHERE rowid = old.id; {insert} END")
    op.execute(f"CREATE TRIGGER {SEARCH_TABLE}_delete AFTER DELETE ON comments BEGIN "
               f"DELETE FROM {SEARCH_TABLE} WHERE rowid = old.id; END")


def upgrade():
    if op.get_context().dialect.name == "postgresql":
        op.execute(f"CREATE INDEX {SHOWN_INDEX} ON comments USING gin ({POSTGRES_DOCUMENT.format(SHOWN_SQL)})")
        op.execute(f"CREATE INDEX {ORIGINAL_INDEX} ON comments USING gin ({POSTGRES_DOCUMENT.format(ORIGINAL_SQL)})")
        return
    op.execute(f"CREATE VIRTUAL TABLE {SEARCH_TABLE} USING fts5(shown, original, tokenize='porter unicode61')")
    op.execute(f"INSERT INTO {SEARCH_TABLE}(rowid, shown, original) SELECT id, {SHOWN_SQL}, {ORIGINAL_SQL} FROM comments")
    create_sqlite_triggers()


def downgrade():
    if op.get_context().dialect.name == "postgresql":
        op.execute(f"DROP INDEX {ORIGINAL_INDEX}")
        op.execute(f"DROP INDEX {SHOWN_INDEX}")
        return
    for event in ("delete", "update", "insert"):
        op.execute(f"DROP TRIGGER {SEARCH_TABLE}_{event}")
    op.execute(f"DROP TABLE {SEARCH_TABLE}")
