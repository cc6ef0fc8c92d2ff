"""The bulk path's per-column converters store exactly what the full encoding stores, and hand
every value they cannot vouch for to the full check."""

from __future__ import annotations

from decimal import Decimal

import pytest
from target_databricks.fast_rows import FastRows, NeedsFullCheck
from target_databricks.row_encoding import encode_value
from target_databricks.type_mapping import TypeSettings, sql_type

SCHEMA = {"type": "object", "properties": {
    "id": {"type": "string"},
    "memo": {"type": ["string", "null"]},
    "total_amount": {"type": ["number", "null"]},
    "quantity": {"type": ["integer", "number", "null"]},
    "sync_token": {"type": ["integer", "null"]},
    "paid": {"type": ["boolean", "null"]},
    "txn_date": {"type": ["string", "null"], "format": "date"},
    "updated_at": {"type": ["string", "null"], "format": "date-time"},
    "tags": {"type": ["array", "null"]},
    "extra": {"type": ["object", "null"]},
}}
NAMES = list(SCHEMA["properties"])
TYPES = [sql_type(p, TypeSettings()) for p in SCHEMA["properties"].values()]


def _full(record):
    return [encode_value(name, record.get(name), kind) for name, kind in zip(NAMES, TYPES, strict=True)]


@pytest.mark.parametrize("record", [
    {"id": "1", "memo": "O'Hara \\ \"quoted\"\n", "total_amount": Decimal("1234.50"), "quantity": 3,
     "sync_token": 0, "paid": True, "txn_date": "2026-02-28", "updated_at": "2026-01-01T09:30:00-08:00",
     "tags": ["a", 1], "extra": {"k": Decimal("0.10")}},
    {"id": "2", "total_amount": Decimal("-0.01"), "quantity": Decimal("2.5"),
     "updated_at": "2026-01-01T17:30:00.123456Z"},
    {"id": "3", "total_amount": 7, "updated_at": "2026-06-30T23:59:59.5+05:45"},
    {"id": "4", "updated_at": "2026-03-01T00:00:00"},  # no offset: UTC by the Singer spec
    {"id": "5", "total_amount": None, "paid": False, "updated_at": None, "tags": []},
])
def test_fast_rows_store_the_same_text_as_the_full_encoding(record):
    fast = FastRows(SCHEMA, NAMES, TYPES).encode
    assert fast is not None
    assert fast(record) == _full(record)


def test_timestamps_are_staged_in_utc_with_microseconds():
    fast = FastRows(SCHEMA, NAMES, TYPES).encode
    assert fast is not None
    row = fast({"id": "1", "updated_at": "2026-01-01T23:30:00.25-08:00"})
    assert row[NAMES.index("updated_at")] == "2026-01-02 07:30:00.250000+00:00"


@pytest.mark.parametrize(("name", "value"), [
    ("id", 1),  # not a string
    ("id", None),  # not nullable
    ("total_amount", "12.50"),
    ("total_amount", Decimal("1E+3")),
    ("total_amount", Decimal("0.00000000001")),  # more places than DECIMAL(38,10) keeps
    ("total_amount", Decimal("NaN")),
    ("total_amount", 10**28),  # more integer digits than DECIMAL(38,10) holds
    ("sync_token", True),
    ("sync_token", 2**63),
    ("paid", 1),
    ("txn_date", "2026-02-30"),
    ("updated_at", "yesterday"),
    ("updated_at", "0001-01-01T00:00:00+01:00"),  # before year 1 in UTC
    ("tags", {"a": 1}),
])
def test_values_the_converters_cannot_vouch_for_go_to_the_full_check(name, value):
    fast = FastRows(SCHEMA, NAMES, TYPES).encode
    assert fast is not None
    with pytest.raises(NeedsFullCheck):
        fast({"id": "1", name: value})


@pytest.mark.parametrize("prop", [
    {"type": "string", "maxLength": 3},
    {"type": "object", "properties": {"a": {"type": "string"}}},
    {"anyOf": [{"type": "string"}, {"type": "null"}]},
])
def test_a_constrained_property_sends_every_record_to_the_full_check(prop):
    schema = {"type": "object", "properties": {"id": {"type": "string"}, "x": prop}}
    types = [sql_type(p, TypeSettings()) for p in schema["properties"].values()]
    assert FastRows(schema, ["id", "x"], types).encode is None
    assert FastRows({**schema, "required": ["id"]}, ["id"], types[:1]).encode is None
