"""Change data capture for one realm: one ``/cdc`` call for many entities, plus webhook events.

Intuit's CDC looks back at most 30 days and returns at most 1,000 objects per response, grouped by
type (by change time inside a type, deleted objects last); when a response is full each type that
came back asks again from its newest change, and the types that came back empty ask again as they
were (``_run_cdc``). Streams whose bookmark is older than the window fall back to
query sync (see ``entity_stream``). Webhook events name objects that changed; each is fetched whole,
and newest version wins (LastUpdatedTime, then SyncToken) whatever order events arrived in.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import logging
import re
import typing as t
from dataclasses import dataclass

from tap_quickbooks_online.client import QBOClient
from tap_quickbooks_online.errors import APIError, ObjectNotFound
from tap_quickbooks_online.records import Obj, is_deleted, nested, parse_instant, version_key
from tap_quickbooks_online.webhooks.journal import Journal

LOGGER = logging.getLogger("tap_quickbooks_online.cdc")

CDC_MAX_OBJECTS = 1000
CDC_WINDOW = dt.timedelta(days=30)
# Our clock and Intuit's may differ; stay well inside the 30 days.
CDC_WINDOW_MARGIN = dt.timedelta(hours=6)
MAX_CDC_CALLS = 10_000

# Intuit's ChangeDataCapture reference: "This operation is supported for all objects except
# JournalCode, TimeActivity, TaxAgency, TaxCode, and TaxRate." Should Intuit refuse another one, its
# Fault comes back beside the other entities' results and that stream syncs by query this run.
CDC_UNSUPPORTED = frozenset({"JournalCode", "TimeActivity", "TaxAgency", "TaxCode", "TaxRate"})
_REFUSED_ENTITY = re.compile(r"Entity (\w+) is not supported")


@dataclass
class Watch:
    """A report that wants to know whether any of ``entities`` changed at or after ``since``."""

    stream_name: str
    entities: frozenset[str]
    since: dt.datetime


@dataclass
class Participant:
    """A stream taking part in this run's change feed."""

    stream_name: str
    entity: str
    cursor: dt.datetime  # changes at or after this instant are wanted
    webhook_after_seq: int | None  # None: the stream is in cdc mode, not webhook mode
    # True on a stream's first run: it syncs by query (which sees no deletion) and takes only the
    # deletions from the feed (:meth:`ChangeFeed.take_deletions`).
    deletions_only: bool = False


def within_cdc_window(cursor: dt.datetime | None, now: dt.datetime) -> bool:
    return cursor is not None and cursor > now - CDC_WINDOW + CDC_WINDOW_MARGIN


