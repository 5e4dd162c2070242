"""Recording and reading the audit trail. Nothing here updates or deletes a row."""

import enum
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from flask import g, has_request_context
from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import selectinload

from consult.audit.models import AuditEvent
from consult.downloads import table_csv
from consult.extensions import db


def snapshot(obj, fields: Iterable[str]) -> dict:
    """The named attributes as JSON-safe values, for an event's before/after."""
    values = {}
    for name in fields:
        value = getattr(obj, name)
        if isinstance(value, enum.Enum):
            value = value.value
        elif isinstance(value, datetime):
            value = value.isoformat()
        values[name] = value
    return values


def record(actor, action: str, obj, before: dict | None = None, after: dict | None = None) -> AuditEvent:
    """Append one event: `actor` did `action` to `obj`. Called by every staff and admin service."""
    event = AuditEvent(
        actor_id=getattr(actor, "id", None),
        action=action,
        object_type=type(obj).__tablename__ if hasattr(type(obj), "__tablename__") else type(obj).__name__,
        object_id=str(getattr(obj, "id", obj)),
        before=before,
        after=after,
        request_id=g.get("request_id", "") if has_request_context() else "",
    )
    db.session.add(event)
    return event


@dataclass(frozen=True)
class AuditFilter:
    actor_id: int | None = None
    object_type: str | None = None
    object_id: str | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def audit_query(filters: AuditFilter) -> Select:
    """One query for the admin page and its CSV export, newest first."""
    query = select(AuditEvent).order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
    if filters.actor_id is not None:
        query = query.where(AuditEvent.actor_id == filters.actor_id)
    if filters.object_type:
        query = query.where(AuditEvent.object_type == filters.object_type)
    if filters.object_id:
        query = query.where(AuditEvent.object_id == filters.object_id)
    if filters.action:
        query = query.where(AuditEvent.action == filters.action)
    if filters.since:
        query = query.where(AuditEvent.occurred_at >= filters.since)
    if filters.until:
        query = query.where(AuditEvent.occurred_at < filters.until)
    return query


@dataclass(frozen=True)
class AuditPage:
    """A page of the trail, newest first, with the event ids that lead to the next pages (None at an end)."""

    events: list[AuditEvent]
    newer_than: int | None  # link to newer events: those newer than this event
    older_than: int | None  # link to older events: those older than this event


def _position(event_id: int):
    """The (occurred_at, id) of an event, or None for an id that is not in the trail."""
    return db.session.execute(select(AuditEvent.occurred_at, AuditEvent.id).where(AuditEvent.id == event_id)).first()


def audit_page(filters: AuditFilter, size: int, older_than: int | None = None,
               newer_than: int | None = None) -> AuditPage | None:
    """One page of the filtered trail by keyset on (occurred_at, id): no OFFSET and no COUNT.

    `older_than` (the next page) or `newer_than` (the previous page) is an
    event id from the page before; None when that event does not exist.
    Each page is one range read on the occurred_at index, however deep.
    """
    query = audit_query(filters).options(selectinload(AuditEvent.actor))
    cursor_id = older_than if older_than is not None else newer_than
    if cursor_id is not None:
        position = _position(cursor_id)
        if position is None:
            return None
        at, event_id = position
        if older_than is not None:
            query = query.where(or_(AuditEvent.occurred_at < at,
                                    and_(AuditEvent.occurred_at == at, AuditEvent.id < event_id)))
        else:
            query = query.where(or_(AuditEvent.occurred_at > at,
                                    and_(AuditEvent.occurred_at == at, AuditEvent.id > event_id)))
            query = query.order_by(None).order_by(AuditEvent.occurred_at.asc(), AuditEvent.id.asc())
    events = list(db.session.scalars(query.limit(size + 1)))
    more = len(events) > size
    events = events[:size]
    if newer_than is not None:
        events.reverse()
        has_newer, has_older = more, True
    else:
        has_newer, has_older = older_than is not None, more
    return AuditPage(events, events[0].id if events and has_newer else None,
                     events[-1].id if events and has_older else None)


AUDIT_CSV_COLUMNS = ["Time (UTC)", "Actor", "Action", "Object type", "Object id", "Before", "After", "Request id"]
_CSV_BATCH = 500


def audit_csv_rows(filters: AuditFilter, extra_columns: list[str] | None = None,
                   extra: Callable[[list[AuditEvent]], dict[int, list]] | None = None) -> Iterator[str]:
    """The filtered trail as CSV lines, streamed in batches rather than built in memory.

    The raw fields always come first. `extra` may add readable columns
    (named by `extra_columns`): it is given each batch of events and returns
    their values by event id. Actors are loaded with their events, so a long
    trail costs a fixed number of queries per batch, not per row.
    """
    def rows() -> Iterator[list]:
        # Queried on the first read, inside the streamed response's own context.
        result = db.session.scalars(audit_query(filters).options(selectinload(AuditEvent.actor))
                                    .execution_options(yield_per=_CSV_BATCH))
        for batch in result.partitions(_CSV_BATCH):
            added = extra(list(batch)) if extra else {}
            for event in batch:
                yield [event.occurred_at.isoformat(), event.actor.email if event.actor else "system", event.action,
                       event.object_type, event.object_id, json.dumps(event.before, sort_keys=True),
                       json.dumps(event.after, sort_keys=True), event.request_id, *added.get(event.id, [])]

    return table_csv(rows(), AUDIT_CSV_COLUMNS + (extra_columns or []))
