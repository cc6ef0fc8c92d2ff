"""Each destination a pair loads into: the settings that point its target at the stand-in, and
how to read back what landed (see :mod:`.landed`)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from . import landed, sandbox_settings
from .books import Book

SQL_STREAMS = ("invoices", "bills", "customers", "vendors")
SALESFORCE_STREAMS = ("invoices", "customers", "vendors")


class Destination(Protocol):
    target: str
    name: str
    streams: tuple[str, ...]
    # False where no trial balance can be computed from what lands (Salesforce: see Salesforce).
    trial_balance: bool

    @property
    def env(self) -> dict[str, str]: ...

    def book(self, edition: str, company: str) -> Book: ...


@dataclass
class DuckDB:
    path: Path
    target: str = "target-looker-warehouse"
    name: str = "duckdb"
    streams: tuple[str, ...] = SQL_STREAMS
    trial_balance: bool = True

    @property
    def env(self) -> dict[str, str]:
        return {"TARGET_LOOKER_WAREHOUSE_DUCKDB_PATH": str(self.path)}

    def book(self, edition: str, company: str) -> Book:
        import duckdb

        if not self.path.exists():
            return Book()  # nothing ever landed
        con = duckdb.connect(str(self.path), read_only=True)
        try:
            return landed.sql_book(lambda sql: con.execute(sql).fetchall(), lambda s: f'quickbooks."{s}"',
                                   edition, self.streams)
        finally:
            con.close()


@dataclass
class Postgres:
    cluster: Any
    target: str = "target-looker-warehouse"
    name: str = "postgres"
    streams: tuple[str, ...] = SQL_STREAMS
    trial_balance: bool = True

    @property
    def env(self) -> dict[str, str]:
        return sandbox_settings.postgres(self.cluster)

    def book(self, edition: str, company: str) -> Book:
        import psycopg

        with psycopg.connect(self.cluster.dsn) as con, con.cursor() as cur:
            def query(sql: str) -> list[tuple[Any, ...]]:
                cur.execute(sql.encode())
                return cur.fetchall()

            return landed.sql_book(query, lambda s: f'quickbooks."{s}"', edition, self.streams)


@dataclass
class Databricks:
    warehouse: Any
    work: Path
    target: str = "target-databricks"
    name: str = "databricks"
    streams: tuple[str, ...] = SQL_STREAMS
    trial_balance: bool = True

    @property
    def env(self) -> dict[str, str]:
        return sandbox_settings.databricks(self.warehouse, self.work)

    def book(self, edition: str, company: str) -> Book:
        with self.warehouse.connect() as connection, connection.cursor() as cursor:
            def query(sql: str) -> list[tuple[Any, ...]]:
                cursor.execute(sql)
                return [tuple(row) for row in cursor.fetchall()]

            return landed.sql_book(query, lambda s: f"{self.warehouse.catalog}.quickbooks.{s}", edition, self.streams)


@dataclass
class PowerBI:
    sandbox: Any
    work: Path
    target: str = "target-powerbi"
    name: str = "powerbi"
    streams: tuple[str, ...] = SQL_STREAMS
    trial_balance: bool = True

    @property
    def env(self) -> dict[str, str]:
        return sandbox_settings.saas("powerbi", self.sandbox, self.work)

    def book(self, edition: str, company: str) -> Book:
        dataset = self.sandbox.target_config().get("dataset_name", "QuickBooks")
        return landed.powerbi_book(lambda table: self.sandbox.store.rows(dataset, table), edition, self.streams)


@dataclass
class Salesforce:
    sandbox: Any
    work: Path
    target: str = "target-salesforce"
    name: str = "salesforce"
    streams: tuple[str, ...] = SALESFORCE_STREAMS
    # The CRM mirrors documents, not a ledger: Opportunities carry no AR/AP account and the invoice
    # lines only an account *name*, so no trial balance by account can be read back from the org.
    trial_balance: bool = False

    @property
    def env(self) -> dict[str, str]:
        return sandbox_settings.saas("salesforce", self.sandbox, self.work)

    def book(self, edition: str, company: str) -> Book:
        return landed.salesforce_book(self.sandbox.org.records, edition, company, self.streams)


@contextlib.contextmanager
def open_destination(name: str, work: Path) -> Iterator[Destination]:
    """The stand-in for ``name``, started for one scenario and stopped after it."""
    if name == "duckdb":
        yield DuckDB(work / "warehouse.duckdb")
    elif name == "postgres":
        from sandboxes.postgres.cluster import PostgresCluster

        with PostgresCluster() as cluster:
            yield Postgres(cluster)
    elif name == "databricks":
        from sandboxes.databricks.warehouse import LocalWarehouse

        with LocalWarehouse() as warehouse:
            yield Databricks(warehouse, work)
    elif name == "powerbi":
        from sandboxes.powerbi.server import PowerBISandbox

        with PowerBISandbox(workdir=work / "powerbi") as sandbox:
            yield PowerBI(sandbox, work)
    elif name == "salesforce":
        from sandboxes.salesforce.server import SalesforceSandbox

        with SalesforceSandbox(workdir=work / "salesforce") as sandbox:
            yield Salesforce(sandbox, work)
    else:
        raise ValueError(f"unknown destination {name!r}")
