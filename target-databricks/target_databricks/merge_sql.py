"""Every SQL statement the target sends, built as text. No I/O: unit-tested on its own.

Rows travel as ONE parameter per statement: a JSON array of rows, each row an array of
strings (or null). The server parses it with ``from_json`` and casts each column, so a chunk
of thousands of rows costs one parameter marker, far under Databricks' documented limits
for native parameters (255 markers and 1 MB of values per statement), and no value is
ever spliced into the SQL text by us.

With inline parameters the connector does splice the payload in, as an escaped string
literal, and Spark's SQL parser unescapes a literal in time proportional to (escapes x
length): a 900 kB chunk of nested JSON took a minute. So inline payloads travel as base64,
which has nothing to escape, and the SQL decodes them (``encoded=True``).
"""

# S608: this module is where SQL text is built. Identifiers go through quote_ident, the
# few literals through quote_string, and record values never enter the text at all.
# ruff: noqa: S608

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from qbc_plugin_kit.version_order import (
    DELETED_AT,
    EDIT_SEQUENCE,
    SYNC_TOKEN,
    UPDATED_AT,
    supersedes_sql,
)

from target_databricks.type_mapping import STRING, TIMESTAMP, is_nested

ROWS_SCHEMA = "ARRAY<ARRAY<STRING>>"
# The version columns a soft deletion keeps when it carries none (the deletion column aside).
VERSION_VALUES = (UPDATED_AT, SYNC_TOKEN, EDIT_SEQUENCE)


@dataclass(frozen=True)
class Column:
    name: str
    sql_type: str


