"""Batched sink: de-duplicate, bulk load into a staging table, version-guarded merge."""

# SQL here is built from identifiers quoted by the dialect (never from record values,
# which travel as bound parameters or through COPY / Arrow): S608 does not apply.
# ruff: noqa: S608

from __future__ import annotations

import datetime as dt
import functools
import itertools
import operator
import re
import tempfile
import typing as t
import uuid

import sqlalchemy as sa
from qbc_plugin_kit.delivery import LETTER, LINE, DeliverySink, private_keys_removed
from qbc_plugin_kit.failures import RecordRefused
from qbc_plugin_kit.record_intake import extracted_at
from qbc_plugin_kit.record_intake import version_needs_reading as _version_needs_reading
from qbc_plugin_kit.record_intake import versions_need_reading as _versions_need_reading
from qbc_plugin_kit.record_model import LINE_HEADERS, SOURCE_COLUMN, audit_source
from qbc_plugin_kit.typed_records import TypedFields, typed_fields
from qbc_plugin_kit.validation import RecordValidator
from qbc_plugin_kit.version_order import (
    SYNC_TOKEN,
    UPDATED_AT,
    VERSION_COLUMNS,
    newest_per_key,
    version_key,
)
from singer_sdk.exceptions import MissingKeyPropertiesError
from singer_sdk.sql import SQLSink

from target_looker_warehouse import merge_sql
from target_looker_warehouse.column_types import Family
from target_looker_warehouse.config import WarehouseSettings
from target_looker_warehouse.connector import WarehouseConnector
from target_looker_warehouse.load_values import ValueConversionError
from target_looker_warehouse.row_encoding import NeedsFullCheck, RowEncoder, TypedEncoder
from target_looker_warehouse.streamed_stage import ROWS_PER_WRITE, STREAM_FROM_ROWS, StreamedStage
from target_looker_warehouse.warehouse_errors import classify

if t.TYPE_CHECKING:
    from singer_sdk.target_base import Target


def unicode_name(name: str) -> str:
    """A column or table name for a non-ASCII property: the SDK's conformer keeps ASCII letters
    only, so 'Größe' became 'gre' and '名前' an empty name (an IndexError). DuckDB and
    PostgreSQL take any letter in a quoted identifier: keep them, lower-cased, snake-joined."""
    text = re.sub(r"[\-.\s]+", "_", re.sub(r"[^\w\-.\s]", "", name)).lower().strip("_")
    text = re.sub(r"_{2,}", "_", text)
    if not text:
        # Nothing nameable left (only punctuation): a stable name from the original's bytes.
        text = "c_" + name.encode("utf-8").hex()[:24]
    return f"_{text}" if text[0].isdigit() else text


# A slim record's encoded row (a COPY line, or a tuple of text tokens).
_ROW = "__qbc_row__"
# Where a slim record's input line is kept: offset << 32 | length in its sink's line file (one
# int, not a tuple of two: a batch holds one per record). Lines are read again only to set a
# record aside; in memory they were half a batch's size.
_LINE_AT = "__tlw_line_at__"


# Audit columns the target sets on every record, in the order accept_typed passes their values.
_SET_BY_TARGET = ("_sdc_extracted_at", "_sdc_received_at", "_sdc_sequence", "_sdc_batched_at",
                  "_sdc_table_version", "_sdc_sync_started_at", SOURCE_COLUMN)
# Record fields audit_source reads.
_SOURCE_FIELDS = ("edition", "company_id")


class _TypedPath(t.NamedTuple):
    """What a sink needs to take its stream's typed records (accept_typed)."""

    fields: TypedFields
    encoder: TypedEncoder
    slim: t.Callable[[t.Any, t.Mapping[str, t.Any]], dict[str, t.Any]]  # the _slim_fields and their values
    bookkeeping: t.Callable[[t.Any], tuple[t.Any, ...]]  # see _BOOKKEEPING


def _staging_name() -> str:
    """A batch's temporary staging table: unique, so parallel drains never share one."""
    return f"_tlw_stage_{uuid.uuid4().hex[:12]}"


# Key column types whose stored value has one spelling in a record (see WarehouseSink._merge).
_ONE_SPELLING = frozenset({Family.TEXT, Family.INTEGER})

