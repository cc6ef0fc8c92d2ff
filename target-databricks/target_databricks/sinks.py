"""One sink per stream: deduplicate a batch, stage it, and MERGE it in one statement."""

from __future__ import annotations

import base64
import functools
import re
import time
import typing as t
import uuid

from singer_sdk.sinks import BatchSink
from singer_sdk.sinks.core import BaseJSONSchemaValidator

from target_databricks import merge_sql
from target_databricks.auth import AuthenticationError
from target_databricks.connector import TableValidationError
from target_databricks.merge_sql import Column
from target_databricks.retry import call_with_retry, is_transient
from target_databricks.row_encoding import (
    ValueRejected,
    encode_row,
    json_chunks,
    split_constant_columns,
)
from target_databricks.type_mapping import STRING, TIMESTAMP, TypeSettings, sql_type
from target_databricks.validation import CompiledSchemaValidator
from target_databricks.versioning import DEFAULT_VERSION_COLUMNS, newest_per_key

if t.TYPE_CHECKING:
    from target_databricks.target import TargetDatabricks

SOURCE_COLUMN = "_sdc_source"
DELETED_AT = merge_sql.DELETED_AT
ROWS_PARAMETER = "rows"
# Databricks' documented cap on one statement's native parameter values.
MAX_PARAMETER_BYTES = 1_000_000
_INVALID = re.compile(r"[^0-9a-z_]+")
# Audit columns a soft deletion still writes (the record's other values are kept).
_TOMBSTONE_AUDIT = ("_sdc_extracted_at", "_sdc_received_at", "_sdc_batched_at",
                    "_sdc_sequence", "_sdc_table_version", SOURCE_COLUMN)


@functools.lru_cache(maxsize=4096)  # called for every key of every record
def conform_name(name: str) -> str:
    """Lower-case letters, digits and underscores: valid in Delta without column mapping."""
    conformed = _INVALID.sub("_", name.lower()) or "_"
    return f"_{conformed}" if conformed[0].isdigit() else conformed


def _singular(stream: str) -> str:
    if stream.endswith("ies"):
        return stream[:-3] + "y"
    return stream[:-1] if stream.endswith("s") else stream


class BatchRejected(Exception):
    """The batch was written to the dead-letter store instead of the table."""


