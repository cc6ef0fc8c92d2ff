"""Query, CDC and multi-realm syncs against the QuickBooks Online sandbox."""

from __future__ import annotations

import copy
import datetime as dt

import pytest
from sandboxes.qbo import RealmSpec

from .conftest import REALM, make_config
from .singer_run import partition_state, run_sync

pytestmark = pytest.mark.e2e

ENTITY_STREAMS = ["customers", "invoices", "invoice_lines", "bills", "deleted_records"]


def test_first_sync_includes_inactive_list_records_flagged(qbo_sandbox, tap_config):
    realm = qbo_sandbox.realm(REALM)
    customer_id = realm.ids("Customer")[0]
    realm.deactivate("Customer", customer_id)

    result = run_sync(tap_config, streams=["customers"])

    customers = result.by_id("customers")
    assert len(customers) == realm.count("Customer")
    assert customers[customer_id]["active"] is False
    assert all(row["company_id"] == REALM and row["edition"] == "qbo" for row in customers.values())


def test_lines_streams_carry_every_line_with_header_keys(qbo_sandbox, tap_config):
    result = run_sync(tap_config, streams=["invoices", "invoice_lines"])

    invoices = result.by_id("invoices")
    lines = result.rows("invoice_lines")
    assert len(lines) == sum(len(inv["lines"]) for inv in invoices.values())
    by_key = {(ln["invoice_id"], ln["line_id"]) for ln in lines}
    assert len(by_key) == len(lines)
    sample = lines[0]
    header = invoices[sample["invoice_id"]]
    assert (sample["doc_number"], sample["customer_id"], sample["updated_at"]) == (
        header["doc_number"], header["customer_id"], header["updated_at"])


def test_query_mode_incremental_run_emits_only_changes(qbo_sandbox, tap_config):
    config = {**tap_config, "sync_mode": "query", "lookback_seconds": 0}
    first = run_sync(config, streams=["invoices"])
    realm = qbo_sandbox.realm(REALM)
    invoice_id = realm.ids("Invoice")[3]
    realm.update("Invoice", invoice_id, {"PrivateNote": "changed"})
    qbo_sandbox.reset_stats()

    second = run_sync(config, streams=["invoices"], state=first.state)

    assert [row["id"] for row in second.rows("invoices")] == [invoice_id]
    assert second.rows("invoices")[0]["private_note"] == "changed"
    assert second.rows("invoices")[0]["sync_token"] == first.by_id("invoices")[invoice_id]["sync_token"] + 1
    assert qbo_sandbox.stats(REALM).by_endpoint.get("cdc", 0) == 0


def test_cdc_run_uses_one_call_and_flags_deletes_voids_and_deactivations(qbo_sandbox, tap_config):
    first = run_sync(tap_config, streams=ENTITY_STREAMS)
    realm = qbo_sandbox.realm(REALM)
    invoices = realm.ids("Invoice")
    deleted_id, voided_id, updated_id = invoices[0], invoices[1], invoices[2]
    customer_id = realm.ids("Customer")[1]
    realm.delete("Invoice", deleted_id)
    realm.void("Invoice", voided_id)
    realm.update("Invoice", updated_id, {"PrivateNote": "new note"})
    realm.deactivate("Customer", customer_id)
    qbo_sandbox.reset_stats()

    second = run_sync(tap_config, streams=ENTITY_STREAMS, state=first.state)

    calls = qbo_sandbox.stats(REALM).by_endpoint
    assert calls.get("cdc") == 1 and calls.get("query", 0) == 0
    rows = second.by_id("invoices")
    assert rows[deleted_id]["_sdc_deleted_at"] is not None
    assert rows[voided_id]["voided"] is True and rows[voided_id]["_sdc_deleted_at"] is None
    assert rows[updated_id]["private_note"] == "new note"
    assert second.by_id("customers")[customer_id]["active"] is False
    assert deleted_id not in {ln["invoice_id"] for ln in second.rows("invoice_lines")}
    deleted = second.rows("deleted_records")
    assert [(d["stream"], d["entity"], d["id"]) for d in deleted] == [("invoices", "Invoice", deleted_id)]


def test_a_run_without_state_flags_what_was_deleted_since_an_earlier_killed_run(qbo_sandbox, tap_config):
    """A first load killed before its state was saved still delivered rows; the next run starts
    without a bookmark, and its full query cannot see a deletion made in between."""
    killed = run_sync(tap_config, streams=ENTITY_STREAMS)  # delivered, but its STATE never saved
    realm = qbo_sandbox.realm(REALM)
    deleted_id = realm.ids("Invoice")[0]
    assert deleted_id in killed.by_id("invoices")
    realm.delete("Invoice", deleted_id)

    again = run_sync(tap_config, streams=ENTITY_STREAMS)

    rows = again.by_id("invoices")
    assert rows[deleted_id]["_sdc_deleted_at"] is not None
    assert len(rows) == realm.count("Invoice") + 1
    assert deleted_id not in {ln["invoice_id"] for ln in again.rows("invoice_lines")}
    assert [(d["stream"], d["id"]) for d in again.rows("deleted_records")] == [("invoices", deleted_id)]
    # In change order with the queried rows, so a bookmark written mid-stream covers it.
    instants = [dt.datetime.fromisoformat(r["updated_at"]) for r in again.rows("invoices")]
    assert instants == sorted(instants)


