"""Run the tap in-process and collect its Singer messages (test helper, not a test)."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import typing as t
from dataclasses import dataclass, field
from decimal import Decimal

from tap_quickbooks_online.tap import TapQuickBooksOnline


@dataclass
class SyncResult:
    messages: list[dict[str, t.Any]]
    records: dict[str, list[dict[str, t.Any]]] = field(default_factory=dict)
    state: dict[str, t.Any] = field(default_factory=dict)
    stdout: str = ""

    def rows(self, stream: str) -> list[dict[str, t.Any]]:
        return self.records.get(stream, [])

    def by_id(self, stream: str) -> dict[str, dict[str, t.Any]]:
        """Last row per id, as an upserting target would keep it."""
        return {row["id"]: row for row in self.rows(stream)}


def selected_catalog(config: dict[str, t.Any], streams: t.Iterable[str] | None) -> dict[str, t.Any]:
    tap = TapQuickBooksOnline(config=config, validate_config=False, setup_mapper=False)
    catalog = copy.deepcopy(tap.catalog_dict)
    wanted = set(streams) if streams is not None else None
    for entry in catalog["streams"]:
        for meta in entry["metadata"]:
            if meta["breadcrumb"] == []:
                meta["metadata"]["selected"] = wanted is None or entry["tap_stream_id"] in wanted
    return catalog


def run_sync(
    config: dict[str, t.Any],
    *,
    streams: t.Iterable[str] | None = None,
    state: dict[str, t.Any] | None = None,
) -> SyncResult:
    catalog = selected_catalog(config, streams)
    tap = TapQuickBooksOnline(config=config, catalog=catalog, state=state or {})
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        tap.sync_all()
    out = buffer.getvalue()
    messages = [json.loads(line, parse_float=Decimal) for line in out.splitlines() if line.strip()]
    result = SyncResult(messages=messages, stdout=out)
    for message in messages:
        if message["type"] == "RECORD":
            result.records.setdefault(message["stream"], []).append(message["record"])
        elif message["type"] == "STATE":
            result.state = message["value"]
    return result


def partition_state(state: dict[str, t.Any], stream: str, realm_id: str) -> dict[str, t.Any]:
    for partition in state["bookmarks"][stream].get("partitions", []):
        if partition["context"].get("company_id") == realm_id:
            return t.cast(dict[str, t.Any], partition)
    raise KeyError(f"no state for {stream} / {realm_id}")
