"""The kit's version order in QuickBooks_Version__c: Desktop edits and deletions in the same
second, an invoice deleted with its lines in one run, versions stored by earlier releases."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from qbc_plugin_kit.version_order import version_text
from target_salesforce.legacy_versions import comparable

from .singer_io import customer, invoice, line, record, run_target, schema

SECOND = "2026-11-05T14:03:07+00:00"


def _desktop_invoice(id_: str, **values: Any) -> dict[str, Any]:
    """A QuickBooks Desktop invoice: no sync_token, an EditSequence on live versions."""
    return invoice(id_, edition="qbd", sync_token=None, **values)


def _desktop_deletion(id_: str) -> dict[str, Any]:
    # TxnDeletedQuery answers only TimeDeleted: no EditSequence, no sync token.
    return record("invoices", {"company_id": "9130", "edition": "qbd", "id": id_, "updated_at": SECOND,
                               "sync_token": None, "edit_sequence": None, "_sdc_deleted_at": SECOND})


def _opportunity(sandbox, id_: str) -> dict[str, Any]:
    found = sandbox.org.find("Opportunity", "QuickBooks_Id__c", f"qbd:9130:invoice:{id_}")
    assert found is not None
    return found


def test_desktop_invoices_edited_and_deleted_in_the_same_second_stay_deleted(salesforce_sandbox, salesforce_config):
    ids = ["1", "2", "3", "4"]
    run_target(salesforce_config, [schema("customers"), schema("invoices"),
                                   customer("1", "Ada", edition="qbd", sync_token=None),
                                   *[_desktop_invoice(i, updated_at="2026-11-01T09:00:00Z", edit_sequence="1700")
                                     for i in ids]])
    edits = {i: _desktop_invoice(i, updated_at=SECOND, edit_sequence="1730822587") for i in ids}
    # The tap may send the deletion before or after the edit of the same second.
    messages = [schema("invoices")]
    for n, i in enumerate(ids):
        messages += [edits[i], _desktop_deletion(i)] if n % 2 else [_desktop_deletion(i), edits[i]]
    run_target(salesforce_config, messages)
    # A later run re-sending the edit (a replay, an overlapping window) does not revive them.
    run_target(salesforce_config, [schema("invoices"), *edits.values()])
    for i in ids:
        opportunity = _opportunity(salesforce_sandbox, i)
        assert opportunity["StageName"] == "Closed Lost", i
        assert opportunity["QuickBooks_Deleted_At__c"].startswith("2026-11-05T14:03:07"), i


@pytest.mark.parametrize("deletion_first", [True, False])
def test_lines_of_an_invoice_deleted_in_the_same_run_are_flagged(salesforce_sandbox, salesforce_config,
                                                                 deletion_first):
    run_target(salesforce_config, [schema("customers"), schema("invoices"), schema("invoice_lines"),
                                   customer("1", "Ada"), invoice("77"), invoice("78"), line("77", "1")])
    deletion = record("invoices", {"company_id": "9130", "edition": "qbo", "id": "77", "sync_token": 3,
                                   "updated_at": "2026-11-09T09:00:00Z", "_sdc_deleted_at": "2026-11-09T09:00:00Z"})
    # The lines come with a later timestamp than the deletion (the tap stamps lines with their
    # own edit time): they still may not bring a live line back under a deleted invoice.
    later = {"updated_at": "2026-11-09T10:00:00Z", "sync_token": 4}
    lines = [line("77", "1", 120.0, **later), line("77", "2", **later), line("78", "1", **later)]
    body = [deletion, *lines] if deletion_first else [*lines, deletion]
    run = run_target(salesforce_config, [schema("invoices"), schema("invoice_lines"), *body])
    assert not run.set_aside
    stored = {r["QuickBooks_Id__c"]: r for r in salesforce_sandbox.org.records["OrderItem"].values()}
    # 77:2 was never in Salesforce: it is created under its Order, flagged with the invoice's deletion.
    assert sorted(stored) == ["qbo:9130:invoice:77:line:1", "qbo:9130:invoice:77:line:2",
                              "qbo:9130:invoice:78:line:1"]
    for deleted in ("qbo:9130:invoice:77:line:1", "qbo:9130:invoice:77:line:2"):
        assert stored[deleted]["QuickBooks_Deleted_At__c"].startswith("2026-11-09T09:00:00")
    assert stored["qbo:9130:invoice:78:line:1"]["QuickBooks_Deleted_At__c"] is None


def test_an_invoice_created_and_deleted_between_two_runs_lands_closed_lost_with_its_lines(salesforce_sandbox,
                                                                                         salesforce_config):
    deletion = record("invoices", {"company_id": "9130", "edition": "qbo", "id": "77", "sync_token": 1,
                                   "updated_at": "2026-11-09T09:00:00Z", "_sdc_deleted_at": "2026-11-09T09:00:00Z"})
    run = run_target(salesforce_config, [schema("customers"), schema("invoices"), schema("invoice_lines"),
                                         customer("1", "Ada"), invoice("77"), line("77", "1"), deletion])
    assert not run.set_aside
    org = salesforce_sandbox.org
    opportunity = org.find("Opportunity", "QuickBooks_Id__c", "qbo:9130:invoice:77")
    # What was deleted stays readable: its number, amount and customer, closed on the day of the deletion.
    assert opportunity["StageName"] == "Closed Lost" and opportunity["CloseDate"] == "2026-11-09"
    assert opportunity["Name"] == "Invoice 1077" and opportunity["Amount"] == Decimal("150.25")
    assert opportunity["AccountId"] == org.find("Account", "QuickBooks_Id__c", "qbo:9130:customer:1")["Id"]
    assert opportunity["QuickBooks_Deleted_At__c"].startswith("2026-11-09T09:00:00")
    (item,) = org.records["OrderItem"].values()
    assert item["QuickBooks_Deleted_At__c"].startswith("2026-11-09T09:00:00")


@pytest.mark.parametrize("batch_size_rows", [1, 100])
def test_a_deletion_that_arrives_before_its_document_keeps_it_deleted(salesforce_sandbox, salesforce_config,
                                                                      batch_size_rows):
    config = {**salesforce_config, "batch_size_rows": batch_size_rows}
    run = run_target(config, [schema("customers"), schema("invoices"), customer("1", "Ada", edition="qbd", sync_token=None),
                              _desktop_deletion("5"), _desktop_invoice("5", updated_at=SECOND, edit_sequence="1730822587")])
    assert not run.set_aside
    # The live version of the same second comes again on a later run: still deleted.
    run_target(config, [schema("invoices"), _desktop_invoice("5", updated_at=SECOND, edit_sequence="1730822587")])
    opportunity = _opportunity(salesforce_sandbox, "5")
    assert opportunity["StageName"] == "Closed Lost"
    assert opportunity["QuickBooks_Deleted_At__c"].startswith("2026-11-05T14:03:07")
    assert opportunity["CloseDate"] == "2026-11-05"


def test_a_deleted_customer_salesforce_never_had_is_an_inactive_account(salesforce_sandbox, salesforce_config):
    deletion = record("customers", {"company_id": "9130", "edition": "qbo", "id": "9", "sync_token": 4,
                                    "updated_at": "2026-11-09T09:00:00Z", "_sdc_deleted_at": "2026-11-09T09:00:00Z"})
    run_target(salesforce_config, [schema("customers"), deletion])
    # An older edit sent afterwards (a replay, an overlapping window) does not revive it.
    run_target(salesforce_config, [schema("customers"), customer("9", "Old Name", "2026-11-08T09:00:00Z", 3)])
    account = salesforce_sandbox.org.find("Account", "QuickBooks_Id__c", "qbo:9130:customer:9")
    assert account["Active__c"] is False and account["QuickBooks_Deleted_At__c"].startswith("2026-11-09T09:00:00")


def test_a_version_stored_by_an_earlier_release_does_not_hold_back_a_newer_edit(salesforce_sandbox,
                                                                                salesforce_config):
    run_target(salesforce_config, [schema("customers"), customer("1", "Ada", "2026-11-05T09:00:00Z", 3)])
    account = next(iter(salesforce_sandbox.org.records["Account"].values()))
    # What 0.1 wrote: time|sync token|edit sequence, no deletion flag.
    account["QuickBooks_Version__c"] = "2026-11-05T09:00:00.000000|100000000000000000003|0"
    run_target(salesforce_config, [schema("customers"), customer("1", "Ada Lovelace", "2026-11-05T09:00:00Z", 4)])
    assert salesforce_sandbox.org.find("Account", "QuickBooks_Id__c", "qbo:9130:customer:1")["Name"] == "Ada Lovelace"
    run_target(salesforce_config, [schema("customers"), customer("1", "Ada Old", "2026-11-05T09:00:00Z", 3)])
    assert salesforce_sandbox.org.find("Account", "QuickBooks_Id__c", "qbo:9130:customer:1")["Name"] == "Ada Lovelace"


@pytest.mark.parametrize(("legacy", "deleted", "values"), [
    ("2026-11-05T09:00:00.000000|100000000000000000003|0", False,
     {"updated_at": "2026-11-05T09:00:00Z", "sync_token": 3}),
    ("2026-11-05T09:00:00.000000|000000000000000000000|1000000000000000000000000000042", False,
     {"updated_at": "2026-11-05T09:00:00Z", "edit_sequence": "42"}),
    ("0000-00-00T00:00:00.000000|000000000000000000000|2abc", False, {"edit_sequence": "abc"}),
    ("2026-11-05T09:00:00.000000|000000000000000000000|0", True,
     {"updated_at": "2026-11-05T09:00:00Z", "_sdc_deleted_at": "2026-11-05T09:00:00Z"}),
])
def test_legacy_versions_read_as_the_version_text_of_the_same_record(legacy, deleted, values):
    assert comparable(legacy, deleted) == version_text(values)
    assert comparable(version_text(values)) == version_text(values)
