"""Salesforce as the books' mirror: bills beside invoices, Orders with OrderItems priced from
the items, the chart of accounts, sub-customers under their parent, sent invoices only, and a
throttled or nearly spent org."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from .singer_io import (
    console,
    customer,
    invoice,
    last_line,
    letters,
    line,
    record,
    run_target,
    schema,
)

VENDOR_EXT = "qbd:77:vendor:80000001-1"
BILL_EXT = "qbd:77:bill:1A-1"


def _vendor(**extra: Any) -> dict[str, Any]:
    return record("vendors", {"company_id": "77", "edition": "qbd", "id": "80000001-1", "display_name": "Acme Supply",
                              "fully_qualified_name": "Acme Supply", "balance": Decimal("240.10"), "active": True,
                              "terms_id": "80000007-1", "updated_at": "2026-11-01T09:00:00Z",
                              "edit_sequence": "1700", **extra})


def _bill(**extra: Any) -> dict[str, Any]:
    return record("bills", {"company_id": "77", "edition": "qbd", "id": "1A-1", "doc_number": "B-17",
                            "txn_date": "2026-11-03", "due_date": "2026-12-03", "vendor_id": "80000001-1",
                            "total_amount": Decimal("240.10"), "balance": Decimal("240.10"),
                            "updated_at": "2026-11-03T09:00:00Z", "edit_sequence": "1701", **extra})


def _bill_line(line_id: str, amount: str, **extra: Any) -> dict[str, Any]:
    return record("bill_lines", {"company_id": "77", "edition": "qbd", "bill_id": "1A-1", "line_id": line_id,
                                 "line_num": int(line_id), "doc_number": "B-17", "amount": Decimal(amount),
                                 "updated_at": "2026-11-03T09:00:00Z", "edit_sequence": "1701", **extra})


def _item(id_: str, name: str, **extra: Any) -> dict[str, Any]:
    return record("items", {"company_id": "77", "edition": "qbd", "id": id_, "name": name.split(":")[-1],
                            "fully_qualified_name": name, "sku": f"SKU-{id_}", "item_type": "Service",
                            "unit_price": Decimal("33.33"), "active": True, "updated_at": "2026-11-01T09:00:00Z",
                            "edit_sequence": "1600", **extra})


def _bill_messages() -> list[dict[str, Any]]:
    return [schema("vendors"), schema("items"), schema("bills"), schema("bill_lines"), _vendor(),
            _item("I-1", "Services:Installation"), _bill(),
            # three hours at a rate QuickBooks rounded on the document: the amount is what counts
            _bill_line("1", "100.00", item_id="I-1", item_name="Services:Installation",
                       quantity=Decimal("3"), unit_price=Decimal("33.33")),
            _bill_line("2", "140.10", account_name="Utilities", description="Electricity, November")]


def test_a_bill_is_an_opportunity_of_its_vendor_told_apart_from_invoices(salesforce_sandbox, salesforce_config):
    run = run_target(salesforce_config, [*_bill_messages(), schema("customers"), schema("invoices"),
                                         customer("1", "Ada"), invoice("9")])
    assert not run.set_aside
    org = salesforce_sandbox.org
    bill = org.find("Opportunity", "QuickBooks_Id__c", BILL_EXT)
    vendor = org.find("Account", "QuickBooks_Id__c", VENDOR_EXT)
    assert bill["Type"] == "QuickBooks Bill" and bill["AccountId"] == vendor["Id"]
    assert bill["Amount"] == Decimal("240.10") and bill["Name"] == "Bill B-17"
    assert org.find("Opportunity", "QuickBooks_Id__c", "qbo:9130:invoice:9")["Type"] == "QuickBooks Invoice"
    assert vendor["QuickBooks_Classification__c"] == "Vendor" and vendor["QuickBooks_Terms_Id__c"] == "80000007-1"
    assert vendor["QuickBooks_Balance__c"] == Decimal("240.10")


def test_lines_are_order_items_of_the_documents_order_to_the_cent(salesforce_sandbox, salesforce_config):
    run = run_target(salesforce_config, _bill_messages())
    assert not run.set_aside
    org = salesforce_sandbox.org
    (order,) = org.records["Order"].values()
    bill = org.find("Opportunity", "QuickBooks_Id__c", BILL_EXT)
    assert order["OpportunityId"] == bill["Id"]
    assert order["AccountId"] == org.find("Account", "QuickBooks_Id__c", VENDOR_EXT)["Id"]
    assert order["Status"] == "Draft" and order["EffectiveDate"] == "2026-11-03"
    items = {r["QuickBooks_Id__c"]: r for r in org.records["OrderItem"].values()}
    assert sorted(items) == [f"{BILL_EXT}:line:1", f"{BILL_EXT}:line:2"]
    assert {r["OrderId"] for r in items.values()} == {order["Id"]}
    assert sum(r["TotalPrice"] for r in items.values()) == bill["Amount"]
    assert items[f"{BILL_EXT}:line:1"]["TotalPrice"] == Decimal("100.00")
    assert items[f"{BILL_EXT}:line:2"]["QuickBooks_Account_Name__c"] == "Utilities"
    # Item codes aligned: the item's line names the Product2 whose ProductCode is QuickBooks' name.
    product = org.records["Product2"][items[f"{BILL_EXT}:line:1"]["Product2Id"]]
    assert product["ProductCode"] == "Services:Installation" and product["StockKeepingUnit"] == "SKU-I-1"
    assert product["IsActive"] is True
    unlisted = org.records["Product2"][items[f"{BILL_EXT}:line:2"]["Product2Id"]]
    assert unlisted["QuickBooks_Id__c"] == "qbd:77:item:none"


def test_a_rerun_changes_nothing_and_a_deleted_bill_closes_with_its_lines(salesforce_sandbox, salesforce_config):
    run_target(salesforce_config, _bill_messages())
    writes = len(salesforce_sandbox.requests_to("PATCH", "/composite/sobjects/"))
    run_target(salesforce_config, _bill_messages())
    assert len(salesforce_sandbox.requests_to("PATCH", "/composite/sobjects/")) == writes
    deletion = record("bills", {"company_id": "77", "edition": "qbd", "id": "1A-1",
                                "updated_at": "2026-11-20T08:00:00Z", "_sdc_deleted_at": "2026-11-20T08:00:00Z"})
    run_target(salesforce_config, [schema("bills"), deletion])
    org = salesforce_sandbox.org
    bill = org.find("Opportunity", "QuickBooks_Id__c", BILL_EXT)
    assert bill["StageName"] == "Closed Lost" and bill["CloseDate"] == "2026-11-20"
    assert all(r["QuickBooks_Deleted_At__c"] for r in org.records["OrderItem"].values())


def test_items_stream_completes_a_product_first_made_from_a_line(salesforce_sandbox, salesforce_config):
    run_target(salesforce_config, [schema("customers"), schema("invoices"), schema("invoice_lines"),
                                   customer("1", "Ada"), invoice("77"), line("77", "1")])
    product = salesforce_sandbox.org.find("Product2", "QuickBooks_Id__c", "qbo:9130:item:5")
    assert product["Name"] == "Hours"
    run_target(salesforce_config, [schema("items"), record("items", {
        "company_id": "9130", "edition": "qbo", "id": "5", "name": "Hours", "fully_qualified_name": "Labor:Hours",
        "sku": "HR-1", "unit_price": 95, "active": True, "updated_at": "2026-10-01T09:00:00Z", "sync_token": 0})])
    product = salesforce_sandbox.org.find("Product2", "QuickBooks_Id__c", "qbo:9130:item:5")
    entry = salesforce_sandbox.org.find("PricebookEntry", "QuickBooks_Id__c", "qbo:9130:item:5")
    assert product["ProductCode"] == "Labor:Hours" and entry["UnitPrice"] == Decimal("95")
    assert len(salesforce_sandbox.org.records["Product2"]) == 1


def test_the_chart_of_accounts_is_a_custom_object(salesforce_sandbox, salesforce_config):
    accounts = [record("accounts", {"company_id": "77", "edition": "qbd", "id": "A1", "name": "Utilities",
                                    "fully_qualified_name": "Expenses:Utilities", "account_number": "6100",
                                    "account_type": "Expense", "classification": "Expense", "parent_id": "A0",
                                    "current_balance": Decimal("1234.56"), "active": True,
                                    "updated_at": "2026-11-01T09:00:00Z", "edit_sequence": "5"}),
                record("accounts", {"company_id": "77", "edition": "qbd", "id": "A2", "name": "Old",
                                    "active": False, "updated_at": "2026-11-01T09:00:00Z", "edit_sequence": "5"})]
    run_target(salesforce_config, [schema("accounts"), *accounts])
    org = salesforce_sandbox.org
    utilities = org.find("QuickBooks_Account__c", "QuickBooks_Id__c", "qbd:77:account:A1")
    assert utilities["Name"] == "Expenses:Utilities" and utilities["Account_Number__c"] == "6100"
    assert utilities["Current_Balance__c"] == Decimal("1234.56") and utilities["Active__c"] is True
    assert utilities["Parent_QuickBooks_Id__c"] == "qbd:77:account:A0"
    assert org.find("QuickBooks_Account__c", "QuickBooks_Id__c", "qbd:77:account:A2")["Active__c"] is False


def test_a_deleted_item_and_a_deleted_ledger_account_turn_inactive_with_the_deletion_time(
        salesforce_sandbox, salesforce_config):
    ledger = record("accounts", {"company_id": "77", "edition": "qbd", "id": "A1", "name": "Utilities",
                                 "fully_qualified_name": "Expenses:Utilities", "active": True,
                                 "updated_at": "2026-11-01T09:00:00Z", "edit_sequence": "5"})
    run_target(salesforce_config, [schema("accounts"), schema("items"), ledger, _item("I-1", "Services:Installation")])
    # QuickBooks Desktop's ListDeletedQuery answers only the id and TimeDeleted (record_mapping.deleted_header).
    gone = {"company_id": "77", "edition": "qbd", "updated_at": "2026-11-20T10:00:00-05:00",
            "_sdc_deleted_at": "2026-11-20T10:00:00-05:00"}
    run_target(salesforce_config, [schema("accounts"), schema("items"), record("accounts", {**gone, "id": "A1"}),
                                   record("items", {**gone, "id": "I-1"})])
    org = salesforce_sandbox.org
    chart = org.find("QuickBooks_Account__c", "QuickBooks_Id__c", "qbd:77:account:A1")
    product = org.find("Product2", "QuickBooks_Id__c", "qbd:77:item:I-1")
    assert chart["Active__c"] is False and chart["Name"] == "Expenses:Utilities"
    assert product["IsActive"] is False and product["ProductCode"] == "Services:Installation"
    assert chart["QuickBooks_Deleted_At__c"].startswith("2026-11-20T10:00:00")
    assert product["QuickBooks_Deleted_At__c"].startswith("2026-11-20T10:00:00")


def test_a_sub_customer_is_named_in_full_under_its_parent_account(salesforce_sandbox, salesforce_config):
    # The job arrives before its customer in the same batch.
    job = customer("2", "Kitchen", fully_qualified_name="Ada Corp:Kitchen", parent_id="1", terms_id="3")
    run = run_target(salesforce_config, [schema("customers"), job,
                                         customer("1", "Ada Corp", fully_qualified_name="Ada Corp")])
    assert not run.set_aside
    org = salesforce_sandbox.org
    parent = org.find("Account", "QuickBooks_Id__c", "qbo:9130:customer:1")
    child = org.find("Account", "QuickBooks_Id__c", "qbo:9130:customer:2")
    assert child["Name"] == "Ada Corp:Kitchen" and child["ParentId"] == parent["Id"]
    assert child["QuickBooks_Terms_Id__c"] == "3" and child["QuickBooks_Classification__c"] == "Customer"


def test_only_sent_invoices_are_mirrored_when_chosen(salesforce_sandbox, salesforce_config):
    config = {**salesforce_config, "sent_invoices_only": True}
    run = run_target(config, [
        schema("customers"), schema("invoices"), schema("invoice_lines"), customer("1", "Ada"),
        customer("1", "Ada", edition="qbd"), invoice("1", email_status="sent", print_status="not_set"),
        invoice("2", email_status="pending", print_status="not_set"), line("2", "1"),
        invoice("3", edition="qbd", email_status="not_pending", print_status="not_pending"),
        invoice("4", edition="qbd", email_status="not_pending", print_status="pending")])
    assert not run.set_aside  # the held-back invoice's line is held back with it, not refused
    stored = {r["QuickBooks_Id__c"] for r in salesforce_sandbox.org.records["Opportunity"].values()}
    assert stored == {"qbo:9130:invoice:1", "qbd:9130:invoice:3"}
    assert salesforce_sandbox.org.records["OrderItem"] == {}


def test_a_plain_429_is_retried_with_backoff_until_the_records_land(salesforce_sandbox, salesforce_config):
    salesforce_sandbox.throttle(2)
    run = run_target(salesforce_config, [schema("customers"), customer("1", "Ada")])
    assert not run.set_aside and letters(salesforce_config) == []
    assert salesforce_sandbox.throttled_answers == 2
    assert salesforce_sandbox.org.find("Account", "QuickBooks_Id__c", "qbo:9130:customer:1")["Name"] == "Ada"


def test_the_run_stops_before_the_configured_share_of_the_daily_api_budget(salesforce_sandbox, salesforce_config,
                                                                          tmp_path):
    salesforce_sandbox.daily_api_requests = 1000
    salesforce_sandbox.api_requests_used = 895
    config = {**salesforce_config, "api_budget_share": 0.9}
    messages = [schema("customers"), *[customer(str(i), f"C{i}") for i in range(450)]]
    result = console(config, tmp_path, messages=messages)
    assert result.returncode != 0
    assert "api_budget_share" in last_line(result.stderr)
    # Stopped with requests to spare: the org's own users still have theirs.
    assert salesforce_sandbox.api_requests_used <= 900


def test_every_account_shows_open_and_paid_documents_aging_and_last_payment(salesforce_sandbox, salesforce_config):
    today = dt.datetime.now(dt.UTC).date()

    def due(days_past_due: int) -> str:
        return (today - dt.timedelta(days=days_past_due)).isoformat()

    open_balances = {"1": ("100.00", -5), "2": ("50.00", 10), "3": ("25.50", 45), "4": ("7.25", 61), "5": ("10.00", 100)}
    invoices = [invoice(i, due_date=due(days), balance=Decimal(amount)) for i, (amount, days) in open_balances.items()]
    invoices.append(invoice("6", due_date=due(200), balance=Decimal("0")))  # paid
    invoices.append(invoice("7", due_date=due(200), balance=Decimal("99")))
    deletion = record("invoices", {"company_id": "9130", "edition": "qbo", "id": "7", "sync_token": 9,
                                   "updated_at": "2026-11-21T09:00:00Z", "_sdc_deleted_at": "2026-11-21T09:00:00Z"})
    payments = [record("payments", {"company_id": "9130", "edition": "qbo", "id": p, "customer_id": "1",
                                    "txn_date": day, "total_amount": 5, "updated_at": "2026-11-21T09:00:00Z",
                                    "sync_token": 0}) for p, day in (("p1", "2026-11-25"), ("p2", "2026-11-20"))]
    messages = [schema("customers"), schema("invoices"), schema("payments"), customer("1", "Ada"),
                *invoices, deletion, *payments]
    run = run_target(salesforce_config, messages)
    assert not run.set_aside
    account = salesforce_sandbox.org.find("Account", "QuickBooks_Id__c", "qbo:9130:customer:1")
    assert account["QuickBooks_Aging_Current__c"] == Decimal("100.00")
    assert account["QuickBooks_Aging_1_30__c"] == Decimal("50.00")
    assert account["QuickBooks_Aging_31_60__c"] == Decimal("25.50")
    assert account["QuickBooks_Aging_61_90__c"] == Decimal("7.25")
    assert account["QuickBooks_Aging_Over_90__c"] == Decimal("10.00")
    assert account["QuickBooks_Open_Documents__c"] == 5 and account["QuickBooks_Paid_Documents__c"] == 1
    assert account["QuickBooks_Last_Payment_Date__c"] == "2026-11-25"
    assert account["QuickBooks_Aging_As_Of__c"] == today.isoformat()
    writes = len(salesforce_sandbox.requests_to("PATCH", "/composite/sobjects/"))
    run_target(salesforce_config, messages)
    assert len(salesforce_sandbox.requests_to("PATCH", "/composite/sobjects/")) == writes


def test_a_run_that_starts_past_the_budget_share_writes_nothing(salesforce_sandbox, salesforce_config, tmp_path):
    # The org's /limits is read before the first request: nothing is written when the share is
    # already used when the run starts.
    salesforce_sandbox.daily_api_requests = 1000
    salesforce_sandbox.api_requests_used = 950
    result = console({**salesforce_config, "api_budget_share": 0.9}, tmp_path,
                     messages=[schema("customers"), customer("1", "Ada")])
    assert result.returncode != 0
    assert "951 of its 1,000" in last_line(result.stderr) and "api_budget_share" in last_line(result.stderr)
    assert salesforce_sandbox.org.records["Account"] == {}
    assert salesforce_sandbox.api_requests_used == 951  # the /limits request alone


def _terms(id_: str, name: str, updated_at: str = "2026-11-01T09:00:00Z", sync_token: int = 0) -> dict[str, Any]:
    return record("terms", {"company_id": "9130", "edition": "qbo", "id": id_, "name": name, "due_days": 30,
                            "active": True, "updated_at": updated_at, "sync_token": sync_token})


def test_accounts_show_their_terms_by_name(salesforce_sandbox, salesforce_config):
    org = salesforce_sandbox.org

    def terms_of(id_: str) -> tuple[str, str | None]:
        account = org.find("Account", "QuickBooks_Id__c", f"qbo:9130:customer:{id_}")
        return account["QuickBooks_Terms_Id__c"], account["QuickBooks_Terms__c"]

    run = run_target(salesforce_config, [schema("customers"), schema("terms"), customer("1", "Ada", terms_id="3"),
                                         _terms("3", "Net 30"), _terms("4", "Due on receipt")])
    assert not run.set_aside
    assert terms_of("1") == ("3", "Net 30")
    # A later run without the terms stream (terms unchanged): names come from what Salesforce holds.
    run_target(salesforce_config, [schema("customers"), customer("2", "Bob", terms_id="3"),
                                   customer("1", "Ada", "2026-11-02T09:00:00Z", 1, terms_id="9")])
    assert terms_of("2") == ("3", "Net 30")
    assert terms_of("1") == ("9", None)  # terms this target has never seen named: no name, not a wrong one
    # Terms renamed in QuickBooks: every Account with those terms shows the new name.
    run_target(salesforce_config, [schema("terms"), _terms("3", "Net 30 days", "2026-11-03T09:00:00Z", 1)])
    assert terms_of("2") == ("3", "Net 30 days")



def test_desktop_accounts_show_the_terms_name_their_record_carries(salesforce_sandbox, salesforce_config):
    # QuickBooks Desktop has no terms stream: its CustomerRet/VendorRet name the terms (TermsRef/FullName).
    org = salesforce_sandbox.org

    def terms_of(entity: str, id_: str) -> tuple[str, str | None]:
        account = org.find("Account", "QuickBooks_Id__c", f"qbd:77:{entity}:{id_}")
        return account["QuickBooks_Terms_Id__c"], account["QuickBooks_Terms__c"]

    def desktop_customer(id_: str, edit_sequence: str, **terms: Any) -> dict[str, Any]:
        return record("customers", {"company_id": "77", "edition": "qbd", "id": id_, "display_name": f"C {id_}",
                                    "fully_qualified_name": f"C {id_}", "balance": 0, "active": True,
                                    "updated_at": f"2026-11-0{edit_sequence[-1]}T09:00:00Z",
                                    "edit_sequence": edit_sequence, **terms})

    run = run_target(salesforce_config, [
        schema("customers"), schema("vendors"),
        desktop_customer("80000011-1", "1701", terms_id="80000003-1", terms_name="Net 30"),
        desktop_customer("80000012-1", "1701", terms_id="80000004-1", terms_name=None),
        _vendor(terms_name="Net 15")])
    assert not run.set_aside
    assert terms_of("customer", "80000011-1") == ("80000003-1", "Net 30")
    assert terms_of("vendor", "80000001-1") == ("80000007-1", "Net 15")
    # No name on the record and none known: no name rather than another terms' name.
    assert terms_of("customer", "80000012-1") == ("80000004-1", None)
    # Terms renamed in QuickBooks Desktop: the next version of the customer carries the new name.
    run_target(salesforce_config, [schema("customers"), desktop_customer(
        "80000011-1", "1702", terms_id="80000003-1", terms_name="Net 30 days")])
    assert terms_of("customer", "80000011-1") == ("80000003-1", "Net 30 days")

def test_a_quantity_orderitem_cannot_hold_exactly_becomes_one_unit_at_the_line_amount(salesforce_sandbox,
                                                                                       salesforce_config):
    # QuickBooks Desktop keeps five places in quantities; OrderItem.Quantity describes two.
    run = run_target(salesforce_config, [schema("vendors"), schema("items"), schema("bills"), schema("bill_lines"),
                                         _vendor(), _item("I-1", "Services:Installation"), _bill(),
                                         _bill_line("1", "240.10", item_id="I-1", quantity=Decimal("0.125"),
                                                    unit_price=Decimal("1920.80"))])
    assert not run.set_aside
    (item,) = salesforce_sandbox.org.records["OrderItem"].values()
    assert (item["Quantity"], item["UnitPrice"], item["TotalPrice"]) == (1, Decimal("240.10"), Decimal("240.10"))
    assert item["QuickBooks_Amount__c"] == Decimal("240.10")
