"""Every response shape checked against Intuit's official QBO v3 XSDs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sandboxes.qbo import QBOSandbox, RealmSpec
from sandboxes.qbo.catalog import ALL_ENTITIES, CDC_ENTITIES
from sandboxes.qbo.client import SandboxClient
from sandboxes.qbo.xsd_shape import schema

REALM = "9130350000000001"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxClient]:
    path: Path = tmp_path_factory.mktemp("qbo-shapes")
    with QBOSandbox(realms=[RealmSpec(REALM, seed=3, transactions=1500)], data_dir=path) as sb:
        handle = sb.realm()
        handle.delete("Invoice", handle.ids("Invoice")[0])
        handle.void("Payment", handle.ids("Payment")[0])
        c = SandboxClient(sb)
        yield c
        c.close()


def parsed(response_text: str) -> dict:
    return json.loads(response_text, parse_float=Decimal)


@pytest.mark.parametrize("entity", sorted(ALL_ENTITIES))
def test_every_entity_has_rows_valid_against_xsd(client: SandboxClient, entity: str) -> None:
    response = client.query(f"select * from {entity} maxresults 1000")
    assert response.status_code == 200
    body = parsed(response.text)
    rows = body["QueryResponse"].get(entity, [])
    assert rows, f"no {entity} generated"
    assert schema().check_response(body) == []
    for row in rows:
        assert isinstance(row["SyncToken"], str) and isinstance(row["Id"], str)
        assert datetime.fromisoformat(row["MetaData"]["LastUpdatedTime"]).utcoffset() is not None


def test_cdc_response_with_deleted_object_is_valid(client: SandboxClient) -> None:
    since = (datetime.now(UTC) - timedelta(days=29)).isoformat()
    body = parsed(client.get("cdc", {"entities": ",".join(sorted(CDC_ENTITIES - {"JournalCode"})), "changedSince": since}).text)
    statuses = {o.get("status") for p in body["CDCResponse"][0]["QueryResponse"] for v in p.values() if isinstance(v, list) for o in v}
    assert "Deleted" in statuses
    assert schema().check_response(body) == []


def test_fault_and_count_bodies_are_valid(client: SandboxClient) -> None:
    fault = parsed(client.query("select * from Invoice where").text)
    assert schema().check_response(fault) == []
    count = parsed(client.query("select count(*) from Invoice").text)
    assert schema().check_response(count) == []


def test_read_by_id_body_is_valid(client: SandboxClient) -> None:
    assert schema().check_response(parsed(client.get("bill/2").text)) == []


def test_checker_rejects_unknown_members_and_bad_enumerations() -> None:
    bad_key = {"Id": "1", "SyncToken": "0", "Name": "X", "Colour": "red"}
    assert any("Colour" in e for e in schema().check_object("Class", bad_key))
    bad_enum = {"Id": "1", "SyncToken": "0", "Name": "X", "AccountType": "Piggy Bank"}
    assert schema().check_object("Account", bad_enum)
    bad_detail = {"Id": "1", "SyncToken": "0", "Line": [{"Amount": 1, "DetailType": "MagicLineDetail"}]}
    assert schema().check_object("JournalEntry", bad_detail)
    bad_money = {"Id": "1", "SyncToken": "0", "TotalAmt": "lots"}
    assert schema().check_object("Invoice", bad_money)
    valid = {"Id": "1", "SyncToken": "0", "Name": "X", "AccountType": "Bank", "Active": True}
    assert schema().check_object("Account", valid) == []
