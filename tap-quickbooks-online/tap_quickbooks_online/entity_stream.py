"""Base classes shared by every QBO stream: realm partitions, bookmarks, sync-mode dispatch."""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import json
import typing as t
from importlib import resources

from qbc_plugin_kit.singer_output import fast_record_writer
from singer_sdk import Stream
from singer_sdk.helpers.conform import TypeConformanceLevel

from tap_quickbooks_online.cdc import (
    CDC_UNSUPPORTED,
    CDC_WINDOW,
    CDC_WINDOW_MARGIN,
    Participant,
    within_cdc_window,
)
from tap_quickbooks_online.query_batch import QueryPlan
from tap_quickbooks_online.query_streams import build_query, iter_query
from tap_quickbooks_online.recent_versions import skip_versions_already_sent
from tap_quickbooks_online.records import (
    EDITION,
    Obj,
    deleted_row,
    is_deleted,
    nested,
    parse_instant,
)

if t.TYPE_CHECKING:
    from singer_sdk.helpers import types

    from tap_quickbooks_online.tap import TapQuickBooksOnline

LINE_BATCH_ROWS = 2000


def load_schema(name: str) -> dict[str, t.Any]:
    text = resources.files("tap_quickbooks_online").joinpath("schemas", f"{name}.json").read_text()
    return t.cast(dict[str, t.Any], json.loads(text))


class QBOStream(Stream):
    """Partitioned by realm (``company_id``); bookmarks are Intuit's own timestamps."""

    replication_key: str | None = "updated_at"
    primary_keys: t.ClassVar[tuple[str, ...]] = ("company_id", "id")
    # Rows arrive in LastUpdatedTime order, so a bookmark written mid-stream is resumable.
    is_sorted = True

    schema_name: t.ClassVar[str | None] = None  # defaults to the stream name
    # Records are built to the schema (Decimal money, ISO text, no float): the SDK's conformance
    # walk over every nested line changes nothing and cost half the tap's CPU.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    def __init__(self, tap: TapQuickBooksOnline) -> None:
        super().__init__(tap, schema=load_schema(self.schema_name or self.name))
        self.qbo = tap
        self._parsed_bookmark: tuple[str, dt.datetime] | None = None

    def _write_record_message(self, record: dict) -> None:
        # With every property selected and no stream map, the SDK's per-record message building
        # changes nothing: the line is written directly, the same text (qbc_plugin_kit.singer_output).
        # Every value is JSON's own (strings, ints, Decimal, bools, None): no datetime, no float.
        writer = fast_record_writer(self)
        if writer is None:
            super()._write_record_message(record)
            return
        writer.write_record_of_json_values(self.name, record)
        self.state_manager.is_flushed = False

    @property
    def partitions(self) -> list[dict] | None:
        return [{"company_id": realm_id} for realm_id in self.qbo.realm_ids]

    @property
    def check_sorted(self) -> bool:
        # QBO timestamps carry the company's offset, which changes with DST: the SDK's string
        # comparison would misjudge order. _increment_stream_state compares instants instead.
        return False

    def get_replication_key_signpost(self, context: types.Context | None = None) -> t.Any:
        # The bookmark must be QuickBooks' clock, never ours.
        return None

    def _increment_stream_state(self, latest_record: dict, *, context: types.Context | None = None) -> None:
        value = latest_record.get("updated_at")
        if not value or not self.replication_key:
            return
        state = self.get_context_state(self._get_state_partition_context(context))
        old = state.get("replication_key_value")
        if value == old:
            return
        if old is None or parse_instant(str(value)) >= self._bookmark_instant(str(old)):
            state["replication_key"] = self.replication_key
            state["replication_key_value"] = value

    def _bookmark_instant(self, value: str) -> dt.datetime:
        # Rows come in LastUpdatedTime order: the bookmark is usually the one parsed last time.
        cached = self._parsed_bookmark
        if cached is None or cached[0] != value:
            cached = self._parsed_bookmark = (value, parse_instant(value))
        return cached[1]

    def partition_state(self, realm_id: str) -> dict[str, t.Any]:
        return self.get_context_state({"company_id": realm_id})

    def bookmark(self, realm_id: str) -> dt.datetime | None:
        """The partition's bookmark (read directly: the SDK only exposes it once a sync started)."""
        value = self.partition_state(realm_id).get("replication_key_value") or self.qbo.settings.start_date
        return parse_instant(str(value)) if value else None

    def cursor(self, realm_id: str) -> dt.datetime | None:
        """Where to resume: the bookmark (or the last CDC sweep, if later) minus the overlap."""
        candidates = [self.bookmark(realm_id)]
        swept = self.partition_state(realm_id).get("cdc_swept_to")
        if swept:
            candidates.append(parse_instant(str(swept)))
        known = [c for c in candidates if c is not None]
        if not known:
            return None
        return max(known) - self.lookback

    @property
    def lookback(self) -> dt.timedelta:
        return dt.timedelta(seconds=self.qbo.settings.lookback_seconds)


