"""SQL for staging a batch and merging it into its table. Pure: builds strings, no I/O.

The merge is an ``UPDATE ... FROM`` followed by ``INSERT ... WHERE NOT EXISTS`` in one
transaction rather than ``MERGE`` or ``ON CONFLICT``: it needs neither PostgreSQL 15
nor a unique constraint (key changes between runs stay loadable), and every SQL
warehouse Looker connects to accepts it.
"""

# SQL here is built from identifiers quoted by the dialect; record values travel through
# COPY / Arrow. The one literal, a deleted_records stream name that matched an existing
# table, is quote-escaped. S608 does not apply.
# ruff: noqa: S608

from __future__ import annotations

import typing as t

DELETED_AT = "_sdc_deleted_at"

# Header stream -> (line stream, the line column holding the header id).
HEADER_LINES: dict[str, tuple[str, str]] = {
    "invoices": ("invoice_lines", "invoice_id"),
    "bills": ("bill_lines", "bill_id"),
    "purchase_orders": ("purchase_order_lines", "purchase_order_id"),
    "journal_entries": ("journal_entry_lines", "journal_entry_id"),
    "credit_memos": ("credit_memo_lines", "credit_memo_id"),
    "sales_receipts": ("sales_receipt_lines", "sales_receipt_id"),
}


class SqlFlavor(t.Protocol):
    """The few dialect-specific expressions the merge needs."""

    def quote(self, name: str) -> str: ...

    def all_digits(self, expression: str) -> str: ...


def qualified(flavor: SqlFlavor, schema: str | None, table: str) -> str:
    return f"{flavor.quote(schema)}.{flavor.quote(table)}" if schema else flavor.quote(table)


def create_staging_sql(flavor: SqlFlavor, staging: str, target: str, columns: t.Sequence[str]) -> str:
    cols = ", ".join(flavor.quote(c) for c in columns)
    return f"CREATE TEMPORARY TABLE {flavor.quote(staging)} AS SELECT {cols} FROM {target} WHERE 1 = 0"


def drop_staging_sql(flavor: SqlFlavor, staging: str) -> str:
    return f"DROP TABLE IF EXISTS {flavor.quote(staging)}"


def _gt(a: str, b: str) -> str:
    return f"COALESCE({a} > {b}, FALSE)"


def _eq(a: str, b: str) -> str:
    return f"COALESCE({a} = {b}, TRUE)"


def _edit_sequence_gt(flavor: SqlFlavor, a: str, b: str) -> str:
    return (
        f"COALESCE(CASE WHEN {flavor.all_digits(a)} AND {flavor.all_digits(b)} "
        f"THEN CAST({a} AS DECIMAL(38, 0)) > CAST({b} AS DECIMAL(38, 0)) "
        f"ELSE {a} > {b} END, FALSE)"
    )


def stored_is_newer_sql(flavor: SqlFlavor, version_columns: t.Sequence[str]) -> str | None:
    """SQL true when the stored row ``t`` is strictly newer than the staged row ``s``.

    ``version_columns`` lists which of updated_at / sync_token / edit_sequence the
    table has, in that order; ``None`` when it has none (plain last-write-wins).
    """
    parts: list[tuple[str, str]] = []
    for column in version_columns:
        a, b = f"t.{flavor.quote(column)}", f"s.{flavor.quote(column)}"
        gt = _edit_sequence_gt(flavor, a, b) if column == "edit_sequence" else _gt(a, b)
        parts.append((gt, _eq(a, b)))
    if not parts:
        return None
    expression = parts[-1][0]
    for gt, eq in reversed(parts[:-1]):
        expression = f"({gt} OR ({eq} AND {expression}))"
    return expression


def _key_match(flavor: SqlFlavor, keys: t.Sequence[str], left: str, right: str) -> str:
    return " AND ".join(f"{left}.{flavor.quote(k)} = {right}.{flavor.quote(k)}" for k in keys)


def update_from_staging_sql(
    flavor: SqlFlavor,
    target: str,
    staging: str,
    keys: t.Sequence[str],
    columns: t.Sequence[str],
    version_columns: t.Sequence[str],
) -> str | None:
    """Replace stored rows by staged rows that are not older.

    A staged deletion keeps the stored value of every column it leaves null
    (QuickBooks deletions carry little more than the key), and a stored deletion is
    not undone by a staged row older than the deletion itself (a row of the very
    version that flagged it, e.g. a line re-sent in the next batch, does undo it).
    """
    settable = [c for c in columns if c not in keys]
    if not settable:
        return None
    has_deleted = DELETED_AT in columns
    assignments = []
    for column in settable:
        q = flavor.quote(column)
        if has_deleted and column != DELETED_AT:
            value = f"CASE WHEN s.{flavor.quote(DELETED_AT)} IS NOT NULL THEN COALESCE(s.{q}, t.{q}) ELSE s.{q} END"
        else:
            value = f"s.{q}"
        assignments.append(f"{q} = {value}")
    conditions = [_key_match(flavor, keys, "t", "s")]
    newer = stored_is_newer_sql(flavor, version_columns)
    if newer:
        conditions.append(f"NOT {newer}")
    if has_deleted and "updated_at" in version_columns:
        d, u = flavor.quote(DELETED_AT), flavor.quote("updated_at")
        conditions.append(
            f"NOT (t.{d} IS NOT NULL AND s.{d} IS NULL AND COALESCE(s.{u} < t.{d}, TRUE))"
        )
    return (
        f"UPDATE {target} AS t SET {', '.join(assignments)} "
        f"FROM {flavor.quote(staging)} AS s WHERE {' AND '.join(conditions)}"
    )


def insert_missing_sql(
    flavor: SqlFlavor, target: str, staging: str, keys: t.Sequence[str], columns: t.Sequence[str]
) -> str:
    cols = ", ".join(flavor.quote(c) for c in columns)
    src = ", ".join(f"s.{flavor.quote(c)}" for c in columns)
    return (
        f"INSERT INTO {target} ({cols}) SELECT {src} FROM {flavor.quote(staging)} AS s "
        f"WHERE NOT EXISTS (SELECT 1 FROM {target} AS t WHERE {_key_match(flavor, keys, 't', 's')})"
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
