"""Type mapping, widening rules, value encoding and in-batch deduplication."""

from __future__ import annotations

import datetime
import io
import json
from decimal import Decimal

import pytest
from qbc_plugin_kit.dead_letters import DeadLetterStore
from qbc_plugin_kit.failures import RecordsSetAside
from target_databricks.row_encoding import (
    ValueRejected,
    encode_value,
    json_chunks,
    split_constant_columns,
)
from target_databricks.target import TargetDatabricks
from target_databricks.type_mapping import TypeSettings, plan_column, sql_type

DEFAULTS = TypeSettings()


@pytest.mark.parametrize(
    ("prop", "expected"),
    [
        ({"type": ["number", "null"]}, "DECIMAL(38,10)"),
        ({"type": "integer"}, "BIGINT"),
        ({"type": ["boolean", "null"]}, "BOOLEAN"),
        ({"type": ["string", "null"], "format": "date-time"}, "TIMESTAMP"),
        ({"type": "string", "format": "date"}, "DATE"),
        ({"type": "string"}, "STRING"),
        ({"type": "object", "properties": {"a": {"type": "string"}}}, "STRING"),
        ({"type": "array", "items": {"type": "string"}}, "STRING"),
        ({"anyOf": [{"type": "string", "format": "date-time"}, {"type": ["string", "null"]}]},
         "TIMESTAMP"),
        ({"type": ["string", "integer"]}, "STRING"),
    ],
)
def test_json_schema_maps_to_exact_sql_types(prop, expected):
    assert sql_type(prop, DEFAULTS) == expected


def test_money_is_never_double():
    assert "DOUBLE" not in sql_type({"type": "number"}, DEFAULTS)
    assert sql_type({"type": "number"}, TypeSettings(decimal_precision=20, decimal_scale=4)) == (
        "DECIMAL(20,4)"
    )


def test_nested_values_become_struct_and_array_when_asked():
    settings = TypeSettings(nested_as="struct")
    prop = {"type": "object", "properties": {"line1": {"type": "string"},
                                             "amount": {"type": "number"}}}
    assert sql_type(prop, settings) == "STRUCT<`line1`: STRING, `amount`: DECIMAL(38,10)>"
    assert sql_type({"type": "array", "items": {"type": "integer"}}, settings) == "ARRAY<BIGINT>"
    # no declared shape: JSON text is the only faithful column
    assert sql_type({"type": "object"}, settings) == "STRING"


@pytest.mark.parametrize(
    ("existing", "desired", "action", "new_type"),
    [
        ("bigint", "BIGINT", "keep", ""),
        ("int", "BIGINT", "widen", "BIGINT"),
        ("bigint", "DECIMAL(38,10)", "widen", "DECIMAL(38,10)"),
        ("bigint", "DECIMAL(20,4)", "widen", "DECIMAL(23,4)"),
        ("decimal(18,2)", "DECIMAL(38,10)", "widen", "DECIMAL(38,10)"),
        ("decimal(38,10)", "BIGINT", "keep", ""),
        ("decimal(38,10)", "DECIMAL(20,4)", "keep", ""),
        ("string", "BIGINT", "keep", ""),
        ("timestamp", "DATE", "keep", ""),
    ],
)
def test_safe_changes_keep_or_widen(existing, desired, action, new_type):
    plan = plan_column("c", existing, desired)
    assert (plan.action, plan.new_type) == (action, new_type)


@pytest.mark.parametrize(
    ("existing", "desired", "phrase"),
    [
        ("double", "DECIMAL(38,10)", "cannot hold DECIMAL(38,10) values exactly"),
        ("bigint", "STRING", "would lose data"),
        ("date", "TIMESTAMP", "would lose data"),
        ("boolean", "BIGINT", "would lose data"),
        ("decimal(38,2)", "DECIMAL(38,10)", "above the maximum precision 38"),
    ],
)
def test_narrowing_changes_are_refused_with_the_reason(existing, desired, phrase):
    plan = plan_column("amount", existing, desired)
    assert plan.action == "refuse"
    assert phrase in plan.reason
    assert "`amount`" in plan.reason


def test_money_travels_as_its_exact_digits():
    assert encode_value("amt", Decimal("1234567.1234567891"), "DECIMAL(38,10)") == (
        "1234567.1234567891"
    )
    assert encode_value("amt", Decimal("1E-7"), "DECIMAL(38,10)") == "0.0000001"
    assert encode_value("amt", 5, "DECIMAL(38,10)") == "5"


def test_money_that_would_be_rounded_or_overflow_is_refused():
    with pytest.raises(ValueRejected, match="more than 10 decimal places"):
        encode_value("rate", Decimal("0.12345678901"), "DECIMAL(38,10)")
    with pytest.raises(ValueRejected, match="integer digits"):
        encode_value("amt", Decimal("1" * 29), "DECIMAL(38,10)")
    # trailing zeros past the scale lose nothing
    assert encode_value("amt", Decimal("1.50000000000000"), "DECIMAL(38,10)") == (
        "1.50000000000000"
    )