class ChangeFeed:
    def __init__(
        self,
        client: QBOClient,
        *,
        journal: Journal | None,
        max_concurrency: int = 10,
    ) -> None:
        self.client = client
        self.journal = journal
        self.max_concurrency = max_concurrency
        self.participants: dict[str, Participant] = {}
        self._objects: dict[str, dict[str, Obj]] = {}
        self._webhook_objects: dict[str, dict[str, Obj]] = {}
        self._results: dict[str, list[Obj]] = {}
        self.deleted: list[tuple[Participant, Obj]] = []
        self._deletions: dict[str, list[Obj]] = {}
        self.server_time: str | None = None
        self.journal_seq = 0
        self.cdc_calls = 0
        self.refused: dict[str, str] = {}  # entity -> Intuit's reason
        self.watched: dict[str, bool] = {}  # watch stream -> a change it depends on arrived
        # A first query page fetched ahead: the batch's answer, or a request still under way.
        self.first_pages: dict[str, dict[str, t.Any] | concurrent.futures.Future[dict[str, t.Any]]] = {}

    def prepare(self, participants: t.Sequence[Participant], watches: t.Sequence[Watch] = ()) -> None:
        # Events up to here are covered by this run (fetched, or seen by the CDC / query that
        # runs after this point); later ones are left for the next run.
        self.journal_seq = self.journal.last_seq() if self.journal is not None else 0
        self.participants = {p.stream_name: p for p in participants}
        if not participants and not watches:
            return
        entities = sorted({p.entity for p in participants} | {e for w in watches for e in w.entities})
        since = min([p.cursor for p in participants] + [w.since for w in watches])
        self._run_cdc(entities, since)
        for watch in watches:
            self.watched[watch.stream_name] = self._changed(watch) or bool(watch.entities & set(self.refused))
        for participant in list(self.participants.values()):
            if participant.entity in self.refused:
                # Synced by query instead, with the other query streams (tap.change_feed).
                del self.participants[participant.stream_name]
        webhook = [p for p in self.participants.values() if p.webhook_after_seq is not None]
        if webhook and self.journal is not None:
            self._run_webhooks(webhook)
        self._resolve()

    def _changed(self, watch: Watch) -> bool:
        for entity in watch.entities:
            for obj in self._objects.get(entity, {}).values():
                updated = nested(obj, "MetaData", "LastUpdatedTime")
                if not updated or parse_instant(updated) >= watch.since:
                    return True
        return False

    def take_first_page(self, stream_name: str) -> dict[str, t.Any] | None:
        """The stream's first query page when it came in this run's batch or was fetched ahead
        (waiting for it; its request's error, if any, raised here), else None."""
        page = self.first_pages.pop(stream_name, None)
        if isinstance(page, concurrent.futures.Future):
            return page.result()
        return page

    def syncs_by_query(self, stream_name: str) -> bool:
        """Whether the stream reads its rows by query this run (not from the feed)."""
        participant = self.participants.get(stream_name)
        return participant is None or participant.deletions_only

    def changed_for(self, stream_name: str) -> bool | None:
        """Whether a change the watching stream depends on arrived; None: it was not watching."""
        return self.watched.get(stream_name)

    # -- CDC ---------------------------------------------------------------------------------

    def _run_cdc(self, entities: list[str], since: dt.datetime) -> None:
        # Intuit groups a CDC answer by type (by change time inside a type, deleted objects last)
        # and stops at 1,000 objects without saying where it cut. So after a full answer each type
        # that came back asks again on its own from its newest change (a complete type costs one
        # small call; the cut one moves on), and the types that came back empty ask again together
        # from the same instant.
        pending: list[tuple[list[str], str]] = [(entities, since.isoformat())]
        while pending:
            group, changed_since = pending.pop(0)
            if self.cdc_calls >= MAX_CDC_CALLS:
                msg = f"Realm {self.client.realm_id}: CDC did not finish within {MAX_CDC_CALLS} calls"
                raise APIError(msg)
            newest = self._cdc_call(group, changed_since)
            if sum(count for count, _ in newest.values()) < CDC_MAX_OBJECTS:
                continue
            LOGGER.info("Realm %s: CDC answer full (%d objects); asking again type by type",
                        self.client.realm_id, CDC_MAX_OBJECTS)
            for entity, (_, latest) in newest.items():
                if latest is None or parse_instant(latest) <= parse_instant(changed_since):
                    msg = (
                        f"Realm {self.client.realm_id}: more than {CDC_MAX_OBJECTS} changes of {entity} share "
                        f"the timestamp {changed_since}; CDC cannot page past them. Set sync_mode to 'query' "
                        f"for its stream for this run."
                    )
                    raise APIError(msg)
                pending.append(([entity], latest))
            empty = [e for e in group if e not in newest and e not in self.refused]
            if empty:
                pending.append((empty, changed_since))

    def _cdc_call(self, entities: list[str], changed_since: str) -> dict[str, tuple[int, str | None]]:
        """One /cdc call; per entity that came back: how many objects and the newest change."""
        body = self.client.cdc(entities, changed_since)
        self.cdc_calls += 1
        if body.get("time") and self.server_time is None:
            # The first answer's clock: everything before it is in this run's feed.
            self.server_time = str(body["time"])
        newest: dict[str, tuple[int, str | None]] = {}
        for cdc_response in body.get("CDCResponse") or []:
            self._note_refusal(cdc_response.get("Fault"))
            for query_response in cdc_response.get("QueryResponse") or []:
                for entity, objects in query_response.items():
                    if not isinstance(objects, list) or not objects:
                        continue
                    count, latest = newest.get(entity, (0, None))
                    for obj in objects:
                        count += 1
                        self._merge(self._objects, entity, obj)
                        updated = nested(obj, "MetaData", "LastUpdatedTime")
                        if updated and (latest is None or parse_instant(updated) > parse_instant(latest)):
                            latest = str(updated)
                    newest[entity] = (count, latest)
        return newest

    def _note_refusal(self, fault: t.Any) -> None:
        """A per-entity Fault inside CDCResponse: that entity leaves the feed, the others stay."""
        if not isinstance(fault, dict):
            return
        for error in fault.get("Error") or []:
            detail = str(error.get("Detail") or error.get("Message") or "")
            found = _REFUSED_ENTITY.search(detail)
            entity = str(error.get("element") or (found.group(1) if found else "")) or None
            if entity is None:
                msg = f"Realm {self.client.realm_id}: Intuit's CDC answered a Fault naming no entity: {detail}"
                raise APIError(msg)
            if entity not in self.refused:
                LOGGER.warning(
                    "Realm %s: Intuit's CDC refused %s (%s); it syncs by query this run. If this persists, "
                    "set stream_sync_modes for its stream to 'query'.", self.client.realm_id, entity, detail)
            self.refused[entity] = detail

    @staticmethod
    def _merge(target: dict[str, dict[str, Obj]], entity: str, obj: Obj) -> None:
        bucket = target.setdefault(entity, {})
        object_id = str(obj.get("Id"))
        current = bucket.get(object_id)
        if current is None or version_key(obj) >= version_key(current):
            bucket[object_id] = obj

    # -- webhooks ----------------------------------------------------------------------------

    def _run_webhooks(self, participants: list[Participant]) -> None:
        assert self.journal is not None
        after = min(t.cast(int, p.webhook_after_seq) for p in participants)
        events = [
            e for e in self.journal.read(realm_id=self.client.realm_id, after_seq=after)
            if int(e["seq"]) <= self.journal_seq
        ]
        wanted_after = {p.entity: t.cast(int, p.webhook_after_seq) for p in participants}
        latest: dict[tuple[str, str], dict[str, t.Any]] = {}
        for event in events:
            entity = event.get("entity")
            if entity not in wanted_after or int(event["seq"]) <= wanted_after[entity]:
                continue
            latest[(entity, str(event["id"]))] = event
        # Every event is answered by reading the object as it is now, whatever the event said:
        # Intuit sends "Delete" for list records made inactive, and events arrive out of order.
        # A read that finds nothing (fault 610) is the deletion.
        to_fetch = list(latest)
        if not to_fetch:
            return
        with concurrent.futures.ThreadPoolExecutor(max_workers=self.max_concurrency) as pool:
            futures = {pool.submit(self.client.read, entity, object_id): (entity, object_id)
                       for entity, object_id in to_fetch}
            for future in concurrent.futures.as_completed(futures):
                entity, object_id = futures[future]
                try:
                    obj = future.result()
                except ObjectNotFound:
                    obj = _deleted_marker(object_id, latest[(entity, object_id)])
                if obj:
                    self._merge(self._webhook_objects, entity, obj)

    # -- consumption -------------------------------------------------------------------------

    def _resolve(self) -> None:
        """Each participant's objects: CDC rows at/after its cursor plus its webhook reads,
        newest version per Id, oldest first."""
        for participant in self.participants.values():
            merged: dict[str, dict[str, Obj]] = {}
            for obj in self._objects.get(participant.entity, {}).values():
                updated = nested(obj, "MetaData", "LastUpdatedTime")
                # The CDC window starts at the oldest cursor of all streams; drop what this one has.
                if updated and parse_instant(updated) < participant.cursor:
                    continue
                self._merge(merged, participant.entity, obj)
            if participant.webhook_after_seq is not None:
                for obj in self._webhook_objects.get(participant.entity, {}).values():
                    self._merge(merged, participant.entity, obj)
            self._results[participant.stream_name] = sorted(
                merged.get(participant.entity, {}).values(), key=version_key
            )
        self._objects.clear()
        self._webhook_objects.clear()
        self.deleted = [
            (participant, obj)
            for participant in self.participants.values()
            for obj in self._results[participant.stream_name]
            if is_deleted(obj)
        ]
        for participant in self.participants.values():
            if participant.deletions_only:
                self._deletions[participant.stream_name] = [
                    obj for obj in self._results.pop(participant.stream_name) if is_deleted(obj)]

    def take(self, stream_name: str) -> list[Obj] | None:
        """The stream's changed objects, oldest first; None when it is not in the feed (or takes
        only its deletions from it: it syncs by query)."""
        participant = self.participants.get(stream_name)
        if participant is None or participant.deletions_only:
            return None
        return self._results.pop(stream_name, [])

    def take_deletions(self, stream_name: str) -> list[Obj]:
        """The deletions the feed saw for a stream syncing by query on its first run, oldest first."""
        return self._deletions.pop(stream_name, [])


def _deleted_marker(object_id: str, event: dict[str, t.Any]) -> Obj:
    when = event.get("occurred_at") or event.get("received_at")
    if when:
        # Legacy payloads write offsets as -0800; rows carry RFC 3339.
        when = parse_instant(str(when)).isoformat()
    return {"Id": object_id, "status": "Deleted", "MetaData": {"LastUpdatedTime": when}}
