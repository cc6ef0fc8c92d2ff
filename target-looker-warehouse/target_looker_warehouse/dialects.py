"""Warehouse dialects: connection URL, type names, DDL differences and the bulk load path.

Adding a warehouse (Snowflake, BigQuery, Redshift, ...) means adding one class here;
the sinks, the merge SQL and the modelled layer only use this interface.
"""

# SQL here is built from identifiers quoted by the dialect (never from record values,
# which travel as bound parameters or through COPY / Arrow): S608 does not apply.
# ruff: noqa: S608

from __future__ import annotations

import abc
import hashlib
import os
import pathlib
import tempfile
import typing as t

import sqlalchemy as sa

from target_looker_warehouse.column_types import Family
from target_looker_warehouse.config import WarehouseSettings


class WarehouseDialect(abc.ABC):
    name: t.ClassVar[str]
    #: Whether to index the key columns (a B-tree helps PostgreSQL's UPDATE ... FROM;
    #: DuckDB hash-joins and an ART index only slows its bulk loads).
    index_keys: t.ClassVar[bool] = False

    def __init__(self, config: t.Mapping[str, t.Any]) -> None:
        self.config = config
        self.settings = WarehouseSettings.from_config(config)
        self.precision = self.settings.decimal_precision
        self.scale = self.settings.decimal_scale

    @abc.abstractmethod
    def sqlalchemy_url(self) -> str | sa.URL: ...

    def engine_kwargs(self) -> dict[str, t.Any]:
        return {}

    def quote(self, name: str) -> str:
        return '"' + name.replace('"', '""') + '"'


    def type_sql(self, family: Family) -> str:
        return {
            Family.BOOLEAN: "BOOLEAN",
            Family.INTEGER: "BIGINT",
            Family.DECIMAL: f"DECIMAL({self.precision}, {self.scale})",
            Family.DATE: "DATE",
            Family.TIMESTAMP: "TIMESTAMP WITH TIME ZONE",
            Family.TEXT: "VARCHAR",
            Family.JSON: self.json_type_sql,
        }[family]

    json_type_sql: t.ClassVar[str] = "JSON"

    def alter_column_type_sql(self, table: str, column: str, family: Family) -> str:
        return f"ALTER TABLE {table} ALTER COLUMN {self.quote(column)} TYPE {self.type_sql(family)}"

    #: Whether text columns store the NUL character (PostgreSQL's cannot).
    keeps_nul: t.ClassVar[bool] = True
    # Whether a full batch loads on the background worker while the next is read
    # (qbc_plugin_kit.background_load): worth it when the database works in its own process.
    loads_in_background: t.ClassVar[bool] = False
    #: Run once before the after-load model rebuild (the loads are over by then).
    before_model_rebuild_sql: t.ClassVar[tuple[str, ...]] = ()
    #: Whether a batch's rows go to its staging table while it is read (streamed_stage.py).
    streams_batches: t.ClassVar[bool] = False
    #: The most rows a batch holds, whatever batch_size_rows says (None: no cap).
    max_batch_rows: t.ClassVar[int | None] = None

    def copy_sql(self, staging: str, columns: t.Sequence[str]) -> str:
        """The COPY that takes a batch's rows (as COPY text) into its staging table."""
        return f"COPY {self.quote(staging)} ({', '.join(self.quote(c) for c in columns)}) FROM STDIN"

    def has_merge(self, connection: sa.Connection) -> bool:
        """Whether the batch merge may be one ``MERGE`` statement (merge_sql.merge_from_staging_sql)."""
        return False

    def hold_related_merges(self, connection: sa.Connection, family: str) -> None:
        """Make every other merge of ``family`` (a header table and its lines) wait until this
        transaction ends. A header's merge flags its stored lines and a lines merge flags lines
        of stored deleted headers: run side by side, each misses what the other has not yet
        committed. DuckDB needs nothing: one process owns its file and drains one sink at a time."""
        return

    @abc.abstractmethod
    def bulk_load(
        self,
        connection: sa.Connection,
        staging: str,
        columns: t.Sequence[str],
        families: t.Sequence[Family],
        rows: t.Sequence[t.Any],
    ) -> None:
        """Load ``rows`` (COPY text lines made by ``row_encoding.RowEncoder``) into the staging table."""