def test_timestamps_become_utc_instants():
    value = datetime.datetime.fromisoformat("2026-11-02T09:15:02-08:00")
    assert encode_value("updated_at", value, "TIMESTAMP") == "2026-11-02 17:15:02.000000+00:00"
    assert encode_value("updated_at", "2026-11-02T17:15:02Z", "TIMESTAMP") == (
        "2026-11-02 17:15:02.000000+00:00"
    )


def test_other_scalars_and_nested_values():
    assert encode_value("d", datetime.date(2026, 1, 31), "DATE") == "2026-01-31"
    assert encode_value("b", False, "BOOLEAN") == "false"
    assert encode_value("n", 2**62, "BIGINT") == str(2**62)
    with pytest.raises(ValueRejected, match="BIGINT range"):
        encode_value("n", 2**63, "BIGINT")
    assert encode_value("j", {"amount": Decimal("10.10")}, "STRING") == '{"amount":10.10}'
    assert encode_value("x", None, "BIGINT") is None


def test_chunks_stay_under_the_byte_limit_and_keep_every_row():
    rows = [[str(i), "x" * 50] for i in range(1000)]
    chunks = list(json_chunks(rows, 5_000))
    assert len(chunks) > 1
    assert all(len(c.encode()) <= 5_000 for c in chunks)
    assert [r for c in chunks for r in json.loads(c)] == rows


def test_constant_columns_are_split_out_of_the_rows():
    rows = [["c1", "qbo", "1", None], ["c1", "qbo", "2", None]]
    constants, varying = split_constant_columns(rows)
    assert constants == {0: "c1", 1: "qbo", 3: None}
    assert varying == [["1"], ["2"]]
    # a single row keeps one column so it is still a JSON element
    constants, varying = split_constant_columns([["a", "b"]])
    assert constants == {0: "a"} and varying == [["b"]]


INVOICE_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "string"}, "total_amount": {"type": ["number", "null"], "multipleOf": 0.01},
    "memo": {"type": ["string", "null"]},
    "sync_token": {"type": ["integer", "null"]},
    "updated_at": {"type": ["string", "null"], "format": "date-time"}}}


def _run_offline(tmp_path, records: list[str]) -> list:
    """A run whose every record is refused before a statement is sent (no warehouse here)."""
    target = TargetDatabricks(config={
        "server_hostname": "127.0.0.1:9", "http_path": "/sql/1.0/warehouses/x",
        "access_token": "dapi-test", "dead_letter_path": str(tmp_path)}, parse_env_config=False)
    schema = json.dumps({"type": "SCHEMA", "stream": "invoices", "schema": INVOICE_SCHEMA,
                         "key_properties": ["id"]})
    with pytest.raises(RecordsSetAside, match="replay --list"):
        target.listen(file_input=io.StringIO("\n".join([schema, *records]) + "\n"))
    store = DeadLetterStore(tmp_path)
    try:
        return store.letters()
    finally:
        store.close()


def test_records_the_columns_cannot_hold_are_set_aside_one_by_one_naming_the_field(tmp_path):
    records = [
        '{"type":"RECORD","stream":"invoices","record":{"id":"1","total_amount":"ten"}}',
        '{"type":"RECORD","stream":"invoices","record":{"id":"2","total_amount":10.005}}',
        '{"type":"RECORD","stream":"invoices","record":{"id":"3","total_amount":-Infinity}}',
        '{"type":"RECORD","stream":"invoices","record":{"id":"4","total_amount":'
        '1000000000000000000000000000000000000000}}',
        '{"type":"RECORD","stream":"invoices","record":{"id":"5","sync_token":1.5}}',
        '{"type":"RECORD","stream":"invoices","record":{"id":"6","updated_at":"2026-13-02T00:00:00Z"}}',
        '{"type":"RECORD","stream":"invoices","record":{"id":"7","updated_at":"0001-01-01T00:00:00+01:00"}}',
        '{"type":"RECORD","stream":"invoices","record":{"id":"8","memo":"' + "é" * 600_000 + '"}}',
    ]
    kept = _run_offline(tmp_path, records)
    assert [letter.line for letter in kept] == records  # as they arrived, one letter each
    reasons = [letter.reason for letter in kept]
    assert "total_amount" in reasons[0] and "number" in reasons[0]
    assert "not a multiple of 0.01" in reasons[1]  # multipleOf in Decimal, no TypeError
    assert "NaN or Infinity" in reasons[2]
    assert "28 integer digits" in reasons[3]
    assert "sync_token" in reasons[4]
    assert "updated_at" in reasons[5]
    assert "updated_at" in reasons[6] and "years 1-9999" in reasons[6]  # no TIMESTAMP holds it
    assert "staging: volume" in reasons[7]
