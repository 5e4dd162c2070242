"""UK time, in one place: the zone every date a person reads or types is in.

Storage is always UTC. The zone comes from the DISPLAY_TIMEZONE setting, so
nothing outside config names it.
"""

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import current_app


def display_zone() -> ZoneInfo:
    """The zone people read and type dates in (ZoneInfo caches each zone, so this is cheap)."""
    return ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])


def clock_time(local: datetime) -> str:
    """'5pm', '5:30pm', 'midday' or 'midnight', as NICE writes times."""
    if (local.hour, local.minute) == (12, 0):
        return "midday"
    if (local.hour, local.minute) == (0, 0):
        return "midnight"
    hour = local.hour % 12 or 12
    minutes = f":{local.minute:02d}" if local.minute else ""
    return f"{hour}{minutes}{'am' if local.hour < 12 else 'pm'}"


def uk_clock(value: datetime | None) -> str:
    """'3:15pm': the UK time of day of a stored moment; every page says times this one way."""
    return clock_time(value.astimezone(display_zone())) if value is not None else ""


def uk_date(value: datetime | None) -> str:
    """'12 January 2027': the UK calendar day of a stored moment."""
    if value is None:
        return ""
    local = value.astimezone(display_zone())
    return f"{local.day} {local.strftime('%B %Y')}"


def uk_datetime(value: datetime | None) -> str:
    """'5pm on 12 January 2027': a stored moment in UK time, as NICE writes deadlines."""
    if value is None:
        return ""
    local = value.astimezone(display_zone())
    return f"{clock_time(local)} on {local.day} {local.strftime('%B %Y')}"


def uk_day_bounds(start: date | None, end: date | None) -> tuple[datetime | None, datetime | None]:
    """UK calendar days as UTC instants: from the start of `start` to the end of `end` (exclusive bound)."""
    zone = display_zone()
    starts_at = datetime.combine(start, time.min, tzinfo=zone).astimezone(timezone.utc) if start else None
    ends_before = (datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone).astimezone(timezone.utc)
                   if end else None)
    return starts_at, ends_before


def uk_local_time(day: date, at: time) -> datetime:
    """A UK wall-clock time on a day, as a UTC instant (5pm is 5pm in summer and in winter)."""
    return datetime.combine(day, at, tzinfo=display_zone()).astimezone(timezone.utc)


def spreadsheet_time(value: datetime | None) -> datetime | None:
    """UK time without a zone, as spreadsheets need it; the column heading says '(UK time)'."""
    return value.astimezone(display_zone()).replace(tzinfo=None) if value is not None else None
