"""Full, incremental and fault-path syncs: the sandbox Web Connector drives our server."""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from sandboxes.qbwc import Faults
from tap_quickbooks_desktop.buffer import Buffer

from .conftest import COMPANY, drain

pytestmark = pytest.mark.e2e


def test_full_sync_emits_every_object_of_the_company(company, settings, start_server, web_connector):
    server = start_server(settings)
    report = web_connector(server, company).run_once()
    assert report.outcome == "completed", report.errors
    assert report.progress[-1] == 100

    result = drain(settings)

    for stream, qb_type in [("invoices", "Invoice"), ("bills", "Bill"), ("customers", "Customer"),
                            ("checks", "Check"), ("journal_entries", "JournalEntry"),
                            ("accounts", "Account"), ("credit_memos", "CreditMemo")]:
        ids = [r["id"] for r in result.records(stream)]
        assert len(ids) == len(set(ids)) == company.count(qb_type), stream
    bill_payments = result.records("bill_payments")
    assert len(bill_payments) == company.count("BillPaymentCheck") + company.count("BillPaymentCreditCard")
    assert {r["pay_type"] for r in bill_payments} <= {"check", "credit_card"}
    invoice = result.records("invoices")[0]
    assert invoice["company_id"] == COMPANY and invoice["edition"] == "qbd"
    assert invoice["updated_at"].endswith("-05:00")
    lines = result.records("invoice_lines")
    assert len(lines) == sum(len(r["lines"]) for r in result.records("invoices"))
    assert {line["invoice_id"] for line in lines} <= {r["id"] for r in result.records("invoices")}


def test_money_is_exact_decimal_text_in_the_singer_output(company, settings, start_server, web_connector):
    server = start_server(settings)
    web_connector(server, company).run_once()
    invoice_id = company.control.ids("Invoice", limit=1)[0]

    result = drain(settings)

    emitted = next(r for r in result.records("invoices") if r["id"] == invoice_id)
    line_total = sum((line["amount"] for line in emitted["lines"]), start=0)
    assert emitted["total_amount"] == pytest.approx(line_total)
    assert all(isinstance(line["amount"], (int, float)) for line in emitted["lines"])


def test_incremental_sync_after_edits_emits_only_the_edited_objects(company, settings, start_server, web_connector):
    server = start_server(settings)
    web_connector(server, company).run_once()
    first = drain(settings)
    customer_id = company.control.ids("Customer", limit=1)[0]
    invoice_id = company.control.ids("Invoice", limit=1)[0]
    company.control.modify("Customer", customer_id, CompanyName="Renamed Co")
    company.control.modify("Invoice", invoice_id, Memo="edited after first sync")

    report = web_connector(server, company).run_once()
    second = drain(settings, state=first.state)

    assert report.outcome == "completed"
    assert [r["id"] for r in second.records("customers")] == [customer_id]
    assert second.records("customers")[0]["company_name"] == "Renamed Co"
    assert [r["id"] for r in second.records("invoices")] == [invoice_id]
    assert second.records("invoices")[0]["private_note"] == "edited after first sync"
    assert second.records("invoices")[0]["edit_sequence"] == company.control.get("Invoice", invoice_id)["edit_sequence"]
    assert second.records("bills") == []


def test_deletions_become_rows_with_sdc_deleted_at(company, settings, start_server, web_connector):
    server = start_server(settings)
    web_connector(server, company).run_once()
    first = drain(settings)
    invoice_id = company.control.ids("Invoice", limit=1)[0]
    customer_id = company.control.create("Customer", Name="Short-lived Customer")
    company.control.delete("Invoice", invoice_id)
    company.control.delete("Customer", customer_id)

    web_connector(server, company).run_once()
    second = drain(settings, state=first.state)

    deleted_invoice = [r for r in second.records("invoices") if r["id"] == invoice_id]
    assert len(deleted_invoice) == 1 and deleted_invoice[0]["_sdc_deleted_at"]
    assert not [r for r in second.records("invoice_lines") if r["invoice_id"] == invoice_id]
    deleted = {(r["stream"], r["id"], r["entity"]) for r in second.records("deleted_records")}
    assert ("invoices", invoice_id, "Invoice") in deleted
    assert ("customers", customer_id, "Customer") in deleted
    customer_rows = [r for r in second.records("customers") if r["id"] == customer_id]
    assert customer_rows[-1]["_sdc_deleted_at"]


