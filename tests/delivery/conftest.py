"""Fixtures for the shared delivery suite: one fresh destination per case.

DuckDB: a new file. PostgreSQL and Databricks: a new schema on the session's one cluster or
engine (starting them is the slow part). Power BI and Salesforce: a new sandbox per case.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sandboxes.postgres.fixtures import postgres_cluster, postgres_dsn
from sandboxes.powerbi.fixtures import powerbi_sandbox
from sandboxes.salesforce.fixtures import salesforce_sandbox

from .destinations import Databricks, Destination, DuckDB, Postgres, PowerBI, Salesforce

try:
    from sandboxes.databricks.fixtures import databricks_engine
except ImportError:  # sandboxes[spark] not installed: only the Databricks cases are skipped
    @pytest.fixture(scope="session")
    def databricks_engine() -> Any:
        pytest.skip("quickbooks-connectors-sandboxes[spark] is not installed")

__all__ = ["databricks_engine", "postgres_cluster", "postgres_dsn", "powerbi_sandbox",
           "salesforce_sandbox"]


def make_destination(name: str, request: pytest.FixtureRequest, workdir: Path) -> Destination:
    if name == "duckdb":
        return DuckDB(workdir)
    if name == "postgres":
        return Postgres(workdir, request.getfixturevalue("postgres_dsn"))
    if name == "databricks":
        return Databricks(workdir, request.getfixturevalue("databricks_engine"))
    if name == "powerbi":
        return PowerBI(workdir, request.getfixturevalue("powerbi_sandbox"))
    if name == "salesforce":
        return Salesforce(workdir, request.getfixturevalue("salesforce_sandbox"))
    raise ValueError(f"unknown destination {name!r}")
