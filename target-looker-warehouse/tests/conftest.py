"""Shared fixtures: a DuckDB file per test, and the session's PostgreSQL sandbox."""

from __future__ import annotations

import pathlib
import typing as t

import pytest
from sandboxes.postgres.fixtures import postgres_cluster, postgres_dsn  # noqa: F401


@pytest.fixture
def duckdb_config(tmp_path: pathlib.Path) -> dict[str, t.Any]:
    return {
        "dialect": "duckdb",
        "duckdb_path": str(tmp_path / "warehouse.duckdb"),
        "dead_letter_path": str(tmp_path / "dead_letters"),
        "aging_as_of": "2026-11-30",
    }


@pytest.fixture
def postgres_config(postgres_dsn: str, tmp_path: pathlib.Path) -> dict[str, t.Any]:  # noqa: F811
    # One schema per test keeps tests independent on the shared session cluster.
    schema = "t_" + tmp_path.name.lower().replace("-", "_")[-40:]
    return {
        "dialect": "postgres",
        "sqlalchemy_url": postgres_dsn.replace("postgresql://", "postgresql+psycopg://", 1),
        "default_target_schema": schema,
        "model_schema": schema + "_finance",
        "dead_letter_path": str(tmp_path / "dead_letters"),
        "aging_as_of": "2026-11-30",
    }


@pytest.fixture(params=["duckdb", "postgres"])
def warehouse_config(request: pytest.FixtureRequest) -> dict[str, t.Any]:
    return t.cast(dict[str, t.Any], request.getfixturevalue(f"{request.param}_config"))
