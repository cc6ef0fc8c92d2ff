"""Webhook receiver and webhook-mode sync against the sandbox's Intuit-style sender."""

from __future__ import annotations

import json
import logging
import threading

import pytest
from tap_quickbooks_online.webhooks.journal import Journal
from tap_quickbooks_online.webhooks.receiver import WebhookServer

from .conftest import REALM
from .singer_run import partition_state, run_sync

pytestmark = pytest.mark.e2e

STREAMS = ["invoices", "customers", "bills", "deleted_records"]


@pytest.fixture
def receiver(qbo_sandbox, tmp_path):
    server = WebhookServer(("127.0.0.1", 0), verifier_token=qbo_sandbox.webhook_verifier_token,
                           journal=Journal(tmp_path / "journal.jsonl"))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_forged_or_unsigned_posts_are_refused_and_not_journaled(qbo_sandbox, receiver, caplog):
    realm = qbo_sandbox.realm(REALM)
    realm.update("Invoice", realm.ids("Invoice")[0], {"PrivateNote": "secret-memo"})

    with caplog.at_level(logging.WARNING, logger="tap_quickbooks_online.webhooks"):
        forged = qbo_sandbox.webhooks.deliver(receiver.url, fmt="cloudevents", signature="bm90IGEgc2lnbmF0dXJl")
        unsigned = qbo_sandbox.webhooks.deliver(receiver.url, fmt="legacy", signature="")

    assert {status for status, _ in forged + unsigned} == {401}
    assert Journal(receiver.journal.path).read(realm_id=REALM) == []
    assert receiver.refused == len(forged) + len(unsigned) and receiver.accepted == 0
    assert "Refused webhook" in caplog.text
    assert REALM not in caplog.text and "intuitentityid" not in caplog.text  # the body is never logged


@pytest.mark.parametrize("fmt", ["cloudevents", "legacy"])
def test_signed_posts_in_both_formats_are_journaled(qbo_sandbox, receiver, fmt):
    realm = qbo_sandbox.realm(REALM)
    invoice_id = realm.ids("Invoice")[0]
    realm.update("Invoice", invoice_id, {"PrivateNote": "x"})

    sent = qbo_sandbox.webhooks.deliver(receiver.url, fmt=fmt)

    assert {status for status, _ in sent} == {200}
    events = receiver.journal.read(realm_id=REALM)
    assert [(e["entity"], e["id"], e["operation"]) for e in events] == [("Invoice", invoice_id, "Update")]


def test_duplicated_reordered_and_dropped_events_end_in_the_source_state(qbo_sandbox, receiver, tap_config):
    config = {**tap_config, "sync_mode": "webhook", "webhook_journal_path": str(receiver.journal.path)}
    first = run_sync(config, streams=STREAMS)
    realm = qbo_sandbox.realm(REALM)
    invoices = realm.ids("Invoice")
    for round_number in range(3):  # several versions of the same objects, events interleaved
        for invoice_id in invoices[:6]:
            realm.update("Invoice", invoice_id, {"PrivateNote": f"round {round_number}"})
    realm.delete("Invoice", invoices[6])
    realm.deactivate("Customer", realm.ids("Customer")[0])
    created = realm.create("Bill", {"VendorRef": {"value": realm.ids("Vendor")[0]}, "Line": [
        {"Amount": "12.34", "DetailType": "AccountBasedExpenseLineDetail",
         "AccountBasedExpenseLineDetail": {"AccountRef": {"value": realm.ids("Account")[0]}}}]})

    sent = qbo_sandbox.webhooks.deliver(receiver.url, fmt="cloudevents", batch=3, duplicate=2, reorder=True, drop=2)
    assert {status for status, _ in sent} == {200}
    second = run_sync(config, streams=STREAMS, state=first.state)

    target = {**first.by_id("invoices"), **second.by_id("invoices")}
    for invoice_id in invoices[:6]:
        source = realm.get("Invoice", invoice_id)
        assert target[invoice_id]["private_note"] == "round 2"
        assert target[invoice_id]["sync_token"] == int(source["SyncToken"])
    assert target[invoices[6]]["_sdc_deleted_at"] is not None
    assert second.by_id("customers")[realm.ids("Customer")[0]]["active"] is False
    assert second.by_id("bills")[created["Id"]]["total_amount"] == created["TotalAmt"]
    assert [d["id"] for d in second.rows("deleted_records")] == [invoices[6]]
    last_seq = receiver.journal.last_seq()
    assert partition_state(second.state, "invoices", REALM)["webhook_seq"] == last_seq

    # The journal is drained: a third run fetches nothing by id.
    qbo_sandbox.reset_stats()
    third = run_sync(config, streams=STREAMS, state=second.state)
    assert qbo_sandbox.stats(REALM).by_endpoint.get("read", 0) == 0
    assert third.records == {}  # the lookback overlap re-reads, but versions already sent are skipped
    # Events every stream had committed before the third run were pruned; the anchor line stays.
    assert [e["seq"] for e in receiver.journal.read(realm_id=REALM)] == [last_seq]


def test_serve_command_receives_and_journals(qbo_sandbox, tap_config, tmp_path):
    import socket
    import subprocess
    import sys
    import time

    import requests
    from tap_quickbooks_online.webhooks.signature import sign

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps({**tap_config, "webhook_port": port}))
    proc = subprocess.Popen([sys.executable, "-c", "from tap_quickbooks_online.cli import main; main()",
                             "webhooks", "serve", "--config", str(config_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        body = json.dumps([{"specversion": "1.0", "type": "qbo.invoice.created.v1", "id": "e1",
                            "intuitentityid": "42", "intuitaccountid": REALM, "data": {}}]).encode()
        deadline = time.monotonic() + 15
        while True:
            try:
                resp = requests.post(f"http://127.0.0.1:{port}/", data=body, timeout=2,
                                     headers={"intuit-signature": sign(qbo_sandbox.webhook_verifier_token, body)})
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "webhooks serve did not start"
                time.sleep(0.1)
        assert resp.status_code == 200
        assert [e["id"] for e in Journal(tap_config["webhook_journal_path"]).read(realm_id=REALM)] == ["42"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