def test_iterator_continues_across_many_pages(company, tmp_path: Path, start_server, web_connector):
    from .conftest import base_settings

    settings = base_settings(tmp_path / "buffer.sqlite", max_returned=5, streams=["invoices"])
    server = start_server(settings)
    report = web_connector(server, company).run_once()
    result = drain(settings)

    invoices = company.count("Invoice")
    assert report.outcome == "completed"
    assert report.request_types["InvoiceQueryRq"] >= invoices // 5
    ids = [r["id"] for r in result.records("invoices")]
    assert len(ids) == len(set(ids)) == invoices
    assert report.progress == sorted(report.progress)


def test_session_cut_mid_iterator_resumes_without_loss_or_duplicates(company, tmp_path: Path, start_server, web_connector):
    from .conftest import base_settings

    settings = base_settings(tmp_path / "buffer.sqlite", max_returned=5, streams=["invoices"])
    server = start_server(settings)
    cut = web_connector(server, company, faults=Faults(cut_after_requests=3)).run_once()
    assert cut.outcome == "cut"
    partial = drain(settings)
    assert 0 < len(partial.records("invoices")) < company.count("Invoice")

    resumed = web_connector(server, company).run_once()
    rest = drain(settings, state=partial.state)

    assert resumed.outcome == "completed"
    ids = [r["id"] for r in partial.records("invoices") + rest.records("invoices")]
    assert Counter(ids).most_common(1)[0][1] == 1
    assert set(ids) == set(company.control.ids("Invoice", limit=10_000))


def test_quickbooks_not_running_records_the_failure_and_backs_off(company, tmp_path: Path, start_server, web_connector):
    from .conftest import base_settings

    settings = base_settings(tmp_path / "buffer.sqlite", failure_backoff_seconds=120)
    server = start_server(settings)
    closed = web_connector(server, company, faults=Faults(quickbooks_closed=True)).run_once()
    assert closed.outcome == "connection_error"

    retry = web_connector(server, company).run_once()

    assert retry.outcome == "none"
    assert retry.postpone_seconds and 0 < retry.postpone_seconds <= 120
    buffer = Buffer(settings["buffer_path"])
    assert buffer.count_entries() == 0
    assert "0x80040408" in (buffer.company_status(COMPANY).last_error or "")
    buffer.close()


def test_bad_password_is_refused_with_nvu_and_nothing_is_buffered(company, settings, start_server, web_connector):
    server = start_server(settings)
    started = time.monotonic()
    reports = [web_connector(server, company, password="wrong").run_once() for _ in range(3)]
    elapsed = time.monotonic() - started

    assert [r.outcome for r in reports] == ["nvu"] * 3
    # 0.25 s, 0.5 s, 1 s: repeated failures slow down.
    assert elapsed >= 1.5
    assert drain(settings).records("invoices") == []


def test_edit_racing_a_sync_ends_with_the_newest_edit_sequence(company, tmp_path: Path, start_server, web_connector):
    from .conftest import base_settings

    settings = base_settings(tmp_path / "buffer.sqlite", max_returned=5, streams=["invoices"])
    server = start_server(settings)
    target = company.control.ids("Invoice", limit=10_000)[-1]
    connector = web_connector(server, company, faults=Faults(slow_quickbooks_seconds=0.02))
    session = threading.Thread(target=connector.run_once)
    session.start()
    deadline = time.monotonic() + 20
    buffer = Buffer(settings["buffer_path"])
    while buffer.count_entries() == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    for n in range(3):
        company.control.modify("Invoice", target, Memo=f"racing edit {n}")
    session.join(timeout=60)
    buffer.close()
    web_connector(server, company).run_once()

    result = drain(settings)

    versions = [r for r in result.records("invoices") if r["id"] == target]
    newest = company.control.get("Invoice", target)["edit_sequence"]
    assert versions[-1]["edit_sequence"] == newest
    assert versions[-1]["private_note"] == "racing edit 2"


def test_connection_dropped_after_a_response_was_buffered_loses_and_repeats_nothing(company, tmp_path: Path, start_server, web_connector):
    from .conftest import base_settings

    settings = base_settings(tmp_path / "buffer.sqlite", max_returned=5, streams=["invoices"])
    server = start_server(settings)
    # Calls: serverVersion, clientVersion, authenticate, send, receive, send, receive(6th) dropped.
    dropped = web_connector(server, company, faults=Faults(drop_connection_at_call=7)).run_once()
    assert dropped.outcome == "dropped"

    web_connector(server, company).run_once()
    result = drain(settings)

    ids = [r["id"] for r in result.records("invoices")]
    assert len(ids) == len(set(ids)) == company.count("Invoice")
