"""The version guard SQL, checked on DuckDB in memory against the Python order."""

from __future__ import annotations

import itertools
import typing as t

import duckdb
import pytest
from qbc_plugin_kit.version_order import supersedes
from target_looker_warehouse import merge_sql
from target_looker_warehouse.dialects import DuckDBDialect, PostgresDialect

VERSIONS = [
    {"updated_at": u, "sync_token": s, "edit_sequence": e, "_sdc_deleted_at": d}
    for u, s, e, d in itertools.product(
        [None, "2026-11-02 10:00:00+00", "2026-11-02 11:00:00+00"], [None, 1, 2], [None, "9", "10", "A"],
        [None, "2026-11-02 10:00:00+00"],
    )
]


@pytest.fixture(scope="module")
def duck() -> t.Iterator[duckdb.DuckDBPyConnection]:
    conn = duckdb.connect(":memory:", config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    yield conn
    conn.close()


def test_the_merge_replaces_exactly_the_rows_the_kit_order_allows(duck: duckdb.DuckDBPyConnection) -> None:
    cols = "i INTEGER, v INTEGER, updated_at TIMESTAMPTZ, sync_token BIGINT, edit_sequence VARCHAR, _sdc_deleted_at TIMESTAMPTZ"
    duck.execute(f"CREATE TABLE s ({cols}); CREATE TABLE t ({cols})")
    columns = ["i", "v", "updated_at", "sync_token", "edit_sequence", "_sdc_deleted_at"]
    sql = merge_sql.update_from_staging_sql(DuckDBDialect({}), "t", "s", ["i"], columns,
                                            ["updated_at", "sync_token", "edit_sequence", "_sdc_deleted_at"])
    assert sql is not None
    pairs = list(itertools.product(range(len(VERSIONS)), repeat=2))
    duck.executemany("INSERT INTO t VALUES (?, 0, ?, ?, ?, ?)",
                     [[n, *VERSIONS[old].values()] for n, (_new, old) in enumerate(pairs)])
    duck.executemany("INSERT INTO s VALUES (?, 1, ?, ?, ?, ?)",
                     [[n, *VERSIONS[new].values()] for n, (new, _old) in enumerate(pairs)])
    duck.execute(sql)
    replaced = dict(duck.execute("SELECT i, v FROM t").fetchall())
    for n, (new, old) in enumerate(pairs):
        assert bool(replaced[n]) == supersedes(VERSIONS[new], VERSIONS[old]), (VERSIONS[new], VERSIONS[old])


def test_update_keeps_stored_values_for_a_deletion() -> None:
    sql = merge_sql.update_from_staging_sql(
        PostgresDialect({}), '"q"."invoices"', "stage", ["company_id", "id"],
        ["company_id", "id", "total_amount", "updated_at", "_sdc_deleted_at"], ["updated_at", "_sdc_deleted_at"],
    )
    assert sql is not None
    assert 'COALESCE(s."total_amount", t."total_amount")' in sql
    assert '"company_id" =' not in sql.split(" FROM ")[0], "keys are never updated"


def test_tables_without_version_columns_upsert_last_write_wins() -> None:
    sql = merge_sql.update_from_staging_sql(DuckDBDialect({}), "t", "s", ["id"], ["id", "v"], [])
    assert sql is not None and "NOT" not in sql


def test_identifiers_are_quoted() -> None:
    sql = merge_sql.insert_missing_sql(DuckDBDialect({}), "t", 'we"ird', ["id"], ["id", 'na"me'])
    assert '"we""ird"' in sql and '"na""me"' in sql


def test_duckdb_inserts_only_missing_keys_matching_stored_keys_against_the_batchs_alone() -> None:
    sql = merge_sql.insert_missing_sql(DuckDBDialect({}), '"t"', "s", ["company_id", "id"], ["company_id", "id", "v"])
    # The stored keys are narrowed to the staged ones before the anti-join (which DuckDB would
    # otherwise build from the whole table); PostgreSQL keeps the plain form, probing its index.
    narrowed = sql.split("NOT EXISTS", 1)[1]
    assert 'FROM "s" AS b' in narrowed and 't."company_id" = b."company_id" AND t."id" = b."id"' in narrowed
    assert 'FROM "s" AS b' not in merge_sql.insert_missing_sql(
        PostgresDialect({}), '"t"', "s", ["company_id", "id"], ["company_id", "id", "v"])
    conn = duckdb.connect()
    conn.execute("CREATE TABLE t (company_id VARCHAR, id VARCHAR, v INTEGER)")
    conn.execute("INSERT INTO t VALUES ('c1', '1', 1), ('c1', '2', 2), ('c2', '1', 3)")
    conn.execute("CREATE TABLE s (company_id VARCHAR, id VARCHAR, v INTEGER)")
    conn.execute("INSERT INTO s VALUES ('c1', '2', 20), ('c2', '2', 40), ('c3', '1', 50)")
    conn.execute(sql)
    assert conn.execute("SELECT * FROM t ORDER BY ALL").fetchall() == [
        ("c1", "1", 1), ("c1", "2", 2), ("c2", "1", 3), ("c2", "2", 40), ("c3", "1", 50)]


def test_postgres_merge_writes_what_update_and_insert_write(postgres_dsn: str) -> None:
    """PostgreSQL 15's one-statement MERGE against the kit's order: every pair of versions, a
    deletion that keeps the stored values it leaves null, and keys the table does not hold."""
    import psycopg

    columns = ["i", "v", "updated_at", "sync_token", "edit_sequence", "_sdc_deleted_at"]
    versions = ["updated_at", "sync_token", "edit_sequence", "_sdc_deleted_at"]
    flavor = PostgresDialect({})
    pairs = list(itertools.product(range(len(VERSIONS)), repeat=2))
    cols = ("i INTEGER, v INTEGER, updated_at TIMESTAMPTZ, sync_token BIGINT, edit_sequence VARCHAR, "
            "_sdc_deleted_at TIMESTAMPTZ")
    with psycopg.connect(postgres_dsn) as conn:
        conn.execute("CREATE SCHEMA merge_check")
        conn.execute(f"CREATE TABLE merge_check.t ({cols}); CREATE TEMPORARY TABLE s ({cols})")
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO merge_check.t VALUES (%s, 0, %s, %s, %s, %s)",
                            [[n, *VERSIONS[old].values()] for n, (_new, old) in enumerate(pairs)])
            staged = [[n, 1 if VERSIONS[new]["_sdc_deleted_at"] is None else None, *VERSIONS[new].values()]
                      for n, (new, _old) in enumerate(pairs)]
            cur.executemany("INSERT INTO s VALUES (%s, %s, %s, %s, %s, %s)",
                            [*staged, [-1, 7, None, None, None, None]])  # -1: a key the table lacks
        conn.execute(merge_sql.merge_from_staging_sql(flavor, "merge_check.t", "s", ["i"], columns, versions))
        stored = dict(conn.execute("SELECT i, v FROM merge_check.t").fetchall())
    assert stored.pop(-1) == 7
    for n, (new, old) in enumerate(pairs):
        # Replaced rows hold the staged v (1), or for a deletion the stored one (0) it left null.
        replaced = supersedes(VERSIONS[new], VERSIONS[old])
        want = 1 if replaced and VERSIONS[new]["_sdc_deleted_at"] is None else 0
        assert stored[n] == want, (VERSIONS[new], VERSIONS[old])


def test_merge_of_a_keys_only_table_only_inserts() -> None:
    sql = merge_sql.merge_from_staging_sql(PostgresDialect({}), "t", "s", ["id"], ["id"], [])
    assert "WHEN MATCHED" not in sql and sql.endswith('WHEN NOT MATCHED THEN INSERT ("id") VALUES (s."id")')
