"""Loads prepared records into one Power BI push dataset through the local mirror.

Push datasets cannot update or delete single rows, so:

* dimension tables (lists: accounts, customers, vendors, items, ...) are **rewritten** whenever
  a batch changes them: all rows deleted, then the mirror's current rows posted again;
* fact tables (transactions and their lines) are **append-only**: every accepted version is a
  new row, ``_sdc_version`` orders them, and a deletion appends a tombstone row with
  ``_sdc_deleted_at`` set. Reports take the newest version per key. For a stream without
  version fields ``_sdc_version`` ends with the arrival stamp (the kit's ``version_text``), so
  the version that came last is still the newest.

:meth:`PushLoader.load` is one atomic write for the delivery contract: the mirror changes only
when Power BI took the batch (one POST for a fact table), so a refused batch can be split and
retried without leaving half of it behind. Rows the mirror holds that no batch owns (a deleted
invoice's line tombstones, a rewrite that was interrupted) form an outbox that
:meth:`PushLoader.flush_pending` sends.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import simplejson
from qbc_plugin_kit.delivery import private_keys_removed
from qbc_plugin_kit.failures import SystemicFailure
from qbc_plugin_kit.record_model import HEADER_LINES, LINE_HEADERS, is_deleted
from qbc_plugin_kit.version_order import DELETED_AT, arrival_stamp, version_text

from target_powerbi.client import PowerBIClient
from target_powerbi.config import DIMENSION_STREAMS
from target_powerbi.errors import PowerBIRequestError
from target_powerbi.mirror import Mirror, StagedRow
from target_powerbi.pacing import PushPacer
from target_powerbi.schema_mapping import (
    Column,
    RowShaper,
    table_columns,
    table_definition,
    table_name,
)

VERSION_COLUMN = "_sdc_version"


@dataclass(frozen=True)
class LoadReport:
    accepted: int
    skipped_as_older_or_duplicate: int


def row_key(record: Mapping[str, Any], key_properties: Sequence[str]) -> str:
    if key_properties:
        return str(simplejson.dumps([record.get(k) for k in key_properties], use_decimal=True))
    # Keyless streams: identical records are the same row, so a re-run does not duplicate them
    # (the audit columns differ on every run, so they are not part of the identity).
    content = {k: v for k, v in record.items() if not k.startswith("_sdc_")}
    payload = simplejson.dumps(content, use_decimal=True, sort_keys=True, default=str)
    return "sha256:" + hashlib.sha256(payload.encode("utf-8")).hexdigest()


def document_key(stream: str, record: Mapping[str, Any]) -> str | None:
    """The document a row belongs to: a line's header, or a header itself (company|id)."""
    if stream in HEADER_LINES:
        return f"{record.get('company_id')}|{record.get('id')}"
    if stream in LINE_HEADERS:
        column = LINE_HEADERS[stream][1]
        if record.get(column) is None:
            return None
        return f"{record.get('company_id')}|{record.get(column)}"
    return None


