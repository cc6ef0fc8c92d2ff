"""The pipelines run through Meltano itself (meltano.yml, the lock files, `meltano run`), end to end.

Each test starts the sandboxes a user would replace with the real services, points the plugins at
them through Meltano's setting environment variables over the `dev` environment, and checks what
landed in the destination against the source.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from .conftest import ROOT

pytestmark = pytest.mark.e2e


def _load_demo() -> Any:
    spec = importlib.util.spec_from_file_location("demo", ROOT / "scripts" / "demo.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


demo = _load_demo()


@pytest.fixture(scope="module")
def meltano_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    work = tmp_path_factory.mktemp("meltano")
    demo.WORK = work
    demo.WAREHOUSE = work / "warehouse.duckdb"
    env = demo.base_env()
    result = demo.meltano(["install"], env, "install")
    assert result.returncode == 0, result.stderr[-3000:]
    return env


SECRET_SETTINGS = ("CLIENT_SECRET", "REFRESH_TOKEN", "ACCESS_TOKEN", "PASSWORD", "QBO_TOKEN_STORE_KEY")


def _run(env: dict[str, str], tap: str, target: str) -> None:
    result = demo.meltano(["run", tap, target], env, f"{tap}-{target}")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    leaked = [name for name, value in env.items()
              if name.endswith(SECRET_SETTINGS) and len(value) >= 8 and value in output]
    assert not leaked, f"secrets in the pipeline's log: {leaked}"


def _warehouse_rows(sql: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(demo.WAREHOUSE), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _table(name: str) -> str:
    rows = _warehouse_rows("select table_schema from information_schema.tables "
                           f"where table_name = '{name}' and table_type = 'BASE TABLE'")
    assert rows, f"no {name} table in the warehouse"
    return f'"{rows[0][0]}"."{name}"'


def test_qbo_into_the_warehouse_lands_every_invoice_to_the_cent_and_follows_edits(
    meltano_env: dict[str, str],
) -> None:
    env = dict(meltano_env)
    with demo.qbo_sandbox(120) as (qbo_env, sandbox):
        env.update(qbo_env)
        _run(env, "tap-quickbooks-online", "target-looker-warehouse")
        realm = sandbox.realm(demo.REALM_ID)
        invoices = _table("invoices")
        (count, total), = _warehouse_rows(
            f"select count(*), sum(total_amount) from {invoices} where _sdc_deleted_at is null")
        source = [realm.get("Invoice", i) for i in realm.ids("Invoice")]
        assert count == len(source)
        assert Decimal(total) == sum(Decimal(str(inv["TotalAmt"])) for inv in source)

        edited = realm.ids("Invoice")[0]
        realm.update("Invoice", edited, {"PrivateNote": "edited after the first sync"})
        deleted = realm.ids("Invoice")[1]
        realm.delete("Invoice", deleted)
        _run(env, "tap-quickbooks-online", "target-looker-warehouse")

        (note, sync_token), = _warehouse_rows(
            f"select private_note, sync_token from {invoices} where id = '{edited}'")
        assert note == "edited after the first sync"
        assert sync_token == int(realm.get("Invoice", edited)["SyncToken"])
        (deleted_at,), = _warehouse_rows(f"select _sdc_deleted_at from {invoices} where id = '{deleted}'")
        assert deleted_at is not None


def test_qbd_into_the_warehouse_through_a_web_connector_session(meltano_env: dict[str, str]) -> None:
    env = dict(meltano_env)
    port = demo.free_port()
    env.update(demo.qbd_env(port))
    env["TAP_QUICKBOOKS_DESKTOP_RUN_SERVER_WAIT_SECONDS"] = "120"
    company = demo.qbd_company(80)
    sessions: list[Any] = []
    connector = threading.Thread(target=demo.drive_web_connector, args=(port, company, sessions), daemon=True)
    connector.start()
    _run(env, "tap-quickbooks-desktop", "target-looker-warehouse")
    connector.join(timeout=60)
    assert sessions and sessions[0].outcome == "completed", sessions
    bills = _table("bills")
    (count,), = _warehouse_rows(f"select count(*) from {bills} where edition = 'qbd'")
    assert count == company.count("Bill")


def test_qbo_into_databricks_lands_decimal_money_that_sums_exactly_to_the_source(
    meltano_env: dict[str, str],
) -> None:
    env = dict(meltano_env)
    with demo.qbo_sandbox(120) as (qbo_env, sandbox), demo.databricks_warehouse() as (dbx_env, warehouse):
        env.update(qbo_env)
        env.update(dbx_env)
        _run(env, "tap-quickbooks-online", "target-databricks")
        realm = sandbox.realm(demo.REALM_ID)
        source_bills = [realm.get("Bill", i) for i in realm.ids("Bill")]
        with warehouse.connect() as connection, connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*), sum(total_amount), sum(balance) "
                           f"FROM {warehouse.catalog}.quickbooks.bills WHERE _sdc_deleted_at IS NULL")
            count, total, balance = cursor.fetchone()
            cursor.execute(f"DESCRIBE TABLE {warehouse.catalog}.quickbooks.bills")
            types = {row[0]: row[1].lower() for row in cursor.fetchall()}
        assert count == len(source_bills)
        assert isinstance(total, Decimal) and types["total_amount"].startswith("decimal")
        assert total == sum(Decimal(str(bill["TotalAmt"])) for bill in source_bills)
        assert balance == sum(Decimal(str(bill["Balance"])) for bill in source_bills)


def _qbd_session_run(env: dict[str, str], company: Any, job: str, buffer: Path) -> None:
    """One `meltano run` of a Desktop job while the Web Connector polls the tap's server once.

    The job keeps its own buffer: `demo.qbd_env` names the module's shared one, which the
    Desktop -> warehouse test has filled earlier in the module with another company file under
    the same company key (its bookmarks would narrow this company's session, its entries
    would reach this job's destination).
    """
    port = demo.free_port()
    env.update(demo.qbd_env(port))
    env["TAP_QUICKBOOKS_DESKTOP_BUFFER_PATH"] = str(buffer)
    env["TAP_QUICKBOOKS_DESKTOP_RUN_SERVER_WAIT_SECONDS"] = "120"
    sessions: list[Any] = []
    connector = threading.Thread(target=demo.drive_web_connector, args=(port, company, sessions), daemon=True)
    connector.start()
    result = demo.meltano(["run", job], env, f"{job}-{port}")
    connector.join(timeout=60)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    assert sessions and sessions[0].outcome == "completed", sessions


def _mirrored(org: Any, sobject: str, entity: str) -> dict[str, list[dict[str, Any]]]:
    """Salesforce records of one QuickBooks entity, by QuickBooks id (a list: "present once")."""
    found: dict[str, list[dict[str, Any]]] = {}
    for row in org.records[sobject].values():
        _, _, rest = str(row.get("QuickBooks_Id__c") or "").partition(f":{entity}:")
        if rest and ":line:" not in rest:
            found.setdefault(rest, []).append(row)
    return found


def _money(value: Any) -> Decimal:
    return Decimal(str(value or "0"))


def test_qbd_to_salesforce_mirrors_the_books_follows_edits_and_deletions_then_changes_nothing(
    meltano_env: dict[str, str], tmp_path: Any,
) -> None:
    from sandboxes.qbwc import QuickBooksCompany

    env = dict(meltano_env)
    buffer = tmp_path / "qbd-buffer.sqlite"
    company = QuickBooksCompany.generate(seed=15, transactions=60, path=tmp_path / "company.sqlite", tz="-05:00")
    control = company.control
    with demo.saas_sandbox("salesforce") as (sf_env, salesforce):
        env.update(sf_env)
        _qbd_session_run(env, company, "qbd-to-salesforce", buffer)
        # This company's session went to this job's own buffer, nowhere else.
        assert buffer.is_file()
        org = salesforce.org

        def reconcile() -> None:
            for kind, sobject, entity in (("Vendor", "Account", "vendor"), ("Customer", "Account", "customer"),
                                          ("Invoice", "Opportunity", "invoice"), ("Bill", "Opportunity", "bill")):
                source = control.ids(kind, limit=100_000)
                mirrored = _mirrored(org, sobject, entity)
                assert sorted(source) == sorted(i for i in mirrored if mirrored[i][0].get("QuickBooks_Deleted_At__c")
                                                is None), kind
                assert all(len(rows) == 1 for rows in mirrored.values()), f"{kind} present more than once"
                for qb_id in source:
                    fields = control.get(kind, qb_id)["fields"]
                    (row,) = mirrored[qb_id]
                    if kind == "Invoice":
                        assert row["Amount"] == _money(fields.get("Subtotal")) + _money(fields.get("SalesTaxTotal"))
                        assert row["Type"] == "QuickBooks Invoice"
                    elif kind == "Bill":
                        assert row["Amount"] == _money(fields["AmountDue"]) and row["Type"] == "QuickBooks Bill"
                    else:
                        assert row["Active__c"] is control.get(kind, qb_id)["is_active"], (kind, qb_id)
                        # Desktop has no terms stream: the Account names the terms its TermsRef names.
                        terms = fields.get("TermsRef") or {}
                        assert (row.get("QuickBooks_Terms_Id__c"), row.get("QuickBooks_Terms__c")) == (
                            terms.get("ListID"), terms.get("FullName")), (kind, qb_id)
            orders = _mirrored(org, "Order", "invoice") | _mirrored(org, "Order", "bill")
            lines_total: dict[str, Decimal] = {}
            for item in org.records["OrderItem"].values():
                if item.get("QuickBooks_Deleted_At__c") is None:
                    lines_total[item["OrderId"]] = lines_total.get(item["OrderId"], Decimal(0)) + item["TotalPrice"]
            # The sales team's view of every Account: its open balance, aged, to the cent.
            open_by_party: dict[str, Decimal] = {}
            for kind, party, balance in (("Invoice", "CustomerRef", "BalanceRemaining"),
                                         ("Bill", "VendorRef", "OpenAmount")):
                for qb_id in control.ids(kind, limit=100_000):
                    fields = control.get(kind, qb_id)["fields"]
                    owner = fields[party]["ListID"]
                    open_by_party[owner] = open_by_party.get(owner, Decimal(0)) + _money(fields.get(balance))
            for entity in ("customer", "vendor"):
                for qb_id, (account,) in _mirrored(org, "Account", entity).items():
                    aged = sum(_money(account.get(f"QuickBooks_Aging_{b}__c"))
                               for b in ("Current", "1_30", "31_60", "61_90", "Over_90"))
                    assert aged == open_by_party.get(qb_id, Decimal(0)), (entity, qb_id)
            for qb_id in control.ids("Bill", limit=100_000):
                (order,) = orders[qb_id]
                # Bills have no tax: their OrderItems add up to the bill to the cent.
                assert lines_total.get(order["Id"], Decimal(0)) == _money(control.get("Bill", qb_id)["fields"]["AmountDue"])

        reconcile()
        chart = org.records["QuickBooks_Account__c"]
        assert len(chart) == company.count("Account")
        assert org.records["Product2"]

        customer = control.ids("Customer", limit=1, active=True)[0]
        control.modify("Customer", customer, CompanyName="Renamed After The First Sync", Phone="555-0199")
        vendor = control.ids("Vendor", limit=1, active=True)[0]
        control.deactivate("Vendor", vendor)
        deleted_invoice = control.ids("Invoice", limit=1)[0]
        deleted_bill = control.ids("Bill", limit=1)[0]
        control.delete("Invoice", deleted_invoice)
        control.delete("Bill", deleted_bill)
        _qbd_session_run(env, company, "qbd-to-salesforce", buffer)

        reconcile()
        for entity, qb_id in (("invoice", deleted_invoice), ("bill", deleted_bill)):
            (opportunity,) = _mirrored(org, "Opportunity", entity)[qb_id]
            assert opportunity["StageName"] == "Closed Lost" and opportunity["QuickBooks_Deleted_At__c"]
            (order,) = _mirrored(org, "Order", entity)[qb_id]
            lines = [i for i in org.records["OrderItem"].values() if i["OrderId"] == order["Id"]]
            assert all(i["QuickBooks_Deleted_At__c"] for i in lines)
        (account,) = _mirrored(org, "Account", "vendor")[vendor]
        assert account["Active__c"] is False
        (edited,) = _mirrored(org, "Account", "customer")[customer]
        assert edited["Phone"] == "555-0199"

        writes = len(salesforce.requests_to("PATCH", "/composite/sobjects/"))
        _qbd_session_run(env, company, "qbd-to-salesforce", buffer)
        assert len(salesforce.requests_to("PATCH", "/composite/sobjects/")) == writes
        assert len(salesforce.requests_to("POST", r"/jobs/ingest/?$")) == 0
        reconcile()
