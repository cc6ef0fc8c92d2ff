"""Each destination as a user meets it: the settings a real user would give the target, and
reading back what landed the way that user would look (SQL, the Power BI dataset's rows, the
Salesforce org's records). Nothing here reaches into a target's own code.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import Any

Rows = list[dict[str, Any]]


def sdk_conformed(name: str) -> str:
    """A name as singer-sdk's SQL sinks conform it (``SQLSink.conform_name``), which users of
    SDK targets see in their warehouse."""
    name = re.sub(r"[^a-zA-Z0-9_\-\.\s]", "", name).lower().strip()
    name = name.replace(".", "_").replace("-", "_").replace(" ", "_")
    return "_" + name if name[:1].isdigit() else name


def name_candidates(name: str) -> list[str]:
    """The names under which a user would recognise stream or property ``name``."""
    snake = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()
    return list(dict.fromkeys([name, name.lower(), sdk_conformed(name),
                               re.sub(r"\W", "_", name).lower(), snake]))


def find_name(available: list[str], name: str) -> str | None:
    """The name in ``available`` that holds ``name``: one of its candidates, in any case."""
    folded = {a.lower(): a for a in available}
    for candidate in name_candidates(name):
        if candidate in available:
            return candidate
        if candidate and candidate.lower() in folded:
            return folded[candidate.lower()]
    return None


class Destination:
    """One fresh destination for one case: ``config`` for the target, ``read`` to look back."""

    name = ""
    executable = ""

    def command(self) -> list[str]:
        """The target's console command, as Meltano runs it."""
        from ..conftest import executable

        return [executable(self.executable)]

    def config(self) -> dict[str, Any]:
        raise NotImplementedError

    def read(self, stream: str, key_properties: list[str]) -> Rows | None:
        """Rows of the stream as a user sees them, or None when it has no table/object here."""
        raise NotImplementedError

    def holds_property(self, stream: str, prop: str) -> bool:
        """Whether this destination keeps ``prop`` of ``stream`` at all (Salesforce maps a few)."""
        return True

    def holds_stream(self, stream: str) -> bool:
        return True