class PushLoader:
    def __init__(
        self,
        *,
        client: PowerBIClient,
        mirror: Mirror,
        pacer: PushPacer,
        dataset_name: str,
        retention_policy: str = "None",
        dimension_streams: Iterable[str] = DIMENSION_STREAMS,
        number_type: str = "Decimal",
        hard_delete: bool = False,
        max_string_length: int = 4000,
        max_columns: int = 75,
        missing_table_action: str = "fail",
        schema_change_action: str = "refuse",
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
        self.schema_change_action = schema_change_action
        self.logger = logger or logging.getLogger(__name__)
        self._dataset_id: str | None = None
        # A dataset this run created has no report bound to its id yet: rebuilding it is free.
        self._created_this_run = False
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

    def refusal(self, stream: str, record: Mapping[str, Any]) -> str | None:
        """Why Power BI's table for ``stream`` cannot hold ``record`` exactly, or None."""
        return self._shapers[stream].problem(record)

    def _ensure_table(self, stream: str) -> str:
        definition = table_definition(stream, self._shapers[stream].columns)
        if self._dataset_id is None:
            self._dataset_id = self.client.find_dataset(self.dataset_name)
            if self._dataset_id is None:
                return self._create_dataset()
            self._remote_tables = self.client.get_tables(self._dataset_id)
        table = definition["name"]
        if table not in self._remote_tables:
            return self._add_table(stream)
        differences = column_differences(self._remote_tables[table], definition["columns"])
        if differences:
            self._migrate_or_refuse(stream, definition, differences)
        return self._dataset_id

    def _migrate_or_refuse(self, stream: str, definition: dict[str, Any], differences: list[str]) -> None:
        """The dataset's table is what reports are built on: a stream that no longer matches it
        is refused unless the user let the target change the table."""
        assert self._dataset_id is not None
        table = definition["name"]
        if self.schema_change_action != "migrate":
            raise SystemicFailure(
                f"stream {stream!r} does not match table {table!r} of Power BI dataset {self.dataset_name!r}: "
                + "; ".join(differences) + "; no row of this stream was pushed",
                f"set schema_change_action: migrate to let the target change table {table!r} (its rows are "
                "pushed again from the local mirror; reports using a changed column may need editing), or make "
                "the stream match the table again (a stream map, or the tap's schema), then run again")
        self.logger.warning("Migrating Power BI table %r of dataset %r (schema_change_action: migrate): %s",
                            table, self.dataset_name, "; ".join(differences))
        self.client.put_table(self._dataset_id, definition)
        # Rows written under the old columns cannot be updated in place: the table is emptied
        # and every current row goes out again, shaped to the new columns.
        self.client.delete_rows(self._dataset_id, table)
        self._remote_tables[table] = definition["columns"]
        self.mirror.mark_stream_unpushed(stream)

    def _create_dataset(self) -> str:
        # Every stream whose schema this run has seen gets its table now: Power BI may not
        # let a table be added to a push dataset later, nor relationships.
        tables = [table_definition(s, shaper.columns) for s, shaper in self._shapers.items()]
        relationships = table_relationships(tables)
        self._dataset_id = self.client.create_dataset(self.dataset_name, tables, self.retention_policy,
                                                      relationships)
        self._created_this_run = True
        self._remote_tables = {t["name"]: t["columns"] for t in tables}
        self.logger.info("Created Power BI push dataset %r (%s) with tables %s and %d relationship(s)",
                         self.dataset_name, self._dataset_id, ", ".join(sorted(self._remote_tables)),
                         len(relationships))
        return self._dataset_id

    def _add_table(self, stream: str) -> str:
        """A stream new to an existing dataset: PutTable adds its table where Power BI allows it
        (the dataset keeps its id). Where Power BI answers ItemNotFound, ``missing_table_action``
        decides: ``fail`` (the default) stops before anything is dropped; ``recreate`` rebuilds
        the dataset with every table and refills it from the mirror (a new id). A dataset this
        run created (its first push came before a later stream's schema) is rebuilt either way:
        no report can be bound to its id yet."""
        assert self._dataset_id is not None
        definition = table_definition(stream, self._shapers[stream].columns)
        try:
            self.client.put_table(self._dataset_id, definition)
        except PowerBIRequestError as error:
            if error.status != 404:
                raise
        else:
            self._remote_tables[definition["name"]] = definition["columns"]
            self.logger.info("Added table %r to Power BI push dataset %r (%s); its id is unchanged",
                             definition["name"], self.dataset_name, self._dataset_id)
            return self._dataset_id
        if self.missing_table_action != "recreate" and not self._created_this_run:
            raise SystemicFailure(
                f"stream {stream!r} has no table in push dataset {self.dataset_name!r} and Power BI refused to "
                "add one (ItemNotFound); nothing was dropped",
                "either set missing_table_action: recreate (the dataset is deleted, rebuilt with every table "
                "from the local mirror and gets a new id: reports bound to it must be rebound), or set "
                "another dataset_name for the new streams, or leave the stream out of the run")
        for known, (schema, keys) in self.mirror.schemas().items():
            if known not in self._shapers:
                self._remember(known, schema, keys)
        if self._created_this_run:
            self.logger.info("Stream %r came after push dataset %r was created in this run: creating it again "
                             "with all %d tables", stream, self.dataset_name, len(self._shapers))
        else:
            self.logger.warning(
                "Stream %r is new to push dataset %r: recreating the dataset with all %d tables and re-pushing "
                "their current rows from the mirror (missing_table_action: recreate). Reports bound to the old "
                "dataset id must be rebound to the new one.", stream, self.dataset_name, len(self._shapers))
        self.client.delete_dataset(self._dataset_id)
        dataset_id = self._create_dataset()
        for other in list(self._shapers):
            if other != stream:
                # Into the outbox: the sink re-pushes them after this batch (flush_pending).
                self.mirror.mark_stream_unpushed(other)
        return dataset_id

    def flush_pending(self, streams: Iterable[str] | None = None) -> list[str]:
        """Push the rows the mirror holds but Power BI does not (an interrupted rewrite, line
        tombstones of a deleted document); returns the streams that had any."""
        flushed = []
        with self._lock:
            saved = self.mirror.schemas()
            for stream in list(streams) if streams is not None else list(saved):
                if not self.mirror.unpushed(stream):
                    continue
                if stream not in self._shapers:
                    if stream not in saved:
                        continue
                    self._remember(stream, *saved[stream])
                self._push_outbox(self._ensure_table(stream), stream)
                flushed.append(stream)
        return flushed

    def _push_outbox(self, dataset_id: str, stream: str) -> None:
        if stream in self.dimension_streams:
            self._rewrite(dataset_id, stream)
            self.mirror.mark_stream_pushed(stream)
            return
        shaper = self._shapers[stream]
        pending = self.mirror.unpushed(stream)
        for chunk in _chunks(pending, self.pacer.limits.max_rows_per_request):
            self.pacer.before_post(len(chunk), self.mirror.count(stream))
            self.client.post_rows(dataset_id, table_name(stream), [shaper.row(r.record) for r in chunk])
            self.mirror.mark_pushed(stream, chunk)

    # --- loading -----------------------------------------------------------------------------

    def _staged_rows(self, stream: str, key_properties: Sequence[str],
                     records: Iterable[dict[str, Any]]) -> list[StagedRow]:
        header = LINE_HEADERS.get(stream, (None, None))[0]
        rows = []
        for record in records:
            clean = private_keys_removed(record)
            # A stream without version fields: arrival tells its versions apart (append-only table).
            clean[VERSION_COLUMN] = version_text(clean, arrival_stamp())
            document = document_key(stream, clean)
            deletion = (self.mirror.deleted_document(header, document)
                        if header and document and not is_deleted(clean) else None)
            if deletion is not None:
                # The header was deleted (QuickBooks cannot restore it): a line arriving after
                # the deletion, even in the same run, is flagged with it.
                clean = _tombstone(clean, deletion)
            rows.append(StagedRow(row_key(clean, key_properties), clean[VERSION_COLUMN], document,
                                  is_deleted(clean), clean))
        return rows

    def load(self, stream: str, key_properties: Sequence[str], records: list[dict[str, Any]]) -> LoadReport:
        """Guard and push one batch, all or nothing: one POST for a fact table (the caller
        keeps a batch within max_rows_per_request), one rewrite for a dimension table."""
        with self._lock:
            if stream not in self._shapers:
                raise ValueError(f"no schema registered for stream {stream!r}")
            dataset_id = self._ensure_table(stream)
            emptied_before = self._shapers[stream].emptied_json_values
            rounded_before = self._shapers[stream].rounded_values
            dimension = stream in self.dimension_streams
            rows = self._staged_rows(stream, key_properties, records)
            if dimension and self.mirror.would_accept(stream, rows):
                # Committed before the table is emptied: if the rewrite breaks off, the next
                # load or run rewrites the table from the mirror.
                self.mirror.mark_stream_unpushed(stream)
            with self.mirror.transaction():
                accepted = self.mirror.stage(stream, rows)
                if dimension:
                    if self.mirror.unpushed(stream):
                        self._rewrite(dataset_id, stream)
                        self.mirror.mark_stream_pushed(stream)
                elif accepted:
                    shaper = self._shapers[stream]
                    for chunk in _chunks(accepted, self.pacer.limits.max_rows_per_request):
                        self.pacer.before_post(len(chunk), self.mirror.count(stream))
                        self.client.post_rows(dataset_id, table_name(stream), [shaper.row(r.record) for r in chunk])
                    self.mirror.mark_pushed(stream, accepted)
                if stream in HEADER_LINES:
                    self._stage_line_tombstones(stream, accepted)
            skipped = len(records) - len(accepted)
            if skipped:
                self.logger.info("%s: %d record(s) not newer than what Power BI already holds; skipped",
                                 stream, skipped)
            self._report_emptied_json(stream, emptied_before)
            self._report_rounded(stream, rounded_before)
            return LoadReport(len(accepted), skipped)

    def _rewrite(self, dataset_id: str, stream: str) -> None:
        shaper = self._shapers[stream]
        rows = [shaper.row(r) for r in self.mirror.current_records(stream, include_deleted=not self.hard_delete)]
        self.client.delete_rows(dataset_id, table_name(stream))
        for chunk in _chunks(rows, self.pacer.limits.max_rows_per_request):
            self.pacer.before_post(len(chunk), len(rows))
            self.client.post_rows(dataset_id, table_name(stream), list(chunk))
        self.logger.info("Rewrote Power BI table %r with %d current rows", stream, len(rows))

    def _stage_line_tombstones(self, header_stream: str, accepted: list[StagedRow]) -> None:
        """Flag the live lines of deleted documents; they go out with the lines' outbox."""
        lines_stream, _ = HEADER_LINES[header_stream]
        tombstones: list[StagedRow] = []
        for header in accepted:
            if not header.deleted or header.parent_key is None:
                continue
            for line in self.mirror.live_children(lines_stream, header.parent_key):
                record = _tombstone(line.record, header)
                tombstones.append(StagedRow(line.key, record[VERSION_COLUMN], header.parent_key, True, record))
        if tombstones:
            staged = self.mirror.stage(lines_stream, tombstones)
            self.logger.info("%s: flagged %d line(s) of deleted documents as deleted", lines_stream, len(staged))

    def _report_emptied_json(self, stream: str, before: int) -> None:
        emptied = self._shapers[stream].emptied_json_values - before
        if emptied:
            self.logger.warning("%s: %d nested value(s) longer than %d characters as JSON were left empty in "
                                "Power BI (it holds no longer text; the full values stay in the mirror)",
                                stream, emptied, self.max_string_length)


    def _report_rounded(self, stream: str, before: int) -> None:
        rounded = self._shapers[stream].rounded_values - before
        if rounded:
            self.logger.info("%s: %d number(s) with more than four decimal places rounded to four, as Power "
                             "BI's fixed decimal stores them (number_data_type: Double keeps more)", stream, rounded)


def _tombstone(line: Mapping[str, Any], deletion: StagedRow) -> dict[str, Any]:
    record = dict(line)
    record[DELETED_AT] = deletion.record.get(DELETED_AT)
    record["_sdc_batched_at"] = deletion.record.get("_sdc_batched_at")
    record[VERSION_COLUMN] = max(str(line.get(VERSION_COLUMN) or ""), deletion.version)
    return record


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _canonical_type(data_type: Any) -> str:
    # Power BI answers GET tables with the casing it pleases and "bool" for Boolean.
    text = str(data_type).lower()
    return "boolean" if text == "bool" else text


def column_differences(remote: list[dict[str, Any]], wanted: list[dict[str, Any]]) -> list[str]:
    """What differs between the dataset's table and the stream, one sentence per column."""
    have = {str(c["name"]): str(c["dataType"]) for c in remote}
    want = {str(c["name"]): str(c["dataType"]) for c in wanted}
    differences = []
    for name, data_type in want.items():
        if name not in have:
            differences.append(f"column {name!r} ({data_type}) is in the stream but not in the table")
        elif _canonical_type(have[name]) != _canonical_type(data_type):
            differences.append(f"column {name!r} is {data_type} in the stream but {have[name]} in the table")
    differences += [f"column {name!r} ({data_type}) is in the table but no longer in the stream"
                    for name, data_type in have.items() if name not in want]
    return differences


# A line column naming a list record -> that list's stream (its key column is ``id``).
_DIMENSION_COLUMNS = {"customer_id": "customers", "vendor_id": "vendors", "item_id": "items",
                      "account_id": "accounts", "class_id": "classes", "employee_id": "employees",
                      "department_id": "departments"}


def table_relationships(tables: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Relationships a new dataset is created with: line -> header (``invoice_lines.invoice_id``
    -> ``invoices.id``) and header or line -> list (``customer_id`` -> ``customers.id``).

    A line table is not joined to a list its header already joins, so every filter has one
    path (Power BI refuses ambiguous paths). Keys are QuickBooks ids: one company per dataset.
    """
    columns = {t["name"]: {c["name"] for c in t["columns"]} for t in tables}
    relationships: list[dict[str, Any]] = []

    def relate(from_table: str, column: str, to_table: str) -> bool:
        if column in columns.get(from_table, ()) and "id" in columns.get(to_table, ()) and from_table != to_table:
            relationships.append({"name": f"{from_table} {column} to {to_table}"[:100], "fromTable": from_table,
                                  "fromColumn": column, "toTable": to_table, "toColumn": "id",
                                  "crossFilteringBehavior": "OneDirection"})
            return True
        return False

    for name in columns:
        header, header_column = LINE_HEADERS.get(name, (None, None))
        joined_by_header: set[str] = set()
        if header and header_column and relate(name, header_column, table_name(header)):
            joined_by_header = {c for c in columns.get(table_name(header), ()) if c in _DIMENSION_COLUMNS}
        for column, dimension in _DIMENSION_COLUMNS.items():
            if column not in joined_by_header:
                relate(name, column, table_name(dimension))
    return relationships


__all__ = ["LoadReport", "PushLoader", "column_differences", "table_relationships"]
