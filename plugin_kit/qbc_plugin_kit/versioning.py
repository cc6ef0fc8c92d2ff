"""Record version order (docs/record-model.md): ``updated_at``, then ``sync_token``, then
``edit_sequence`` (as an integer when it is all digits).

Versions are encoded as fixed-width text so that plain string comparison gives that order,
both in Python and wherever the text is stored.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

_MISSING_TIME = "0000-00-00T00:00:00.000000"


def _utc_text(value: Any) -> str:
    if value is None or value == "":
        return _MISSING_TIME
    if isinstance(value, str):
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    elif isinstance(value, dt.datetime):
        parsed = value
    else:
        raise ValueError(f"updated_at {value!r} is not a timestamp")
    if parsed.tzinfo is None:
        # Record-model timestamps carry their offset; a naive one is read as UTC.
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


def _sync_token_text(value: Any) -> str:
    if value is None or value == "":
        return "0" + "0" * 20
    return "1" + f"{int(value):020d}"


def _edit_sequence_text(value: Any) -> str:
    if value is None or value == "":
        return "0"
    text = str(value)
    if text.isdigit():
        return "1" + text.rjust(30, "0")
    return "2" + text


def version_text(record: Mapping[str, Any]) -> str:
    """Sortable version of a record; a larger text is a newer version."""
    return "|".join((
        _utc_text(record.get("updated_at")),
        _sync_token_text(record.get("sync_token")),
        _edit_sequence_text(record.get("edit_sequence")),
    ))
