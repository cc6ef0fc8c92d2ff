"""Intuit's HTTP write API: create, sparse update with SyncToken, delete, void, inactivate."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import requests
from sandboxes.qbo import QBOSandbox
from sandboxes.qbo.client import SandboxClient
from sandboxes.qbo.fixtures import qbo_sandbox_factory_fixture, qbo_sandbox_fixture  # noqa: F401


def post(client: SandboxClient, entity: str, body: dict[str, Any], operation: str | None = None) -> requests.Response:
    params = {"minorversion": "75", **({"operation": operation} if operation else {})}
    return client.session.post(
        f"{client.sandbox.api_url(client.realm_id)}/{entity.lower()}", params=params, data=json.dumps(body),
        headers={"Authorization": f"Bearer {client.access_token}", "Accept": "application/json",
                 "Content-Type": "application/json"}, timeout=10)


def test_create_update_and_stale_synctoken(qbo_sandbox: QBOSandbox) -> None:
    client = SandboxClient(qbo_sandbox)
    created = post(client, "Customer", {"DisplayName": "Over HTTP"})
    assert created.status_code == 200
    customer = created.json()["Customer"]
    assert customer["SyncToken"] == "0"
    updated = post(client, "Customer", {"Id": customer["Id"], "SyncToken": "0", "sparse": True, "CompanyName": "HTTP Ltd"})
    assert updated.json()["Customer"]["SyncToken"] == "1"
    stale = post(client, "Customer", {"Id": customer["Id"], "SyncToken": "0", "sparse": True, "CompanyName": "Late"})
    assert stale.status_code == 400
    assert stale.json()["Fault"]["Error"][0]["code"] == "5010"
    assert qbo_sandbox.stats().by_endpoint["create"] == 1 and qbo_sandbox.stats().by_endpoint["update"] == 2


def test_delete_and_void_operations(qbo_sandbox: QBOSandbox) -> None:
    client = SandboxClient(qbo_sandbox)
    handle = qbo_sandbox.realm()
    first, second = handle.ids("Invoice")[:2]
    token = handle.get("Invoice", first)["SyncToken"]  # type: ignore[index]
    deleted = post(client, "Invoice", {"Id": first, "SyncToken": token}, operation="delete")
    assert deleted.json()["Invoice"] == {"domain": "QBO", "status": "Deleted", "Id": first}
    voided = post(client, "Invoice", {"Id": second, "SyncToken": handle.get("Invoice", second)["SyncToken"]},  # type: ignore[index]
                  operation="void")
    assert Decimal(str(voided.json()["Invoice"]["TotalAmt"])) == 0


def test_setting_active_false_inactivates_list_record(qbo_sandbox: QBOSandbox) -> None:
    client = SandboxClient(qbo_sandbox)
    vendor = qbo_sandbox.realm().get("Vendor", "1")
    assert vendor is not None
    response = post(client, "Vendor", {"Id": "1", "SyncToken": vendor["SyncToken"], "sparse": True, "Active": False})
    assert response.json()["Vendor"]["Active"] is False
    assert ("Vendor", "Delete") in [(e.entity, e.operation) for e in qbo_sandbox.webhooks.pending()]


def test_list_records_cannot_be_deleted_over_http(qbo_sandbox: QBOSandbox) -> None:
    client = SandboxClient(qbo_sandbox)
    vendor = qbo_sandbox.realm().get("Vendor", "2")
    assert vendor is not None
    response = post(client, "Vendor", {"Id": "2", "SyncToken": vendor["SyncToken"]}, operation="delete")
    assert response.status_code == 400
    assert response.json()["Fault"]["Error"][0]["code"] == "6000"
