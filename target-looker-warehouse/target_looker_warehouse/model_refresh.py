"""Rebuild the modelled layer from the raw streams (statements from ``model_sql``)."""

# SQL here is built from identifiers quoted by the dialect (never from record values,
# which travel as bound parameters or through COPY / Arrow): S608 does not apply.
# ruff: noqa: S608

from __future__ import annotations

import datetime as dt
import typing as t

import sqlalchemy as sa

from target_looker_warehouse.config import WarehouseSettings
from target_looker_warehouse.connector import WarehouseConnector
from target_looker_warehouse.model_sql import ModelSql

REFRESH_TABLE = "_model_refresh"


def as_of_date(config: t.Mapping[str, t.Any]) -> dt.date:
    value = WarehouseSettings.from_config(config).aging_as_of
    if isinstance(value, dt.date):
        return value
    if value:
        return dt.date.fromisoformat(str(value))
    return dt.datetime.now(dt.UTC).date()


def model_builder(connector: WarehouseConnector, config: t.Mapping[str, t.Any]) -> ModelSql:
    settings = WarehouseSettings.from_config(config)
    raw_schema = settings.default_target_schema
    raw_columns = {
        table: set(connector.columns_of(raw_schema, table)) for table in connector.table_names(raw_schema)
    }
    return ModelSql(
        flavor=connector.dialect,
        raw_schema=raw_schema,
        model_schema=settings.model_schema,
        raw_columns=raw_columns,
        as_of=as_of_date(config),
    )


def refresh_model(connector: WarehouseConnector, config: t.Mapping[str, t.Any]) -> dict[str, int]:
    """Rebuild every model whose sources exist, in one transaction; return row counts."""
    builder = model_builder(connector, config)
    statements = builder.statements()
    if not statements:
        return {}
    connector.prepare_schema(builder.model_schema)
    counts: dict[str, int] = {}
    with connector.engine.connect() as conn, conn.begin():
        for name, sqls in statements:
            for sql in sqls:
                conn.execute(sa.text(sql))
            counts[name] = int(conn.execute(sa.text(f"SELECT COUNT(*) FROM {builder.model(name)}")).scalar_one())
        # The LookML datagroup's sql_trigger watches this table to refresh Looker's cache.
        marker = builder.model(REFRESH_TABLE)
        conn.execute(sa.text(f"CREATE TABLE IF NOT EXISTS {marker} (refreshed_at TIMESTAMP WITH TIME ZONE)"))
        conn.execute(sa.text(f"DELETE FROM {marker}"))
        conn.execute(sa.text(f"INSERT INTO {marker} (refreshed_at) VALUES (CURRENT_TIMESTAMP)"))
    return counts
