"""Intuit webhook deliveries: legacy `eventNotifications` and the CloudEvents array, signed with
`intuit-signature` = base64(HMAC-SHA256(verifier token, raw body)).

Delivery is best-effort on purpose (batching, duplicates, reordering, drops are all switchable)
so a consumer has to reconcile with CDC, exactly as Intuit tells integrators to.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from ..loopback_http import loopback_session
from . import clock
from .realm import Realm

OPERATION_VERBS = {"Create": "created", "Update": "updated", "Delete": "deleted", "Merge": "merged",
                   "Void": "voided", "Emailed": "emailed"}


@dataclass(frozen=True)
class ChangeEvent:
    seq: int
    realm_id: str
    entity: str
    id: int
    operation: str
    updated_s: int
    tz: ZoneInfo


def sign(verifier_token: str, body: bytes) -> str:
    digest = hmac.new(verifier_token.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def legacy_body(events: list[ChangeEvent]) -> dict[str, Any]:
    by_realm: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        # Legacy payloads write the offset without a colon (2015-10-05T14:42:19-0700).
        stamp = clock.from_epoch(event.updated_s).astimezone(event.tz).strftime("%Y-%m-%dT%H:%M:%S%z")
        by_realm.setdefault(event.realm_id, []).append(
            {"name": event.entity, "id": str(event.id), "operation": event.operation, "lastUpdated": stamp}
        )
    return {"eventNotifications": [
        {"realmId": realm, "dataChangeEvent": {"entities": entities}} for realm, entities in by_realm.items()
    ]}


def cloudevents_body(events: list[ChangeEvent]) -> list[dict[str, Any]]:
    out = []
    for event in events:
        verb = OPERATION_VERBS.get(event.operation, event.operation.lower())
        out.append({
            "specversion": "1.0",
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"qbo:{event.realm_id}:{event.seq}")),
            "source": "intuit.sandbox",
            "type": f"qbo.{event.entity.lower()}.{verb}.v1",
            "datacontenttype": "application/json",
            "time": clock.from_epoch(event.updated_s).astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "intuitentityid": str(event.id),
            "intuitaccountid": event.realm_id,
            "data": {},
        })
    return out


class WebhookSender:
    def __init__(self, realms: Callable[[], dict[str, Realm]], verifier_token: str, seed: int = 7) -> None:
        self._realms = realms
        self.verifier_token = verifier_token
        self._rng = random.Random(seed)
        self.sent: list[tuple[int, bytes]] = []

    def pending(self, realm_id: str | None = None) -> list[ChangeEvent]:
        out: list[ChangeEvent] = []
        for rid, realm in self._realms().items():
            if realm_id is not None and rid != realm_id:
                continue
            for seq, entity, obj_id, operation, updated_s in realm.store.pending_events():
                out.append(ChangeEvent(seq, rid, entity, obj_id, operation, updated_s, realm.tz))
        return out

    def deliver(
        self,
        url: str,
        fmt: str = "cloudevents",
        batch: int = 10,
        duplicate: int = 0,
        reorder: bool = False,
        drop: int = 0,
        realm_id: str | None = None,
        timeout: float = 10.0,
        signature: str | None = None,
    ) -> list[tuple[int, bytes]]:
        """POST pending events; `drop` events are marked delivered but never sent, `duplicate`
        batches are sent twice, `reorder` shuffles events. Returns (status, body) per POST."""
        if fmt not in ("cloudevents", "legacy"):
            raise ValueError("fmt must be 'cloudevents' or 'legacy'")
        events = self.pending(realm_id)
        if reorder:
            self._rng.shuffle(events)
        dropped = set(self._rng.sample(range(len(events)), min(drop, len(events)))) if drop else set()
        kept = [e for i, e in enumerate(events) if i not in dropped]
        batches = [kept[i:i + max(1, batch)] for i in range(0, len(kept), max(1, batch))]
        if duplicate and batches:
            for index in self._rng.sample(range(len(batches)), min(duplicate, len(batches))):
                batches.insert(self._rng.randrange(len(batches) + 1) if reorder else index + 1, batches[index])
        results: list[tuple[int, bytes]] = []
        done = {events[i].seq for i in dropped}
        session = loopback_session()
        try:
            for chunk in batches:
                payload = cloudevents_body(chunk) if fmt == "cloudevents" else legacy_body(chunk)
                body = json.dumps(payload).encode()
                content_type = "application/cloudevents-batch+json" if fmt == "cloudevents" else "application/json"
                headers = {"Content-Type": content_type,
                           "intuit-signature": signature if signature is not None else sign(self.verifier_token, body),
                           "intuit-created-time": datetime.now(UTC).isoformat(timespec="seconds")}
                response = session.post(url, data=body, headers=headers, timeout=timeout)
                results.append((response.status_code, body))
                if response.status_code < 300:
                    done.update(e.seq for e in chunk)
        finally:
            session.close()
        for realm in self._realms().values():
            # Events whose POST failed stay pending, so a later deliver() retries them.
            realm.store.mark_delivered([e.seq for e in events if e.realm_id == realm.realm_id and e.seq in done])
        self.sent.extend(results)
        return results