class EntityStream(QBOStream):
    """One QBO entity: query / cdc / webhook sync, deletions, optional ``*_lines`` children."""

    entity: t.ClassVar[str]
    has_active: t.ClassVar[bool] = False
    line_header_key: t.ClassVar[str | None] = None  # e.g. "invoice_id" when *_lines exists

    def __init__(self, tap: TapQuickBooksOnline) -> None:
        super().__init__(tap)
        self._pending_lines: list[Obj] = []
        self._line_batches: dict[int, list[Obj]] = {}
        self._batch_ids = itertools.count(1)
        self._partition_ending = False

    # -- configuration -----------------------------------------------------------------------

    @property
    def sync_mode(self) -> str:
        settings = self.qbo.settings
        return str(settings.stream_sync_modes.get(self.name) or settings.sync_mode)

    @property
    def cdc_capable(self) -> bool:
        return self.entity not in CDC_UNSUPPORTED

    def participant(self, realm_id: str, now: dt.datetime) -> Participant | None:
        """This stream's place in the realm's change feed, or None to use query sync."""
        if self.sync_mode == "query" or not self.cdc_capable:
            return None
        if not (self.selected or self.has_selected_descendents):
            return None
        state = self.partition_state(realm_id)
        if not state.get("replication_key_value") and not state.get("cdc_swept_to"):
            # First run: a full query sync sees everything live, including inactive rows, but no
            # deletion. An earlier run killed before its state was saved may have delivered records
            # deleted since, so the deletions of the feed's window come too (take_deletions).
            return Participant(self.name, self.entity, now - CDC_WINDOW + CDC_WINDOW_MARGIN, None,
                               deletions_only=True)
        cursor = self.cursor(realm_id)
        if cursor is None or not within_cdc_window(cursor, now):
            return None
        webhook_seq = None
        if self.sync_mode == "webhook":
            webhook_seq = int(self.partition_state(realm_id).get("webhook_seq") or 0)
        return Participant(self.name, self.entity, cursor, webhook_seq)

    def query_plan(self, realm_id: str) -> QueryPlan | None:
        """This stream's first query, when it resumes from a bookmark by query sync this run."""
        if not (self.selected or self.has_selected_descendents):
            return None
        state = self.partition_state(realm_id)
        cursor = self.cursor(realm_id)
        if cursor is None or not (state.get("replication_key_value") or state.get("cdc_swept_to")):
            return None
        return QueryPlan(self.name, self.entity, cursor.isoformat(), self.has_active)

    def first_statement(self, realm_id: str) -> str:
        """The first query of this stream's query sync (the statement ``iter_query`` starts with)."""
        cursor = self.cursor(realm_id)
        return build_query(self.entity, since=cursor.isoformat() if cursor else None,
                           include_inactive=self.has_active, start_position=1)

    # -- mapping -----------------------------------------------------------------------------

    def map_object(self, obj: Obj, company_id: str) -> Obj:
        raise NotImplementedError

    def line_rows(self, record: Obj) -> list[Obj]:
        return []

    # -- records -----------------------------------------------------------------------------

    def get_records(self, context: types.Context | None) -> t.Iterable[dict]:
        assert context is not None
        realm_id = str(context["company_id"])
        previous: dict | None = None
        for row in self._rows(realm_id):
            if previous is not None:
                yield previous
            previous = row
        if previous is not None:
            # Lets generate_child_contexts flush the last batch of lines with the last header.
            self._partition_ending = True
            yield previous
        self._partition_ending = False

    def _rows(self, realm_id: str) -> t.Iterator[dict]:
        feed = self.qbo.change_feed(realm_id)
        objects = feed.take(self.name)
        state = self.partition_state(realm_id)
        swept_to: list[str] = []
        if objects is None:
            self.logger.info("Realm %s: %s by query sync", realm_id, self.name)
            # The next stream's first page is fetched while this one syncs.
            self.qbo.fetch_next_first_page(self.name, realm_id)
            cursor = self.cursor(realm_id)
            since = cursor.isoformat() if cursor else None
            queried = iter_query(
                self.qbo.client(realm_id), self.entity, since=since,
                include_inactive=self.has_active, on_server_time=swept_to.append,
                first_page=feed.take_first_page(self.name),
            )
            # Both in LastUpdatedTime order: a bookmark written mid-stream covers the deletions before it.
            source: t.Iterable[Obj] = heapq.merge(queried, feed.take_deletions(self.name), key=_changed_at)
        else:
            self.logger.info("Realm %s: %s by %s (%d changes)", realm_id, self.name, self.sync_mode, len(objects))
            source = objects
        rows = (
            deleted_row(self.schema["properties"], realm_id, obj) if is_deleted(obj) else self.map_object(obj, realm_id)
            for obj in source
        )
        yield from skip_versions_already_sent(rows, state, self.lookback)
        if objects is not None and feed.server_time:
            swept_to.append(feed.server_time)
        if swept_to:
            state["cdc_swept_to"] = swept_to[0]
        if self.sync_mode == "webhook":
            state["webhook_seq"] = max(int(state.get("webhook_seq") or 0), feed.journal_seq)

    # -- *_lines children --------------------------------------------------------------------

    def generate_child_contexts(self, record: dict, context: types.Context | None) -> t.Iterable[dict | None]:
        if not self.child_streams:
            return
        self._pending_lines.extend(self.line_rows(record))
        if self._pending_lines and (self._partition_ending or len(self._pending_lines) >= LINE_BATCH_ROWS):
            batch_id = next(self._batch_ids)
            self._line_batches[batch_id] = self._pending_lines
            self._pending_lines = []
            yield {"company_id": record["company_id"], "line_batch": batch_id}

    def take_line_batch(self, batch_id: int) -> list[Obj]:
        return self._line_batches.pop(batch_id, [])


