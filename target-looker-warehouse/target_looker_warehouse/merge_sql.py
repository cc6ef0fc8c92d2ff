"""SQL for staging a batch and merging it into its table. Pure: builds strings, no I/O.

The merge is an ``UPDATE ... FROM`` followed by ``INSERT ... WHERE NOT EXISTS`` in one
transaction rather than ``ON CONFLICT``: it needs no unique constraint (key changes between
runs stay loadable), and every SQL warehouse Looker connects to accepts it. On PostgreSQL 15
and later the two are one ``MERGE`` (:func:`merge_from_staging_sql`, the same rows written):
one join instead of two, 20-45% less server time per 100,000-row batch.
"""

# SQL here is built from identifiers quoted by the dialect; record values travel through
# COPY / Arrow. The one literal, a deleted_records stream name that matched an existing
# table, is quote-escaped. S608 does not apply.
# ruff: noqa: S608

from __future__ import annotations

import typing as t

from qbc_plugin_kit.record_model import HEADER_LINES
from qbc_plugin_kit.version_order import DELETED_AT, supersedes_sql

# The header->lines relation is the record model's, kept once in the kit.
__all__ = ["HEADER_LINES"]


class SqlFlavor(t.Protocol):
    """The few dialect-specific expressions the merge needs."""

    name: t.ClassVar[str]

    def quote(self, name: str) -> str: ...


def qualified(flavor: SqlFlavor, schema: str | None, table: str) -> str:
    return f"{flavor.quote(schema)}.{flavor.quote(table)}" if schema else flavor.quote(table)


def create_staging_sql(flavor: SqlFlavor, staging: str, target: str, columns: t.Sequence[str]) -> str:
    cols = ", ".join(flavor.quote(c) for c in columns)
    return f"CREATE TEMPORARY TABLE {flavor.quote(staging)} AS SELECT {cols} FROM {target} WHERE 1 = 0"


def drop_staging_sql(flavor: SqlFlavor, staging: str) -> str:
    return f"DROP TABLE IF EXISTS {flavor.quote(staging)}"


def _key_match(flavor: SqlFlavor, keys: t.Sequence[str], left: str, right: str) -> str:
    return " AND ".join(f"{left}.{flavor.quote(k)} = {right}.{flavor.quote(k)}" for k in keys)


def update_from_staging_sql(
    flavor: SqlFlavor,
    target: str,
    staging: str,
    keys: t.Sequence[str],
    columns: t.Sequence[str],
    version_columns: t.Collection[str],
) -> str | None:
    """Replace stored rows by staged rows that are not older (the kit's version order,
    generated for this dialect from the ``version_columns`` the table has; with none of
    them the last write wins).

    A staged deletion keeps the stored value of every column it leaves null
    (QuickBooks deletions carry little more than the key).
    """
    assignments = _assignments(flavor, keys, columns)
    if not assignments:
        return None
    conditions = [_key_match(flavor, keys, "t", "s"), *_supersedes(flavor, version_columns)]
    return (
        f"UPDATE {target} AS t SET {assignments} "
        f"FROM {flavor.quote(staging)} AS s WHERE {' AND '.join(conditions)}"
    )


def merge_from_staging_sql(
    flavor: SqlFlavor,
    target: str,
    staging: str,
    keys: t.Sequence[str],
    columns: t.Sequence[str],
    version_columns: t.Collection[str],
) -> str:
    """:func:`update_from_staging_sql` and :func:`insert_missing_sql` as one ``MERGE``
    (PostgreSQL 15 and later): one join of the batch with the table instead of two, the same
    rows written. The staged rows must hold each key once (the batch is de-duplicated first)."""
    cols = ", ".join(flavor.quote(c) for c in columns)
    src = ", ".join(f"s.{flavor.quote(c)}" for c in columns)
    sql = f"MERGE INTO {target} AS t USING {flavor.quote(staging)} AS s ON {_key_match(flavor, keys, 't', 's')} "
    assignments = _assignments(flavor, keys, columns)
    if assignments:
        guard = " AND ".join(_supersedes(flavor, version_columns))
        sql += f"WHEN MATCHED {'AND ' + guard + ' ' if guard else ''}THEN UPDATE SET {assignments} "
    return sql + f"WHEN NOT MATCHED THEN INSERT ({cols}) VALUES ({src})"


def _assignments(flavor: SqlFlavor, keys: t.Sequence[str], columns: t.Sequence[str]) -> str:
    """SET list of a staged row over a stored one (empty when only keys are stored)."""
    has_deleted = DELETED_AT in columns
    assignments = []
    for column in columns:
        if column in keys:
            continue
        q = flavor.quote(column)
        if has_deleted and column != DELETED_AT:
            value = f"CASE WHEN s.{flavor.quote(DELETED_AT)} IS NOT NULL THEN COALESCE(s.{q}, t.{q}) ELSE s.{q} END"
        else:
            value = f"s.{q}"
        assignments.append(f"{q} = {value}")
    return ", ".join(assignments)


def _supersedes(flavor: SqlFlavor, version_columns: t.Collection[str]) -> list[str]:
    """The condition that the staged row ``s`` is not older than the stored ``t`` (none when
    the table has no version column: the last write wins)."""
    if not set(version_columns) - {DELETED_AT}:
        return []
    return [supersedes_sql(flavor.name, lambda c: f"s.{flavor.quote(c)}", lambda c: f"t.{flavor.quote(c)}",
                           version_columns)]