class DuckDBDialect(WarehouseDialect):
    name = "duckdb"
    # duckdb_memory_limit bounds the loads beside the Python intake; the model rebuild joins
    # whole tables with operators that cannot all spill (48MB failed on a 12,790-record
    # company), so it runs under DuckDB's own default (80% of RAM). The setting is global to
    # the open database and the rebuild comes after the last load.
    before_model_rebuild_sql = ("RESET memory_limit",)
    # DuckDB merges in this process, beside the batch's records: 100,000 invoice lines held
    # ~110 MiB of Python and 34 MB of staging table, a 1M-row load peaked at 301 MiB; 75,000
    # peaks near 270 MiB at the same speed (issue 17, bench/results/target_looker_warehouse.md).
    max_batch_rows = 75_000

    def __init__(self, config: t.Mapping[str, t.Any]) -> None:
        super().__init__(config)
        self._refuse_catalog_named_like_a_schema(self.database_path())

    def database_path(self) -> pathlib.Path:
        return pathlib.Path(self.settings.duckdb_path)

    def sqlalchemy_url(self) -> str | sa.URL:
        path = self.database_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        return f"duckdb:///{path}"

    def _refuse_catalog_named_like_a_schema(self, path: pathlib.Path) -> None:
        # DuckDB names a file's catalog after the file; a schema of the same name makes every
        # two-part name ambiguous ("Ambiguous reference to catalog or schema"), mid-load.
        schemas = {self.settings.default_target_schema, self.settings.model_schema}
        if path.stem in schemas:
            raise ValueError(
                f"duckdb_path {str(path)!r}: DuckDB names the database after its file, "
                f"{path.stem!r}, which is also a schema this target writes; rename the file "
                f"(for example to warehouse.duckdb) or set another default_target_schema / "
                "model_schema."
            )

    def engine_kwargs(self) -> dict[str, t.Any]:
        # No network here or on many warehouse hosts: never fetch extensions at run time.
        # The memory settings keep DuckDB beside the Python intake within the load's memory
        # budget (issue 17: peak RSS under 300 MiB whatever the row count): DuckDB spills to
        # its temporary directory beyond ``duckdb_memory_limit``; one thread needs one set of
        # buffers; an unordered insert streams instead of holding rows to keep their order.
        return {
            "connect_args": {
                "config": {
                    "autoinstall_known_extensions": False,
                    "autoload_known_extensions": False,
                    "memory_limit": self.settings.duckdb_memory_limit,
                    "threads": 1,
                    "preserve_insertion_order": False,
                }
            }
        }


    def bulk_load(
        self,
        connection: sa.Connection,
        staging: str,
        columns: t.Sequence[str],
        families: t.Sequence[Family],
        rows: t.Sequence[t.Any],
    ) -> None:
        """The batch's COPY text lines go through a temporary file that DuckDB reads itself
        (:func:`load_copy_text`)."""
        load_copy_text(connection.connection.driver_connection, self, staging, columns, families, rows)


def load_copy_text(
    raw: t.Any,
    dialect: WarehouseDialect,
    staging: str,
    columns: t.Sequence[str],
    families: t.Sequence[Family],
    rows: t.Sequence[str],
) -> None:
    """Load COPY text lines (``row_encoding``, the text PostgreSQL COPYs) into ``staging``
    through DuckDB's own CSV reader, which casts each column to its type (timestamps with their
    offset, exact decimals).

    Written to a temporary file, the batch costs Python nothing more than the lines it already
    holds: the Arrow tables this replaced (split and unescaped by Arrow compute) doubled it. The
    reader takes COPY text as it is: tab-separated, no quoting, ``\\N`` for NULL (an empty field
    is the empty string); escaped text (a backslash, rare) is undone in SQL, see
    :func:`_copy_unescaped_sql`."""
    longest = 0
    with tempfile.NamedTemporaryFile("wb", prefix="tlw-copy-", suffix=".tsv", delete=False) as handle:
        path = handle.name
        try:
            for start in range(0, len(rows), _WRITE_CHUNK):
                chunk = rows[start:start + _WRITE_CHUNK]
                longest = max(longest, max(map(len, chunk), default=0))
                handle.write(("\n".join(chunk) + "\n").encode("utf-8"))
        except BaseException:
            os.unlink(path)
            raise
    try:
        # A line longer than the reader's buffer is refused: size both for the longest
        # (characters; UTF-8 takes up to 4 bytes each).
        line_bytes = 4 * longest + 2
        buffer = max(_CSV_BUFFER, 2 * line_bytes)
        names = [f"c{i}" for i in range(len(columns))]
        spec = ", ".join(f"'{n}': 'VARCHAR'" for n in names)
        select = ", ".join(
            f"CAST({_copy_unescaped_sql(n) if f in (Family.TEXT, Family.JSON) else n} AS {dialect.type_sql(f)})"
            for n, f in zip(names, families, strict=True))
        cols = ", ".join(dialect.quote(c) for c in columns)
        raw.execute(
            f"INSERT INTO {dialect.quote(staging)} ({cols}) SELECT {select} FROM read_csv(?, columns = {{{spec}}}, "
            "delim = '\t', quote = '', escape = '', nullstr = '\\N', header = false, auto_detect = false, "
            f"strict_mode = true, max_line_size = {max(line_bytes, 2_097_152)}, buffer_size = {buffer})",
            [path],
        )
    finally:
        os.unlink(path)


