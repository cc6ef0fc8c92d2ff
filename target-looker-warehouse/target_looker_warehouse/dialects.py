"""Warehouse dialects: connection URL, type names, DDL differences and the bulk load path.

Adding a warehouse (Snowflake, BigQuery, Redshift, ...) means adding one class here;
the sinks, the merge SQL and the modelled layer only use this interface.
"""

# SQL here is built from identifiers quoted by the dialect (never from record values,
# which travel as bound parameters or through COPY / Arrow): S608 does not apply.
# ruff: noqa: S608

from __future__ import annotations

import abc
import pathlib
import typing as t

import sqlalchemy as sa

from target_looker_warehouse.column_types import Family
from target_looker_warehouse.config import WarehouseSettings
from target_looker_warehouse.row_encoding import COPY_NULL, copy_field_value


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
        return {
            "connect_args": {
                "config": {
                    "autoinstall_known_extensions": False,
                    "autoload_known_extensions": False,
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
        """COPY text lines go to DuckDB as Arrow string columns, in bounded chunks (split and
        unescaped by Arrow compute), and DuckDB casts each column to its type (timestamps with
        their offset, exact decimals)."""
        import pyarrow as pa

        raw: t.Any = connection.connection.driver_connection
        view = f"{staging}_arrow"
        select = ", ".join(f"CAST(c{i} AS {self.type_sql(f)})" for i, f in enumerate(families))
        cols = ", ".join(self.quote(c) for c in columns)
        names = [f"c{i}" for i in range(len(columns))]
        for start in range(0, len(rows), _ARROW_CHUNK):
            table = pa.Table.from_arrays(_copy_fields(rows[start:start + _ARROW_CHUNK], len(columns)), names=names)
            raw.register(view, table)
            try:
                raw.execute(f"INSERT INTO {self.quote(staging)} ({cols}) SELECT {select} FROM {view}")
            finally:
                raw.unregister(view)
            del table


def _copy_fields(lines: t.Sequence[str], width: int) -> list[t.Any]:
    """COPY text lines as ``width`` Arrow string columns (``\\N`` as null, escapes undone)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    split = pc.split_pattern(pa.array(lines, type=pa.string()), "\t")
    null = pa.scalar(None, type=pa.string())
    columns = []
    for index in range(width):
        field = pc.list_element(split, index)
        field = pc.if_else(pc.equal(field, COPY_NULL), null, field)
        if pc.any(pc.match_substring(field, "\\")).as_py():
            # Rare: a value with a tab, newline, backslash or NUL; undone one by one.
            field = pa.array([None if v is None else copy_field_value(v) for v in field.to_pylist()],
                             type=pa.string())
        columns.append(field)
    return columns


# Rows per Arrow table handed to DuckDB: bounds the load's memory whatever the batch size.
_ARROW_CHUNK = 20_000


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
        cols = ", ".join(self.quote(c) for c in columns)
        with raw.cursor() as cursor, cursor.copy(f"COPY {self.quote(staging)} ({cols}) FROM STDIN") as copy:
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
