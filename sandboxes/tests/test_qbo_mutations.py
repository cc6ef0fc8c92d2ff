"""Control-API mutations as a QuickBooks user makes them, and how the API then shows them."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

import pytest
from sandboxes.qbo import QBOSandbox
from sandboxes.qbo.client import SandboxClient
from sandboxes.qbo.fixtures import qbo_sandbox_factory_fixture, qbo_sandbox_fixture  # noqa: F401


def test_create_assigns_id_synctoken_and_metadata(qbo_sandbox: QBOSandbox) -> None:
    handle = qbo_sandbox.realm()
    before = handle.count("Customer")
    created = handle.create("Customer", {"DisplayName": "Brand New Co", "CompanyName": "Brand New Co"})
    assert created["SyncToken"] == "0" and created["Active"] is True
    assert int(created["Id"]) > 0 and handle.count("Customer") == before + 1
    meta = created["MetaData"]
    assert meta["CreateTime"] == meta["LastUpdatedTime"]
    assert datetime.fromisoformat(meta["CreateTime"]).utcoffset() is not None
    fetched = SandboxClient(qbo_sandbox).get(f"customer/{created['Id']}").json()["Customer"]
    assert fetched["DisplayName"] == "Brand New Co"


def test_update_bumps_synctoken_and_last_updated_time(qbo_sandbox: QBOSandbox) -> None:
    handle = qbo_sandbox.realm()
    original = handle.get("Vendor", "1")
    assert original is not None
    time.sleep(1.05)
    updated = handle.update("Vendor", "1", {"CompanyName": "Renamed Ltd"})
    assert int(updated["SyncToken"]) == int(original["SyncToken"]) + 1
    assert datetime.fromisoformat(updated["MetaData"]["LastUpdatedTime"]) > datetime.fromisoformat(original["MetaData"]["LastUpdatedTime"])
    assert updated["MetaData"]["CreateTime"] == original["MetaData"]["CreateTime"]
    with pytest.raises(ValueError, match="stale SyncToken"):
        handle.update("Vendor", "1", {"SyncToken": original["SyncToken"], "CompanyName": "x"})


def test_list_records_cannot_be_deleted_only_deactivated(qbo_sandbox: QBOSandbox) -> None:
    handle = qbo_sandbox.realm()
    with pytest.raises(ValueError, match="deactivate"):
        handle.delete("Customer", "1")
    handle.deactivate("Customer", "1")
    client = SandboxClient(qbo_sandbox)
    default = client.query_json("select * from Customer where Id = '1'")["QueryResponse"]
    assert "Customer" not in default
    asked = client.query_json("select * from Customer where Id = '1' and Active = false")["QueryResponse"]["Customer"]
    assert asked[0]["Active"] is False


def test_void_zeroes_amounts_but_keeps_the_transaction(qbo_sandbox: QBOSandbox) -> None:
    handle = qbo_sandbox.realm()
    invoice_id = handle.ids("Invoice")[0]
    voided = handle.void("Invoice", invoice_id)
    assert voided["TotalAmt"] == 0 and voided["Balance"] == 0
    assert all(line["Amount"] == 0 for line in voided["Line"])
    assert voided["PrivateNote"] == "Voided"


def test_bill_payment_reduces_bill_balance_and_delete_restores_it(qbo_sandbox: QBOSandbox) -> None:
    handle = qbo_sandbox.realm()
    bill = handle.create("Bill", {
        "VendorRef": {"value": "2"}, "TxnDate": "2026-11-01", "DueDate": "2026-12-01",
        "Line": [{"Id": "1", "LineNum": 1, "Amount": Decimal("300.00"), "DetailType": "AccountBasedExpenseLineDetail",
                  "AccountBasedExpenseLineDetail": {"AccountRef": {"value": "16"}}}],
    })
    assert bill["TotalAmt"] == Decimal("300.00") and bill["Balance"] == Decimal("300.00")
    payment = handle.create("BillPayment", {
        "VendorRef": {"value": "2"}, "PayType": "Check", "TotalAmt": Decimal("120.50"),
        "CheckPayment": {"BankAccountRef": {"value": "1"}},
        "Line": [{"Amount": Decimal("120.50"), "LinkedTxn": [{"TxnId": bill["Id"], "TxnType": "Bill"}]}],
    })
    after = handle.get("Bill", bill["Id"])
    assert after is not None and after["Balance"] == Decimal("179.50")
    assert int(after["SyncToken"]) == 1
    handle.delete("BillPayment", payment["Id"])
    restored = handle.get("Bill", bill["Id"])
    assert restored is not None and restored["Balance"] == Decimal("300.00")


def test_merge_moves_transactions_and_inactivates_source(qbo_sandbox: QBOSandbox) -> None:
    handle = qbo_sandbox.realm()
    client = SandboxClient(qbo_sandbox)
    invoices = client.query_json("select * from Invoice maxresults 1000")["QueryResponse"]["Invoice"]
    source = invoices[0]["CustomerRef"]["value"]
    target = next(c for c in handle.ids("Customer") if c != source)
    moved = [i["Id"] for i in invoices if i["CustomerRef"]["value"] == source]
    handle.merge("Customer", source, target)
    merged_source = handle.get("Customer", source)
    assert merged_source is not None and merged_source["Active"] is False
    assert merged_source["DisplayName"].endswith("(deleted)")
    for invoice_id in moved:
        invoice = handle.get("Invoice", invoice_id)
        assert invoice is not None and invoice["CustomerRef"]["value"] == target
    events = [(e.entity, e.operation) for e in qbo_sandbox.webhooks.pending()]
    assert ("Customer", "Merge") in events


def test_realms_are_isolated(qbo_sandbox_factory: Callable[..., QBOSandbox]) -> None:
    sb = qbo_sandbox_factory(realms=["9130350000000001", "9130350000000002"])
    a, b = sb.realm("9130350000000001"), sb.realm("9130350000000002")
    a.create("Class", {"Name": "Only in A"})
    names_b = SandboxClient(sb, "9130350000000002").query_json("select * from Class where Name = 'Only in A'")
    assert "Class" not in names_b["QueryResponse"]
    assert a.count("Class") == b.count("Class") + 1


def _report_total(client: SandboxClient, name: str) -> Decimal:
    rows = client.get(f"reports/{name}").json()["Rows"]["Row"]
    return Decimal(rows[-1]["Summary"]["ColData"][-1]["value"])


def _balance_sheet_section(client: SandboxClient, title: str) -> Decimal:
    def walk(rows: list[dict]) -> list[dict]:
        out = []
        for row in rows:
            out.append(row)
            out.extend(walk(row.get("Rows", {}).get("Row", [])))
        return out

    rows = walk(client.get("reports/BalanceSheet").json()["Rows"]["Row"])
    match = [r for r in rows if r.get("Header", {}).get("ColData", [{}])[0].get("value") == title]
    return Decimal(match[0]["Summary"]["ColData"][-1]["value"]) if match else Decimal(0)


def test_aging_still_reconciles_after_mutations(qbo_sandbox: QBOSandbox) -> None:
    handle = qbo_sandbox.realm()
    client = SandboxClient(qbo_sandbox)
    bill = handle.create("Bill", {
        "VendorRef": {"value": "1"}, "TxnDate": "2026-11-02", "DueDate": "2026-11-20",
        "Line": [{"Id": "1", "LineNum": 1, "Amount": Decimal("99.99"), "DetailType": "AccountBasedExpenseLineDetail",
                  "AccountBasedExpenseLineDetail": {"AccountRef": {"value": "17"}}}],
    })
    handle.create("BillPayment", {
        "VendorRef": {"value": "1"}, "PayType": "Check", "CheckPayment": {"BankAccountRef": {"value": "1"}},
        "Line": [{"Amount": Decimal("40.00"), "LinkedTxn": [{"TxnId": bill["Id"], "TxnType": "Bill"}]}],
    })
    paid_invoices = client.query_json("select * from Invoice where Balance = '0' maxresults 5")["QueryResponse"]["Invoice"]
    handle.delete("Invoice", paid_invoices[0]["Id"])
    handle.void("Payment", handle.ids("Payment")[-1])
    assert _report_total(client, "AgedPayables") == _balance_sheet_section(client, "Accounts Payable")
    assert _report_total(client, "AgedReceivables") == _balance_sheet_section(client, "Accounts Receivable")
    unapplied = client.query_json("select * from Payment where UnappliedAmt > '0'")["QueryResponse"]["Payment"]
    assert unapplied, "the deleted invoice's payment became unapplied credit"
