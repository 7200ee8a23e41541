"""Time in the unit's zone: the local day, and the UTC instants that bound it.

Times are stored as naive UTC; days (of a response, of a report period) are
local to ``SURVEY_TIMEZONE`` (Vietnam has no daylight saving time, but nothing
here assumes it).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo


def local_today(tz: str) -> date:
    return datetime.now(ZoneInfo(tz)).date()


def local_day(now_utc: datetime, tz: str) -> date:
    """The local day of a stored (naive UTC) instant."""
    return now_utc.replace(tzinfo=UTC).astimezone(ZoneInfo(tz)).date()


def local_time(moment: datetime, tz: str) -> datetime:
    """A stored (naive UTC) instant as an aware local time, for display."""
    return moment.replace(tzinfo=UTC).astimezone(ZoneInfo(tz))


def utc_start_of(day: date, tz: str) -> datetime:
    """The naive UTC instant at which ``day`` starts in ``tz``."""
    local = datetime.combine(day, time.min, tzinfo=ZoneInfo(tz))
    return local.astimezone(UTC).replace(tzinfo=None)
