"""The kit's generated version guard gives the same answer as its Python order, on every SQL
engine a target writes to here: DuckDB and PostgreSQL (the Databricks form runs on the local
Spark engine in target-databricks' tests)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import duckdb
import psycopg
import pytest
from qbc_plugin_kit.version_cases import GRID
from qbc_plugin_kit.version_order import supersedes, supersedes_sql
from sandboxes.postgres.fixtures import postgres_cluster, postgres_dsn  # noqa: F401

COLUMNS = "i INTEGER, updated_at TIMESTAMPTZ, sync_token BIGINT, edit_sequence VARCHAR, _sdc_deleted_at TIMESTAMPTZ"
ROWS = [(i, v["updated_at"], v["sync_token"], v["edit_sequence"], v["_sdc_deleted_at"]) for i, v in enumerate(GRID)]


def _expected() -> dict[tuple[int, int], bool]:
    return {(i, j): supersedes(GRID[i], GRID[j]) for i, j in itertools.product(range(len(GRID)), repeat=2)}


def _guard(dialect: str) -> str:
    return supersedes_sql(dialect, lambda c: f'n."{c}"', lambda c: f'o."{c}"')


@pytest.fixture
def pg(postgres_dsn: str) -> Iterator[Any]:  # noqa: F811
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS versions")
        conn.execute(f"CREATE TEMPORARY TABLE versions ({COLUMNS})")
        with conn.cursor() as cursor:
            cursor.executemany("INSERT INTO versions VALUES (%s, %s, %s, %s, %s)", ROWS)
        yield conn


def test_duckdb_guard_agrees_with_the_python_order() -> None:
    conn = duckdb.connect(":memory:", config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    conn.execute(f"CREATE TABLE versions ({COLUMNS})")
    conn.executemany("INSERT INTO versions VALUES (?, ?, ?, ?, ?)", ROWS)
    got = {(i, j): bool(r) for i, j, r in conn.execute(
        f"SELECT n.i, o.i, {_guard('duckdb')} FROM versions n, versions o").fetchall()}
    assert got == _expected()


def test_postgres_guard_agrees_with_the_python_order(pg: Any) -> None:
    got = {(i, j): bool(r) for i, j, r in pg.execute(
        f"SELECT n.i, o.i, {_guard('postgres')} FROM versions n, versions o").fetchall()}
    assert got == _expected()


def test_a_table_without_some_version_columns_compares_the_rest() -> None:
    present = ("updated_at", "_sdc_deleted_at")
    sql = supersedes_sql("duckdb", lambda c: f'n."{c}"', lambda c: f'o."{c}"', present)
    conn = duckdb.connect(":memory:", config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    conn.execute("CREATE TABLE versions (i INTEGER, updated_at TIMESTAMPTZ, _sdc_deleted_at TIMESTAMPTZ)")
    conn.executemany("INSERT INTO versions VALUES (?, ?, ?)", [(i, u, d) for i, u, _s, _e, d in ROWS])
    for i, j, result in conn.execute(f"SELECT n.i, o.i, {sql} FROM versions n, versions o").fetchall():
        strip = {k: v for k, v in GRID[i].items() if k in present}, {k: v for k, v in GRID[j].items() if k in present}
        assert bool(result) == supersedes(*strip)
