"""QuickBooks time: the workstation's local wall clock, written with its UTC offset.

QuickBooks stamps TimeCreated/TimeModified from the clock of the machine that saved the
record and writes them as ``2025-03-04T10:11:12-05:00``. A filter date sent without an offset
(``2025-03-04T10:11:12`` or just ``2025-03-04``) is read as that same local time.
Internally everything is whole UTC epoch seconds: QuickBooks keeps no sub-second part.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone

_OFFSET = re.compile(r"^([+-])(\d{1,2}):(\d{2})$")
_DATETIME = re.compile(
    r"^(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:T(\d{1,2})(?::(\d{1,2})(?::(\d{1,2})([+-]\d{1,2}:\d{1,2})?)?)?)?$"
)


def parse_offset(text: str) -> timezone:
    match = _OFFSET.match(text.strip())
    if not match:
        raise ValueError(f"company tz must look like -05:00, got {text!r}")
    sign = -1 if match.group(1) == "-" else 1
    delta = timedelta(hours=int(match.group(2)), minutes=int(match.group(3)))
    return timezone(sign * delta)


def format_local(epoch: int, tz: timezone) -> str:
    """``2025-03-04T10:11:12-05:00`` for an epoch second, in the company's offset."""
    return datetime.fromtimestamp(epoch, tz).isoformat(timespec="seconds")


def parse_filter_datetime(text: str, tz: timezone, *, end_of_day: bool = False) -> int:
    """Epoch second of a DATETIMETYPE filter value; raises ValueError when it is not a date.

    A bare date as an upper bound covers that whole day, as QuickBooks' date filters do.
    """
    match = _DATETIME.match(text.strip())
    if not match:
        raise ValueError(text)
    year, month, day, hour, minute, second, offset = match.groups()
    moment = datetime(
        int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0),
        tzinfo=parse_offset(offset) if offset else tz,
    )
    if end_of_day and hour is None:
        moment += timedelta(days=1, seconds=-1)
    return int(moment.timestamp())


def parse_date(text: str) -> date:
    return date.fromisoformat(text.strip())


def now_epoch() -> int:
    return int(datetime.now(UTC).timestamp())
