"""The deadline wording, around the UK day boundaries in winter (GMT) and summer (BST)."""

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from consult.consultations.deadlines import clock_time, deadline_wording

UK = ZoneInfo("Europe/London")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def uk(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UK).astimezone(timezone.utc)


OPENED = uk("2026-01-05T09:00")
WINTER_CLOSE = uk("2026-12-09T17:00")  # 17:00 GMT
SUMMER_CLOSE = uk("2026-06-09T17:00")  # 16:00 UTC


@pytest.mark.parametrize("now, closes, expected", [
    (uk("2026-12-06T17:00"), WINTER_CLOSE, "Closes in 3 days (5pm on 9 December)"),
    (uk("2026-12-06T23:59"), WINTER_CLOSE, "Closes in 3 days (5pm on 9 December)"),
    (uk("2026-12-07T00:00"), WINTER_CLOSE, "Closes in 2 days (5pm on 9 December)"),
    (uk("2026-12-08T00:00"), WINTER_CLOSE, "Closes tomorrow at 5pm"),
    (uk("2026-12-08T23:59"), WINTER_CLOSE, "Closes tomorrow at 5pm"),
    (uk("2026-12-09T00:00"), WINTER_CLOSE, "Closes today at 5pm"),
    (uk("2026-12-09T16:59"), WINTER_CLOSE, "Closes today at 5pm"),
    (WINTER_CLOSE, WINTER_CLOSE, "Closed on 9 December 2026"),
    (uk("2027-02-01T10:00"), WINTER_CLOSE, "Closed on 9 December 2026"),
    # In summer the UK day starts at 23:00 UTC: half past midnight on the 9th is already "today".
    (utc("2026-06-08T23:30"), SUMMER_CLOSE, "Closes today at 5pm"),
    (utc("2026-06-08T22:59"), SUMMER_CLOSE, "Closes tomorrow at 5pm"),
    (utc("2026-06-09T15:59"), SUMMER_CLOSE, "Closes today at 5pm"),
    (utc("2026-06-09T16:00"), SUMMER_CLOSE, "Closed on 9 June 2026"),
    # Across the end of summer time (25 October 2026): still calendar days, still 5pm UK time.
    (uk("2026-10-24T12:00"), uk("2026-10-26T17:00"), "Closes in 2 days (5pm on 26 October)"),
    (utc("2026-10-24T23:30"), uk("2026-10-26T17:00"), "Closes tomorrow at 5pm"),
    # Another year is named; other times are said as written.
    (uk("2026-12-20T12:00"), uk("2027-01-05T17:30"), "Closes in 16 days (5:30pm on 5 January 2027)"),
    (uk("2026-12-08T12:00"), uk("2026-12-09T12:00"), "Closes tomorrow at midday"),
    # Midnight closes at the end of the day before, which is the last day to comment.
    (uk("2026-12-09T08:00"), uk("2026-12-10T00:00"), "Closes today at midnight"),
    (uk("2026-12-06T08:00"), uk("2026-12-10T00:00"), "Closes in 3 days (midnight at the end of 9 December)"),
    (uk("2026-12-10T00:00"), uk("2026-12-10T00:00"), "Closed on 9 December 2026"),
])
def test_deadline_wording_counts_uk_calendar_days(now, closes, expected):
    assert deadline_wording(OPENED, closes, now, UK) == expected


@pytest.mark.parametrize("now, opens, expected", [
    (uk("2026-10-20T12:00"), uk("2026-11-01T09:00"), "Opens on 1 November 2026 at 9am"),
    (utc("2026-06-01T23:30"), uk("2026-06-02T09:30"), "Opens on 2 June 2026 at 9:30am"),
])
def test_a_consultation_not_yet_open_says_when_it_opens(now, opens, expected):
    assert deadline_wording(opens, uk("2027-01-01T17:00"), now, UK) == expected


@pytest.mark.parametrize("hour, minute, expected", [
    (0, 0, "midnight"), (0, 30, "12:30am"), (9, 0, "9am"), (12, 0, "midday"), (12, 5, "12:05pm"),
    (17, 0, "5pm"), (23, 59, "11:59pm"),
])
def test_clock_time(hour, minute, expected):
    assert clock_time(datetime(2026, 12, 9, hour, minute, tzinfo=UK)) == expected
