"""The version guard SQL, checked on DuckDB in memory against the Python order."""

from __future__ import annotations

import itertools
import typing as t

import duckdb
import pytest
from target_looker_warehouse import merge_sql
from target_looker_warehouse.dialects import DuckDBDialect, PostgresDialect
from target_looker_warehouse.versioning import compare_versions

VERSIONS = [
    {"updated_at": u, "sync_token": s, "edit_sequence": e}
    for u, s, e in itertools.product(
        [None, "2026-11-02 10:00:00+00", "2026-11-02 11:00:00+00"], [None, 1, 2], [None, "9", "10", "A"]
    )
]


@pytest.fixture(scope="module")
def duck() -> t.Iterator[duckdb.DuckDBPyConnection]:
    conn = duckdb.connect(":memory:", config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    yield conn
    conn.close()


def test_stored_is_newer_sql_matches_the_python_order(duck: duckdb.DuckDBPyConnection) -> None:
    dialect = DuckDBDialect({})
    expression = merge_sql.stored_is_newer_sql(dialect, ["updated_at", "sync_token", "edit_sequence"])
    assert expression is not None
    cols = "i INTEGER, updated_at TIMESTAMPTZ, sync_token BIGINT, edit_sequence VARCHAR"
    duck.execute(f"CREATE TABLE t ({cols}); CREATE TABLE s ({cols})")
    rows = [[i, *v.values()] for i, v in enumerate(VERSIONS)]
    duck.executemany("INSERT INTO t VALUES (?, ?, ?, ?)", rows)
    duck.executemany("INSERT INTO s VALUES (?, ?, ?, ?)", rows)
    results = duck.execute(f"SELECT t.i, s.i, {expression} FROM t, s").fetchall()
    assert len(results) == len(VERSIONS) ** 2
    for i, j, newer in results:
        assert newer == (compare_versions(VERSIONS[i], VERSIONS[j]) > 0), (VERSIONS[i], VERSIONS[j])


def test_update_keeps_stored_values_for_a_deletion_and_guards_resurrection() -> None:
    sql = merge_sql.update_from_staging_sql(
        PostgresDialect({}), '"q"."invoices"', "stage", ["company_id", "id"],
        ["company_id", "id", "total_amount", "updated_at", "_sdc_deleted_at"], ["updated_at"],
    )
    assert sql is not None
    assert 'COALESCE(s."total_amount", t."total_amount")' in sql
    assert 'NOT (t."_sdc_deleted_at" IS NOT NULL AND s."_sdc_deleted_at" IS NULL' in sql
    assert '"company_id" =' not in sql.split(" FROM ")[0], "keys are never updated"


def test_tables_without_version_columns_upsert_last_write_wins() -> None:
    assert merge_sql.stored_is_newer_sql(DuckDBDialect({}), []) is None
    sql = merge_sql.update_from_staging_sql(DuckDBDialect({}), "t", "s", ["id"], ["id", "v"], [])
    assert sql is not None and "NOT" not in sql


def test_identifiers_are_quoted() -> None:
    sql = merge_sql.insert_missing_sql(DuckDBDialect({}), "t", 'we"ird', ["id"], ["id", 'na"me'])
    assert '"we""ird"' in sql and '"na""me"' in sql