def quote_ident(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def quote_string(text: str) -> str:
    """A SQL string literal; only ever used for type names and paths we build ourselves."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def table_name(*parts: str | None) -> str:
    return ".".join(quote_ident(part) for part in parts if part)


def _column_list(columns: t.Sequence[Column]) -> str:
    return ", ".join(quote_ident(c.name) for c in columns)


def _column_defs(columns: t.Sequence[Column]) -> str:
    return ", ".join(f"{quote_ident(c.name)} {c.sql_type}" for c in columns)


def create_schema(catalog: str | None, schema: str) -> str:
    return f"CREATE SCHEMA IF NOT EXISTS {table_name(catalog, schema)}"


def drop_schema(catalog: str | None, schema: str) -> str:
    """Only for a schema `check` created itself, and so empty (no CASCADE)."""
    return f"DROP SCHEMA IF EXISTS {table_name(catalog, schema)}"


def use_catalog(catalog: str) -> str:
    return f"USE CATALOG {quote_ident(catalog)}"


def use_schema(catalog: str | None, schema: str) -> str:
    return f"USE SCHEMA {table_name(catalog, schema)}"


def describe_schema(catalog: str | None, schema: str) -> str:
    return f"DESCRIBE SCHEMA {table_name(catalog, schema)}"


def _table_suffix(provider: str, properties: t.Mapping[str, str]) -> str:
    suffix = f" USING {provider}" if provider else ""
    if properties:
        props = ", ".join(
            f"{quote_string(k)} = {quote_string(v)}" for k, v in sorted(properties.items())
        )
        suffix += f" TBLPROPERTIES ({props})"
    return suffix


def create_table(
    table: str,
    columns: t.Sequence[Column],
    *,
    provider: str,
    properties: t.Mapping[str, str] | None = None,
    replace: bool = False,
    if_not_exists: bool = True,
) -> str:
    """``CREATE TABLE IF NOT EXISTS`` (or ``CREATE OR REPLACE`` for a staging table, or a plain
    ``CREATE TABLE`` that fails when the table exists)."""
    verb = ("CREATE OR REPLACE TABLE" if replace else
            "CREATE TABLE IF NOT EXISTS" if if_not_exists else "CREATE TABLE")
    return (
        f"{verb} {table} ({_column_defs(columns)})"
        f"{_table_suffix(provider, properties or {})}"
    )


def drop_table(table: str) -> str:
    return f"DROP TABLE IF EXISTS {table}"


def describe_table(table: str) -> str:
    return f"DESCRIBE TABLE {table}"


def add_columns(table: str, columns: t.Sequence[Column]) -> str:
    return f"ALTER TABLE {table} ADD COLUMNS ({_column_defs(columns)})"


def alter_column_type(table: str, column: str, new_type: str) -> str:
    return f"ALTER TABLE {table} ALTER COLUMN {quote_ident(column)} TYPE {new_type}"


def rebuild_table(
    new_table: str,
    table: str,
    columns: t.Sequence[Column],
    *,
    provider: str,
    properties: t.Mapping[str, str] | None = None,
) -> str:
    """CTAS copy of ``table`` with every column cast to its (widened) type.

    Used when the table format cannot change a column type in place (Iceberg cannot turn
    BIGINT into DECIMAL; Delta only with type widening enabled).
    """
    select = ", ".join(
        f"CAST({quote_ident(c.name)} AS {c.sql_type}) AS {quote_ident(c.name)}" for c in columns
    )
    return (
        f"CREATE TABLE {new_table}{_table_suffix(provider, properties or {})} "
        f"AS SELECT {select} FROM {table}"
    )


def select_all(table: str) -> str:
    return f"SELECT * FROM {table}"


def rename_table(table: str, new_table: str) -> str:
    return f"ALTER TABLE {table} RENAME TO {new_table}"


def _cast(expression: str, sql_type: str) -> str:
    if sql_type == STRING:
        return expression
    if is_nested(sql_type):
        return f"from_json({expression}, {quote_string(sql_type)})"
    return f"CAST({expression} AS {sql_type})"


def json_rows_source(
    columns: t.Sequence[Column],
    param: str,
    constants: t.Mapping[int, str | None] | None = None,
    *,
    encoded: bool = False,
) -> str:
    """A SELECT that turns the one JSON parameter back into typed rows.

    ``constants`` maps a column's position to the placeholder of a parameter holding the
    value every row shares (or None when all are NULL); such columns are left out of the
    JSON rows, which shrinks each statement by the audit and company columns. ``encoded``:
    the parameter holds the JSON as base64 (see the module docstring).
    """
    constants = constants or {}
    payload = f"CAST(unbase64({param}) AS STRING)" if encoded else param
    projection = []
    position = 0
    for i, column in enumerate(columns):
        if i in constants:
            placeholder = constants[i]
            expression = (_cast(placeholder, column.sql_type) if placeholder is not None
                          else f"CAST(NULL AS {column.sql_type})")
        else:
            expression = _cast(f"r[{position}]", column.sql_type)
            position += 1
        projection.append(f"{expression} AS {quote_ident(column.name)}")
    return (
        f"SELECT {', '.join(projection)} FROM "
        f"(SELECT explode(from_json({payload}, {quote_string(ROWS_SCHEMA)})) AS r) AS rows_json"
    )


def insert_select(
    table: str, columns: t.Sequence[Column], source: str, *, overwrite: bool = False
) -> str:
    """Append (or replace the table's contents with) the rows of ``source``."""
    names = _column_list(columns)
    if overwrite:
        return f"INSERT OVERWRITE {table} ({names}) SELECT {names} FROM ({source}) AS src"
    return f"INSERT INTO {table} ({names}) SELECT {names} FROM ({source}) AS src"


def without_deletions(source: str) -> str:
    """The rows of ``source`` that are not deletions (what a hard-deleting MERGE inserts)."""
    return f"SELECT * FROM ({source}) AS src WHERE {quote_ident(DELETED_AT)} IS NULL"


def version_guard(columns: t.Sequence[Column], incoming: str = "s", stored: str = "t") -> str:
    """True when the ``incoming`` row is not older than the ``stored`` one.

    The SQL is generated by the plugin kit from its one version order (updated_at, then a
    deletion, then sync_token, then edit_sequence; missing is oldest). A version column the
    table does not have is NULL on both sides; an ``updated_at`` stored as text is compared
    as the instant it names.
    """
    types = {c.name: c.sql_type for c in columns}

    def side(alias: str) -> t.Callable[[str], str]:
        def reference(name: str) -> str:
            if name not in types:
                return "NULL"
            expression = f"{alias}.{quote_ident(name)}"
            if name == UPDATED_AT and types[name] != TIMESTAMP:
                expression = f"CAST({expression} AS TIMESTAMP)"
            return expression
        return reference

    return supersedes_sql("databricks", side(incoming), side(stored))


def merge(
    table: str,
    columns: t.Sequence[Column],
    keys: t.Sequence[str],
    source: str,
    *,
    hard_delete: bool = False,
    tombstone_columns: t.Sequence[str] = (),
) -> str:
    """One MERGE per batch: newer-or-equal versions update, older ones are ignored
    (:func:`version_guard`).

    A row carrying ``_sdc_deleted_at`` is a deletion: soft by default (only the deletion
    time, version and ``tombstone_columns`` are written, so the stored values survive), or
    removed when ``hard_delete`` is on. An unmatched deletion is still inserted when soft,
    so an older version that arrives later cannot bring the record back.
    """
    not_older = version_guard(columns)
    on = " AND ".join(f"t.{quote_ident(k)} <=> s.{quote_ident(k)}" for k in keys)
    names = _column_list(columns)
    values = ", ".join(f"s.{quote_ident(c.name)}" for c in columns)
    updatable = [c for c in columns if c.name not in keys]
    column_names = {c.name for c in columns}
    deletes = DELETED_AT in column_names
    clauses = [f"MERGE INTO {table} AS t USING ({source}) AS s ON {on}"]
    if deletes and hard_delete:
        clauses.append(f"WHEN MATCHED AND s.{quote_ident(DELETED_AT)} IS NOT NULL AND {not_older} "
                       "THEN DELETE")
    elif deletes:
        # A deletion carries no sync_token or edit_sequence: the stored ones stay.
        kept = [DELETED_AT, *VERSION_VALUES, *tombstone_columns]
        tombstone = ", ".join(
            f"t.{quote_ident(n)} = s.{quote_ident(n)}"
            if n not in VERSION_VALUES
            else f"t.{quote_ident(n)} = coalesce(s.{quote_ident(n)}, t.{quote_ident(n)})"
            for n in dict.fromkeys(kept)
            if n in column_names
        )
        clauses.append(f"WHEN MATCHED AND s.{quote_ident(DELETED_AT)} IS NOT NULL AND {not_older} "
                       f"THEN UPDATE SET {tombstone}")
    if updatable:
        sets = ", ".join(f"t.{quote_ident(c.name)} = s.{quote_ident(c.name)}" for c in updatable)
        clauses.append(f"WHEN MATCHED AND {not_older} THEN UPDATE SET {sets}")
    insert_guard = f" AND s.{quote_ident(DELETED_AT)} IS NULL" if deletes and hard_delete else ""
    clauses.append(f"WHEN NOT MATCHED{insert_guard} THEN INSERT ({names}) VALUES ({values})")
    return " ".join(clauses)


def flag_children_deleted(
    child_table: str,
    joins: t.Sequence[tuple[str, str]],
    source: str,
    *,
    hard_delete: bool = False,
) -> str:
    """Mark (or remove) the stored lines of headers deleted in this batch.

    record-model.md: a deleted header arrives with no line rows, so its lines would
    otherwise stay live forever. ``joins`` pairs a child column with a source column.
    """
    on = " AND ".join(f"t.{quote_ident(c)} <=> s.{quote_ident(p)}" for c, p in joins)
    deleted = quote_ident(DELETED_AT)
    action = "DELETE" if hard_delete else f"UPDATE SET t.{deleted} = s.{deleted}"
    return (
        f"MERGE INTO {child_table} AS t USING "
        f"(SELECT * FROM ({source}) AS src WHERE {deleted} IS NOT NULL) AS s ON {on} "
        f"WHEN MATCHED AND t.{deleted} IS NULL THEN {action}"
    )


def put_file(local_path: str, volume_path: str) -> str:
    """Upload a local file to a Unity Catalog Volume (a connector staging operation)."""
    return f"PUT {quote_string(local_path)} INTO {quote_string(volume_path)} OVERWRITE"


def remove_file(volume_path: str) -> str:
    return f"REMOVE {quote_string(volume_path)}"


def file_rows_source(columns: t.Sequence[Column], volume_path: str) -> str:
    """A SELECT of the typed rows of a staged Parquet file (column ``c<i>`` holds column i's
    values as text, as ``json_rows_source`` carries them, so both paths cast alike).

    A MERGE or INSERT reads the file itself through ``read_files``: no staging table to create,
    fill with COPY INTO and drop, which were three statements of the five a batch cost.
    """
    projection = ", ".join(
        f"{_cast(quote_ident(f'c{i}'), c.sql_type)} AS {quote_ident(c.name)}"
        for i, c in enumerate(columns)
    )
    return f"SELECT {projection} FROM read_files({quote_string(volume_path)}, format => 'parquet')"


def volume_path(catalog: str, schema: str, volume: str, file_name: str) -> str:
    return f"/Volumes/{catalog}/{schema}/{volume}/{file_name}"
