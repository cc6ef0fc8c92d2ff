"""What a Salesforce user sees after a run: Accounts, Opportunities, line items, versions, deletes."""

from __future__ import annotations

from decimal import Decimal

from .singer_io import customer, invoice, line, record, run_target, schema

CUSTOMER_EXT = "qbo:9130:customer:1"
INVOICE_EXT = "qbo:9130:invoice:77"


def test_customers_and_vendors_become_typed_accounts_with_audit_fields(salesforce_sandbox, salesforce_config):
    vendor = record("vendors", {"company_id": "9130", "edition": "qbo", "id": "1", "display_name": "Acme Supply",
                                "account_number": "V-9", "billing_address": {"line1": "1 Main St", "city": "Austin"},
                                "active": True, "updated_at": "2026-11-01T09:00:00Z", "sync_token": 2})
    run_target(salesforce_config, [schema("customers"), schema("vendors"), customer("1", "Ada"), vendor])
    org = salesforce_sandbox.org
    account = org.find("Account", "QuickBooks_Id__c", CUSTOMER_EXT)
    supplier = org.find("Account", "QuickBooks_Id__c", "qbo:9130:vendor:1")
    assert account["Name"] == "Ada" and account["Type"] == "Customer" and account["Active__c"] is True
    assert supplier["Type"] == "Vendor" and supplier["AccountNumber"] == "V-9"
    assert supplier["BillingStreet"] == "1 Main St" and supplier["BillingCity"] == "Austin"
    assert account["QuickBooks_Source__c"] == "qbo:9130"
    assert account["QuickBooks_Extracted_At__c"].startswith("2026-11-20T10:00:00")
    assert account["QuickBooks_Received_At__c"] and account["QuickBooks_Batched_At__c"]


def test_invoice_becomes_opportunity_of_its_customer_with_exact_amount(salesforce_sandbox, salesforce_config):
    run_target(salesforce_config, [schema("invoices"), schema("customers"),
                                   invoice("77", total_amount=Decimal("1234.56"), balance=Decimal("0.01")),
                                   customer("1", "Ada")])
    org = salesforce_sandbox.org
    opportunity = org.find("Opportunity", "QuickBooks_Id__c", INVOICE_EXT)
    account = org.find("Account", "QuickBooks_Id__c", CUSTOMER_EXT)
    assert opportunity["AccountId"] == account["Id"]
    assert opportunity["Amount"] == Decimal("1234.56")
    assert opportunity["QuickBooks_Balance__c"] == Decimal("0.01")
    assert opportunity["StageName"] == "Closed Won" and opportunity["CloseDate"] == "2026-11-02"
    assert opportunity["Name"] == "Invoice 1077"


def test_invoice_lines_go_to_the_custom_line_object_when_chosen(salesforce_sandbox, salesforce_config):
    run_target({**salesforce_config, "line_detail": "custom_object"}, [schema("customers"), schema("invoices"), schema("invoice_lines"),
                                   customer("1", "Ada"), invoice("77"), line("77", "1"), line("77", "2", 50.25, quantity=1, unit_price=50.25),
                                   line("77", "3", detail_type="SubTotalLineDetail")])
    org = salesforce_sandbox.org
    lines = sorted(org.records["QuickBooks_Invoice_Line__c"].values(), key=lambda r: r["Line_Number__c"])
    opportunity = org.find("Opportunity", "QuickBooks_Id__c", INVOICE_EXT)
    assert [r["Amount__c"] for r in lines] == [Decimal("100.0"), Decimal("50.25")]
    assert {r["Opportunity__c"] for r in lines} == {opportunity["Id"]}


def test_invoice_lines_become_opportunity_line_items_with_a_pricebook_entry(salesforce_sandbox, salesforce_config):
    config = {**salesforce_config, "pricebook_entry_id": salesforce_sandbox.org.pricebook_entry_id}
    run_target(config, [schema("customers"), schema("invoices"), schema("invoice_lines"),
                        customer("1", "Ada"), invoice("77"), line("77", "1")])
    run_target(config, [schema("invoice_lines"),
                        line("77", "1", 120.0, updated_at="2026-11-03T09:00:00Z", sync_token=1)])
    (item,) = salesforce_sandbox.org.records["OpportunityLineItem"].values()
    assert item["UnitPrice"] == Decimal("60.0") and item["Quantity"] == Decimal("2")
    assert item["PricebookEntryId"] == salesforce_sandbox.org.pricebook_entry_id


def test_older_version_never_overwrites_a_newer_one(salesforce_sandbox, salesforce_config):
    run_target(salesforce_config, [schema("customers"), customer("1", "Ada New", "2026-11-05T09:00:00Z", 4)])
    run_target(salesforce_config, [schema("customers"), customer("1", "Ada Old", "2026-11-01T09:00:00Z", 3)])
    assert salesforce_sandbox.org.find("Account", "QuickBooks_Id__c", CUSTOMER_EXT)["Name"] == "Ada New"