def test_no_change_cdc_run_emits_nothing_and_keeps_bookmarks(qbo_sandbox, tap_config):
    first = run_sync(tap_config, streams=ENTITY_STREAMS)
    qbo_sandbox.reset_stats()

    second = run_sync(tap_config, streams=ENTITY_STREAMS, state=first.state)

    assert second.records == {}
    assert qbo_sandbox.stats(REALM).total == 1
    for stream in ("invoices", "customers"):
        assert (partition_state(second.state, stream, REALM)["replication_key_value"]
                == partition_state(first.state, stream, REALM)["replication_key_value"])


def test_bookmark_older_than_cdc_window_falls_back_to_query(qbo_sandbox, tap_config):
    first = run_sync(tap_config, streams=["invoices"])
    state = copy.deepcopy(first.state)
    stale = (dt.datetime.now(dt.UTC) - dt.timedelta(days=45)).isoformat()
    part = partition_state(state, "invoices", REALM)
    part["replication_key_value"] = stale
    part["cdc_swept_to"] = stale
    qbo_sandbox.reset_stats()

    second = run_sync(tap_config, streams=["invoices"], state=state)

    calls = qbo_sandbox.stats(REALM).by_endpoint
    # The resumed query's first page rides in the realm's one batch call.
    assert calls.get("cdc", 0) == 0 and calls["batch"] == 1
    assert second.rows("invoices"), "the query fallback re-reads the 45 days"


def test_full_cdc_responses_narrow_the_window_until_complete(qbo_sandbox_factory, tmp_path):
    sandbox = qbo_sandbox_factory(realms=[RealmSpec(REALM, seed=3, transactions=1500, days=20)])
    config = make_config(sandbox, tmp_path)
    first = run_sync(config, streams=["invoices", "bills", "payments", "purchases", "sales_receipts"])
    state = copy.deepcopy(first.state)
    since = (dt.datetime.now(dt.UTC) - dt.timedelta(days=25)).isoformat()
    for stream in ("invoices", "bills", "payments", "purchases", "sales_receipts"):
        part = partition_state(state, stream, REALM)
        part["replication_key_value"] = since
        part["cdc_swept_to"] = since
    sandbox.reset_stats()

    second = run_sync(config, streams=["invoices", "bills", "payments", "purchases", "sales_receipts"], state=state)

    assert sandbox.stats(REALM).by_endpoint["cdc"] >= 2
    # The sandbox cuts a full answer inside one type, as Intuit does: no type loses a change.
    for stream in ("invoices", "bills", "payments", "purchases", "sales_receipts"):
        assert second.by_id(stream).keys() == first.by_id(stream).keys()


def test_two_realms_keep_separate_bookmarks_and_tag_records(qbo_sandbox_factory, tmp_path):
    sandbox = qbo_sandbox_factory(realms=[RealmSpec("111", seed=1, transactions=40), RealmSpec("222", seed=2, transactions=40)])
    config = make_config(sandbox, tmp_path)
    first = run_sync(config, streams=["invoices"])
    assert {row["company_id"] for row in first.rows("invoices")} == {"111", "222"}
    invoice_222 = sandbox.realm("222").ids("Invoice")[0]
    sandbox.realm("222").update("Invoice", invoice_222, {"PrivateNote": "only 222"})

    second = run_sync(config, streams=["invoices"], state=first.state)

    assert [(r["company_id"], r["id"]) for r in second.rows("invoices")] == [("222", invoice_222)]
    assert (partition_state(second.state, "invoices", "111")["replication_key_value"]
            == partition_state(first.state, "invoices", "111")["replication_key_value"])
    assert (partition_state(second.state, "invoices", "222")["replication_key_value"]
            == second.rows("invoices")[0]["updated_at"])


@pytest.mark.parametrize("mode", ["query", "cdc"])
def test_lookback_overlap_skips_versions_already_sent_but_not_new_ones(qbo_sandbox, tap_config, mode):
    config = {**tap_config, "sync_mode": mode, "lookback_seconds": 3600}
    first = run_sync(config, streams=["invoices"])
    realm = qbo_sandbox.realm(REALM)
    invoice_id = realm.ids("Invoice")[5]
    realm.update("Invoice", invoice_id, {"PrivateNote": "v1"})
    second = run_sync(config, streams=["invoices"], state=first.state)
    assert [r["id"] for r in second.rows("invoices")] == [invoice_id]

    third = run_sync(config, streams=["invoices"], state=second.state)
    realm.update("Invoice", invoice_id, {"PrivateNote": "v2"})
    fourth = run_sync(config, streams=["invoices"], state=third.state)

    assert third.records == {}
    assert [(r["id"], r["private_note"]) for r in fourth.rows("invoices")] == [(invoice_id, "v2")]
