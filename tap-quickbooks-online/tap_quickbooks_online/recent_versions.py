"""Which object versions near the bookmark were already emitted (the overlap de-duplicator).

Every run re-reads ``lookback_seconds`` before its bookmark, because Intuit can make a change
visible slightly after its LastUpdatedTime. Without memory that re-emits the same versions each
run. The STATE keeps the (Id, SyncToken) pairs inside that window so an unchanged version is
skipped while a new version with an older timestamp still gets through. The memory is capped: past
the cap the window is simply re-emitted, which targets absorb with their version guard.
"""

from __future__ import annotations

import collections
import datetime as dt
import typing as t

from tap_quickbooks_online.records import parse_instant

MAX_REMEMBERED = 1000


def version_marker(row: dict[str, t.Any]) -> str:
    return "deleted" if row.get("_sdc_deleted_at") else str(row.get("sync_token"))


class RecentVersions:
    def __init__(self, remembered: dict[str, list[t.Any]] | None, lookback: dt.timedelta) -> None:
        self._previous = {k: v for k, v in (remembered or {}).items() if isinstance(v, list) and len(v) == 2}
        self._lookback = lookback
        self._emitted: collections.deque[tuple[str, str, dt.datetime, str]] = collections.deque()
        self._newest: dt.datetime | None = None

    def already_emitted(self, row: dict[str, t.Any]) -> bool:
        seen = self._previous.get(str(row.get("id")))
        return seen is not None and seen[0] == version_marker(row)

    def note(self, row: dict[str, t.Any]) -> None:
        updated = row.get("updated_at")
        if not updated:
            return
        instant = parse_instant(str(updated))
        if self._newest is None or instant > self._newest:
            self._newest = instant
        self._emitted.append((str(row["id"]), version_marker(row), instant, str(updated)))
        horizon = self._newest - self._lookback
        while self._emitted and self._emitted[0][2] < horizon:
            self._emitted.popleft()
        if len(self._emitted) > MAX_REMEMBERED:
            self._emitted.popleft()

    def remembered(self, bookmark: str | None) -> dict[str, list[t.Any]]:
        """What to keep in STATE: versions inside the lookback window before the new bookmark."""
        if not bookmark:
            return {}
        horizon = parse_instant(bookmark) - self._lookback
        kept = {k: v for k, v in self._previous.items() if parse_instant(v[1]) >= horizon}
        for object_id, marker, instant, updated in self._emitted:
            if instant >= horizon:
                kept[object_id] = [marker, updated]
        if len(kept) > MAX_REMEMBERED:
            return {}
        return kept


def skip_versions_already_sent(
    rows: t.Iterable[dict[str, t.Any]],
    state: dict[str, t.Any],
    lookback: dt.timedelta,
    probe: t.Callable[[dict[str, t.Any]], dict[str, t.Any]] = lambda row: row,
) -> t.Iterator[dict[str, t.Any]]:
    """Yield the rows not already sent; leave the new memory in the partition ``state``.

    ``probe`` maps a row to the ``id`` / ``sync_token`` / ``_sdc_deleted_at`` / ``updated_at``
    view used for the comparison. The memory is only trusted if it was written with the current
    bookmark: a user who rewinds the bookmark (``meltano state set``) wants those rows again.
    """
    newest = state.get("replication_key_value")
    remembered = state.get("recent_versions") or {}
    recent = RecentVersions(remembered.get("versions") if remembered.get("bookmark") == newest else None, lookback)
    for row in rows:
        view = probe(row)
        if recent.already_emitted(view):
            continue
        recent.note(view)
        updated = view.get("updated_at")
        if updated and (newest is None or parse_instant(str(updated)) >= parse_instant(str(newest))):
            newest = updated
        yield row
    state["recent_versions"] = {"bookmark": newest, "versions": recent.remembered(newest)}
