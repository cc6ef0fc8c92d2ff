"""What a no-change incremental run costs per realm: the change feed plus one batch (plus nothing
for reports whose inputs did not change), as Intuit meters calls per realm and per app."""

from __future__ import annotations

import pytest
from tap_quickbooks_online import entity_stream

from .conftest import REALM
from .singer_run import run_sync, selected_catalog

pytestmark = pytest.mark.e2e

REPORTS = ["report_profit_and_loss", "report_balance_sheet", "report_aged_payables", "report_aged_receivables",
           "report_general_ledger"]


def entity_streams(config: dict) -> list[str]:
    catalog = selected_catalog(config, None)
    return [e["tap_stream_id"] for e in catalog["streams"] if not e["tap_stream_id"].startswith("report_")]


def test_no_change_run_of_every_entity_stream_costs_two_calls(qbo_sandbox, tap_config):
    streams = entity_streams(tap_config)
    first = run_sync(tap_config, streams=streams)
    qbo_sandbox.reset_stats()

    second = run_sync(tap_config, streams=streams, state=first.state)

    assert second.records == {}
    assert dict(qbo_sandbox.stats(REALM).by_endpoint) == {"cdc": 1, "batch": 1}


def test_no_change_run_with_reports_reads_no_report_again(qbo_sandbox, tap_config):
    streams = entity_streams(tap_config) + REPORTS
    first = run_sync(tap_config, streams=streams)
    assert all(first.rows(report) for report in REPORTS)
    qbo_sandbox.reset_stats()

    second = run_sync(tap_config, streams=streams, state=first.state)

    assert second.records == {}
    assert qbo_sandbox.stats(REALM).total <= 3
    assert qbo_sandbox.stats(REALM).by_endpoint.get("reports", 0) == 0


def test_a_change_re_reads_only_the_reports_that_depend_on_it(qbo_sandbox, tap_config):
    streams = ["bills", "report_aged_payables", "report_aged_receivables"]
    first = run_sync(tap_config, streams=streams)
    realm = qbo_sandbox.realm(REALM)
    bill_id = realm.ids("Bill")[0]
    realm.update("Bill", bill_id, {"PrivateNote": "re-keyed"})

    second = run_sync(tap_config, streams=streams, state=first.state)

    assert [row["id"] for row in second.rows("bills")] == [bill_id]
    assert second.rows("report_aged_payables")
    assert second.rows("report_aged_receivables") == []


def test_a_moved_report_window_is_read_again(qbo_sandbox, tap_config):
    first = run_sync(tap_config, streams=["report_aged_receivables"])
    moved = {**tap_config, "report_end_date": "2026-12-30"}

    second = run_sync(moved, streams=["report_aged_receivables"], state=first.state)

    assert second.rows("report_aged_receivables")
    assert {row["end_date"] for row in second.rows("report_aged_receivables")} == {"2026-12-30"}


def test_an_entity_the_change_feed_refuses_syncs_by_query_and_the_others_still_come(
        qbo_sandbox, tap_config, monkeypatch):
    # As if the tap believed CDC served TaxCode: Intuit answers that entity with its own Fault.
    monkeypatch.setattr(entity_stream, "CDC_UNSUPPORTED", frozenset())
    streams = ["tax_codes", "customers"]
    first = run_sync(tap_config, streams=streams)
    realm = qbo_sandbox.realm(REALM)
    customer_id = realm.ids("Customer")[2]
    tax_code_id = realm.ids("TaxCode")[0]
    realm.update("Customer", customer_id, {"Notes": "new"})
    realm.update("TaxCode", tax_code_id, {"Description": "renamed"})
    qbo_sandbox.reset_stats()

    second = run_sync(tap_config, streams=streams, state=first.state)

    assert [row["id"] for row in second.rows("customers")] == [customer_id]
    assert [row["id"] for row in second.rows("tax_codes")] == [tax_code_id]
    assert dict(qbo_sandbox.stats(REALM).by_endpoint) == {"cdc": 1, "batch": 1}


def test_a_full_sync_asks_each_query_page_once_with_the_next_ones_fetched_ahead(qbo_sandbox_factory, tmp_path):
    # Over 1,000 invoices and bills: several pages each, the next page (and the next stream's first
    # page) fetched while the current one is written, still one request per page.
    from sandboxes.qbo import RealmSpec

    from .conftest import make_config

    sandbox = qbo_sandbox_factory(realms=[RealmSpec(REALM, seed=5, transactions=6000)])
    config = make_config(sandbox, tmp_path)
    streams = ["customers", "invoices", "invoice_lines", "bills", "tax_codes", "time_activities"]
    result = run_sync(config, streams=streams)

    stats = sandbox.stats(REALM)
    assert len(result.rows("invoices")) > 1000 and len(result.rows("bills")) > 1000
    # A page short of 1,000 rows is the last one: floor(rows / 1000) + 1 pages per entity.
    pages = sum(len(result.rows(s)) // 1000 + 1 for s in streams if s != "invoice_lines")
    assert stats.by_endpoint["query"] == pages
    assert stats.max_concurrent <= 10
    for stream in streams:
        rows = result.rows(stream)
        key = "line_id" if stream == "invoice_lines" else "id"
        assert len({(r.get("invoice_id"), r[key]) for r in rows}) == len(rows), stream
