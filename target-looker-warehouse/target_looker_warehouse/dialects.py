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
import re
import typing as t

import sqlalchemy as sa

from target_looker_warehouse.column_types import Family
from target_looker_warehouse.config import WarehouseSettings
from target_looker_warehouse.load_values import ValueConversionError


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

    @abc.abstractmethod
    def bulk_load(
        self,
        connection: sa.Connection,
        staging: str,
        columns: t.Sequence[str],
        families: t.Sequence[Family],
        rows: t.Sequence[t.Sequence[t.Any]],
    ) -> None:
        """Load ``rows`` (already converted to load values) into the staging table."""


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
        rows: t.Sequence[t.Sequence[t.Any]],
    ) -> None:
        import pyarrow as pa

        arrow_types = {
            Family.BOOLEAN: pa.bool_(),
            Family.INTEGER: pa.int64(),
            Family.DECIMAL: pa.decimal128(self.precision, self.scale),
            Family.DATE: pa.date32(),
            Family.TIMESTAMP: pa.timestamp("us", tz="UTC"),
            Family.TEXT: pa.string(),
            Family.JSON: pa.string(),
        }
        arrays = [
            pa.array([row[i] for row in rows], type=arrow_types[family])
            for i, family in enumerate(families)
        ]
        table = pa.Table.from_arrays(arrays, names=[f"c{i}" for i in range(len(columns))])
        raw: t.Any = connection.connection.driver_connection
        view = f"{staging}_arrow"
        raw.register(view, table)
        try:
            select = ", ".join(f"c{i}" for i in range(len(columns)))
            cols = ", ".join(self.quote(c) for c in columns)
            raw.execute(f"INSERT INTO {self.quote(staging)} ({cols}) SELECT {select} FROM {view}")
        finally:
            raw.unregister(view)


class PostgresDialect(WarehouseDialect):
    name = "postgres"
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

    def bulk_load(
        self,
        connection: sa.Connection,
        staging: str,
        columns: t.Sequence[str],
        families: t.Sequence[Family],
        rows: t.Sequence[t.Sequence[t.Any]],
    ) -> None:
        raw: t.Any = connection.connection.driver_connection
        cols = ", ".join(self.quote(c) for c in columns)
        # PostgreSQL text and jsonb cannot hold NUL (U+0000): the row's record is this batch's
        # data failure (set aside alone by the delivery contract), never loaded with it dropped.
        text_columns = [i for i, f in enumerate(families) if f == Family.TEXT]
        json_columns = [i for i, f in enumerate(families) if f == Family.JSON]
        with raw.cursor() as cursor, cursor.copy(
            f"COPY {self.quote(staging)} ({cols}) FROM STDIN"
        ) as copy:
            for row in rows:
                for i in text_columns:
                    if isinstance(row[i], str) and "\x00" in row[i]:
                        raise ValueConversionError(
                            f"column '{columns[i]}': PostgreSQL text cannot hold the NUL character (U+0000)")
                for i in json_columns:
                    if isinstance(row[i], str) and _JSON_NUL.search(row[i]):
                        raise ValueConversionError(
                            f"column '{columns[i]}': PostgreSQL jsonb cannot hold the NUL character (U+0000)")
                copy.write_row(row)


# An escaped NUL in JSON text: "\u0000" preceded by an even number of backslashes.
_JSON_NUL = re.compile(r"(?<!\\)((?:\\\\)*)\\u0000")


DIALECTS: dict[str, type[WarehouseDialect]] = {
    DuckDBDialect.name: DuckDBDialect,
    PostgresDialect.name: PostgresDialect,
}


def dialect_for(config: t.Mapping[str, t.Any]) -> WarehouseDialect:
    name = WarehouseSettings.from_config(config).dialect
    if name not in DIALECTS:
        raise ValueError(f"unknown dialect '{name}'; choose one of {sorted(DIALECTS)}")
    return DIALECTS[name](config)