def test_newest_version_in_one_batch_wins_whatever_the_order(salesforce_sandbox, salesforce_config):
    run_target(salesforce_config, [schema("customers"),
                                   customer("1", "v2", "2026-11-02T01:00:00-08:00", 5),  # 09:00 UTC
                                   customer("1", "v1", "2026-11-02T09:00:00+00:00", 4)])
    assert salesforce_sandbox.org.find("Account", "QuickBooks_Id__c", CUSTOMER_EXT)["Name"] == "v2"


def test_rerun_of_unchanged_records_writes_nothing(salesforce_sandbox, salesforce_config):
    messages = [schema("customers"), customer("1", "Ada")]
    run_target(salesforce_config, messages)
    writes_before = len(salesforce_sandbox.requests_to("PATCH", "/composite/sobjects/"))
    run_target(salesforce_config, messages)
    assert len(salesforce_sandbox.requests_to("PATCH", "/composite/sobjects/")) == writes_before


def test_deleted_customer_is_deactivated_not_deleted(salesforce_sandbox, salesforce_config):
    run_target(salesforce_config, [schema("customers"), customer("1", "Ada")])
    deleted = record("customers", {"company_id": "9130", "edition": "qbo", "id": "1",
                                   "updated_at": "2026-11-09T09:00:00Z", "sync_token": 1,
                                   "_sdc_deleted_at": "2026-11-09T09:00:00Z"})
    run_target(salesforce_config, [schema("customers"), deleted])
    account = salesforce_sandbox.org.find("Account", "QuickBooks_Id__c", CUSTOMER_EXT)
    assert account["Active__c"] is False and account["Name"] == "Ada"
    assert account["QuickBooks_Deleted_At__c"].startswith("2026-11-09T09:00:00")


def test_inactive_customer_is_an_inactive_account(salesforce_sandbox, salesforce_config):
    run_target(salesforce_config, [schema("customers"), customer("1", "Ada", active=False)])
    assert salesforce_sandbox.org.find("Account", "QuickBooks_Id__c", CUSTOMER_EXT)["Active__c"] is False


def test_deleted_invoice_is_closed_lost_and_its_lines_flagged(salesforce_sandbox, salesforce_config):
    run_target(salesforce_config, [schema("customers"), schema("invoices"), schema("invoice_lines"),
                                   customer("1", "Ada"), invoice("77"), line("77", "1"), line("77", "2")])
    deleted = record("invoices", {"company_id": "9130", "edition": "qbo", "id": "77",
                                  "updated_at": "2026-11-09T09:00:00Z", "sync_token": 3,
                                  "_sdc_deleted_at": "2026-11-09T09:00:00Z"})
    run_target(salesforce_config, [schema("invoices"), deleted])
    org = salesforce_sandbox.org
    opportunity = org.find("Opportunity", "QuickBooks_Id__c", INVOICE_EXT)
    assert opportunity["StageName"] == "Closed Lost" and opportunity["Amount"] == Decimal("150.25")
    assert org.records["OrderItem"] and all(r["QuickBooks_Deleted_At__c"] for r in org.records["OrderItem"].values())
    (order,) = org.records["Order"].values()
    assert order["QuickBooks_Deleted_At__c"].startswith("2026-11-09T09:00:00")
    assert opportunity["CloseDate"] == "2026-11-09"


def test_voided_invoice_is_closed_lost(salesforce_sandbox, salesforce_config):
    run_target(salesforce_config, [schema("customers"), schema("invoices"), customer("1", "Ada"),
                                   invoice("77", voided=True, total_amount=0)])
    assert salesforce_sandbox.org.find("Opportunity", "QuickBooks_Id__c", INVOICE_EXT)["StageName"] == "Closed Lost"


def test_large_batches_use_bulk_api_2(salesforce_sandbox, salesforce_config):
    config = {**salesforce_config, "bulk_threshold": 10}
    run_target(config, [schema("customers"), *[customer(str(i), f"Customer {i}") for i in range(25)]])
    assert len(salesforce_sandbox.org.records["Account"]) == 25
    assert len(salesforce_sandbox.requests_to("POST", r"/jobs/ingest/?$")) == 1
    assert not salesforce_sandbox.requests_to("PATCH", "/composite/sobjects/")


def test_small_batches_use_collections_of_at_most_200(salesforce_sandbox, salesforce_config):
    run_target(salesforce_config, [schema("customers"), *[customer(str(i), f"C{i}") for i in range(450)]])
    assert len(salesforce_sandbox.org.records["Account"]) == 450
    assert len(salesforce_sandbox.requests_to("PATCH", "/composite/sobjects/Account/")) == 3


def test_unmapped_streams_are_ignored(salesforce_sandbox, salesforce_config):
    employees = {"type": "SCHEMA", "stream": "employees", "key_properties": ["company_id", "id"],
                 "schema": {"type": "object", "properties": {"company_id": {"type": "string"},
                                                             "id": {"type": "string"}}}}
    run = run_target(salesforce_config, [employees, {"type": "RECORD", "stream": "employees",
                                                     "record": {"company_id": "9130", "id": "1"}}])
    assert not run.set_aside
    assert all(not records for name, records in salesforce_sandbox.org.records.items()
               if name not in ("Pricebook2", "PricebookEntry"))
