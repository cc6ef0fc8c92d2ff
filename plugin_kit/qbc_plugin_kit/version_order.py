"""The record-model version order (docs/delivery-contract.md), written once.

A record replaces the stored version of its key only if it is **not older**, comparing in turn:

1. ``updated_at`` as a UTC instant (a deletion without one counts from its ``_sdc_deleted_at``;
   otherwise missing is the oldest);
2. at the same instant a deletion is newer than a live version: QuickBooks cannot restore a
   deleted object, and a deletion carries no ``sync_token`` or ``edit_sequence`` (QBD's
   ``TxnDeletedQuery`` answers only ``TimeDeleted``);
3. ``sync_token`` as an integer (missing is the oldest);
4. ``edit_sequence``: missing, then all-digit values as integers, then other text by code point.

The same order has three forms, all tested on one table of cases: a Python key
(:func:`version_key`), a sortable text for destinations that store a version
(:func:`version_text`), and SQL for the SQL targets (:func:`supersedes_sql`).

Equal versions: the later arrival wins. A destination that overwrites (SQL ``MERGE`` with a
``>=`` guard, Salesforce upserts) gets that for free; one that can only append (Power BI push
tables) must say in the stored text which arrived last. So :func:`version_text` takes an
``arrival`` stamp (:func:`arrival_stamp`, increasing within a process and with the clock across
runs) and appends it when the record has **no version field at all**: then every version of a
key is equal and only arrival tells them apart. A record with a version field keeps the same
text whenever it arrives, so a re-sent version stays a duplicate.
"""

from __future__ import annotations

import datetime as dt
import operator
import threading
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any

UPDATED_AT = "updated_at"
SYNC_TOKEN = "sync_token"  # noqa: S105 - a column name, not a secret
EDIT_SEQUENCE = "edit_sequence"
DELETED_AT = "_sdc_deleted_at"
VERSION_COLUMNS = (UPDATED_AT, SYNC_TOKEN, EDIT_SEQUENCE, DELETED_AT)

_EPOCH_FLOOR = dt.datetime(1, 1, 1, tzinfo=dt.UTC)

VersionKey = tuple[dt.datetime, int, int, int, int, str]


def _instant(value: Any) -> dt.datetime:
    if value is None or value == "":
        return _EPOCH_FLOOR
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"updated_at {value!r} is not an ISO 8601 timestamp") from None
    elif isinstance(value, dt.datetime):
        parsed = value
    else:
        raise ValueError(f"updated_at {value!r} is not a timestamp")
    if parsed.tzinfo is None:
        # Record-model timestamps carry their offset; a naive one is read as UTC.
        parsed = parsed.replace(tzinfo=dt.UTC)
    try:
        return parsed.astimezone(dt.UTC)
    except OverflowError as exc:  # 0001-01-01T00:00:00+01:00 is before year 1 in UTC
        raise ValueError(f"updated_at {value!r} is outside the years 1-9999 in UTC") from exc


def _sync_token(value: Any) -> int:
    if value is None or value == "":
        return -1
    try:
        token = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"sync_token {value!r} is not an integer") from None
    if token < 0:
        raise ValueError(f"sync_token {value!r} is negative")
    return token


def _edit_sequence(value: Any) -> tuple[int, int, str]:
    """(kind, digits, text): missing < all digits (as integers) < other text."""
    if value is None or value == "":
        return (0, 0, "")
    text = str(value)
    if text.isascii() and text.isdigit():
        significant = text.lstrip("0") or "0"
        # Length first, then text: integer order for any number of digits, no overflow.
        return (1, len(significant), significant)
    return (2, 0, text)


def version_key(record: Mapping[str, Any]) -> VersionKey:
    """The record's place in the version order; a larger key is a newer version.

    Raises ValueError when a version field cannot be read (a data failure for the record).
    """
    kind, digits, text = _edit_sequence(record.get(EDIT_SEQUENCE))
    updated = record.get(UPDATED_AT)
    return (
        _instant(updated if updated not in (None, "") else record.get(DELETED_AT)),
        0 if record.get(DELETED_AT) in (None, "") else 1,
        _sync_token(record.get(SYNC_TOKEN)),
        kind,
        digits,
        text,
    )


def supersedes(incoming: Mapping[str, Any], stored: Mapping[str, Any]) -> bool:
    """True when ``incoming`` may replace ``stored`` (it is not older)."""
    return version_key(incoming) >= version_key(stored)


def has_version(record: Mapping[str, Any]) -> bool:
    """Whether any version field is set (else every version of the key is equal)."""
    return any(record.get(column) not in (None, "") for column in VERSION_COLUMNS)


class _ArrivalClock:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = 0

    def stamp(self) -> str:
        with self._lock:
            self._last = max(time.time_ns(), self._last + 1)
            return f"{self._last:020d}"


_ARRIVALS = _ArrivalClock()


def arrival_stamp() -> str:
    """Fixed-width text that orders arrivals: strictly increasing within a process (two records in
    one nanosecond still differ), and with the wall clock across runs."""
    return _ARRIVALS.stamp()


