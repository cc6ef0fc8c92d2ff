"""``POST /v3/company/{realm}/batch``: many payloads in one request, as Intuit documents it.

Intuit: "The maximum number of payloads in a single batch request is 30" and "the maximum number of
batch requests is 40 per minute per realmID" (Building Smarter with Intuit: Batch, 2023). Each
``BatchItemRequest`` carries a ``bId`` and one of ``Query``, an entity payload with ``operation``
(create / update / delete; ``optionsData: "void"`` with update voids), per IntuitRestServiceDef.xsd.
Items run in order and independently: one item's Fault is that item's answer, the others still run.
A request that is not a batch at all (no items, too many, a missing or repeated ``bId``) is refused
whole with a 400 Fault.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from . import jsonfmt
from .catalog import ALL_ENTITIES
from .errors import QBOFault

MAX_BATCH_ITEMS = 30
BATCH_REQUESTS_PER_MINUTE = 40
_ITEM_KEYS = {"bId", "operation", "optionsData"}


def batch_refused(detail: str) -> QBOFault:
    return QBOFault(400, "2500", "Invalid Request", f"Batch request is invalid: {detail}")


class BatchThrottle:
    """Intuit's separate per-realm budget for batch requests (40 a minute), on top of 500/min."""

    def __init__(self, per_minute: int = BATCH_REQUESTS_PER_MINUTE) -> None:
        self.per_minute = per_minute
        self._lock = threading.Lock()
        self._window: deque[float] = deque()

    def admit(self) -> float | None:
        """None when admitted, else the seconds to wait (Retry-After)."""
        now = time.monotonic()
        with self._lock:
            while self._window and now - self._window[0] >= 60:
                self._window.popleft()
            if len(self._window) >= self.per_minute:
                return max(1.0, 60 - (now - self._window[0]))
            self._window.append(now)
            return None


def parse_items(body: dict[str, Any]) -> list[dict[str, Any]]:
    items = body.get("BatchItemRequest")
    if not isinstance(items, list) or not items:
        raise batch_refused("BatchItemRequest must be a non-empty array")
    if len(items) > MAX_BATCH_ITEMS:
        raise batch_refused(
            f"{len(items)} BatchItemRequest items; the maximum number of payloads in a single batch request is "
            f"{MAX_BATCH_ITEMS}. Split the batch")
    seen: set[str] = set()
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise batch_refused(f"BatchItemRequest[{index}] is not an object")
        bid = item.get("bId")
        if not isinstance(bid, str) or not bid:
            raise batch_refused(f"BatchItemRequest[{index}] has no bId; every item needs a unique bId")
        if bid in seen:
            raise batch_refused(f"bId {bid} appears twice; every item needs a unique bId")
        seen.add(bid)
    return items


def run_batch(items: list[dict[str, Any]], query: Callable[[str], str],
              write: Callable[[str, str | None, dict[str, Any]], dict[str, Any]]) -> list[str]:
    """Each item's ``BatchItemResponse`` as JSON text, in request order."""
    answers = []
    for item in items:
        bid = jsonfmt.dumps(item["bId"])
        try:
            key, value = _run_item(item, query, write)
        except QBOFault as fault:
            answers.append(f'{{"bId":{bid},"Fault":{jsonfmt.dumps(fault.body("")["Fault"])}}}')
            continue
        answers.append(f'{{"bId":{bid},"{key}":{value}}}')
    return answers


def _run_item(item: dict[str, Any], query: Callable[[str], str],
              write: Callable[[str, str | None, dict[str, Any]], dict[str, Any]]) -> tuple[str, str]:
    payload_keys = [k for k in item if k not in _ITEM_KEYS]
    if payload_keys == ["Query"]:
        if not isinstance(item["Query"], str):
            raise QBOFault(400, "4000", "Error parsing query", "QueryParserError: Query must be a string")
        return "QueryResponse", query(item["Query"])
    if len(payload_keys) != 1:
        raise QBOFault(400, "2500", "Invalid Request",
                       f"bId {item['bId']}: an item carries exactly one of Query or an entity payload, got {payload_keys}")
    key = payload_keys[0]
    if key in ("ReportQuery", "CDCQuery"):
        raise QBOFault(400, "2500", "Invalid Request",
                       f"bId {item['bId']}: {key} items are not served by this sandbox; call /reports or /cdc")
    if key not in ALL_ENTITIES:
        raise QBOFault(400, "2500", "Invalid Request", f"bId {item['bId']}: unknown entity {key}")
    body = item[key]
    if not isinstance(body, dict):
        raise QBOFault(400, "2500", "Invalid Request", f"bId {item['bId']}: {key} must be an object")
    operation = item.get("operation")
    if operation not in ("create", "update", "delete"):
        raise QBOFault(400, "2500", "Invalid Request",
                       f"bId {item['bId']}: operation must be create, update or delete, got {operation!r}")
    if operation == "create" and body.get("Id"):
        raise QBOFault(400, "2500", "Invalid Request", f"bId {item['bId']}: create must not carry an Id")
    if operation != "create" and not body.get("Id"):
        raise QBOFault(400, "2500", "Invalid Request", f"bId {item['bId']}: {operation} needs Id and SyncToken")
    mode: str | None = None
    if operation == "delete":
        mode = "delete"
    elif operation == "update" and item.get("optionsData") == "void":
        mode = "void"
    result = write(key, mode, body)
    return key, jsonfmt.dumps(result[key])
