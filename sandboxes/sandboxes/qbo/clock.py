"""Company-local timestamps as Intuit writes them: second precision with the UTC offset kept."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo


def to_epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def from_epoch(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def format_timestamp(seconds: int, tz: ZoneInfo) -> str:
    return from_epoch(seconds).astimezone(tz).isoformat(timespec="seconds")


def server_time(tz: ZoneInfo) -> str:
    """The `time` member of every response: milliseconds and offset, as Intuit sends it."""
    return datetime.now(tz).isoformat(timespec="milliseconds")


_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_instant(text: str, tz: ZoneInfo) -> datetime:
    """Parse a query/CDC timestamp literal; a missing offset means the company's zone."""
    value = text.strip()
    if _DATE_ONLY.match(value):
        day = date.fromisoformat(value)
        return datetime(day.year, day.month, day.day, tzinfo=tz)
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment


def local_date(seconds: int, tz: ZoneInfo) -> date:
    return from_epoch(seconds).astimezone(tz).date()


def days_between(earlier: date, later: date) -> int:
    return (later - earlier) // timedelta(days=1)
