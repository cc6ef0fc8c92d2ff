"""Record version order (docs/record-model.md) and in-batch de-duplication.

Order: ``updated_at``, then ``sync_token`` (integer), then ``edit_sequence`` (as an
integer when both are all digits). A component missing on either side does not
decide: the comparison moves on to the next one, and rows equal on every component
count as "not older" so the later one wins.
"""

from __future__ import annotations

import datetime as dt
import typing as t

VERSION_COLUMNS = ("updated_at", "sync_token", "edit_sequence")


def _as_utc(value: t.Any) -> t.Any:
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


def _compare_edit_sequence(a: str, b: str) -> int:
    if a.isdigit() and b.isdigit():
        ia, ib = int(a), int(b)
        return (ia > ib) - (ia < ib)
    return (a > b) - (a < b)


def compare_versions(a: t.Mapping[str, t.Any], b: t.Mapping[str, t.Any]) -> int:
    """Return 1 if ``a`` is newer than ``b``, -1 if older, 0 if undecided."""
    for column in VERSION_COLUMNS:
        va, vb = a.get(column), b.get(column)
        if va is None or vb is None:
            continue
        if column == "edit_sequence":
            result = _compare_edit_sequence(str(va), str(vb))
        else:
            va, vb = _as_utc(va), _as_utc(vb)
            result = (va > vb) - (va < vb)
        if result:
            return result
    return 0


def newest_per_key(
    records: t.Iterable[dict[str, t.Any]], key_columns: t.Sequence[str]
) -> tuple[list[dict[str, t.Any]], int]:
    """Keep one record per key: the newest version, the later one on a tie.

    Returns the kept records (in first-seen key order) and how many were dropped.
    """
    kept: dict[tuple[t.Any, ...], dict[str, t.Any]] = {}
    dropped = 0
    for record in records:
        key = tuple(record.get(column) for column in key_columns)
        current = kept.get(key)
        if current is None:
            kept[key] = record
            continue
        dropped += 1
        if compare_versions(record, current) >= 0:
            kept[key] = _keep_deletion(record, current)
    return list(kept.values()), dropped


def _keep_deletion(newer: dict[str, t.Any], older: dict[str, t.Any]) -> dict[str, t.Any]:
    # A deletion seen earlier in the batch is not undone by a version that is merely
    # "not older" (same updated_at, no token): QuickBooks cannot restore a deleted object.
    if (
        older.get("_sdc_deleted_at") is not None
        and newer.get("_sdc_deleted_at") is None
        and compare_versions(newer, older) == 0
    ):
        return older
    return newer
