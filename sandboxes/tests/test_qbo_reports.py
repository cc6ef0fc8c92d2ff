"""Reports computed from the generated ledger reconcile with each other and with the objects."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sandboxes.qbo import QBOSandbox, RealmSpec
from sandboxes.qbo.client import SandboxClient
from sandboxes.qbo.xsd_shape import schema

REALM = "9130350000000001"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxClient]:
    path: Path = tmp_path_factory.mktemp("qbo-reports")
    with QBOSandbox(realms=[RealmSpec(REALM, seed=5, transactions=800)], data_dir=path) as sb:
        c = SandboxClient(sb)
        yield c
        c.close()


def report(client: SandboxClient, name: str, **params: str) -> dict[str, Any]:
    response = client.get(f"reports/{name}", params)
    assert response.status_code == 200, response.text
    return dict(response.json())


def walk(rows: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for row in rows:
        yield row
        yield from walk(row.get("Rows", {}).get("Row", []))


def summary(body: dict[str, Any], group: str) -> Decimal:
    for row in walk(body["Rows"]["Row"]):
        if row.get("group") == group:
            return Decimal(row["Summary"]["ColData"][-1]["value"])
    raise AssertionError(f"no {group} section")


def section_total(body: dict[str, Any], title: str) -> Decimal:
    for row in walk(body["Rows"]["Row"]):
        if row.get("Header", {}).get("ColData", [{}])[0].get("value") == title:
            return Decimal(row["Summary"]["ColData"][-1]["value"])
    return Decimal(0)


def test_balance_sheet_balances(client: SandboxClient) -> None:
    body = report(client, "BalanceSheet")
    assert summary(body, "TotalAssets") == summary(body, "TotalLiabilitiesAndEquity")
    assert summary(body, "TotalAssets") > 0


def test_net_income_matches_between_pl_and_balance_sheet(client: SandboxClient) -> None:
    pl = report(client, "ProfitAndLoss")
    bs = report(client, "BalanceSheet")
    net_row = next(r for r in walk(bs["Rows"]["Row"]) if r.get("ColData", [{}])[0].get("value") == "Net Income")
    assert summary(pl, "NetIncome") == Decimal(net_row["ColData"][1]["value"])
    assert summary(pl, "GrossProfit") == summary(pl, "Income") - summary(pl, "COGS")


def test_ar_aging_total_equals_receivable_accounts_and_open_invoices(client: SandboxClient) -> None:
    aging = report(client, "AgedReceivables")
    total = Decimal(aging["Rows"]["Row"][-1]["Summary"]["ColData"][-1]["value"])
    assert total == section_total(report(client, "BalanceSheet"), "Accounts Receivable")
    per_customer: dict[str, Decimal] = defaultdict(Decimal)
    for inv in client.query_json("select * from Invoice where Balance > '0' maxresults 1000")["QueryResponse"]["Invoice"]:
        per_customer[inv["CustomerRef"]["value"]] += Decimal(str(inv.get("HomeBalance", inv["Balance"])))
    memos = client.query_json("select * from CreditMemo maxresults 1000")["QueryResponse"].get("CreditMemo", [])
    for memo in memos:
        per_customer[memo["CustomerRef"]["value"]] -= Decimal(str(memo["Balance"]))
    rows = {r["ColData"][0]["id"]: Decimal(r["ColData"][-1]["value"]) for r in aging["Rows"]["Row"] if r.get("type") == "Data"}
    assert rows == {k: v for k, v in per_customer.items() if v or k in rows}


def test_ap_aging_total_equals_payable_accounts(client: SandboxClient) -> None:
    aging = report(client, "AgedPayables")
    total = Decimal(aging["Rows"]["Row"][-1]["Summary"]["ColData"][-1]["value"])
    assert total == section_total(report(client, "BalanceSheet"), "Accounts Payable")
    bills = client.query_json("select * from Bill where Balance > '0' maxresults 1000")["QueryResponse"]["Bill"]
    credits = client.query_json("select * from VendorCredit maxresults 1000")["QueryResponse"].get("VendorCredit", [])
    expected = sum(Decimal(str(b.get("HomeBalance", b["Balance"]))) for b in bills) - sum(Decimal(str(c["Balance"])) for c in credits)
    assert total == expected


def test_aging_buckets_follow_due_dates(client: SandboxClient) -> None:
    aging = report(client, "AgedPayables", report_date="2026-01-15")
    titles = [c["ColTitle"] for c in aging["Columns"]["Column"]]
    assert titles == ["", "Current", "1 - 30", "31 - 60", "61 - 90", "91 and over", "Total"]
    for row in aging["Rows"]["Row"]:
        if row.get("type") == "Data":
            cells = [Decimal(c["value"]) for c in row["ColData"][1:]]
            assert sum(cells[:-1]) == cells[-1]


def test_general_ledger_rows_sum_to_account_totals(client: SandboxClient) -> None:
    gl = report(client, "GeneralLedger", start_date="2026-01-01", end_date="2026-12-31")
    assert gl["Rows"]["Row"]
    for account in gl["Rows"]["Row"]:
        amounts = [Decimal(r["ColData"][5]["value"]) for r in account["Rows"]["Row"][1:]]
        assert sum(amounts) == Decimal(account["Summary"]["ColData"][5]["value"])


@pytest.mark.parametrize("name", ["ProfitAndLoss", "BalanceSheet", "AgedPayables", "AgedReceivables", "GeneralLedger"])
def test_report_shape_matches_report_xsd(client: SandboxClient, name: str) -> None:
    assert schema().check_report(report(client, name)) == []


def test_unknown_report_is_a_fault(client: SandboxClient) -> None:
    response = client.get("reports/CashFlowDreams")
    assert response.status_code == 400 and "Fault" in response.json()
