"""Warehouse connector: engine, schemas, tables, and schema evolution (add / widen columns)."""

# SQL here is built from identifiers quoted by the dialect (never from record values,
# which travel as bound parameters or through COPY / Arrow): S608 does not apply.
# ruff: noqa: S608

from __future__ import annotations

import contextlib
import json
import threading
import typing as t

import sqlalchemy as sa
from singer_sdk.sql import SQLConnector

from target_looker_warehouse.column_types import (
    Family,
    family_for_schema,
    family_from_database_type,
    widened,
)
from target_looker_warehouse.dialects import WarehouseDialect, dialect_for

KEYS_TABLE = "_sdc_stream_keys"


class WarehouseConnector(SQLConnector):
    """SQLConnector that does its own DDL through the dialect layer.

    The SDK's generic ``prepare_table`` reflects the table once per column and cannot
    widen a column; here one ``information_schema`` query per table drives it.
    """

    allow_column_add = True
    allow_column_alter = True
    allow_merge_upsert = True

    def __init__(self, config: dict | None = None, sqlalchemy_url: str | None = None) -> None:
        super().__init__(config, sqlalchemy_url)
        self.dialect: WarehouseDialect = dialect_for(self.config)
        self._ddl_lock = threading.Lock()

    def get_sqlalchemy_url(self, config: dict[str, t.Any]) -> str:
        url = self.dialect.sqlalchemy_url()
        return url.render_as_string(hide_password=False) if isinstance(url, sa.URL) else url

    def create_engine(self) -> sa.Engine:
        return sa.create_engine(
            self.sqlalchemy_url,
            echo=False,
            pool_pre_ping=True,
            **self.dialect.engine_kwargs(),
        )

    @contextlib.contextmanager
    def _connect(self) -> t.Iterator[sa.Connection]:
        # The SDK streams results (server-side cursors), which PostgreSQL refuses for DDL.
        with self._engine.connect() as conn:
            yield conn

    @property
    def engine(self) -> sa.Engine:
        return self._engine

    def dispose(self) -> None:
        """Close the pool's connections. Left to the garbage collector, psycopg warns of each
        ("connection ... was deleted while still open") and PostgreSQL keeps the session
        until the process ends; a long-lived process (tests, an orchestrator) runs out of them."""
        if self._cached_engine is not None:
            self._cached_engine.dispose()
            self._cached_engine = None

    def qualified(self, schema: str | None, table: str) -> str:
        q = self.dialect.quote
        return f"{q(schema)}.{q(table)}" if schema else q(table)

    # -- introspection -------------------------------------------------------------

    def columns_of(self, schema: str | None, table: str) -> dict[str, Family]:
        """Column name -> family, in table order; empty when the table does not exist."""
        sql = (
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = :table AND table_schema = "
            + (":schema" if schema else "current_schema()")
            + " ORDER BY ordinal_position"
        )
        params = {"table": table, "schema": schema} if schema else {"table": table}
        with self._connect() as conn:
            rows = conn.execute(sa.text(sql), params).all()
        return {str(name): family_from_database_type(str(kind)) for name, kind in rows}

    def schema_exists(self, schema_name: str) -> bool:
        with self._connect() as conn:
            found = conn.execute(
                sa.text("SELECT 1 FROM information_schema.schemata WHERE schema_name = :s"),
                {"s": schema_name},
            ).first()
        return found is not None

    def prepare_schema(self, schema_name: str) -> None:
        with self._ddl_lock, self._connect() as conn, conn.begin():
            conn.execute(sa.text(f"CREATE SCHEMA IF NOT EXISTS {self.dialect.quote(schema_name)}"))

    # -- tables ----------------------------------------------------------------------

    def prepare_table(  # type: ignore[override]
        self,
        full_table_name: t.Any,
        schema: dict,
        primary_keys: t.Sequence[str],
        partition_keys: list[str] | None = None,
        as_temp_table: bool = False,
    ) -> None:
        _, schema_name, table_name = self.parse_full_table_name(full_table_name)
        self.ensure_table(schema_name, table_name, schema["properties"], primary_keys)

    def ensure_table(
        self,
        schema_name: str | None,
        table_name: str,
        properties: t.Mapping[str, t.Any],
        primary_keys: t.Sequence[str],
    ) -> dict[str, Family]:
        """Create the table or evolve it (add columns, widen types); return its columns."""
        wanted = {name: family_for_schema(prop) for name, prop in properties.items()}
        table = self.qualified(schema_name, table_name)
        q = self.dialect.quote
        with self._ddl_lock:
            existing = self.columns_of(schema_name, table_name)
            statements: list[str] = []
            if not existing:
                cols = ", ".join(f"{q(n)} {self.dialect.type_sql(f)}" for n, f in wanted.items())
                statements.append(f"CREATE TABLE IF NOT EXISTS {table} ({cols})")
                existing = dict(wanted)
            else:
                for name, family in wanted.items():
                    if name not in existing:
                        statements.append(
                            f"ALTER TABLE {table} ADD COLUMN {q(name)} {self.dialect.type_sql(family)}"
                        )
                        existing[name] = family
                        continue
                    target_family = widened(existing[name], family)
                    if target_family is not None:
                        self.logger.info(
                            "Widening %s.%s from %s to %s", table_name, name, existing[name], target_family
                        )
                        statements.append(self.dialect.alter_column_type_sql(table, name, target_family))
                        existing[name] = target_family
            keys = [k for k in primary_keys if k in existing]
            if keys and self.dialect.index_keys:
                index = q(f"{table_name}__{'__'.join(keys)}"[:60] + "_key")
                statements.append(
                    f"CREATE INDEX IF NOT EXISTS {index} ON {table} ({', '.join(q(k) for k in keys)})"
                )
            with self._connect() as conn, conn.begin():
                for statement in statements:
                    conn.execute(sa.text(statement))
            self._record_keys(schema_name, table_name, keys)
        return existing

    def _record_keys(self, schema_name: str | None, table_name: str, keys: t.Sequence[str]) -> None:
        # The LookML generator reads keys from here for tables this run did not load.
        table = self.qualified(schema_name, KEYS_TABLE)
        with self._connect() as conn, conn.begin():
            conn.execute(
                sa.text(
                    f"CREATE TABLE IF NOT EXISTS {table} "
                    "(table_name VARCHAR PRIMARY KEY, key_properties VARCHAR)"
                )
            )
            conn.execute(sa.text(f"DELETE FROM {table} WHERE table_name = :t"), {"t": table_name})
            conn.execute(
                sa.text(f"INSERT INTO {table} (table_name, key_properties) VALUES (:t, :k)"),
                {"t": table_name, "k": json.dumps(list(keys))},
            )

    def recorded_keys(self, schema_name: str | None) -> dict[str, list[str]]:
        if not self.columns_of(schema_name, KEYS_TABLE):
            return {}
        with self._connect() as conn:
            rows = conn.execute(
                sa.text(f"SELECT table_name, key_properties FROM {self.qualified(schema_name, KEYS_TABLE)}")
            ).all()
        return {str(name): list(json.loads(keys)) for name, keys in rows}

    def table_names(self, schema_name: str | None) -> list[str]:
        sql = (
            "SELECT table_name FROM information_schema.tables WHERE table_schema = "
            + (":schema" if schema_name else "current_schema()")
            + " ORDER BY table_name"
        )
        with self._connect() as conn:
            rows = conn.execute(sa.text(sql), {"schema": schema_name} if schema_name else {}).all()
        return [str(r[0]) for r in rows if not str(r[0]).startswith("_sdc_")]
