"""Report parameters: honoured as Intuit documents them, or refused with a Fault naming them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sandboxes.qbo import QBOSandbox, RealmSpec
from sandboxes.qbo.client import SandboxClient
from sandboxes.qbo.report_params import date_macro
from sandboxes.qbo.xsd_shape import schema

REALM = "9130350000000001"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxClient]:
    path: Path = tmp_path_factory.mktemp("qbo-report-params")
    with QBOSandbox(realms=[RealmSpec(REALM, seed=8, transactions=400, days=60)], data_dir=path) as sb:
        c = SandboxClient(sb)
        yield c
        c.close()


def report(client: SandboxClient, name: str, **params: str) -> dict[str, Any]:
    response = client.get(f"reports/{name}", params)
    assert response.status_code == 200, response.text
    return dict(response.json())


def net_income_cells(body: dict[str, Any]) -> list[Decimal]:
    row = next(r for r in body["Rows"]["Row"] if r.get("group") == "NetIncome")
    return [Decimal(c["value"]) for c in row["Summary"]["ColData"][1:]]


def test_profit_and_loss_by_days_has_one_column_per_day_that_sums_to_the_total(client: SandboxClient) -> None:
    today = client.sandbox.realm().now().date()
    start = date.fromordinal(today.toordinal() - 29)
    body = report(client, "ProfitAndLoss", start_date=start.isoformat(), end_date=today.isoformat(),
                  summarize_column_by="Days")
    columns = body["Columns"]["Column"]
    starts = [m["Value"] for c in columns for m in c.get("MetaData", []) if m["Name"] == "StartDate"]
    assert starts[0] == start.isoformat() and starts[-1] == today.isoformat() and len(starts) == 30
    assert columns[-1]["ColTitle"] == "Total"
    cells = net_income_cells(body)
    assert len(cells) == 31
    assert sum(cells[:-1]) == cells[-1]
    total = report(client, "ProfitAndLoss", start_date=start.isoformat(), end_date=today.isoformat())
    assert net_income_cells(total) == [cells[-1]]


@pytest.mark.parametrize("by, count", [("Month", 3), ("Quarter", 1), ("Year", 1), ("Week", 5)])
def test_profit_and_loss_by_calendar_periods(client: SandboxClient, by: str, count: int) -> None:
    body = report(client, "ProfitAndLoss", start_date="2026-01-01", end_date="2026-01-31" if by == "Week" else "2026-03-31",
                  summarize_column_by=by)
    assert len(body["Columns"]["Column"]) == count + 2
    assert body["Header"]["SummarizeColumnsBy"] == by


@pytest.mark.parametrize("name, params, element", [
    ("ProfitAndLoss", {"summarize_column_by": "Fortnight"}, "summarize_column_by"),
    ("ProfitAndLoss", {"summarize_column_by": "Customers"}, "summarize_column_by"),
    ("BalanceSheet", {"accounting_method": "Cash"}, "accounting_method"),
    ("ProfitAndLoss", {"accounting_method": "Modified"}, "accounting_method"),
    ("ProfitAndLoss", {"customer": "5"}, "customer"),
    ("ProfitAndLoss", {"date_macro": "Next Decade"}, "date_macro"),
    ("GeneralLedger", {"columns": "tx_date,colour"}, "columns"),
    ("AgedReceivables", {"aging_period": "soon"}, "aging_period"),
    ("AgedPayables", {"summarize_column_by": "Month"}, "summarize_column_by"),
])
def test_a_parameter_the_sandbox_does_not_honour_is_refused_by_name(
        client: SandboxClient, name: str, params: dict[str, str], element: str) -> None:
    response = client.get(f"reports/{name}", params)
    assert response.status_code == 400
    error = response.json()["Fault"]["Error"][0]
    assert error["element"] == element
    assert element in error["Detail"]


def test_date_macro_sets_the_period(client: SandboxClient) -> None:
    today = client.sandbox.realm().now().date()
    body = report(client, "ProfitAndLoss", date_macro="This Month")
    assert body["Header"]["StartPeriod"] == today.replace(day=1).isoformat()
    by_dates = report(client, "ProfitAndLoss", start_date=body["Header"]["StartPeriod"], end_date=body["Header"]["EndPeriod"])
    assert net_income_cells(body) == net_income_cells(by_dates)


def test_date_macros_follow_intuits_calendar() -> None:
    today = date(2026, 12, 2)  # a Wednesday
    assert date_macro("Last Month", today) == (date(2026, 11, 1), date(2026, 11, 30))
    assert date_macro("this week", today) == (date(2026, 11, 29), date(2026, 12, 5))
    assert date_macro("This Fiscal Quarter", today) == (date(2026, 10, 1), date(2026, 12, 31))
    assert date_macro("Last Year-to-date", today) == (date(2025, 1, 1), date(2025, 12, 2))


def test_general_ledger_columns_selects_and_orders_columns(client: SandboxClient) -> None:
    body = report(client, "GeneralLedger", columns="subt_nat_amount,tx_date")
    assert [c["ColType"] for c in body["Columns"]["Column"]] == ["subt_nat_amount", "tx_date"]
    section = body["Rows"]["Row"][0]
    assert all(len(r["ColData"]) == 2 for r in section["Rows"]["Row"])


def expenses(body: dict[str, Any]) -> Decimal:
    row = next(r for r in body["Rows"]["Row"] if r.get("group") == "Expenses")
    return Decimal(row["Summary"]["ColData"][-1]["value"])


def test_cash_basis_counts_a_bill_when_and_as_far_as_it_is_paid(client: SandboxClient) -> None:
    handle = client.sandbox.realm()
    today = handle.now().date().isoformat()
    window = {"start_date": today, "end_date": today}

    def both() -> tuple[Decimal, Decimal]:
        accrual = report(client, "ProfitAndLoss", **window)
        cash = report(client, "ProfitAndLoss", accounting_method="Cash", **window)
        assert cash["Header"]["ReportBasis"] == "Cash"
        return expenses(accrual), expenses(cash)

    accrual_before, cash_before = both()
    bill = handle.create("Bill", {
        "VendorRef": {"value": "2"}, "TxnDate": today, "DueDate": today,
        "Line": [{"Id": "1", "LineNum": 1, "Amount": Decimal("300.00"), "DetailType": "AccountBasedExpenseLineDetail",
                  "AccountBasedExpenseLineDetail": {"AccountRef": {"value": "16"}}}],
    })
    accrual_billed, cash_billed = both()
    assert (accrual_billed - accrual_before, cash_billed - cash_before) == (Decimal("300.00"), 0)
    handle.create("BillPayment", {
        "VendorRef": {"value": "2"}, "PayType": "Check", "TotalAmt": Decimal("120.50"), "TxnDate": today,
        "CheckPayment": {"BankAccountRef": {"value": "1"}},
        "Line": [{"Amount": Decimal("120.50"), "LinkedTxn": [{"TxnId": bill["Id"], "TxnType": "Bill"}]}],
    })
    accrual_paid, cash_paid = both()
    assert (accrual_paid - accrual_billed, cash_paid - cash_billed) == (0, Decimal("120.50"))


@pytest.mark.parametrize("params", [
    {"summarize_column_by": "Days", "start_date": "2026-11-01", "end_date": "2026-11-07"},
    {"summarize_column_by": "Month", "date_macro": "This Year"},
    {"accounting_method": "Cash"},
])
def test_profit_and_loss_variants_are_valid_against_report_xsd(client: SandboxClient, params: dict[str, str]) -> None:
    assert schema().check_report(report(client, "ProfitAndLoss", **params)) == []


def test_general_ledger_with_chosen_columns_is_valid_against_report_xsd(client: SandboxClient) -> None:
    assert schema().check_report(report(client, "GeneralLedger", columns="tx_date,memo,subt_nat_amount")) == []


def test_batch_and_cdc_answers_are_valid_against_the_xsd(client: SandboxClient) -> None:
    batch = client.post("batch", {"BatchItemRequest": [
        {"bId": "q", "Query": "select * from Invoice maxresults 2"},
        {"bId": "bad", "Query": "select * from Invoice where Colour = 'x'"}]}).json()
    since = client.sandbox.realm().now().replace(microsecond=0) - timedelta(days=10)
    cdc = client.get("cdc", {"entities": "Invoice,TaxCode", "changedSince": since.isoformat()}).json()
    assert "Fault" in cdc["CDCResponse"][1]
    assert schema().check_response(batch) == []
    assert schema().check_response(cdc) == []