class LinesStream(QBOStream):
    """One row per line of a header stream, fed in batches by the header as it syncs."""

    state_partitioning_keys: t.ClassVar[list[str]] = ["company_id"]  # type: ignore[misc]
    parent_name: t.ClassVar[str]

    @property
    def partitions(self) -> list[dict] | None:
        return None

    def get_records(self, context: types.Context | None) -> t.Iterable[dict]:
        assert context is not None
        parent = t.cast(EntityStream, self.qbo.streams[self.parent_name])
        yield from parent.take_line_batch(int(context["line_batch"]))


def _changed_at(obj: Obj) -> dt.datetime:
    updated = nested(obj, "MetaData", "LastUpdatedTime")
    return parse_instant(str(updated)) if updated else dt.datetime.min.replace(tzinfo=dt.UTC)


def header_line_fields(record: Obj, header_key: str) -> Obj:
    return {
        "company_id": record["company_id"],
        "edition": EDITION,
        header_key: record["id"],
        "doc_number": record.get("doc_number"),
        "txn_date": record.get("txn_date"),
        "currency": record.get("currency"),
        "exchange_rate": record.get("exchange_rate"),
        "customer_id": record.get("customer_id"),
        "vendor_id": record.get("vendor_id"),
        "created_at": record.get("created_at"),
        "updated_at": record.get("updated_at"),
        "sync_token": record.get("sync_token"),
        "edit_sequence": None,
        "_sdc_deleted_at": record.get("_sdc_deleted_at"),
    }
