"""Counting the SQL a request sends, for tests that prove a page has no N+1."""

import re
from contextlib import contextmanager

from sqlalchemy import event

from consult.extensions import db


@contextmanager
def counted_queries():
    """Every statement sent to the database while the block runs, in order."""
    statements: list[str] = []

    def record(_connection, _cursor, statement, _parameters, _context, _executemany) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def statement_shape(statement: str) -> str:
    """A statement with its IN-list collapsed, so the same query at two sizes reads the same."""
    statement = re.sub(r"\((?:\s*(?:\?|%\(\w+\)s|\$\d+)\s*,?)+\)", "(…)", statement)
    statement = re.sub(r"\[POSTCOMPILE_\w+\]", "…", statement)
    statement = re.sub(r"sa_savepoint_\d+", "sa_savepoint_N", statement)
    return " ".join(statement.split())