class SqlDestination(Destination):
    schema = "quickbooks"

    def _query(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        raise NotImplementedError

    def _tables(self) -> list[str]:
        raise NotImplementedError

    def read(self, stream: str, key_properties: list[str]) -> Rows | None:
        table = find_name(self._tables(), stream)
        if table is None:
            return None
        columns, rows = self._query(f'SELECT * FROM {self._qualified(table)}')
        return [dict(zip(columns, row, strict=True)) for row in rows]

    def _qualified(self, table: str) -> str:
        return f'"{self.schema}"."{table}"'


class DuckDB(SqlDestination):
    name = "duckdb"
    executable = "target-looker-warehouse"

    def __init__(self, workdir: Path) -> None:
        self.path = workdir / "warehouse.duckdb"
        self.workdir = workdir

    def config(self) -> dict[str, Any]:
        return {"dialect": "duckdb", "duckdb_path": str(self.path),
                "dead_letter_path": str(self.workdir / "dead_letters")}

    def _query(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        import duckdb

        if not self.path.exists():
            return [], []
        with duckdb.connect(str(self.path), read_only=True) as connection:
            cursor = connection.execute(sql)
            return [d[0] for d in cursor.description], cursor.fetchall()

    def _tables(self) -> list[str]:
        _, rows = self._query("SELECT table_name FROM information_schema.tables "
                              f"WHERE table_schema = '{self.schema}'")
        return [r[0] for r in rows]


class Postgres(SqlDestination):
    name = "postgres"
    executable = "target-looker-warehouse"

    def __init__(self, workdir: Path, dsn: str) -> None:
        self.dsn = dsn
        self.workdir = workdir
        self.schema = f"d_{secrets.token_hex(5)}"  # a fresh schema per case on the shared cluster

    def config(self) -> dict[str, Any]:
        return {"dialect": "postgres",
                "sqlalchemy_url": self.dsn.replace("postgresql://", "postgresql+psycopg://", 1),
                "default_target_schema": self.schema, "model_schema": self.schema + "_finance",
                "dead_letter_path": str(self.workdir / "dead_letters")}

    def _query(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        import psycopg
        from psycopg.types.string import TextLoader

        with psycopg.connect(self.dsn) as connection:
            try:
                cursor = connection.execute(sql.encode())
                return [d.name for d in cursor.description or []], list(cursor.fetchall())
            except psycopg.DataError:
                # A stored value Python cannot represent (a timestamp past year 9999): read
                # dates and times as PostgreSQL prints them, so the row still shows.
                connection.rollback()
                for kind in ("date", "timestamp", "timestamptz"):
                    connection.adapters.register_loader(kind, TextLoader)
                cursor = connection.execute(sql.encode())
                return [d.name for d in cursor.description or []], list(cursor.fetchall())

    def _tables(self) -> list[str]:
        _, rows = self._query("SELECT table_name FROM information_schema.tables "
                              f"WHERE table_schema = '{self.schema}'")
        return [r[0] for r in rows]


class Databricks(SqlDestination):
    name = "databricks"
    executable = "target-databricks"

    def __init__(self, workdir: Path, engine: Any) -> None:
        self.engine = engine
        self.workdir = workdir
        self.schema = f"d_{secrets.token_hex(5)}"

    def config(self) -> dict[str, Any]:
        # Iceberg: the local engine has no Delta jars (a real table_provider setting).
        return {"server_hostname": self.engine.server_hostname, "http_path": self.engine.http_path,
                "access_token": self.engine.access_token, "catalog": self.engine.catalog,
                "default_target_schema": self.schema, "ca_bundle": str(self.engine.ca_file),
                "table_provider": "iceberg", "connector_telemetry": False,
                "dead_letter_path": str(self.workdir / "dead_letters")}

    def _query(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        with self.engine.connect() as connection, connection.cursor() as cursor:
            cursor.execute(sql)
            return [d[0] for d in cursor.description], [tuple(r) for r in cursor.fetchall()]

    def _tables(self) -> list[str]:
        try:
            _, rows = self._query(f"SHOW TABLES IN `{self.engine.catalog}`.`{self.schema}`")
        except Exception as exc:  # the schema does not exist yet: nothing landed
            if "SCHEMA_NOT_FOUND" in str(exc) or "not found" in str(exc).lower():
                return []
            raise
        return [r[1] for r in rows]

    def _qualified(self, table: str) -> str:
        return f"`{self.engine.catalog}`.`{self.schema}`.`{table}`"


# target-powerbi/README.md: these are rewritten with one row per key; every other stream is an
# append-only fact table where a user takes the newest _sdc_version per key (the README's DAX).
POWERBI_DIMENSIONS = {"accounts", "customers", "vendors", "employees", "items", "classes", "departments"}


class PowerBI(Destination):
    name = "powerbi"
    executable = "target-powerbi"

    def __init__(self, workdir: Path, sandbox: Any) -> None:
        self.sandbox = sandbox
        self.workdir = workdir

    def config(self) -> dict[str, Any]:
        return dict(self.sandbox.target_config(
            mirror_path=str(self.workdir / "powerbi-mirror.sqlite"),
            dead_letter_path=str(self.workdir / "dead_letters"),
            backoff_base_seconds=0.01, backoff_max_seconds=0.05))

    def read(self, stream: str, key_properties: list[str]) -> Rows | None:
        datasets = self.sandbox.store.datasets_named("QuickBooks")
        if not datasets:
            return None
        tables = [name for d in datasets for name in d.tables]
        table = find_name(tables, stream)
        if table is None:
            return None
        rows: Rows = self.sandbox.store.rows("QuickBooks", table)
        if stream in POWERBI_DIMENSIONS or not key_properties:
            return rows
        return latest_versions(rows, key_properties)


def latest_versions(rows: Rows, key_properties: list[str]) -> Rows:
    """Per key, the rows with the highest ``_sdc_version`` (all of them on a tie: what the
    README's DAX measure shows a report)."""
    newest: dict[tuple[Any, ...], Rows] = {}
    for row in rows:
        key = tuple(str(row.get(find_name(list(row), k) or k)) for k in key_properties)
        kept = newest.setdefault(key, [])
        if not kept or str(row.get("_sdc_version")) > str(kept[0].get("_sdc_version")):
            newest[key] = [row]
        elif str(row.get("_sdc_version")) == str(kept[0].get("_sdc_version")):
            kept.append(row)
    return [row for kept in newest.values() for row in kept]


# target-salesforce/README.md "Mapping": stream -> (sObject, entity in the external id), and the
# stream properties a Salesforce user can check, by field.
SALESFORCE_OBJECTS = {"customers": ("Account", "customer"), "vendors": ("Account", "vendor"),
                      "invoices": ("Opportunity", "invoice"),
                      "invoice_lines": ("QuickBooks_Invoice_Line__c", "invoice")}
SALESFORCE_FIELDS = {
    "customers": {"display_name": "Name", "balance": "QuickBooks_Balance__c", "phone": "Phone",
                  "email": "QuickBooks_Email__c"},
    "vendors": {"display_name": "Name", "balance": "QuickBooks_Balance__c", "phone": "Phone",
                "account_number": "AccountNumber"},
    "invoices": {"total_amount": "Amount", "balance": "QuickBooks_Balance__c",
                 "doc_number": "QuickBooks_Doc_Number__c", "txn_date": "CloseDate",
                 "due_date": "QuickBooks_Due_Date__c", "private_note": "Description"},
    "invoice_lines": {"amount": "Amount__c", "quantity": "Quantity__c", "unit_price": "Unit_Price__c",
                      "description": "Description__c", "line_num": "Line_Number__c",
                      "item_name": "Item_Name__c"},
}
SALESFORCE_COMMON = {"_sdc_deleted_at": "QuickBooks_Deleted_At__c"}


class Salesforce(Destination):
    name = "salesforce"
    executable = "target-salesforce"

    def __init__(self, workdir: Path, sandbox: Any) -> None:
        self.sandbox = sandbox
        self.workdir = workdir

    def config(self) -> dict[str, Any]:
        # The harness reads lines from the custom line object; the default Order/OrderItem
        # mapping is proven by target-salesforce's own tests and the Desktop pipeline test.
        return dict(self.sandbox.target_config(
            line_detail="custom_object",
            dead_letter_path=str(self.workdir / "dead_letters"),
            backoff_base_seconds=0.01, backoff_max_seconds=0.05, bulk_poll_seconds=0.05))

    def holds_stream(self, stream: str) -> bool:
        return stream in SALESFORCE_OBJECTS

    def holds_property(self, stream: str, prop: str) -> bool:
        fields = {**SALESFORCE_FIELDS.get(stream, {}), **SALESFORCE_COMMON}
        keys = {"company_id", "id", "invoice_id", "line_id"}
        # A name with a capital is an sObject field an override asks about (StageName).
        return prop in fields or prop in keys or prop[:1].isupper()

    def read(self, stream: str, key_properties: list[str]) -> Rows | None:
        if stream not in SALESFORCE_OBJECTS:
            return None
        sobject, entity = SALESFORCE_OBJECTS[stream]
        fields = {**SALESFORCE_FIELDS[stream], **SALESFORCE_COMMON}
        rows: Rows = []
        for record in self.sandbox.org.records[sobject].values():
            parts = str(record.get("QuickBooks_Id__c") or "").split(":")
            if len(parts) < 4 or parts[2] != entity:
                continue
            row: dict[str, Any] = dict(record)
            if stream == "invoice_lines":
                row.update(company_id=parts[1], invoice_id=parts[3], line_id=":".join(parts[5:]))
            else:
                row.update(company_id=parts[1], id=":".join(parts[3:]))
            row.update({prop: record.get(field) for prop, field in fields.items()})
            rows.append(row)
        return rows
