"""One sink per stream: deduplicate a batch, stage it, and MERGE it in one statement.

Delivery (retries, setting aside the records the warehouse cannot hold, the systemic stop,
dead letters and their replay) is the plugin kit's (``qbc_plugin_kit.delivery``); this sink
supplies ``load`` (one batch, one MERGE) and the warehouse's error verdicts (errors.py).
"""

from __future__ import annotations

import base64
import functools
import json
import re
import time
import typing as t
import uuid
from concurrent.futures import Future

from qbc_plugin_kit.delivery import DeliverySink, private_keys_removed
from qbc_plugin_kit.failures import RecordRefused, Verdict
from qbc_plugin_kit.record_intake import (
    EXTRACTED_AT,
    FullCheck,
    check_version,
    extracted_at,
    require_keys,
    stamp_audit_columns,
)
from qbc_plugin_kit.record_model import HEADER_LINES, SOURCE_COLUMN, audit_source
from qbc_plugin_kit.version_order import DELETED_AT, SYNC_TOKEN, UPDATED_AT, newest_per_key
from singer_sdk.sinks import BatchSink

from target_databricks import errors, merge_sql
from target_databricks.fast_rows import FastRows, NeedsFullCheck
from target_databricks.merge_sql import Column
from target_databricks.row_encoding import (
    ValueRejected,
    encode_row,
    encode_value,
    json_chunks,
    split_constant_columns,
)
from target_databricks.type_mapping import BIGINT, STRING, TIMESTAMP, TypeSettings, sql_type

if t.TYPE_CHECKING:
    from target_databricks.target import TargetDatabricks

ROWS_PARAMETER = "rows"
# Databricks' documented cap on one statement's native parameter values.
MAX_PARAMETER_BYTES = 1_000_000
_INVALID = re.compile(r"[^0-9a-z_]+")
# Audit columns a soft deletion still writes (the record's other values are kept).
_TOMBSTONE_AUDIT = ("_sdc_extracted_at", "_sdc_received_at", "_sdc_batched_at",
                    "_sdc_sequence", "_sdc_table_version", SOURCE_COLUMN)
# Below this many characters of values a record cannot reach the parameter cap, even with
# every character escaped as \uXXXX in the JSON payload: only larger ones are measured.
_SURELY_SMALL = MAX_PARAMETER_BYTES // 6
# `staging: auto` sends a batch through the Volume (Parquet, PUT, the MERGE reading the file,
# REMOVE: three statements whatever its size) when its values add up to at least this many bytes
# of text, else as query parameters (one MERGE while the rows fit one 900 kB parameter; past that
# a staging table and one INSERT per chunk). ~203 bytes of values per invoice row, so 150 kB is
# ~750 rows. Set from `python bench/target_databricks.py --rows 10000 --batch-sizes
# 250,500,1000,2000,5000 --update-rows 2000 --loaders parameter,volume` after the Volume path
# stopped making a staging table (2026-12-03, load 1.6-2.4; rows/s parameter against Volume):
# 250 rows 325/326 (even), 500 848/762 (parameters ahead, and in 2 of 3 earlier pairs), 1,000
# 1,457/1,536 (the Volume ahead, as in 3 of 3 pairs; engine CPU 6.6/5.5 s), 2,000 2,188/2,145,
# 5,000 3,509/4,163 (engine 1.7/1.4 s). The crossover is between 500 and 1,000 rows. On a real
# warehouse the Volume's two extra statements and the upload are round trips to the cloud, and
# a parameter is never parsed as SQL text as the local engine parses it, so the crossover there
# is likely higher: `staging: insert` keeps small batches as parameters whatever their size.
AUTO_VOLUME_MIN_BYTES = 150_000
# A record taken on the bulk path keeps its encoded row (the desired columns' texts) here.
_ROW = "__qbc_row__"
# The version fields the order reads, and the column type under which the fast converters have
# already read each one (see DatabricksSink._versions_vouched).
_VERSION_TYPES = ((UPDATED_AT, TIMESTAMP), (DELETED_AT, TIMESTAMP), (SYNC_TOKEN, BIGINT))


