"""Change data capture: 30-day window, 1,000-object cap, deleted objects, unsupported entities."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sandboxes.qbo import QBOSandbox, RealmSpec
from sandboxes.qbo.client import SandboxClient
from sandboxes.qbo.fixtures import qbo_sandbox_factory_fixture, qbo_sandbox_fixture  # noqa: F401

REALM = "9130350000000001"


def since(days: float) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).astimezone().isoformat(timespec="seconds")


def cdc(client: SandboxClient, entities: str, changed_since: str) -> dict:
    response = client.get("cdc", {"entities": entities, "changedSince": changed_since})
    assert response.status_code == 200, response.text
    return response.json()


def objects(body: dict, entity: str) -> list[dict]:
    for part in body["CDCResponse"][0]["QueryResponse"]:
        if entity in part:
            return part[entity]
    return []


def test_cdc_returns_changes_since_for_each_entity(qbo_sandbox: QBOSandbox) -> None:
    client = SandboxClient(qbo_sandbox)
    start = since(29)
    body = cdc(client, "Invoice,Bill,Customer", start)
    parts = body["CDCResponse"][0]["QueryResponse"]
    assert len(parts) == 3
    invoices = objects(body, "Invoice")
    floor = datetime.fromisoformat(start)
    assert invoices and all(datetime.fromisoformat(i["MetaData"]["LastUpdatedTime"]) >= floor for i in invoices)
    everything = client.query_json("select * from Invoice maxresults 1000")["QueryResponse"]["Invoice"]
    recent = [i for i in everything if datetime.fromisoformat(i["MetaData"]["LastUpdatedTime"]) >= floor]
    assert sorted(i["Id"] for i in invoices) == sorted(i["Id"] for i in recent)


def test_cdc_older_than_30_days_is_refused(qbo_sandbox: QBOSandbox) -> None:
    response = SandboxClient(qbo_sandbox).get("cdc", {"entities": "Invoice", "changedSince": since(31)})
    assert response.status_code == 400
    error = response.json()["Fault"]["Error"][0]
    assert "older than fixed days is not supported" in error["Detail"]


def test_cdc_refuses_an_unsupported_entity_without_failing_the_others(qbo_sandbox: QBOSandbox) -> None:
    handle = qbo_sandbox.realm()
    changed = handle.update("Customer", handle.ids("Customer")[0], {"Notes": "moved"})
    client = SandboxClient(qbo_sandbox)
    # Intuit: CDC serves every object except JournalCode, TimeActivity, TaxAgency, TaxCode, TaxRate.
    for entity in ("TaxCode", "TimeActivity", "TaxAgency", "TaxRate", "JournalCode"):
        response = client.get("cdc", {"entities": f"Customer,{entity}", "changedSince": since(1)})
        assert response.status_code == 200
        blocks = response.json()["CDCResponse"]
        customers = blocks[0]["QueryResponse"][0]["Customer"]
        assert changed["Id"] in [c["Id"] for c in customers]
        fault = blocks[1]["Fault"]["Error"][0]
        assert fault["element"] == entity
        assert f"Entity {entity} is not supported for ChangeDataCapture" in fault["Detail"]


def test_cdc_serves_every_other_entity_it_holds(qbo_sandbox: QBOSandbox) -> None:
    client = SandboxClient(qbo_sandbox)
    entities = "Budget,CompanyInfo,Preferences,CustomerType,Attachable,CompanyCurrency"
    body = cdc(client, entities, since(1))
    assert len(body["CDCResponse"]) == 1
    assert len(body["CDCResponse"][0]["QueryResponse"]) == 6


def test_cdc_with_an_unknown_entity_name_is_refused_whole(qbo_sandbox: QBOSandbox) -> None:
    response = SandboxClient(qbo_sandbox).get("cdc", {"entities": "Customer,Invoices", "changedSince": since(1)})
    assert response.status_code == 400
    assert "Invalid entity: Invoices" in response.json()["Fault"]["Error"][0]["Detail"]


def test_cdc_shows_deleted_transaction_with_status_deleted(qbo_sandbox: QBOSandbox) -> None:
    handle = qbo_sandbox.realm()
    victim = handle.ids("Invoice")[3]
    handle.delete("Invoice", victim)
    client = SandboxClient(qbo_sandbox)
    deleted = [i for i in objects(cdc(client, "Invoice", since(0.01)), "Invoice") if i["Id"] == victim]
    assert len(deleted) == 1
    assert deleted[0]["status"] == "Deleted" and deleted[0]["domain"] == "QBO"
    assert set(deleted[0]) == {"domain", "status", "Id", "MetaData"}
    assert client.get(f"invoice/{victim}").status_code == 400
    gone = client.query_json(f"select count(*) from Invoice where Id = '{victim}'")
    assert gone["QueryResponse"]["totalCount"] == 0


def test_cdc_groups_by_type_deleted_last_and_stops_at_1000_objects(qbo_sandbox_factory: Callable[..., QBOSandbox]) -> None:
    sb = qbo_sandbox_factory(realms=[RealmSpec(REALM, transactions=1300, days=5)])
    handle = sb.realm()
    deleted = handle.ids("Invoice")[0]
    handle.delete("Invoice", deleted)
    client = SandboxClient(sb)
    requested = ["Invoice", "Bill", "Payment", "BillPayment", "Customer", "Vendor"]
    body = cdc(client, ",".join(requested), since(10))
    parts = body["CDCResponse"][0]["QueryResponse"]
    returned = [(name, o) for part in parts for name, objs in part.items() if isinstance(objs, list) for o in objs]
    assert len(returned) == 1000
    # Grouped by type in the order asked; within a group by change time, deleted objects last.
    names = [name for name, _ in returned]
    assert names == sorted(names, key=requested.index)
    invoices = [o for name, o in returned if name == "Invoice"]
    assert invoices[-1]["Id"] == deleted and invoices[-1]["status"] == "Deleted"
    active = [datetime.fromisoformat(o["MetaData"]["LastUpdatedTime"]) for o in invoices[:-1]]
    assert active == sorted(active)
    assert {o["Id"] for o in invoices} == set(handle.ids("Invoice")) | {deleted}
    # The cut fell inside a later group: the groups after it came back empty.
    assert parts[-1] == {}


def test_cdc_list_deactivation_is_an_update_not_a_delete(qbo_sandbox: QBOSandbox) -> None:
    handle = qbo_sandbox.realm()
    customer = handle.ids("Customer")[0]
    handle.deactivate("Customer", customer)
    changed = objects(cdc(SandboxClient(qbo_sandbox), "Customer", since(0.01)), "Customer")
    match = [c for c in changed if c["Id"] == customer]
    assert match and match[0]["Active"] is False and "status" not in match[0]