# Fields accept_typed reads besides the row: _sdc_extracted_at (when the message has no
# time_extracted), audit_source's, and the version fields the order may need to read.
_BOOKKEEPING = ("_sdc_extracted_at", *_SOURCE_FIELDS, SYNC_TOKEN, UPDATED_AT, "_sdc_deleted_at")


class WarehouseSink(DeliverySink, SQLSink[WarehouseConnector]):
    connector_class = WarehouseConnector
    MAX_SIZE_DEFAULT = 50000

    def __init__(
        self,
        target: Target,
        stream_name: str,
        schema: dict,
        key_properties: t.Sequence[str] | None,
        connector: WarehouseConnector | None = None,
    ) -> None:
        self._conformed: dict[str, str] = {}
        self._record_mappings: dict[tuple[str, ...], tuple[str, ...]] = {}
        super().__init__(target, stream_name, schema, key_properties, connector)
        self._columns: dict[str, Family] = {}
        self.settings = WarehouseSettings.from_config(self.config)
        self._row_encoder: RowEncoder | None = None
        self._validator_with_formats: RecordValidator | None = None
        self._validator_with_formats_built = False
        self._batch_started = ""
        # What a slim record keeps besides its row: keys and version fields (for the
        # de-duplication and the dead-letter key), the input line and letter id.
        self._slim_fields = tuple(dict.fromkeys([*self._key_properties, *self.key_properties, *VERSION_COLUMNS]))
        self._lines: t.IO[bytes] | None = None  # this batch's input lines (see _LINE_AT)
        self._batch_lines: t.IO[bytes] | None = None  # the lines of the batch being delivered
        # Set by the intake while it drains this sink because it is full (target.py).
        self.drain_in_background = False
        self._vouched: bool | None = None
        self._lines_size = 0
        self._pending_lines: list[str] = []  # kept lines not yet in self._lines
        self._typed: _TypedPath | None = None
        self._typed_built = False
        self._audit_values: tuple[t.Any, ...] = ()
        self._last_slim: dict[str, t.Any] = dict.fromkeys(self._slim_fields)
        self._audit_tokens: tuple[str, ...] = ()
        # The batch being read streams its rows to a staging table once it is big enough
        # (streamed_stage.py); the batch being delivered takes its stage along.
        self._stage: StreamedStage | None = None
        self._stage_tried = False
        self._batch_stage: StreamedStage | None = None

    @functools.cached_property
    def max_size(self) -> int:  # type: ignore[override]
        # batch_size_rows, capped where the dialect bounds a batch's memory (DuckDB). Both are
        # fixed for the sink's life, and is_full reads this once per record: computed once.
        cap = self.connector.dialect.max_batch_rows
        return min(super().max_size, cap) if cap else super().max_size

    @property
    def is_full(self) -> bool:
        return self._batch_records_read >= self.max_size

    def conform_name(self, name: str, object_type: str | None = None) -> str:
        # Called for every key of every record by the SDK: memoise the regex work.
        cached = self._conformed.get(name)
        if cached is None:
            cached = self._conformed[name] = (
                super().conform_name(name, object_type) if name.isascii() else unicode_name(name)
            )
        return cached

    def conform_record(self, record: dict) -> dict:
        keys = tuple(record)
        mapping = self._record_mappings.get(keys)
        if mapping is None:
            conformed = {key: self.conform_name(key) for key in keys}
            self._check_conformed_names_not_duplicated(conformed)
            mapping = self._record_mappings[keys] = tuple(conformed[k] for k in keys)
        return dict(zip(mapping, record.values(), strict=True))

    # Audit columns are part of the contract (ARCHITECTURE.md §5), not an option.
    @property
    def include_sdc_metadata_properties(self) -> bool:
        return True

    def _add_sdc_metadata_to_schema(self) -> None:
        super()._add_sdc_metadata_to_schema()
        self.schema["properties"][SOURCE_COLUMN] = {"type": ["string", "null"]}

    def _add_sdc_metadata_to_record(self, record: dict, message: dict, context: dict) -> None:
        extracted = record.get("_sdc_extracted_at")
        super()._add_sdc_metadata_to_record(record, message, context)
        # Replayed dead letters carry the original extraction time in the record.
        if record.get("_sdc_extracted_at") is None and extracted is not None:
            record["_sdc_extracted_at"] = extracted
        record[SOURCE_COLUMN] = audit_source(self.stream_name, record)

    @property
    def table(self) -> str:
        return self.connector.qualified(self.schema_name, self.table_name)

    def setup(self) -> None:
        if self.schema_name:
            self.connector.prepare_schema(self.schema_name)
        self._columns = self.connector.ensure_table(
            self.schema_name,
            self.table_name,
            self.conform_schema(self.schema)["properties"],
            self.key_properties,
        )

    # -- batch processing --------------------------------------------------------------

    def process_batch(self, context: dict) -> None:
        """Deliver the batch: on the background worker when the intake drains a full sink and
        the warehouse works in another process (the next batch is read meanwhile), else here,
        after any batch in flight (background_load.py)."""
        records: list[dict[str, t.Any]] = context.get("records", [])
        # The batch takes its input lines along (set_aside reads them); the next batch starts a file.
        self._write_lines()
        lines, self._lines, self._lines_size = self._lines, None, 0
        stage, self._stage, self._stage_tried = self._stage, None, False

        def deliver() -> None:
            self._batch_lines, self._batch_stage = lines, stage
            try:
                if records:
                    self.deliver(records, self._load, classify)
            finally:
                unused, self._batch_lines, self._batch_stage = self._batch_stage, None, None
                if unused is not None:
                    unused.discard()
                if lines is not None:
                    lines.close()

        if self.drain_in_background and self.connector.dialect.loads_in_background:
            self._background_loads.submit(deliver)
        else:
            self._background_loads.wait()
            deliver()

    # -- bulk intake (the target's fast record path, see target.py) ---------------------------

    @property
    def _versions_vouched(self) -> bool:
        """Whether a record the fast converters took has version fields the version order reads
        (see :func:`_version_needs_reading`): updated_at and _sdc_deleted_at are date-time columns,
        sync_token an integer column."""
        if self._vouched is None:
            encoder = self._encoder()
            families = dict(zip(encoder.sources, encoder.families, strict=True))
            properties = self.schema.get("properties", {})

            def declared(name: str, kind: str, family: Family, fmt: str | None = None) -> bool:
                prop = properties.get(name, {})
                types = prop.get("type")
                types = {types} if isinstance(types, str) else set(types or [])
                return (families.get(name) == family and types - {"null"} == {kind}
                        and prop.get("format") == fmt)

            self._vouched = encoder.fast and (
                declared(UPDATED_AT, "string", Family.TIMESTAMP, "date-time")
                and declared(merge_sql.DELETED_AT, "string", Family.TIMESTAMP, "date-time")
                and declared(SYNC_TOKEN, "integer", Family.INTEGER))
        return self._vouched

    def _encoder(self) -> RowEncoder:
        if self._row_encoder is None:
            original = {self.conform_name(name): name for name in self.schema["properties"]}
            columns = [c for c in original if c in self._columns]
            self._row_encoder = RowEncoder(
                self.schema, columns, [original[c] for c in columns], [self._columns[c] for c in columns],
                self.connector.dialect.scale, self.connector.dialect.precision,
                keep_nul=self.connector.dialect.keeps_nul)
        return self._row_encoder

    def typed_fields(self) -> TypedFields | None:
        """The Struct of this stream's typed records (qbc_plugin_kit.typed_records), or None
        when the stream's records stay dicts (the row encoder is not fast for every column, or
        a field the bookkeeping reads is not a string or integer)."""
        path = self._typed_path()
        return path.fields if path is not None else None

    def _typed_path(self) -> _TypedPath | None:
        if self._typed_built:
            return self._typed
        self._typed_built = True
        if not self._versions_vouched:
            return None
        properties = self.schema.get("properties", {})
        read = [*self._slim_fields, *_BOOKKEEPING]
        # Fields read but not declared: the Struct declares them as a dict record would hold
        # them (a string, an integer or null); anything else is refused, so decoded as a dict.
        fields = typed_fields(properties, required=self._key_properties,
                              extra=dict.fromkeys(read, str | int | None))
        if any(fields.kind[name] not in ("str", "int", "extra") for name in read):
            return None
        encoder = self._encoder().typed(fields, _SET_BY_TARGET)
        if encoder is None:
            return None
        self._typed = _TypedPath(fields, encoder,
                                 fields.reader(self._slim_fields),
                                 operator.attrgetter(*(fields.attribute[n] for n in _BOOKKEEPING)))
        return self._typed

    def take_typed_run(self, first: tuple[t.Any, str, int | None] | None,
                       records: t.Iterator[tuple[t.Any, str]] | None, room: int,
                       now_received: t.Callable[[], tuple[str, int]]) -> tuple[int, str | None]:
        """Take typed records as :meth:`accept` takes dicts (qbc_plugin_kit.bulk_intake's
        ``TypedBulkSink``): ``first``, then from ``records`` until ``room`` are taken. A record
        is declined (nothing kept; its line is returned) when a value is outside what the fast
        converters vouch for: the intake then decodes its line as a dict and calls
        :meth:`accept`, whose full check decides.

        One loop for the whole run, its state in local variables: this is the bulk path's
        per-record cost (a call per step cost about half of the intake)."""
        path = self._typed
        if path is None:
            return 0, first[1] if first is not None else None
        context = self._get_context({})
        batch = context.setdefault("records", [])
        bookkeeping, slim_of, encoder = path.bookkeeping, path.slim, path.encoder
        encode_escaped, encode_unescaped = encoder.encode, encoder.encode_unescaped
        last_slim, stage = self._last_slim, self._stage
        batch_started, sync_started, read = self._batch_started, self.sync_started_at, self._batch_records_read
        taken, declined = 0, None
        items: t.Iterable[tuple[t.Any, ...]] = (
            records or () if first is None else itertools.chain((first,), records or ()))
        try:
            for item in items:
                if len(item) == 2:  # from the run: the line as read
                    message, line, letter = item[0], item[1].rstrip("\r\n"), None
                else:
                    message, line, letter = item
                record = message.record
                extracted, edition, company_id, token, updated_at, deleted_at = bookkeeping(record)
                received = now_received()
                # The audit columns' values change once a millisecond or a batch: their COPY
                # text is made once per change (``received`` is one tuple per millisecond).
                audit = (message.time_extracted if message.time_extracted is not None else extracted, received,
                         batch_started, message.version, sync_started, edition, company_id)
                try:
                    if audit != self._audit_values:
                        self._audit_tokens = encoder.tokens((
                            audit[0], *received, *audit[2:5],
                            audit_source(self.stream_name, {"edition": edition, "company_id": company_id})))
                        self._audit_values = audit
                    row = (encode_escaped if "\\" in line else encode_unescaped)(record, self._audit_tokens)
                except (NeedsFullCheck, ValueConversionError):
                    declined = line
                    break
                if _versions_need_reading(token, updated_at, deleted_at):
                    declined = line
                    break
                slim = last_slim = slim_of(record, last_slim)
                slim[_ROW] = row
                slim[_LINE_AT] = self._keep_line(line)
                if letter is not None:
                    slim[LETTER] = letter
                batch.append(slim)
                taken += 1
                if stage is not None:
                    stage.pending.append(row)
                    if len(stage.pending) >= ROWS_PER_WRITE:
                        stage.send()
                elif read + taken >= STREAM_FROM_ROWS and not self._stage_tried:
                    self._open_stage(context)
                    stage = self._stage
                if taken >= room:
                    break
        finally:
            self._last_slim = last_slim
            self.tally_record_read(taken)
        return taken, declined

    def accept(self, record: dict[str, t.Any], message: dict[str, t.Any], received: tuple[str, int]) -> None:
        """Take one record on the bulk path: checked, encoded into its row, kept slim.

        Does what the SDK's per-record path does for this sink (audit columns, key check,
        validation with the contract's semantics, date-time parsing) at a fraction of the cost:
        a record the fast converters vouch for is not walked again; any other goes through the
        full JSON Schema validator. Raises RecordRefused (set aside alone by the target) or
        MissingKeyPropertiesError."""
        for key in self._key_properties:
            if key not in record:
                raise MissingKeyPropertiesError(f"Record is missing one or more key_properties: {key}")
        record["_sdc_extracted_at"] = extracted_at(record, message)
        record["_sdc_received_at"], record["_sdc_sequence"] = received
        context = self._get_context(record)
        record["_sdc_batched_at"] = self._batch_started
        record.setdefault("_sdc_deleted_at", None)
        record["_sdc_table_version"] = message.get("version")
        record["_sdc_sync_started_at"] = self.sync_started_at
        record[SOURCE_COLUMN] = audit_source(self.stream_name, record)
        encoder = self._encoder()
        vouched = self._versions_vouched
        try:
            row = encoder.encode_fast(record)
        except NeedsFullCheck:
            row = encoder.row(self._encode_checked(record, encoder))
            vouched = False
        except ValueConversionError as error:
            raise RecordRefused(str(error)) from error
        if not vouched or _version_needs_reading(record):
            try:
                version_key(record)
            except (ValueError, OverflowError) as exc:
                raise RecordRefused(f"unreadable value: {exc}") from exc
        slim = {name: record.get(name) for name in self._slim_fields}
        slim[_LINE_AT] = self._keep_line(record[LINE])
        if LETTER in record:
            slim[LETTER] = record[LETTER]
        self._take(slim, row, context)

    def _take(self, slim: dict[str, t.Any], row: str, context: dict) -> None:
        """Keep a slim record and its row in the batch; the row goes to the batch's stage too
        once the batch streams (streamed_stage.py)."""
        slim[_ROW] = row
        self.tally_record_read()
        self.process_record(slim, context)
        stage = self._stage
        if stage is not None:  # appended here, not through a method: this runs once per record
            stage.pending.append(row)
            if len(stage.pending) >= ROWS_PER_WRITE:
                stage.send()
        elif self._batch_records_read >= STREAM_FROM_ROWS and not self._stage_tried:
            self._open_stage(context)

    def _open_stage(self, context: dict) -> None:
        """Start streaming this batch's rows to its staging table (streamed_stage.py), where the
        dialect does and every row so far was encoded at intake."""
        self._stage_tried = True
        flavor = self.connector.dialect
        records = context.get("records", [])
        if not flavor.streams_batches or any(r.get(_ROW) is None for r in records):
            return
        columns = self._encoder().columns
        staging = _staging_name()
        self._stage = StreamedStage.open(
            self.connector.engine, staging, merge_sql.create_staging_sql(flavor, staging, self.table, columns),
            flavor.copy_sql(staging, columns), merge_sql.drop_staging_sql(flavor, staging),
            (r[_ROW] for r in records))

    def _keep_line(self, line: str) -> int:
        # Written to the file a thousand lines at a time (a write per line cost a tenth of the
        # intake); an ASCII line's size in UTF-8 is its length.
        size = len(line) if line.isascii() else len(line.encode("utf-8", "surrogatepass"))
        at = self._lines_size << 32 | size
        self._lines_size += size
        pending = self._pending_lines
        pending.append(line)
        if len(pending) >= 1024:
            self._write_lines()
        return at

    def _write_lines(self) -> None:
        if not self._pending_lines:
            return
        if self._lines is None:
            self._lines = tempfile.TemporaryFile(prefix="tlw-lines-")  # noqa: SIM115 - closed in clean_up
        self._lines.write("".join(self._pending_lines).encode("utf-8", "surrogatepass"))
        self._pending_lines.clear()

    def set_aside(self, record: dict[str, t.Any], reason: str) -> None:
        at = record.get(_LINE_AT)
        lines = self._batch_lines
        if at is not None and lines is not None:
            lines.flush()
            lines.seek(at >> 32)
            line = lines.read(at & 0xFFFFFFFF).decode("utf-8", "surrogatepass")
            lines.seek(0, 2)
            record = {**record, LINE: line}
        super().set_aside(record, reason)

    def clean_up(self) -> None:
        self._background_loads.wait()
        if self._stage is not None:
            self._stage.discard()
            self._stage = None
        self._pending_lines.clear()
        if self._lines is not None:
            self._lines.close()
            self._lines = None
        super().clean_up()

    def _encode_checked(self, record: dict[str, t.Any], encoder: RowEncoder) -> tuple[str, ...]:
        validator = self._compiled_validator_with_formats()
        if validator is not None:
            reason = validator.validate(private_keys_removed(record))
            if reason:
                raise RecordRefused(reason)
        try:
            return encoder.encode_checked(record)
        except ValueConversionError as error:
            raise RecordRefused(str(error)) from error
        except (ValueError, OverflowError) as exc:
            raise RecordRefused(f"unreadable value: {exc}") from exc

    def _compiled_validator_with_formats(self) -> RecordValidator | None:
        if not self._validator_with_formats_built:
            self._validator_with_formats = RecordValidator(self.schema) if self.validate_schema else None
            self._validator_with_formats_built = True
        return self._validator_with_formats

    def start_batch(self, context: dict) -> None:
        super().start_batch(context)
        self._batch_started = context["batch_start_time"].isoformat()

    def activate_version(self, new_version: int) -> None:
        """Rows of older table versions are flagged deleted (or removed with hard_delete)."""
        self._background_loads.wait()
        existing = self.connector.columns_of(self.schema_name, self.table_name)
        if not {self.version_column_name, self.soft_delete_column_name} <= set(existing):
            return
        q = self.connector.dialect.quote
        version, deleted = q(self.version_column_name), q(self.soft_delete_column_name)
        if self.settings.hard_delete:
            sql = f"DELETE FROM {self.table} WHERE {version} < :version"
            params: dict[str, t.Any] = {"version": new_version}
        else:
            sql = (
                f"UPDATE {self.table} SET {deleted} = :now "
                f"WHERE {version} < :version AND {deleted} IS NULL"
            )
            params = {"version": new_version, "now": dt.datetime.now(dt.UTC)}
        with self.connector.engine.connect() as conn, conn.begin():
            conn.execute(sa.text(sql), params)

    def _load(self, records: list[dict[str, t.Any]]) -> None:
        encoder = self._encoder()
        keys = list(self.key_properties)
        # The batch's streamed stage serves its first load only, and only when it holds
        # exactly the rows the usual path would stage (each key once).
        stage, self._batch_stage = self._batch_stage, None
        sent = len(records)
        dropped = 0
        if keys and self.settings.upsert:
            records, dropped = newest_per_key(records, [encoder.source_of.get(k, k) for k in keys])
            if dropped:
                self.tally_duplicate_merged(dropped)
        if stage is not None and (dropped or not stage.finish() or stage.rows != sent):
            stage.discard()
            stage = None
        rows = [] if stage is not None else [
            self._row_of(record, encoder, alone=len(records) == 1) for record in records]
        self._merge(encoder.columns, encoder.families, rows, keys, stage)
        self.tally_record_written(len(records))

    def _row_of(self, record: dict[str, t.Any], encoder: RowEncoder, *, alone: bool) -> t.Any:
        """The encoded row: made at intake on the bulk path; records that came through the
        SDK's path (stream maps, flattening) are encoded here."""
        row = record.get(_ROW)
        if row is not None:
            return row
        try:
            tokens = encoder.encode_checked(record)
        except ValueConversionError as error:
            if alone:  # a lone record whose value its column cannot hold is this record's failure
                raise RecordRefused(str(error)) from error
            raise
        return encoder.row(tokens)

    def _merge(
        self,
        columns: list[str],
        families: list[Family],
        rows: list[tuple[t.Any, ...]],
        keys: list[str],
        stage: StreamedStage | None = None,
    ) -> None:
        """Stage ``rows`` and merge them into the table in one transaction; or merge what
        ``stage`` holds already, in its transaction."""
        flavor = self.connector.dialect
        if stage is not None:
            try:
                self._merge_staged(stage.connection, stage.staging, columns, families, keys)
            except BaseException:
                stage.discard()
                raise
            stage.commit()
            return
        staging = _staging_name()
        with self.connector.engine.connect() as conn, conn.begin():
            conn.exec_driver_sql(merge_sql.create_staging_sql(flavor, staging, self.table, columns))
            flavor.bulk_load(conn, staging, columns, families, rows)
            self._merge_staged(conn, staging, columns, families, keys)

    def _merge_staged(self, conn: sa.Connection, staging: str, columns: list[str], families: list[Family],
                      keys: list[str]) -> None:
        """The staged batch into the table (the staging table is dropped; the caller commits)."""
        flavor = self.connector.dialect
        version_columns = [c for c in VERSION_COLUMNS if c in columns]
        # Before the transaction writes to any shared table, so that two merges never wait
        # on each other's rows (the staging table is the session's own).
        family = self._related_family()
        if family is not None:
            flavor.hold_related_merges(conn, family)
        if keys and self.settings.upsert:
            family_of = dict(zip(columns, families, strict=True))
            # MERGE needs each stored key matched by one staged row: keys whose text is their
            # value (two spellings of one timestamp or decimal would match one row twice).
            if flavor.has_merge(conn) and all(family_of.get(k) in _ONE_SPELLING for k in keys):
                conn.exec_driver_sql(merge_sql.merge_from_staging_sql(
                    flavor, self.table, staging, keys, columns, version_columns))
            else:
                update = merge_sql.update_from_staging_sql(
                    flavor, self.table, staging, keys, columns, version_columns
                )
                if update:
                    conn.exec_driver_sql(update)
                conn.exec_driver_sql(merge_sql.insert_missing_sql(flavor, self.table, staging, keys, columns))
        else:
            conn.exec_driver_sql(merge_sql.append_sql(flavor, self.table, staging, columns))
        self._propagate_deletions(conn, staging, columns)
        if self.settings.hard_delete and merge_sql.DELETED_AT in columns:
            conn.exec_driver_sql(merge_sql.hard_delete_sql(flavor, self.table))
        conn.exec_driver_sql(merge_sql.drop_staging_sql(flavor, staging))

    def _related_family(self) -> str | None:
        """The header table this table's deletions travel with (itself for a header), if any."""
        if self.table_name in merge_sql.HEADER_LINES:
            header = self.table_name
        elif self.table_name in LINE_HEADERS:
            header = self.conform_name(LINE_HEADERS[self.table_name][0], "table")
        else:
            return None
        return f"{self.schema_name}.{header}"

    def _propagate_deletions(self, conn: sa.Connection, staging: str, columns: list[str]) -> None:
        flavor = self.connector.dialect
        hard = self.settings.hard_delete
        if self.table_name in merge_sql.HEADER_LINES and {"company_id", "id"} <= set(columns):
            lines, header_column = merge_sql.HEADER_LINES[self.table_name]
            if header_column in self.connector.columns_of(self.schema_name, lines):
                lines_table = self.connector.qualified(self.schema_name, lines)
                conn.exec_driver_sql(
                    merge_sql.cascade_header_deletion_sql(flavor, lines_table, header_column, staging)
                )
                if hard:
                    conn.exec_driver_sql(merge_sql.hard_delete_sql(flavor, lines_table))
        header_table, line_header = LINE_HEADERS.get(self.table_name, (None, None))
        upsert = self.settings.upsert
        if (
            upsert
            and line_header
            and {"company_id", line_header, "updated_at", merge_sql.DELETED_AT} <= set(columns)
        ):
            conn.exec_driver_sql(merge_sql.flag_dropped_lines_sql(flavor, self.table, line_header, staging))
        if header_table and line_header and {"company_id", line_header, merge_sql.DELETED_AT} <= set(columns):
            # Lines that arrive after their header's deletion (the header's sink drained first,
            # when these lines were not stored yet): QuickBooks cannot restore a deleted document.
            header_name = self.conform_name(header_table, "table")
            if {"company_id", "id", merge_sql.DELETED_AT} <= set(self.connector.columns_of(self.schema_name, header_name)):
                conn.exec_driver_sql(merge_sql.flag_lines_of_deleted_headers_sql(
                    flavor, self.table, self.connector.qualified(self.schema_name, header_name), line_header, staging))
        if self.table_name == "deleted_records" and {"stream", "company_id", "id", "deleted_at"} <= set(columns):
            streams = [
                str(r[0])
                for r in conn.exec_driver_sql(
                    f"SELECT DISTINCT {flavor.quote('stream')} FROM {flavor.quote(staging)}"
                ).all()
                if r[0]
            ]
            for stream in streams:
                table_name = self.conform_name(stream, "table")
                existing = self.connector.columns_of(self.schema_name, table_name)
                if {"company_id", "id", merge_sql.DELETED_AT} <= set(existing):
                    table = self.connector.qualified(self.schema_name, table_name)
                    conn.exec_driver_sql(merge_sql.flag_deleted_records_sql(flavor, table, staging, stream))
                    if hard:
                        conn.exec_driver_sql(merge_sql.hard_delete_sql(flavor, table))