def insert_missing_sql(
    flavor: SqlFlavor, target: str, staging: str, keys: t.Sequence[str], columns: t.Sequence[str]
) -> str:
    """Insert the staged rows whose key the table does not hold yet.

    DuckDB builds the anti-join's hash table from the whole table (a million keys held in
    memory by the millionth row, beyond its memory limit and growing with the table); there
    the stored keys are first narrowed to the batch's (a semi-join that hashes the staging
    table), so the join holds no more than the batch. PostgreSQL probes its key index."""
    cols = ", ".join(flavor.quote(c) for c in columns)
    src = ", ".join(f"s.{flavor.quote(c)}" for c in columns)
    stored = target
    if flavor.name == "duckdb":
        key_cols = ", ".join(f"t.{flavor.quote(k)}" for k in keys)
        stored = (f"(SELECT {key_cols} FROM {target} AS t WHERE EXISTS (SELECT 1 FROM {flavor.quote(staging)} AS b "
                  f"WHERE {_key_match(flavor, keys, 't', 'b')}))")
    return (
        f"INSERT INTO {target} ({cols}) SELECT {src} FROM {flavor.quote(staging)} AS s "
        f"WHERE NOT EXISTS (SELECT 1 FROM {stored} AS t WHERE {_key_match(flavor, keys, 't', 's')})"
    )


def append_sql(flavor: SqlFlavor, target: str, staging: str, columns: t.Sequence[str]) -> str:
    cols = ", ".join(flavor.quote(c) for c in columns)
    return f"INSERT INTO {target} ({cols}) SELECT {cols} FROM {flavor.quote(staging)}"


def cascade_header_deletion_sql(
    flavor: SqlFlavor, lines_table: str, header_column: str, staging: str
) -> str:
    """Flag the stored lines of every header the batch deletes (the tap sends no line rows)."""
    d = flavor.quote(DELETED_AT)
    return (
        f"UPDATE {lines_table} AS l SET {d} = s.{d} FROM {flavor.quote(staging)} AS s "
        f"WHERE s.{d} IS NOT NULL AND l.{d} IS NULL "
        f"AND l.{flavor.quote('company_id')} = s.{flavor.quote('company_id')} "
        f"AND l.{flavor.quote(header_column)} = s.{flavor.quote('id')}"
    )


def flag_dropped_lines_sql(flavor: SqlFlavor, lines_table: str, header_column: str, staging: str) -> str:
    """Flag stored lines of a document that a newer version of it no longer has.

    Every line row repeats its header's ``updated_at``, so a line still stored with an
    older ``updated_at`` than the document's newest lines was removed in QuickBooks.
    Lines of one version split over two batches share that version and stay.
    """
    d, u = flavor.quote(DELETED_AT), flavor.quote("updated_at")
    company, header = flavor.quote("company_id"), flavor.quote(header_column)
    return (
        f"UPDATE {lines_table} AS l SET {d} = s.newest "
        f"FROM (SELECT {company}, {header}, MAX({u}) AS newest FROM {flavor.quote(staging)} "
        f"WHERE {d} IS NULL GROUP BY {company}, {header}) AS s "
        f"WHERE l.{company} = s.{company} AND l.{header} = s.{header} "
        f"AND l.{d} IS NULL AND l.{u} < s.newest"
    )


def flag_lines_of_deleted_headers_sql(
    flavor: SqlFlavor, lines_table: str, headers_table: str, header_column: str, staging: str
) -> str:
    """Flag the batch's lines whose header is stored deleted (with the header's deletion time)."""
    d, company = flavor.quote(DELETED_AT), flavor.quote("company_id")
    header = flavor.quote(header_column)
    return (
        f"UPDATE {lines_table} AS l SET {d} = h.{d} FROM {headers_table} AS h "
        f"WHERE h.{d} IS NOT NULL AND l.{d} IS NULL "
        f"AND h.{company} = l.{company} AND h.{flavor.quote('id')} = l.{header} "
        f"AND EXISTS (SELECT 1 FROM {flavor.quote(staging)} AS s "
        f"WHERE s.{company} = l.{company} AND s.{header} = l.{header})"
    )


def flag_deleted_records_sql(flavor: SqlFlavor, table: str, staging: str, stream: str) -> str:
    """Apply ``deleted_records`` rows of one stream to that stream's table."""
    d = flavor.quote(DELETED_AT)
    return (
        f"UPDATE {table} AS x SET {d} = s.{flavor.quote('deleted_at')} "
        f"FROM {flavor.quote(staging)} AS s "
        f"WHERE s.{flavor.quote('stream')} = '{stream.replace(chr(39), chr(39) * 2)}' "
        f"AND x.{d} IS NULL AND s.{flavor.quote('deleted_at')} IS NOT NULL "
        f"AND x.{flavor.quote('company_id')} = s.{flavor.quote('company_id')} "
        f"AND x.{flavor.quote('id')} = s.{flavor.quote('id')}"
    )


def hard_delete_sql(flavor: SqlFlavor, table: str) -> str:
    return f"DELETE FROM {table} WHERE {flavor.quote(DELETED_AT)} IS NOT NULL"
