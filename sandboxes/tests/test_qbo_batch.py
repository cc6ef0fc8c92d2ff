"""The batch endpoint: items answered by bId, per-item Faults, the 30-item and 40-a-minute limits."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sandboxes.qbo import QBOSandbox, RealmSpec
from sandboxes.qbo.client import SandboxClient

REALM = "9130350000000001"


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[QBOSandbox]:
    path: Path = tmp_path_factory.mktemp("qbo-batch")
    with QBOSandbox(realms=[RealmSpec(REALM, seed=3, transactions=300)], data_dir=path) as sb:
        yield sb


@pytest.fixture()
def client(sandbox: QBOSandbox) -> Iterator[SandboxClient]:
    c = SandboxClient(sandbox)
    yield c
    c.close()


def test_batch_answers_each_query_under_its_bid(client: SandboxClient) -> None:
    items = [
        {"bId": "inv", "Query": "select * from Invoice maxresults 5"},
        {"bId": "cust", "Query": "SELECT count(*) FROM customer"},
    ]
    response = client.post("batch", {"BatchItemRequest": items})
    assert response.status_code == 200, response.text
    answers = {a["bId"]: a for a in response.json()["BatchItemResponse"]}
    direct = client.query_json("select * from Invoice maxresults 5")["QueryResponse"]
    assert [o["Id"] for o in answers["inv"]["QueryResponse"]["Invoice"]] == [o["Id"] for o in direct["Invoice"]]
    assert answers["cust"]["QueryResponse"]["totalCount"] == client.sandbox.realm().query_count("Customer")
    assert "time" in response.json()


def test_a_bad_item_gets_its_own_fault_and_the_others_still_run(client: SandboxClient) -> None:
    items = [
        {"bId": "bad", "Query": "select * from Invoice where Colour = 'red'"},
        {"bId": "good", "Query": "select * from Vendor maxresults 2"},
    ]
    answers = {a["bId"]: a for a in client.post("batch", {"BatchItemRequest": items}).json()["BatchItemResponse"]}
    assert answers["bad"]["Fault"]["Error"][0]["code"] == "4001"
    assert "Colour" in answers["bad"]["Fault"]["Error"][0]["Detail"]
    assert len(answers["good"]["QueryResponse"]["Vendor"]) == 2


def test_batch_writes_create_update_and_delete(client: SandboxClient) -> None:
    handle = client.sandbox.realm()
    customer_id = handle.ids("Customer")[1]
    token = handle.get("Customer", customer_id)["SyncToken"]
    invoice_id = handle.ids("Invoice")[-1]
    invoice_token = handle.get("Invoice", invoice_id)["SyncToken"]
    items = [
        {"bId": "new", "operation": "create", "Class": {"Name": "Batch-made class"}},
        {"bId": "upd", "operation": "update", "Customer": {"Id": customer_id, "SyncToken": token, "Notes": "via batch"}},
        {"bId": "del", "operation": "delete", "Invoice": {"Id": invoice_id, "SyncToken": invoice_token}},
        {"bId": "stale", "operation": "update", "Customer": {"Id": customer_id, "SyncToken": token, "Notes": "again"}},
    ]
    answers = {a["bId"]: a for a in client.post("batch", {"BatchItemRequest": items}).json()["BatchItemResponse"]}
    assert handle.get("Class", answers["new"]["Class"]["Id"])["Name"] == "Batch-made class"
    assert handle.get("Customer", customer_id)["Notes"] == "via batch"
    assert handle.get("Invoice", invoice_id) is None
    # Items run in order: the fourth carries the SyncToken the second one already used.
    assert answers["stale"]["Fault"]["Error"][0]["code"] == "5010"


def test_more_than_thirty_items_are_refused_whole(client: SandboxClient) -> None:
    items = [{"bId": str(i), "Query": "select * from Term"} for i in range(31)]
    response = client.post("batch", {"BatchItemRequest": items})
    assert response.status_code == 400
    assert "maximum number of payloads in a single batch request is 30" in response.json()["Fault"]["Error"][0]["Detail"]
    assert client.post("batch", {"BatchItemRequest": items[:30]}).status_code == 200


@pytest.mark.parametrize("items", [
    [{"Query": "select * from Term"}],
    [{"bId": "a", "Query": "select * from Term"}, {"bId": "a", "Query": "select * from Class"}],
    [],
])
def test_items_without_a_unique_bid_are_refused(client: SandboxClient, items: list) -> None:
    response = client.post("batch", {"BatchItemRequest": items})
    assert response.status_code == 400
    assert "Batch request is invalid" in response.json()["Fault"]["Error"][0]["Detail"]


def test_the_forty_first_batch_in_a_minute_is_throttled(tmp_path: Path) -> None:
    with QBOSandbox(realms=[RealmSpec(REALM, seed=3, transactions=20)], data_dir=tmp_path) as sb:
        c = SandboxClient(sb)
        body = {"BatchItemRequest": [{"bId": "1", "Query": "select * from Term"}]}
        statuses = [c.post("batch", body).status_code for _ in range(41)]
        assert statuses[:40] == [200] * 40
        assert statuses[40] == 429
        assert c.query("select * from Term").status_code == 200  # single calls keep their own budget
        c.close()
