"""A second QuickBooks Online client nobody here wrote: PyPI python-quickbooks 0.9.12 with Intuit's
intuit-oauth 1.2.6 counts, pages, batch-creates and reads the change feed of the QBO sandbox,
with zero refused requests and the sandbox's own counts.

Installed by name into its own venv (cached under ``.meltano/peer-clients/``); intuit-oauth finds
the token endpoint through the sandbox's OpenID discovery document, python-quickbooks' API host is
set at run time by ``peer_clients/python_quickbooks_driver.py``; TLS trust is the sandbox's CA.
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

from tests.peer_clients.venvs import peer_python

PEER = ("python-quickbooks==0.9.12", "intuit-oauth==1.2.6")
DRIVER = Path(__file__).parent / "peer_clients" / "python_quickbooks_driver.py"
REALM = "9130350000000001"
PAGE = 100  # small pages, so a small company still makes the peer page


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    python = peer_python("python-quickbooks-0.9.12", PEER)
    work = tmp_path_factory.mktemp("peer-python-quickbooks")
    with QBOSandbox(realms=[RealmSpec(REALM, seed=9, transactions=800, days=20)], data_dir=work / "company",
                    tls=True) as sandbox:
        handle = sandbox.realm()
        since = (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)).isoformat(timespec="seconds")
        changed_invoice = handle.update("Invoice", handle.ids("Invoice")[4], {"PrivateNote": "peer"})["Id"]
        changed_customer = handle.update("Customer", handle.ids("Customer")[1], {"Notes": "peer"})["Id"]
        expected = {name: handle.query_count(name) for name in (
            "Account", "Bill", "Class", "Customer", "Employee", "Invoice", "Item", "Payment", "TaxCode", "Term", "Vendor")}
        assert sandbox.certificate is not None
        env = {**os.environ, "REQUESTS_CA_BUNDLE": str(sandbox.certificate.ca_file),
               "QBC_PEER_API_BASE": sandbox.base_url, "QBC_PEER_DISCOVERY_URL": sandbox.discovery_url,
               "QBC_PEER_CLIENT_ID": sandbox.client_id, "QBC_PEER_CLIENT_SECRET": sandbox.client_secret,
               "QBC_PEER_REFRESH_TOKEN": str(sandbox.issue_tokens(REALM)["refresh_token"]),
               "QBC_PEER_REALM": REALM, "QBC_PEER_CHANGED_SINCE": since, "QBC_PEER_PAGE": str(PAGE)}
        result = subprocess.run([str(python), str(DRIVER)], capture_output=True, text=True, env=env, timeout=600)
        assert result.returncode == 0, result.stderr[-3000:]
        made = json.loads(result.stdout)["batch"]["successes"]
        return {"out": json.loads(result.stdout), "expected": expected, "requests": list(sandbox.stats(REALM).requests),
                "made": [handle.get("Class", i) for i in made], "invoice": changed_invoice, "customer": changed_customer}


def test_no_request_of_the_peer_is_refused(run: dict[str, Any]) -> None:
    statuses = Counter(status for _, _, status in run["requests"])
    assert set(statuses) == {200}, [r for r in run["requests"] if r[2] != 200]


def test_counts_and_paged_rows_match_the_company(run: dict[str, Any]) -> None:
    assert run["out"]["counts"] == run["expected"]
    assert run["out"]["rows"] == run["expected"]
    assert run["expected"]["Invoice"] > 2 * PAGE  # the peer had to page


def test_batch_create_makes_every_object(run: dict[str, Any]) -> None:
    assert run["out"]["batch"]["faults"] == 0
    assert sorted(c["Name"] for c in run["made"]) == [f"Peer batch class {i}" for i in range(3)]


def test_change_data_capture_returns_the_changed_objects(run: dict[str, Any]) -> None:
    assert run["out"]["cdc"] == {"Invoice": [run["invoice"]], "Customer": [run["customer"]]}
