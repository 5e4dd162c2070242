"""Shared model plumbing: the declarative base, UTC timestamps and SQLite's connection rules."""

import enum
from datetime import datetime, timezone

from flask import current_app, has_request_context, request
from sqlalchemy import DateTime, Enum, MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

# Named constraints keep Alembic scripts identical on SQLite and PostgreSQL,
# and let code recognise a constraint by name when the database refuses a row.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# The table arguments of every table whose rows people delete on pages that name them by id. SQLite gives a
# new row the highest id in use plus one, so a deleted newest row's id went to the next row made, and a form
# of the old row sent again (Back, then the button) acted on the new one. With AUTOINCREMENT SQLite never
# gives an id out twice, as PostgreSQL's sequences never do (migration c8e4a2f6d0b7).
IDS_NEVER_REUSED = {"sqlite_autoincrement": True}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Stores naive UTC and always hands back an aware UTC datetime.

    SQLite has no time zone type, so without this a value read back would
    compare wrongly against an aware "now" and deadlines would drift.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("Refusing a naive datetime: times must be aware (UTC).")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False
    )


def enum_type(enum_class: type[enum.Enum], name: str) -> Enum:
    """Enums stored as their readable values in a VARCHAR plus CHECK, the same on every database."""
    return Enum(enum_class, native_enum=False, length=40, name=name, create_constraint=True,
                values_callable=lambda e: [m.value for m in e], validate_strings=True)


class LabelledEnum(enum.Enum):
    """An enum whose members carry the words a person reads."""

    def __new__(cls, value: str, label: str):
        member = object.__new__(cls)
        member._value_ = value
        member.label = label
        return member


_UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}

# Marks a view whose writes all start with a statement that settles races by itself (a conditional
# UPDATE, an insert a unique constraint refuses), so on SQLite it may read before taking the write lock.
WRITE_LOCK_AT_FIRST_WRITE = "write_lock_at_first_write"


def write_lock_at_first_write(view):
    """Let this view read without SQLite's write lock and take it only at its first write.

    Every other writing request takes the lock at BEGIN. Taking it at the first
    write instead shortens the time one request keeps every other writer
    waiting to the writes themselves; what the view read before is then as
    fresh as each read was, as on PostgreSQL at READ COMMITTED, so only a view
    whose rules are enforced by the writes themselves may say so.
    """
    setattr(view, WRITE_LOCK_AT_FIRST_WRITE, True)
    return view


def _takes_write_lock_at_first_write() -> bool:
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    return getattr(view, WRITE_LOCK_AT_FIRST_WRITE, False)


def _may_write(statement: str, context) -> bool:
    """Whether a statement writes or is meant to lock: anything but a plain SELECT.

    A SAVEPOINT counts, since it opens a transaction on SQLite; so does a SELECT
    ... FOR UPDATE, which SQLite cannot express and the lock has to stand for.
    """
    if not statement.lstrip()[:6].upper() == "SELECT":
        return True
    compiled = getattr(context, "compiled", None)
    return getattr(getattr(compiled, "statement", None), "_for_update_arg", None) is not None


def configure_sqlite(engine: Engine) -> None:
    """Give SQLite real transactions, WAL, a busy timeout and foreign keys.

    pysqlite's own transaction handling skips BEGIN before reads, which breaks
    SAVEPOINTs; we emit BEGIN ourselves. A request that may write takes the
    write lock with BEGIN IMMEDIATE so that two writers queue on busy_timeout
    instead of one failing with "database is locked" halfway through: in WAL
    mode a transaction that read first cannot upgrade to a writer once another
    connection has committed since its read (SQLITE_BUSY_SNAPSHOT, no waiting).

    A view marked with write_lock_at_first_write runs its reads outside a
    transaction, each on the latest data, and its transaction begins
    IMMEDIATE just before its first write, so it waits for the lock there and
    holds it only for its writes. Work outside a request (the worker's jobs
    and sweeps, commands) does the same: it reads, often for long, before it
    writes, and must neither fail when staff save a page in between nor keep
    every request waiting while it reads. So does every page read (GET): most
    never write, and the few that do (opening a comment records who is reading
    it; a first look at a consultation's counts builds them) failed with
    "database is locked" whenever a colleague or the worker had saved since
    the page began. Their reads see what is committed, as on PostgreSQL at
    READ COMMITTED.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=15000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        in_request = has_request_context()
        writing = in_request and request.method in _UNSAFE_METHODS
        if not writing or _takes_write_lock_at_first_write():
            connection.info[_PENDING_WRITE_LOCK] = True
            return
        connection.info.pop(_PENDING_WRITE_LOCK, None)
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    @event.listens_for(engine, "before_cursor_execute")
    def _lock_before_first_write(connection, _cursor, statement, _parameters, context, _many) -> None:
        if connection.info.get(_PENDING_WRITE_LOCK) and _may_write(statement, context):
            del connection.info[_PENDING_WRITE_LOCK]
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _forget_pending_lock(connection) -> None:
        connection.info.pop(_PENDING_WRITE_LOCK, None)


# Set on a connection whose transaction has not begun in SQLite yet: its first write begins it.
_PENDING_WRITE_LOCK = "consult.pending_write_lock"
