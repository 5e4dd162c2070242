"""Recording and reading the audit trail. Nothing here updates or deletes a row."""

import enum
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from flask import g, has_request_context
from sqlalchemy import Select, select
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


AUDIT_CSV_COLUMNS = ["Time (UTC)", "Actor", "Action", "Object type", "Object id", "Before", "After", "Request id"]


def audit_csv_rows(filters: AuditFilter) -> Iterator[str]:
    """The filtered trail as CSV lines, streamed in batches rather than built in memory.

    Actors are loaded with their events, so a long trail costs no query per row.
    """
    def rows() -> Iterator[list]:
        # Queried on the first read, inside the streamed response's own context.
        events = db.session.scalars(audit_query(filters).options(selectinload(AuditEvent.actor))
                                    .execution_options(yield_per=500))
        for event in events:
            yield [event.occurred_at.isoformat(), event.actor.email if event.actor else "system", event.action,
                   event.object_type, event.object_id, json.dumps(event.before, sort_keys=True),
                   json.dumps(event.after, sort_keys=True), event.request_id]

    return table_csv(rows(), AUDIT_CSV_COLUMNS)