def _copy_unescaped_sql(field: str) -> str:
    """SQL undoing COPY text's escapes (``\\\\``, ``\\t``, ``\\n``, ``\\r``, ``\\0``) in a field.

    Split on the escaped backslash first: what is left holds only single-letter escapes, each
    replaced on its own, and the pieces are joined with a backslash. A field without a backslash
    (nearly all) is kept as it is."""
    pieces = "replace(replace(replace(replace(p, '\\t', chr(9)), '\\n', chr(10)), '\\r', chr(13)), '\\0', chr(0))"
    return (f"CASE WHEN contains({field}, '\\') THEN array_to_string(list_transform(string_split({field}, "
            f"'\\\\'), lambda p: {pieces}), '\\') ELSE {field} END")


# Lines per write to the temporary file (bounds the encoded copy of the batch).
_WRITE_CHUNK = 10_000
# DuckDB's CSV read buffer (its default, 16 x 2 MB, is most of a small memory_limit).
_CSV_BUFFER = 4 * 2**20


class PostgresDialect(WarehouseDialect):
    name = "postgres"
    loads_in_background = True
    index_keys = True
    json_type_sql = "JSONB"

    def sqlalchemy_url(self) -> str | sa.URL:
        settings = self.settings
        if settings.sqlalchemy_url:
            return settings.sqlalchemy_url
        return sa.URL.create(
            "postgresql+psycopg",
            username=settings.user,
            password=settings.password,
            host=settings.host or "localhost",
            port=settings.port,
            database=settings.database,
            query={"sslmode": settings.sslmode} if settings.sslmode else {},
        )


    def alter_column_type_sql(self, table: str, column: str, family: Family) -> str:
        q = self.quote(column)
        return f"ALTER TABLE {table} ALTER COLUMN {q} TYPE {self.type_sql(family)} USING {q}::{self.type_sql(family)}"

    keeps_nul = False

    def has_merge(self, connection: sa.Connection) -> bool:
        # MERGE came with PostgreSQL 15; older servers keep UPDATE + INSERT.
        return (connection.dialect.server_version_info or (0,)) >= (15,)

    def hold_related_merges(self, connection: sa.Connection, family: str) -> None:
        # A transaction-scoped advisory lock, taken before the transaction writes anything (so
        # two merges never wait on each other's rows): it holds across parallel drains and
        # across target processes loading the same schema, and ends with the commit.
        key = int.from_bytes(hashlib.blake2b(family.encode(), digest_size=8).digest(), "big", signed=True)
        connection.exec_driver_sql("SELECT pg_advisory_xact_lock(%(key)s)", {"key": key})

    #: A full-size batch's rows go to its staging table while it is read (streamed_stage.py).
    streams_batches = True

    def bulk_load(
        self,
        connection: sa.Connection,
        staging: str,
        columns: t.Sequence[str],
        families: t.Sequence[Family],
        rows: t.Sequence[t.Any],
    ) -> None:
        """Rows are COPY text lines (escaped, checked for NUL when encoded): PostgreSQL parses
        timestamps and decimals itself."""
        raw: t.Any = connection.connection.driver_connection
        with raw.cursor() as cursor, cursor.copy(self.copy_sql(staging, columns)) as copy:
            for start in range(0, len(rows), _COPY_CHUNK):
                copy.write("\n".join(rows[start:start + _COPY_CHUNK]) + "\n")


_COPY_CHUNK = 10_000


DIALECTS: dict[str, type[WarehouseDialect]] = {
    DuckDBDialect.name: DuckDBDialect,
    PostgresDialect.name: PostgresDialect,
}


def dialect_for(config: t.Mapping[str, t.Any]) -> WarehouseDialect:
    name = WarehouseSettings.from_config(config).dialect
    if name not in DIALECTS:
        raise ValueError(f"unknown dialect '{name}'; choose one of {sorted(DIALECTS)}")
    return DIALECTS[name](config)
