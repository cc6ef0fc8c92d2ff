"""Loads prepared records into one Power BI push dataset through the local mirror.

Push datasets cannot update or delete single rows, so:

* dimension tables (lists: accounts, customers, vendors, items, ...) are **rewritten** whenever
  a batch changes them: all rows deleted, then the mirror's current rows posted again;
* fact tables (transactions and their lines) are **append-only**: every accepted version is a
  new row, ``_sdc_version`` orders them, and a deletion appends a tombstone row with
  ``_sdc_deleted_at`` set. Reports take the newest version per key.

The mirror doubles as an outbox: rows accepted but not yet pushed are sent by the next load of
their table, so a deleted invoice's line tombstones reach Power BI even when the lines stream
comes later in the run.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import requests
import simplejson
from qbc_plugin_kit.retry import TransientError

from target_powerbi.auth import PowerBIAuthError
from target_powerbi.client import PowerBIClient, PowerBIRequestError
from target_powerbi.mirror import Mirror, StagedRow
from target_powerbi.pacing import PushPacer
from target_powerbi.schema_mapping import Column, RowShaper, table_columns, table_definition

# header stream -> (lines stream, the lines' column holding the header id)
HEADER_LINES: dict[str, tuple[str, str]] = {
    "invoices": ("invoice_lines", "invoice_id"),
    "bills": ("bill_lines", "bill_id"),
    "purchase_orders": ("purchase_order_lines", "purchase_order_id"),
    "journal_entries": ("journal_entry_lines", "journal_entry_id"),
    "credit_memos": ("credit_memo_lines", "credit_memo_id"),
    "sales_receipts": ("sales_receipt_lines", "sales_receipt_id"),
}
LINE_PARENT_FIELD = dict(HEADER_LINES.values())

DEFAULT_DIMENSION_STREAMS = ("accounts", "customers", "vendors", "employees", "items", "classes",
                             "departments")


class MissingTableError(Exception):
    """A stream needs a table the existing push dataset lacks and recreating is not allowed."""


class LoadFailed(Exception):
    """Power BI did not take part of a batch; ``unsent`` are the records to keep for replay."""

    def __init__(self, stream: str, message: str, unsent: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.stream = stream
        self.unsent = unsent


@dataclass(frozen=True)
class LoadReport:
    accepted: int
    skipped_as_older_or_duplicate: int


def row_key(record: Mapping[str, Any], key_properties: Sequence[str]) -> str:
    if key_properties:
        return str(simplejson.dumps([record.get(k) for k in key_properties], use_decimal=True))
    # Keyless streams: identical records are the same row, so a re-run does not duplicate them.
    payload = simplejson.dumps(record, use_decimal=True, sort_keys=True, default=str)
    return "sha256:" + hashlib.sha256(payload.encode("utf-8")).hexdigest()


def parent_key(stream: str, record: Mapping[str, Any]) -> str | None:
    field = LINE_PARENT_FIELD.get(stream)
    if field is None or record.get(field) is None:
        return None
    return f"{record.get('company_id')}|{record.get(field)}"


class PushLoader:
    def __init__(
        self,
        *,
        client: PowerBIClient,
        mirror: Mirror,
        pacer: PushPacer,
        dataset_name: str,
        retention_policy: str = "None",
        dimension_streams: Iterable[str] = DEFAULT_DIMENSION_STREAMS,
        number_type: str = "Decimal",
        hard_delete: bool = False,
        max_string_length: int = 4000,
        max_columns: int = 75,
        missing_table_action: str = "recreate",
        logger: logging.Logger | None = None,
    ) -> None:
        self.client = client
        self.mirror = mirror
        self.pacer = pacer
        self.dataset_name = dataset_name
        self.retention_policy = retention_policy
        self.dimension_streams = set(dimension_streams)
        self.number_type = number_type
        self.hard_delete = hard_delete
        self.max_string_length = max_string_length
        self.max_columns = max_columns
        self.missing_table_action = missing_table_action
        self.logger = logger or logging.getLogger(__name__)
        self._dataset_id: str | None = None
        self._remote_tables: dict[str, list[dict[str, Any]]] = {}
        self._shapers: dict[str, RowShaper] = {}
        self.schemas: dict[str, dict[str, Any]] = {}
        self.key_properties: dict[str, list[str]] = {}
        # The SDK drains sinks in parallel threads; one dataset and one mirror mean one writer.
        self._lock = threading.RLock()

    # --- tables ------------------------------------------------------------------------------

    def register_schema(self, stream: str, schema: Mapping[str, Any],
                        key_properties: Sequence[str]) -> list[Column]:
        columns = self._remember(stream, schema, key_properties)
        self.mirror.save_schema(stream, dict(schema), list(key_properties))
        return columns

    def _remember(self, stream: str, schema: Mapping[str, Any], key_properties: Sequence[str]) -> list[Column]:
        self.key_properties[stream] = list(key_properties)
        columns = table_columns(schema, self.number_type, self.max_columns, stream)
        self._shapers[stream] = RowShaper(columns, self.max_string_length)
        self.schemas[stream] = dict(schema)
        return columns

    def _ensure_table(self, stream: str) -> str:
        definition = table_definition(stream, self._shapers[stream].columns)
        if self._dataset_id is None:
            self._dataset_id = self.client.find_dataset(self.dataset_name)
            if self._dataset_id is None:
                return self._create_dataset()
            self._remote_tables = self.client.get_tables(self._dataset_id)
        if stream not in self._remote_tables:
            return self._add_table(stream)
        if not _same_columns(self._remote_tables.get(stream), definition["columns"]):
            self.logger.info("Updating the schema of Power BI table %r", stream)
            self.client.put_table(self._dataset_id, definition)
            self._remote_tables[stream] = definition["columns"]
        return self._dataset_id

    def _create_dataset(self) -> str:
        # Every stream whose schema this run has seen gets its table now: Power BI cannot
        # add a table to a push dataset later.
        tables = [table_definition(s, shaper.columns) for s, shaper in self._shapers.items()]
        self._dataset_id = self.client.create_dataset(self.dataset_name, tables, self.retention_policy)
        self._remote_tables = {t["name"]: t["columns"] for t in tables}
        self.logger.info("Created Power BI push dataset %r (%s) with tables %s",
                         self.dataset_name, self._dataset_id, ", ".join(sorted(self._remote_tables)))
        return self._dataset_id

    def _add_table(self, stream: str) -> str:
        """Power BI answers PutTable for an unknown table with ItemNotFound, so a new stream
        means a new dataset: recreated with every table, then refilled from the mirror."""
        assert self._dataset_id is not None
        if self.missing_table_action != "recreate":
            raise MissingTableError(
                f"stream {stream!r} has no table in push dataset {self.dataset_name!r} and Power BI cannot "
                "add tables to an existing push dataset; set missing_table_action: recreate (the dataset "
                "is rebuilt from the local mirror and gets a new id) or use another dataset_name")
        for known, (schema, keys) in self.mirror.schemas().items():
            if known not in self._shapers:
                self._remember(known, schema, keys)
        self.logger.warning(
            "Stream %r is new to push dataset %r: recreating the dataset with all %d tables and "
            "re-pushing their current rows from the mirror. Reports bound to the old dataset id must be "
            "rebound to the new one.", stream, self.dataset_name, len(self._shapers))
        self.client.delete_dataset(self._dataset_id)
        dataset_id = self._create_dataset()
        for table in list(self._remote_tables):
            if table == stream:
                continue
            self.mirror.mark_stream_unpushed(table)
            try:
                self.flush(table, [])
            except LoadFailed as exc:
                self.logger.error("Re-pushing table %r into the recreated dataset failed (%s); its rows stay "
                                  "in the mirror and go out with its next load or `target-powerbi replay`",
                                  table, exc)
        return dataset_id

    def flush_pending(self) -> list[str]:
        """Push every table's rows the mirror holds but Power BI does not (after an outage)."""
        flushed = []
        with self._lock:
            for stream, (schema, keys) in self.mirror.schemas().items():
                if not self.mirror.unpushed(stream):
                    continue
                if stream not in self._shapers:
                    self._remember(stream, schema, keys)
                self.flush(stream, [])
                flushed.append(stream)
        return flushed

    # --- loading -----------------------------------------------------------------------------

    def stage(self, stream: str, key_properties: Sequence[str], records: Iterable[dict[str, Any]]) -> list[StagedRow]:
        rows = [
            StagedRow(row_key(r, key_properties), str(r["_sdc_version"]), parent_key(stream, r),
                      bool(r.get("_sdc_deleted_at")), r)
            for r in records
        ]
        return self.mirror.stage(stream, rows)

    def load(self, stream: str, key_properties: Sequence[str], records: list[dict[str, Any]]) -> LoadReport:
        """Guard, stage and push one batch. Raises :class:`LoadFailed` with what did not go."""
        with self._lock:
            return self._load(stream, key_properties, records)

    def _load(self, stream: str, key_properties: Sequence[str], records: list[dict[str, Any]]) -> LoadReport:
        if stream not in self._shapers:
            raise ValueError(f"no schema registered for stream {stream!r}")
        accepted = self.stage(stream, key_properties, records)
        skipped = len(records) - len(accepted)
        if skipped:
            self.logger.info("%s: %d record(s) not newer than what Power BI already holds; skipped",
                             stream, skipped)
        self.flush(stream, accepted)
        if stream in HEADER_LINES:
            self._cascade_deletes(stream, accepted)
        return LoadReport(len(accepted), skipped)

    def flush(self, stream: str, batch: list[StagedRow]) -> None:
        truncated_before = self._shapers[stream].truncated_values
        try:
            dataset_id = self._ensure_table(stream)
            if stream in self.dimension_streams:
                if self.mirror.unpushed(stream):
                    self._rewrite(dataset_id, stream)
            else:
                self._append(dataset_id, stream)
            cut = self._shapers[stream].truncated_values - truncated_before
            if cut:
                self.logger.warning("%s: %d value(s) longer than %d characters were cut to fit Power BI; "
                                    "the full values stay in the mirror", stream, cut, self.max_string_length)
        except (TransientError, PowerBIRequestError, MissingTableError, requests.RequestException) as exc:
            still_pending = {r.key for r in self.mirror.unpushed(stream)}
            unsent = [r.record for r in batch if r.key in still_pending]
            raise LoadFailed(stream, str(exc), unsent) from exc

    def _rewrite(self, dataset_id: str, stream: str) -> None:
        shaper = self._shapers[stream]
        rows = [shaper.row(r) for r in self.mirror.current_records(stream, include_deleted=not self.hard_delete)]
        self.client.delete_rows(dataset_id, stream)
        for chunk in _chunks(rows, self.pacer.limits.max_rows_per_request):
            self.pacer.before_post(len(chunk), len(rows))
            self.client.post_rows(dataset_id, stream, list(chunk))
        self.mirror.mark_stream_pushed(stream)
        self.logger.info("Rewrote Power BI table %r with %d current rows", stream, len(rows))

    def _append(self, dataset_id: str, stream: str) -> None:
        shaper = self._shapers[stream]
        pending = self.mirror.unpushed(stream)
        table_rows = self.mirror.count(stream)
        for chunk in _chunks(pending, self.pacer.limits.max_rows_per_request):
            self.pacer.before_post(len(chunk), table_rows)
            self.client.post_rows(dataset_id, stream, [shaper.row(r.record) for r in chunk])
            self.mirror.mark_pushed(stream, chunk)

    def _cascade_deletes(self, header_stream: str, accepted: list[StagedRow]) -> None:
        lines_stream, _ = HEADER_LINES[header_stream]
        tombstones: list[StagedRow] = []
        for header in accepted:
            if not header.deleted:
                continue
            parent = f"{header.record.get('company_id')}|{header.record.get('id')}"
            for line in self.mirror.live_children(lines_stream, parent):
                record = dict(line.record)
                record["_sdc_deleted_at"] = header.record.get("_sdc_deleted_at")
                record["_sdc_batched_at"] = header.record.get("_sdc_batched_at")
                record["_sdc_version"] = max(line.version, header.version)
                tombstones.append(StagedRow(line.key, record["_sdc_version"], parent, True, record))
        if not tombstones:
            return
        staged = self.mirror.stage(lines_stream, tombstones)
        self.logger.info("%s: flagged %d line(s) of deleted documents as deleted", lines_stream, len(staged))
        if lines_stream in self._shapers:
            self.flush(lines_stream, staged)
        # Otherwise the tombstones wait in the mirror and go out with the next lines batch.


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _same_columns(remote: list[dict[str, Any]] | None, wanted: list[dict[str, Any]]) -> bool:
    if remote is None:
        return False
    def norm(columns: list[dict[str, Any]]) -> list[tuple[str, str]]:
        return [(str(c["name"]), str(c["dataType"]).lower().replace("bool", "boolean").replace("booleanean", "boolean"))
                for c in columns]
    return norm(remote) == norm(wanted)


__all__ = ["DEFAULT_DIMENSION_STREAMS", "LoadFailed", "LoadReport", "PowerBIAuthError", "PushLoader"]
