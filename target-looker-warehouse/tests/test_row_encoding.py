"""The bulk path's row encoder: what it takes fast is what the full check takes, exactly."""

from __future__ import annotations

import decimal

import pytest
from qbc_plugin_kit.validation import RecordValidator
from target_looker_warehouse.column_types import Family, family_for_schema
from target_looker_warehouse.load_values import ValueConversionError
from target_looker_warehouse.row_encoding import NeedsFullCheck, RowEncoder

D = decimal.Decimal
SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "name": {"type": ["string", "null"]},
        "amount": {"type": ["number", "null"]},
        "count": {"type": ["integer", "null"]},
        "paid": {"type": ["boolean", "null"]},
        "updated_at": {"type": ["string", "null"], "format": "date-time"},
        "txn_date": {"type": ["string", "null"], "format": "date"},
        "meta": {"type": ["object", "null"]},
    },
}


def encoder(schema: dict = SCHEMA, *, keep_nul: bool = False) -> RowEncoder:
    names = list(schema["properties"])
    return RowEncoder(schema, names, names, [family_for_schema(schema["properties"][n]) for n in names],
                      10, 38, keep_nul=keep_nul)


def test_a_valid_record_becomes_one_copy_line_with_values_exact() -> None:
    line = encoder().encode_fast({"id": "A1", "name": "Tab\there", "amount": D("1234.5600"), "count": 3,
                                  "paid": False, "updated_at": "2026-01-01T09:00:00", "txn_date": "2026-01-02",
                                  "meta": {"a": 1}})
    assert line.split("\t") == ["A1", "Tab\\there", "1234.5600", "3", "false", "2026-01-01T09:00:00+00:00",
                                "2026-01-02", '{"a":1}']


@pytest.mark.parametrize("record", [
    {"id": None},                                   # null where the schema has no null
    {"id": "1", "amount": "12.5"},                  # a string where a number is declared
    {"id": "1", "count": D("1.0")},                 # an integer written with a fraction
    {"id": "1", "count": True},                     # a boolean is not an integer
    {"id": "1", "updated_at": "yesterday"},         # not a date-time
    {"id": "1", "amount": D("0.00000000001")},      # more places than DECIMAL(38, 10) keeps
    {"id": "1", "amount": D("1E+3")},               # exponent notation
    {"id": "1", "meta": [1]},                       # an array where an object is declared
])
def test_anything_outside_the_fast_converters_goes_to_the_full_check(record: dict) -> None:
    with pytest.raises(NeedsFullCheck):
        encoder().encode_fast(record)


def test_the_fast_path_never_accepts_what_the_full_validator_refuses() -> None:
    validator = RecordValidator(SCHEMA)
    fast = encoder()
    values = [None, "x", "", "2026-01-01", "2026-01-01T00:00:00Z", D("1.5"), D("-0.25"), 7, -3, True, {}, []]
    for name in SCHEMA["properties"]:
        for value in values:
            record = {"id": "k", name: value}
            try:
                fast.encode_fast(record)
            except (NeedsFullCheck, ValueConversionError):
                continue
            assert validator.validate(record) is None, (name, value)


def test_a_constrained_property_sends_every_record_to_the_full_check() -> None:
    schema = {"type": "object", "properties": {"id": {"type": "string", "maxLength": 3}}}
    with pytest.raises(NeedsFullCheck):
        encoder(schema).encode_fast({"id": "ab"})


def test_nul_is_refused_for_postgresql_and_kept_for_duckdb() -> None:
    with pytest.raises(ValueConversionError, match="NUL"):
        encoder().encode_fast({"id": "a\x00b"})
    # What DuckDB reads back from such a line: tests/test_duckdb_copy_text.py.
    line = encoder(keep_nul=True).encode_fast({"id": "a\x00b", "name": "\\N"})
    assert line.split("\t")[:3] == ["a\\0b", "\\\\N", "\\N"]  # NUL escaped; the text \N is not NULL


def test_checked_encoding_refuses_a_value_its_column_would_round() -> None:
    with pytest.raises(ValueConversionError, match="decimal places"):
        encoder().encode_checked({"id": "1", "amount": D("0.00000000001")})
    assert encoder().encode_checked({"id": "1", "amount": D("1E+3")})[2] == "1000"
    assert family_for_schema(SCHEMA["properties"]["amount"]) == Family.DECIMAL


@pytest.mark.parametrize("text", [
    "2026-01-01T09:00:00-08:00", "2026-01-01T09:00:00.123456+05:30", "2026-01-01T09:00:00.000000+00:00",
    "2026-01-01T09:00:00Z", "2026-01-01 09:00:00+00:00", "2026-01-01T09:00:00", "2026-01-01T09:00:00.5-03:00",
])
def test_a_timestamp_travels_in_the_form_the_databases_read_as_the_same_instant(text: str) -> None:
    import datetime as dt

    token = encoder().encode_fast({"id": "1", "updated_at": text}).split("\t")[5]
    # What every dialect reads: YYYY-MM-DDTHH:MM:SS[.ffffff]+HH:MM, the instant unchanged
    # (a timestamp without an offset is UTC, as Singer says).
    assert len(token) in (25, 32) and token[10] == "T" and token[-6] in "+-"
    sent = dt.datetime.fromisoformat(text)
    assert dt.datetime.fromisoformat(token) == (sent if sent.tzinfo else sent.replace(tzinfo=dt.UTC))
