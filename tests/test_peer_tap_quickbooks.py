"""A QuickBooks Online client nobody here wrote (PyPI tap-quickbooks 2.5.0, singer-io) syncs the
QBO sandbox in full, with zero refused requests, and lands the same per-stream counts as ours.

The peer runs in its own virtualenv (cached under ``.meltano/peer-clients/``), installed by name
with pip. Its Intuit host constants are redirected at run time by a wrapper module
(``peer_clients/tap_quickbooks_redirect.py``), never by editing installed files; TLS trust is the
sandbox's CA via ``REQUESTS_CA_BUNDLE``, as a corporate CA bundle would be.
``QBC_PEER_TRANSACTIONS`` sizes the company (default 300; the long version: 20000).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sandboxes.qbo import QBOSandbox, RealmSpec

from tests.conftest import executable
from tests.peer_clients.venvs import peer_python

PEER = ("tap-quickbooks==2.5.0",)
WRAPPER = Path(__file__).parent / "peer_clients" / "tap_quickbooks_redirect.py"
REALM = "9130350000000001"
# The peer's queries ask for inactive rows ("Active IN (true, false)") on these streams only; on
# the others (customer_types) QuickBooks leaves inactive rows out, as it does for any client.
PEER_ASKS_FOR_INACTIVE = {"accounts", "budgets", "classes", "customers", "departments", "employees", "items",
                          "payment_methods", "tax_codes", "tax_rates", "terms", "vendors"}


def records(stdout: str) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for line in stdout.splitlines():
        message = json.loads(line)
        if message["type"] == "RECORD":
            out.setdefault(message["stream"], []).append(message["record"])
    return out


def select_all(catalog: dict[str, Any], keep: set[str] | None = None) -> dict[str, Any]:
    for entry in catalog["streams"]:
        for meta in entry["metadata"]:
            if meta["breadcrumb"] == []:
                meta["metadata"]["selected"] = keep is None or entry["tap_stream_id"] in keep
    return catalog


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    python = peer_python("tap-quickbooks-2.5.0", PEER)
    work = tmp_path_factory.mktemp("peer-tap-quickbooks")
    transactions = int(os.environ.get("QBC_PEER_TRANSACTIONS", "300"))
    # Every generated change inside the last 20 days: the peer's deleted_objects stream asks CDC
    # from its start_date, and Intuit's CDC looks back 30 days at most.
    spec = RealmSpec(REALM, seed=7, transactions=transactions, days=20)
    with QBOSandbox(realms=[spec], data_dir=work / "company", tls=True) as sandbox:
        handle = sandbox.realm()
        deleted = handle.ids("Invoice")[0]
        handle.delete("Invoice", deleted)
        assert sandbox.certificate is not None
        env = {**os.environ, "QBC_PEER_API_BASE": sandbox.base_url, "QBC_PEER_TOKEN_URL": sandbox.token_url,
               "REQUESTS_CA_BUNDLE": str(sandbox.certificate.ca_file)}
        start = (dt.datetime.now(dt.UTC) - dt.timedelta(days=29)).strftime("%Y-%m-%dT%H:%M:%SZ")
        config = work / "peer-config.json"
        config.write_text(json.dumps({
            "start_date": start, "user_agent": "quickbooks-connectors peer test", "realm_id": REALM,
            "client_id": sandbox.client_id, "client_secret": sandbox.client_secret,
            "refresh_token": sandbox.issue_tokens(REALM)["refresh_token"],
        }))
        command = [str(python), str(WRAPPER), "--config", str(config)]
        discovered = subprocess.run([*command, "--discover"], capture_output=True, text=True, env=env, timeout=300)
        assert discovered.returncode == 0, discovered.stderr[-3000:]
        catalog = work / "peer-catalog.json"
        catalog.write_text(json.dumps(select_all(json.loads(discovered.stdout))))
        peer = subprocess.run([*command, "--catalog", str(catalog)], capture_output=True, text=True, env=env,
                              timeout=900)
        peer_stats = sandbox.stats(REALM)
        peer_requests = list(peer_stats.requests)
        sandbox.reset_stats()

        ours = run_ours(sandbox, work, env)
        return {"peer": peer, "peer_requests": peer_requests, "ours": ours, "deleted": deleted,
                "transactions": transactions,
                "start": start, "entity_streams": set(records(peer.stdout)) - {"profit_loss_report", "deleted_objects"}}


def run_ours(sandbox: QBOSandbox, work: Path, env: dict[str, str]) -> dict[str, list[dict[str, Any]]]:
    key_env = "QBC_PEER_TEST_TOKEN_KEY"
    from cryptography.fernet import Fernet

    config = work / "ours-config.json"
    config.write_text(json.dumps({
        "client_id": sandbox.client_id, "client_secret": sandbox.client_secret, "realm_id": REALM,
        "refresh_token": sandbox.issue_tokens(REALM)["refresh_token"],
        "base_url": sandbox.base_url, "token_url": sandbox.token_url,
        "token_store_path": str(work / "tokens.fernet"), "token_store_key_env": key_env,
        "webhook_journal_path": str(work / "journal.jsonl"),
    }))
    tap = executable("tap-quickbooks-online")
    env = {**env, key_env: Fernet.generate_key().decode()}
    discovered = subprocess.run([tap, "--config", str(config), "--discover"], capture_output=True, text=True,
                                env=env, timeout=300, check=True)
    catalog = json.loads(discovered.stdout)
    entity_streams = {e["tap_stream_id"] for e in catalog["streams"] if not e["tap_stream_id"].startswith("report_")}
    (work / "ours-catalog.json").write_text(json.dumps(select_all(catalog, entity_streams)))
    result = subprocess.run([tap, "--config", str(config), "--catalog", str(work / "ours-catalog.json")],
                            capture_output=True, text=True, env=env, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    return records(result.stdout)


def test_the_peer_tap_completes_a_full_sync_with_no_refused_request(run: dict[str, Any]) -> None:
    peer = run["peer"]
    assert peer.returncode == 0, peer.stderr[-3000:]
    statuses = Counter(status for _, _, status in run["peer_requests"])
    assert set(statuses) == {200}, [r for r in run["peer_requests"] if r[2] != 200]
    # It sends every entity query through /batch (29 items, within Intuit's 30).
    assert any("/batch" in path for _, path, _ in run["peer_requests"])


def test_the_peer_lands_the_same_rows_per_stream_as_our_tap(run: dict[str, Any]) -> None:
    peer = records(run["peer"].stdout)
    ours = run["ours"]
    assert len(run["entity_streams"]) == 29
    for stream in sorted(run["entity_streams"]):
        # Our first run also flags what the change feed says was deleted (a killed earlier run may
        # have delivered it); a query, the peer's only read, never returns a deleted entity.
        our_rows = [row for row in ours.get(stream, []) if not row.get("_sdc_deleted_at")]
        expected = len(our_rows) if stream in PEER_ASKS_FOR_INACTIVE else sum(
            1 for row in our_rows if row.get("active") is not False)
        assert len(peer[stream]) == expected, stream
        assert {str(r["Id"]) for r in peer[stream]} <= {str(r["id"]) for r in our_rows}, stream


def test_the_peer_sees_the_deleted_invoice_through_cdc(run: dict[str, Any]) -> None:
    if run["transactions"] > 600:
        # Over CDC's 1,000 objects per answer the peer asks entity by entity and still gets only the
        # first 1,000, without the deletion (Intuit returns deleted objects after active ones).
        pytest.skip("the company changes more than CDC's 1,000 objects per answer: the peer tap misses deletions")
    deleted = records(run["peer"].stdout).get("deleted_objects", [])
    assert {"Id": run["deleted"], "Type": "Invoice"} in [{"Id": d["Id"], "Type": d["Type"]} for d in deleted]


def test_the_peer_profit_and_loss_by_day_has_a_row_per_day_of_its_window(run: dict[str, Any]) -> None:
    days = records(run["peer"].stdout)["profit_loss_report"]
    start = dt.date.fromisoformat(run["start"][:10])
    assert days[0]["ReportDate"][:10] == start.isoformat()
    assert len(days) == (dt.datetime.now(dt.UTC).date() - start).days + 1
    assert all("Net Income" in d["Details"] for d in days)
