"""Both QuickBooks taps emit the same streams with the same shapes (docs/record-model.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .conftest import discover

SHARED_STREAMS = [
    "accounts", "customers", "vendors", "employees", "items", "classes",
    "invoices", "invoice_lines", "bills", "bill_lines", "purchase_orders", "purchase_order_lines",
    "journal_entries", "journal_entry_lines", "payments", "bill_payments",
    "credit_memos", "credit_memo_lines", "deleted_records",
]
EVERY_RECORD = {"company_id", "edition", "created_at", "updated_at", "sync_token", "edit_sequence",
                "_sdc_deleted_at"}


@pytest.fixture(scope="module")
def catalogs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("catalogs")
    result = {}
    for tap in ("tap-quickbooks-online", "tap-quickbooks-desktop"):
        catalog = discover(tap, Path(tmp))
        result[tap] = {entry["tap_stream_id"]: entry for entry in catalog["streams"]}
    return result


def _types(prop: dict[str, Any]) -> frozenset[str]:
    kind = prop.get("type", [])
    return frozenset({kind} if isinstance(kind, str) else kind)


def _shape(schema: dict[str, Any]) -> dict[str, Any]:
    """Property names with their types and formats, recursively: what a target builds tables from."""
    shape: dict[str, Any] = {}
    for name, prop in schema.get("properties", {}).items():
        node: dict[str, Any] = {"type": _types(prop), "format": prop.get("format")}
        if "properties" in prop:
            node["properties"] = _shape(prop)
        if "items" in prop:
            node["items"] = _shape(prop["items"]) if "properties" in prop["items"] else _types(prop["items"])
        shape[name] = node
    return shape


@pytest.mark.parametrize("stream", SHARED_STREAMS)
def test_both_taps_emit_the_stream_with_the_same_shape(catalogs: dict[str, Any], stream: str) -> None:
    online = catalogs["tap-quickbooks-online"].get(stream)
    desktop = catalogs["tap-quickbooks-desktop"].get(stream)
    assert online, f"tap-quickbooks-online has no {stream} stream"
    assert desktop, f"tap-quickbooks-desktop has no {stream} stream"
    assert online["key_properties"] == desktop["key_properties"]
    assert online.get("replication_key") == desktop.get("replication_key")
    online_shape, desktop_shape = _shape(online["schema"]), _shape(desktop["schema"])
    only_online = sorted(set(online_shape) - set(desktop_shape))
    only_desktop = sorted(set(desktop_shape) - set(online_shape))
    assert not only_online and not only_desktop, (
        f"{stream}: only in online {only_online}, only in desktop {only_desktop}")
    differing = [n for n in online_shape if online_shape[n] != desktop_shape[n]]
    assert not differing, f"{stream}: types differ for {differing}"


@pytest.mark.parametrize("tap", ["tap-quickbooks-online", "tap-quickbooks-desktop"])
def test_every_stream_carries_the_company_version_and_deletion_columns(
    catalogs: dict[str, Any], tap: str
) -> None:
    for stream in SHARED_STREAMS:
        if stream == "deleted_records":
            continue
        properties = set(catalogs[tap][stream]["schema"]["properties"])
        assert properties >= EVERY_RECORD, f"{tap} {stream} lacks {sorted(EVERY_RECORD - properties)}"


@pytest.mark.parametrize("tap", ["tap-quickbooks-online", "tap-quickbooks-desktop"])
def test_money_is_never_typed_as_a_string_or_integer(catalogs: dict[str, Any], tap: str) -> None:
    money = {"total_amount", "balance", "amount", "unit_price", "current_balance", "exchange_rate"}
    for stream in SHARED_STREAMS:
        for name, prop in catalogs[tap][stream]["schema"]["properties"].items():
            if name in money:
                assert "number" in _types(prop), f"{tap} {stream}.{name} is {prop.get('type')}"
