"""How a consultation's dates are said to the people taking part, in one place.

"Closes in 3 days (5pm on 9 December)", "Closes today at 5pm", "Closes
tomorrow at 5pm", "Closed on 9 December 2026", "Opens on 2 December 2026 at
9am". Days are counted on the UK calendar, so "today" and "tomorrow" are right
in the hour after midnight and across the clock changes; the time is UK wall
clock time.
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from consult.uk_time import clock_time, display_zone


def _day(local: datetime, today: datetime, with_year: bool = False) -> str:
    year = f" {local.year}" if with_year or local.year != today.year else ""
    return f"{local.day} {local.strftime('%B')}{year}"


def deadline_wording(opens_at: datetime, closes_at: datetime, now: datetime, zone: ZoneInfo | None = None) -> str:
    """What a person needs to know about the dates at `now`: when it opens, how long is left, or when it closed."""
    zone = zone or display_zone()
    today = now.astimezone(zone)
    if now < opens_at:
        opens = opens_at.astimezone(zone)
        return f"Opens on {_day(opens, today, with_year=True)} at {clock_time(opens)}"
    closes = closes_at.astimezone(zone)
    time = clock_time(closes)
    # A close at midnight ends the day before: that is the last day to comment, and the day it closed on.
    last_day = closes - timedelta(minutes=1) if time == "midnight" else closes
    if now >= closes_at:
        return f"Closed on {_day(last_day, today, with_year=True)}"
    days = (last_day.date() - today.date()).days
    if days == 0:
        return f"Closes today at {time}"
    if days == 1:
        return f"Closes tomorrow at {time}"
    when = f"midnight at the end of {_day(last_day, today)}" if time == "midnight" else f"{time} on {_day(closes, today)}"
    return f"Closes in {days} days ({when})"
