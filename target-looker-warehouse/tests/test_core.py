"""singer-sdk standard target tests, against DuckDB and against PostgreSQL."""

from __future__ import annotations

import typing as t

import pytest
from singer_sdk.testing import TargetTestRunner, get_target_test_class
from target_looker_warehouse.target import TargetLookerWarehouse

_StandardTests: t.Any = get_target_test_class(TargetLookerWarehouse, config={"dialect": "duckdb"})


class TestTargetDuckDB(_StandardTests):  # type: ignore[misc,valid-type]
    @pytest.fixture
    def runner(self, duckdb_config: dict[str, t.Any]) -> TargetTestRunner:
        return TargetTestRunner(target_class=TargetLookerWarehouse, config=duckdb_config)


class TestTargetPostgres(_StandardTests):  # type: ignore[misc,valid-type]
    @pytest.fixture
    def runner(self, postgres_config: dict[str, t.Any]) -> TargetTestRunner:
        return TargetTestRunner(target_class=TargetLookerWarehouse, config=postgres_config)