@functools.lru_cache(maxsize=4096)  # called for every key of every record
def conform_name(name: str) -> str:
    """Lower-case letters, digits and underscores: valid in Delta without column mapping."""
    conformed = _INVALID.sub("_", name.lower()) or "_"
    return f"_{conformed}" if conformed[0].isdigit() else conformed


class DatabricksSink(DeliverySink, BatchSink):
    """Loads one stream into ``catalog.schema.table``."""

    target: TargetDatabricks

    def __init__(
        self,
        target: TargetDatabricks,
        stream_name: str,
        schema: dict,
        key_properties: t.Sequence[str] | None,
    ) -> None:
        super().__init__(target, stream_name, schema, key_properties)
        # Added after the SDK keeps the schema as sent, so an unchanged SCHEMA message
        # still compares equal and does not start a new sink.
        self.schema = {
            **self.schema,
            "properties": {**self.schema["properties"],
                           SOURCE_COLUMN: {"type": ["string", "null"]}},
        }
        self.target = target
        self.connector = target.connector
        settings = target.settings
        self.catalog: str | None = settings.catalog or None
        self.schema_name = conform_name(settings.default_target_schema)
        self.table_base = conform_name(stream_name.split("-")[-1])
        self.table = merge_sql.table_name(self.catalog, self.schema_name, self.table_base)
        self.provider = settings.provider
        self.properties = target.table_properties
        types = TypeSettings(
            decimal_precision=settings.decimal_precision,
            decimal_scale=settings.decimal_scale,
            nested_as=settings.nested_as,
        )
        self.desired_columns = [
            Column(conform_name(name), sql_type(prop, types))
            for name, prop in self.schema["properties"].items()
        ]
        self._desired_types = {c.name: c.sql_type for c in self.desired_columns}
        self._desired_spec = [(c.name, c.sql_type) for c in self.desired_columns]
        # Records keep their property names when every name is already a valid column name
        # (QuickBooks' are): no renamed copy of each record is made.
        self._names_kept = all(conform_name(name) == name for name in self.schema["properties"])
        self._fast_rows: FastRows | None = None
        self._full_check = FullCheck(self.schema, enabled=self.validate_schema)
        self._vouched: tuple[bool, tuple[str, ...]] | None = None
        self._batch_started = ""
        self._measure_rows = target.volume_stager is None and target.connector.native_parameters
        # Set by the bulk intake while it drains this sink because it is full; loads here run
        # in the foreground.
        self.drain_in_background = False
        self.keys = [conform_name(k) for k in self.key_properties]
        self.load_method = settings.load_method
        self.hard_delete = settings.hard_delete
        self.staging_mode = settings.staging
        self.chunk_bytes = settings.stage_chunk_bytes
        self.encoded_payload = not self.connector.native_parameters
        self.columns: list[Column] | None = None
        # The table's columns, asked on the target's helper thread at the stream's first record.
        self._described: Future[dict[str, str] | None] | None = None
        self._stage_table = merge_sql.table_name(
            self.catalog, self.schema_name, f"_sdc_stage_{self.table_base}_{uuid.uuid4().hex[:8]}"
        )
        self._stage_created = False

    @property
    def include_sdc_metadata_properties(self) -> bool:
        """Audit columns are always written (ARCHITECTURE.md section 5)."""
        return True

    # Records --------------------------------------------------------------------------

    def _add_sdc_metadata_to_record(self, record: dict, message: dict, context: dict) -> None:
        # Records that take the SDK's path (stream maps, flattening) keep the kit's one rule.
        own = record.get(EXTRACTED_AT)
        super()._add_sdc_metadata_to_record(record, message, context)
        record[EXTRACTED_AT] = extracted_at({EXTRACTED_AT: own}, message)

    def preprocess_record(self, record: dict, context: dict) -> dict:
        record[SOURCE_COLUMN] = audit_source(self.stream_name, record)
        self._check_values(record)
        return record

    def _check_values(self, record: dict) -> None:
        """Refuse, alone, a record its columns cannot hold exactly (a 40-digit number, more
        decimals than the scale, a date outside the TIMESTAMP range, more than a statement's
        parameters may carry), rather than let it fail the MERGE of its whole batch."""
        self._refuse_oversized(self._encode_checked(record))

    # Records on the bulk path (qbc_plugin_kit.bulk_intake) -------------------------------

    def start_batch(self, context: dict) -> None:
        super().start_batch(context)
        self._batch_started = context["batch_start_time"].isoformat()
        if self.columns is None and self._described is None:
            # The stream's first record: the session and the table's columns are read while the
            # rest of the batch arrives, not after it (a run without records connects to nothing).
            self._described = self.target.ahead(self.connector.table_columns, self.table)

    def _encoder(self) -> FastRows:
        if self._fast_rows is None:
            self._fast_rows = FastRows(self.schema, list(self.schema["properties"]),
                                       [c.sql_type for c in self.desired_columns])
        return self._fast_rows

    def _versions_vouched(self) -> tuple[bool, tuple[str, ...]]:
        """Whether the fast converters read every declared version field as the version order
        does (a date-time updated_at and deletion, an integer sync_token), and the version
        fields the schema does not declare (a record carrying one is read in full)."""
        if self._vouched is None:
            properties = self.schema["properties"]
            declared_well = all(
                self._desired_types.get(conform_name(name)) == kind
                for name, kind in _VERSION_TYPES if name in properties)
            self._vouched = (self._encoder().encode is not None and declared_well and self._names_kept,
                             tuple(name for name, _ in _VERSION_TYPES if name not in properties))
        return self._vouched

    def accept(self, record: dict[str, t.Any], message: dict[str, t.Any], received: tuple[str, int]) -> None:
        """Take one record on the bulk path: checked and encoded into its row once.

        What the SDK's per-record path did (the key check, the audit columns, validation with
        the contract's semantics, date-time parsing) in one pass over the values: a record the
        fast converters vouch for is not walked again; any other goes through the full JSON
        Schema validator. Raises RecordRefused (set aside alone) or MissingKeyPropertiesError."""
        require_keys(record, self.key_properties)
        context = self._get_context(record)
        stamp_audit_columns(record, message, received, stream=self.stream_name,
                            batched_at=self._batch_started, sync_started_at=self.sync_started_at)
        encode = self._encoder().encode
        vouched, undeclared = self._versions_vouched()
        try:
            if encode is None:
                raise NeedsFullCheck
            row = encode(record)
            check_version(record, vouched=vouched and not any(name in record for name in undeclared))
        except NeedsFullCheck:
            self._full_check.refuse_invalid(record)
            # The version first: its reason names the version order's range, not a column's.
            check_version(record, vouched=False)
            row = self._encode_checked(record)
        self._refuse_oversized(row)
        record[_ROW] = row
        self.tally_record_read()
        self.process_record(record, context)

    def _encode_checked(self, record: dict[str, t.Any]) -> list[str | None]:
        """The row of a record the validator accepted, value by value (``encode_value``)."""
        row: list[str | None] = []
        for name, (column, column_type) in zip(self.schema["properties"], self._desired_spec, strict=True):
            value = record.get(name)
            try:
                row.append(encode_value(column, value, column_type))
            except ValueRejected as exc:
                raise RecordRefused(str(exc)) from exc
            except (ValueError, TypeError, OverflowError, ArithmeticError) as exc:
                raise RecordRefused(f"column `{column}`: {value!r} cannot be stored as "
                                    f"{column_type} ({exc})") from exc
        return row

    def _refuse_oversized(self, row: list[str | None]) -> None:
        """A record larger than a statement's parameters may carry is refused alone, up front."""
        if not self._measure_rows or sum(len(text) for text in row if text) < _SURELY_SMALL:
            return
        size = len(json.dumps(row, ensure_ascii=False, separators=(",", ":")).encode())
        if size > MAX_PARAMETER_BYTES:
            raise RecordRefused(_too_large(size))

    # Batches --------------------------------------------------------------------------

    def process_batch(self, context: dict) -> None:
        records: list[dict] = context.get("records", [])
        if not records:
            return
        started = time.monotonic()
        before = self.connector.statements_on_this_thread()
        landed = self.deliver(records, self._load, self._classify)
        if not landed:
            return
        self.tally_record_written(len(landed))
        self.logger.info("Loaded %d records into %s in %.2f s, %d statements", len(landed),
                         self.table, time.monotonic() - started,
                         self.connector.statements_on_this_thread() - before)

    def _classify(self, error: BaseException) -> Verdict:
        return errors.classify(error, self.target.settings)

    def _load(self, records: list[dict]) -> None:
        """Write ``records`` atomically: one MERGE (or INSERT) of the batch's newest versions."""
        rows = (records if self._names_kept
                else [{conform_name(k): v for k, v in private_keys_removed(r).items()} for r in records])
        dropped = 0
        if self.keys and self.load_method != "append-only":
            rows, dropped = newest_per_key(rows, self.keys)
        try:
            self._write(rows)
        except ValueRejected as exc:
            # The stored table's type is narrower than the schema's: split until found.
            raise RecordRefused(str(exc)) from exc
        self.tally_duplicate_merged(dropped)

    def _prepare(self) -> list[Column]:
        if self.columns is None:
            described = self._described_ahead()
            if described is False:
                described = self.connector.table_columns(self.table)
            # A stored table's schema exists: CREATE SCHEMA only for a table still to be made
            # (one round trip less for every run after the first).
            if described is None:
                self.target.ensure_schema(self.catalog, self.schema_name)
            self.columns = self.connector.ensure_table(
                self.table, self.desired_columns, self.keys,
                provider=self.provider, properties=self.properties, described=described,
            )
        return self.columns

    def _described_ahead(self) -> dict[str, str] | t.Literal[False] | None:
        """The table's columns as the helper thread found them (None: no such table), or False
        when they are to be asked here: not asked yet, or the asking failed (asked again here,
        where a failure is classified and retried like any other)."""
        future, self._described = self._described, None
        if future is None or future.cancel():
            return False
        try:
            return future.result()
        except Exception:  # asked again in the foreground, which reports it
            return False

    def _write(self, rows: list[dict]) -> None:
        columns = self._prepare()
        spec = [(c.name, c.sql_type) for c in columns]
        # Rows encoded at intake fit the desired columns; a stored table that differs (kept
        # wider types) has its rows encoded here, as do records that took the SDK's path.
        same = spec == self._desired_spec
        encoded = [row if same and (row := r.get(_ROW)) is not None else encode_row(r, spec) for r in rows]
        overwrite = (self.load_method == "overwrite"
                     and self.table not in self.target.overwritten_tables)
        if self.staging_path(encoded) == "volume":
            # The statement reads the uploaded file itself: no staging table.
            with self.target.volume_stager.staged(self, columns, encoded) as remote:
                self.connector.execute(
                    self._statement(columns, merge_sql.file_rows_source(columns, remote), overwrite))
        else:
            source, parameters = self._parameter_source(columns, encoded)
            self.connector.execute(self._statement(columns, source, overwrite), parameters)
        if overwrite:
            self.target.overwritten_tables.add(self.table)
        self._flag_deleted_lines(rows)

    def _statement(self, columns: list[Column], source: str, overwrite: bool) -> str:
        """The one statement that writes the batch's rows (``source``) into the table."""
        if self.keys and self.load_method == "upsert" and self.connector.take_empty(self.table):
            # The first batch into the table this run created: nothing stored to merge with (the
            # batch holds one version per key), so an INSERT, without MERGE's join and checks.
            deletions = self.hard_delete and any(c.name == DELETED_AT for c in columns)
            return merge_sql.insert_select(
                self.table, columns, merge_sql.without_deletions(source) if deletions else source)
        if self.keys and self.load_method == "upsert":
            return merge_sql.merge(
                self.table, columns, self.keys, source,
                hard_delete=self.hard_delete,
                tombstone_columns=_TOMBSTONE_AUDIT,
            )
        return merge_sql.insert_select(self.table, columns, source, overwrite=overwrite)

    def staging_path(self, encoded: list[list[str | None]]) -> str:
        """``volume`` or ``parameter`` for this batch: as ``staging`` says, or for ``auto``
        (with a Volume to use) by the size of its values, or a row too large for a parameter."""
        if self.target.volume_stager is None or self.staging_mode == "insert":
            return "parameter"
        if self.staging_mode == "volume":
            return "volume"
        size = 0
        for row in encoded:
            row_size = sum(len(v) for v in row if v is not None)
            if row_size >= _SURELY_SMALL:  # may not fit in one statement's parameters
                return "volume"
            size += row_size
        return "volume" if size >= AUTO_VOLUME_MIN_BYTES else "parameter"

    def _parameter_source(self, columns: list[Column], encoded: list[list[str | None]],
                          ) -> tuple[str, dict[str, t.Any] | None]:
        """The rows as JSON parameters: the MERGE's source and its parameters when one
        statement carries them all, else a staging table filled chunk by chunk."""
        constants, varying = split_constant_columns(encoded)
        chunks = list(json_chunks(varying, self.chunk_bytes))
        placeholders = {i: (self.connector.placeholder(f"c{i}") if v is not None else None)
                        for i, v in constants.items()}
        shared = {f"c{i}": v for i, v in constants.items() if v is not None}
        self._check_parameter_size(chunks, shared)
        rows_source = merge_sql.json_rows_source(
            columns, self.connector.placeholder(ROWS_PARAMETER), placeholders,
            encoded=self.encoded_payload)
        if len(chunks) == 1:
            return rows_source, {ROWS_PARAMETER: self._payload(chunks[0]), **shared}
        self._create_stage(columns)
        insert = merge_sql.insert_select(self._stage_table, columns, rows_source)
        for chunk in chunks:
            self.connector.execute(insert, {ROWS_PARAMETER: self._payload(chunk), **shared})
        return merge_sql.select_all(self._stage_table), None

    def _create_stage(self, columns: list[Column]) -> None:
        self.connector.execute(merge_sql.create_table(
            self._stage_table, columns, provider=self.provider, replace=True))
        self._stage_created = True

    def _check_parameter_size(self, chunks: list[str], shared: t.Mapping[str, str]) -> None:
        """Refuse up front what the warehouse would answer with a bare HTTP 400."""
        if self.encoded_payload:  # inline: the payload is SQL text, not a parameter
            return
        shared_bytes = sum(len(v.encode()) for v in shared.values())
        largest = max(len(chunk.encode()) for chunk in chunks) + shared_bytes
        if largest > MAX_PARAMETER_BYTES:
            raise ValueRejected(_too_large(largest))

    def _payload(self, chunk: str) -> str:
        """The rows parameter as sent: JSON, or base64 when the connector inlines it as SQL."""
        return base64.b64encode(chunk.encode()).decode() if self.encoded_payload else chunk

    def _flag_deleted_lines(self, rows: list[dict]) -> None:
        """A deleted header's lines are flagged too (record-model.md), when a lines table exists."""
        deleted = [r for r in rows if r.get(DELETED_AT) is not None]
        relation = HEADER_LINES.get(self.table_base)
        if not deleted or relation is None or "id" not in self.keys:
            return
        lines_stream, header_column = relation
        child = merge_sql.table_name(self.catalog, self.schema_name, conform_name(lines_stream))
        if not self.target.table_exists(child):
            return
        joins = [(k, k) for k in self.keys if k != "id"] + [(header_column, "id")]
        types = {c.name: c.sql_type for c in self.columns or ()}
        columns = [*(Column(k, types.get(k, STRING)) for k in self.keys), Column(DELETED_AT, TIMESTAMP)]
        spec = [(c.name, c.sql_type) for c in columns]
        source = merge_sql.json_rows_source(columns, self.connector.placeholder(ROWS_PARAMETER),
                                            encoded=self.encoded_payload)
        statement = merge_sql.flag_children_deleted(child, joins, source, hard_delete=self.hard_delete)
        for chunk in json_chunks((encode_row(r, spec) for r in deleted), self.chunk_bytes):
            self.connector.execute(statement, {ROWS_PARAMETER: self._payload(chunk)})

    def clean_up(self) -> None:
        if self._stage_created:
            try:
                self.connector.execute(merge_sql.drop_table(self._stage_table))
            except Exception as exc:
                self.logger.warning("Could not drop staging table %s: %s", self._stage_table, exc)
        super().clean_up()


def _too_large(size: int) -> str:
    return (f"the record needs {size:,} bytes of query parameters, more than the "
            f"{MAX_PARAMETER_BYTES:,} a statement may carry; set staging_volume (a Unity "
            "Catalog Volume) with `staging: auto` or `staging: volume` to load it as a file "
            "(or `parameter_style: inline`)")