def version_text(record: Mapping[str, Any], arrival: str | None = None) -> str:
    """The version as text whose plain string order is the version order; with ``arrival``
    (an :func:`arrival_stamp`), a record without any version field also orders after the
    versions of its key that arrived before it."""
    instant, deleted, token, kind, digits, text = version_key(record)
    sequence = "0" if kind == 0 else (f"1{digits:04d}{text}" if kind == 1 else f"2{text}")
    parts = [
        instant.strftime("%Y-%m-%dT%H:%M:%S.%f").rjust(26, "0"),
        str(deleted),
        "0" + "0" * 20 if token < 0 else "1" + f"{token:020d}",
        sequence,
    ]
    if arrival is not None and not has_version(record):
        parts.append(arrival)
    return "|".join(parts)


def newest_per_key(
    records: Iterable[dict[str, Any]], key_fields: Sequence[str]
) -> tuple[list[dict[str, Any]], int]:
    """One record per key, the newest version (the later arrival on a tie); and how many
    older or repeated versions were dropped. Versions are computed only for repeated keys."""
    records = list(records)
    try:
        # The keys in one C loop; a batch whose keys are all distinct (the usual case) is
        # returned as it is: the loop below cost a tenth of a second per 100,000 records,
        # after the last record of a run.
        keys: list[Any] = list(map(operator.itemgetter(*key_fields), records))
    except (KeyError, TypeError):  # a record without a key field (dict.get's None below), or no key fields
        keys = [tuple(record.get(field) for field in key_fields) for record in records]
    if len(set(keys)) == len(keys):
        return records, 0
    kept: dict[Any, dict[str, Any]] = {}
    dropped = 0
    for key, record in zip(keys, records, strict=True):
        current = kept.get(key)
        if current is not None:
            dropped += 1
            if version_key(record) < version_key(current):
                continue
        kept[key] = record
    return list(kept.values()), dropped


# -- SQL ---------------------------------------------------------------------------------

DIALECTS = ("duckdb", "postgres", "databricks")

_DIGITS_TEST: dict[str, Callable[[str], str]] = {
    "duckdb": lambda e: f"regexp_full_match({e}, '[0-9]+')",
    "postgres": lambda e: f"({e} ~ '^[0-9]+$')",
    "databricks": lambda e: f"({e} RLIKE '^[0-9]+$')",
}
# Code-point order whatever the database's locale (Python compares str by code point).
_BINARY_TEXT: dict[str, Callable[[str], str]] = {
    "duckdb": lambda e: e,
    "postgres": lambda e: f'({e} COLLATE "C")',
    "databricks": lambda e: e,
}
_FLOOR_TIMESTAMP = {
    "duckdb": "TIMESTAMPTZ '0001-01-01 00:00:00+00'",
    "postgres": "TIMESTAMPTZ '0001-01-01 00:00:00+00'",
    "databricks": "TIMESTAMP '0001-01-01 00:00:00'",
}


def _sql_components(dialect: str, column: Callable[[str], str]) -> list[str]:
    """The SQL expressions of version_key's six components for one row."""
    updated, deleted = column(UPDATED_AT), column(DELETED_AT)
    token, sequence = column(SYNC_TOKEN), column(EDIT_SEQUENCE)
    text = f"CAST({sequence} AS {'STRING' if dialect == 'databricks' else 'VARCHAR'})"
    digits = _DIGITS_TEST[dialect](text)
    significant = f"COALESCE(NULLIF(regexp_replace({text}, '^0+', ''), ''), '0')"
    return [
        f"COALESCE({updated}, {deleted}, {_FLOOR_TIMESTAMP[dialect]})",
        f"CASE WHEN {deleted} IS NULL THEN 0 ELSE 1 END",
        f"COALESCE(CAST({token} AS BIGINT), -1)",
        f"CASE WHEN {sequence} IS NULL OR {text} = '' THEN 0 WHEN {digits} THEN 1 ELSE 2 END",
        f"CASE WHEN {sequence} IS NOT NULL AND {digits} THEN length({significant}) ELSE 0 END",
        _BINARY_TEXT[dialect](
            f"CASE WHEN {sequence} IS NULL THEN '' WHEN {digits} THEN {significant} ELSE {text} END"
        ),
    ]


def supersedes_sql(dialect: str, incoming: Callable[[str], str], stored: Callable[[str], str],
                   present: Collection[str] = VERSION_COLUMNS) -> str:
    """A boolean SQL expression: the incoming row is not older than the stored one.

    ``incoming`` and ``stored`` map a column name to its qualified, quoted SQL reference
    (e.g. ``lambda c: f's."{c}"'``); a version column not in ``present`` (the table lacks
    it) counts as missing on both sides, as :func:`version_key` counts an absent field.
    Row-value comparison is not in Spark SQL, so the lexicographic order is spelled out.
    """
    if dialect not in DIALECTS:
        raise ValueError(f"no version guard for dialect {dialect!r}; one of {', '.join(DIALECTS)}")
    new = _sql_components(dialect, lambda c: incoming(c) if c in present else "NULL")
    old = _sql_components(dialect, lambda c: stored(c) if c in present else "NULL")
    expression = f"({new[-1]} >= {old[-1]})"
    for a, b in zip(reversed(new[:-1]), reversed(old[:-1]), strict=True):
        expression = f"({a} > {b} OR ({a} = {b} AND {expression}))"
    return expression