class DatabricksSink(BatchSink):
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
        config = self.config
        self.catalog: str | None = config.get("catalog") or None
        self.schema_name = conform_name(
            config.get("schema") or config.get("default_target_schema") or "quickbooks"
        )
        self.table_base = conform_name(stream_name.split("-")[-1])
        self.table = merge_sql.table_name(self.catalog, self.schema_name, self.table_base)
        self.provider = str(config.get("table_provider", "DELTA") or "").strip()
        if self.provider.lower() == "none":
            self.provider = ""
        self.properties = target.table_properties
        settings = TypeSettings(
            decimal_precision=int(config.get("decimal_precision", 38)),
            decimal_scale=int(config.get("decimal_scale", 10)),
            nested_as=config.get("nested_as", "json_string"),
        )
        self.desired_columns = [
            Column(conform_name(name), sql_type(prop, settings))
            for name, prop in self.schema["properties"].items()
        ]
        self.keys = [conform_name(k) for k in self.key_properties]
        wanted_versions = config.get("version_columns") or list(DEFAULT_VERSION_COLUMNS)
        self.version_names = [c for c in wanted_versions
                              if c in {col.name for col in self.desired_columns}]
        self.load_method = config.get("load_method", "upsert")
        self.hard_delete = bool(config.get("hard_delete", False))
        self.staging_mode = config.get("staging", "insert")
        self.chunk_bytes = int(config.get("stage_chunk_bytes", 900_000))
        self.encoded_payload = not self.connector.native_parameters
        self.columns: list[Column] | None = None
        self._stage_table = merge_sql.table_name(
            self.catalog, self.schema_name, f"_sdc_stage_{self.table_base}_{uuid.uuid4().hex[:8]}"
        )
        self._stage_created = False

    @property
    def include_sdc_metadata_properties(self) -> bool:
        """Audit columns are always written (ARCHITECTURE.md section 5)."""
        return True

    def get_validator(self) -> BaseJSONSchemaValidator | None:
        return CompiledSchemaValidator(self.schema) if self.validate_schema else None

    # Records --------------------------------------------------------------------------

    def preprocess_record(self, record: dict, context: dict) -> dict:
        edition, company = record.get("edition"), record.get("company_id")
        record[SOURCE_COLUMN] = f"{edition}:{company}" if edition and company else self.stream_name
        return record

    # Batches --------------------------------------------------------------------------

    def process_batch(self, context: dict) -> None:
        records: list[dict] = context.get("records", [])
        if not records:
            return
        started = time.monotonic()
        before = self.connector.statements_on_this_thread()
        try:
            self._load_batch(records)
        except BatchRejected:
            return
        self.tally_record_written(len(records))
        self.logger.info("Loaded %d records into %s in %.2f s, %d statements", len(records),
                         self.table, time.monotonic() - started,
                         self.connector.statements_on_this_thread() - before)

    def _conformed(self, records: list[dict]) -> list[dict]:
        return [{conform_name(k): v for k, v in r.items()} for r in records]

    def _load_batch(self, records: list[dict]) -> None:
        rows = self._conformed(records)
        if self.keys and self.load_method != "append-only":
            unique = newest_per_key(rows, self.keys, self.version_names)
            self.tally_duplicate_merged(len(rows) - len(unique))
            rows = unique
        try:
            call_with_retry(lambda: self._write(rows), self.connector.retry_policy,
                            what=f"loading a batch of {len(rows)} rows into {self.table}",
                            logger=self.logger)
        except (TableValidationError, ValueRejected) as exc:
            self._dead_letter(records, f"{type(exc).__name__}: {exc}")
            raise BatchRejected from None
        except AuthenticationError as exc:
            self._dead_letter(records, f"AuthenticationError: {exc}")
            raise
        except Exception as exc:
            self._dead_letter(records, f"{type(exc).__name__}: {exc}")
            if is_transient(exc):
                raise  # the warehouse is unreachable: later batches would only fail as well
            raise BatchRejected from None

    def _dead_letter(self, records: list[dict], reason: str) -> None:
        path = self.target.dead_letters.write(
            self.stream_name, self.original_schema, list(self.key_properties), records, reason
        )
        self.logger.error(
            "Batch of %d records for stream '%s' was not loaded into %s: %s. Kept in %s; "
            "run `target-databricks replay` to load it again.",
            len(records), self.stream_name, self.table, reason, path,
        )
        self.target.rejected_batches.append(path)

    def _prepare(self) -> list[Column]:
        if self.columns is None:
            self.target.ensure_schema(self.catalog, self.schema_name)
            self.columns = self.connector.ensure_table(
                self.table, self.desired_columns, self.keys,
                provider=self.provider, properties=self.properties,
            )
        return self.columns

    def _write(self, rows: list[dict]) -> None:
        columns = self._prepare()
        spec = [(c.name, c.sql_type) for c in columns]
        constants, varying = split_constant_columns([encode_row(r, spec) for r in rows])
        chunks = list(json_chunks(varying, self.chunk_bytes))
        placeholders = {i: (self.connector.placeholder(f"c{i}") if v is not None else None)
                        for i, v in constants.items()}
        shared = {f"c{i}": v for i, v in constants.items() if v is not None}
        if self.staging_mode == "insert":
            self._check_parameter_size(chunks, shared)
        rows_source = merge_sql.json_rows_source(
            columns, self.connector.placeholder(ROWS_PARAMETER), placeholders,
            encoded=self.encoded_payload)
        overwrite = (self.load_method == "overwrite"
                     and self.table not in self.target.overwritten_tables)
        if len(chunks) == 1 and self.staging_mode == "insert":
            source = rows_source
            parameters: dict[str, t.Any] | None = {ROWS_PARAMETER: self._payload(chunks[0]),
                                                   **shared}
        else:
            self._stage(columns, chunks, rows_source, shared, rows)
            source, parameters = merge_sql.select_all(self._stage_table), None

        if self.keys and self.load_method == "upsert":
            statement = merge_sql.merge(
                self.table, columns, self.keys, source,
                version_columns=[c for c in columns if c.name in self.version_names],
                hard_delete=self.hard_delete,
                tombstone_columns=_TOMBSTONE_AUDIT,
            )
        else:
            statement = merge_sql.insert_select(self.table, columns, source, overwrite=overwrite)
        self.connector.execute(statement, parameters)
        if overwrite:
            self.target.overwritten_tables.add(self.table)
        self._flag_deleted_lines(rows)

    def _stage(self, columns: list[Column], chunks: list[str], rows_source: str,
               shared: t.Mapping[str, t.Any], rows: list[dict]) -> None:
        self.connector.execute(merge_sql.create_table(
            self._stage_table, columns, provider=self.provider, replace=True))
        self._stage_created = True
        if self.staging_mode == "volume":
            self.target.volume_stager.stage(self, columns, rows)
            return
        insert = merge_sql.insert_select(self._stage_table, columns, rows_source)
        for chunk in chunks:
            self.connector.execute(insert, {ROWS_PARAMETER: self._payload(chunk), **shared})

    def _check_parameter_size(self, chunks: list[str], shared: t.Mapping[str, str]) -> None:
        """Refuse up front what the warehouse would answer with a bare HTTP 400."""
        if self.encoded_payload:  # inline: the payload is SQL text, not a parameter
            return
        shared_bytes = sum(len(v.encode()) for v in shared.values())
        largest = max(len(chunk.encode()) for chunk in chunks) + shared_bytes
        if largest > MAX_PARAMETER_BYTES:
            raise ValueRejected(
                f"a record of this batch needs {largest:,} bytes of query parameters, more than the "
                f"{MAX_PARAMETER_BYTES:,} a statement may carry; load this stream with "
                "`staging: volume` (or `parameter_style: inline`)"
            )

    def _payload(self, chunk: str) -> str:
        """The rows parameter as sent: JSON, or base64 when the connector inlines it as SQL."""
        return base64.b64encode(chunk.encode()).decode() if self.encoded_payload else chunk

    def _flag_deleted_lines(self, rows: list[dict]) -> None:
        """A deleted header's lines are flagged too (record-model.md), when a lines table exists."""
        deleted = [r for r in rows if r.get(DELETED_AT) is not None]
        if not deleted or self.keys != ["company_id", "id"]:
            return
        header = _singular(self.table_base)
        child = merge_sql.table_name(self.catalog, self.schema_name, f"{header}_lines")
        if not self.target.table_exists(child):
            return
        columns = [Column("company_id", STRING), Column("id", STRING), Column(DELETED_AT, TIMESTAMP)]
        spec = [(c.name, c.sql_type) for c in columns]
        source = merge_sql.json_rows_source(columns, self.connector.placeholder(ROWS_PARAMETER),
                                            encoded=self.encoded_payload)
        statement = merge_sql.flag_children_deleted(
            child, [("company_id", "company_id"), (f"{header}_id", "id")], source,
            hard_delete=self.hard_delete,
        )
        for chunk in json_chunks((encode_row(r, spec) for r in deleted), self.chunk_bytes):
            self.connector.execute(statement, {ROWS_PARAMETER: self._payload(chunk)})

    def clean_up(self) -> None:
        if self._stage_created:
            try:
                self.connector.execute(merge_sql.drop_table(self._stage_table))
            except Exception as exc:
                self.logger.warning("Could not drop staging table %s: %s", self._stage_table, exc)
        super().clean_up()
