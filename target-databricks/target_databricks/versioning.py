"""Record-model version order, used to keep only the newest version per key in a batch.

Same rule as the MERGE guard in merge_sql.py (record-model.md): compare ``updated_at``, then
``sync_token``, then ``edit_sequence`` (as an integer when both are all digits). A missing
value on either side says nothing, so that column counts as equal.
"""

from __future__ import annotations

import datetime
import typing as t

DEFAULT_VERSION_COLUMNS = ("updated_at", "sync_token", "edit_sequence")


def _comparable(value: t.Any) -> t.Any:
    if isinstance(value, str):
        try:
            return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    return value


def _compare(new: t.Any, old: t.Any) -> int:
    if new is None or old is None:
        return 0
    if isinstance(new, str) and isinstance(old, str) and new.isdigit() and old.isdigit():
        new, old = int(new), int(old)
    else:
        new, old = _comparable(new), _comparable(old)
    if (isinstance(new, datetime.datetime) and isinstance(old, datetime.datetime)
            and (new.tzinfo is None) != (old.tzinfo is None)):
            new = new if new.tzinfo else new.replace(tzinfo=datetime.UTC)
            old = old if old.tzinfo else old.replace(tzinfo=datetime.UTC)
    try:
        return (new > old) - (new < old)
    except TypeError:
        return 0


def is_older(new: t.Mapping[str, t.Any], old: t.Mapping[str, t.Any],
             version_columns: t.Sequence[str]) -> bool:
    """True when ``new`` is strictly older than ``old``."""
    for column in version_columns:
        order = _compare(new.get(column), old.get(column))
        if order:
            return order < 0
    return False


def newest_per_key(
    records: t.Iterable[dict[str, t.Any]],
    keys: t.Sequence[str],
    version_columns: t.Sequence[str],
) -> list[dict[str, t.Any]]:
    """One record per key: the newest version; on a tie the one that arrived last."""
    newest: dict[tuple[t.Any, ...], dict[str, t.Any]] = {}
    for record in records:
        key = tuple(record.get(k) for k in keys)
        current = newest.get(key)
        if current is None or not is_older(record, current, version_columns):
            newest[key] = record
    return list(newest.values())
