"""JSON Schema -> column family, widening, and exact value conversion."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from target_looker_warehouse.column_types import (
    Family,
    family_for_schema,
    family_from_database_type,
    widened,
)
from target_looker_warehouse.load_values import ValueConversionError, to_load_value


@pytest.mark.parametrize(
    ("schema", "family"),
    [
        ({"type": ["number", "null"]}, Family.DECIMAL),
        ({"type": ["string", "null"], "format": "date-time"}, Family.TIMESTAMP),
        ({"type": ["string", "null"], "format": "date"}, Family.DATE),
        ({"type": ["object", "null"], "properties": {}}, Family.JSON),
        ({"type": ["array", "null"]}, Family.JSON),
        ({"type": ["integer", "number"]}, Family.DECIMAL),
        ({"type": ["string", "integer"]}, Family.TEXT),
        ({"anyOf": [{"type": "null"}, {"type": "string", "format": "date-time"}]}, Family.TIMESTAMP),
        ({}, Family.JSON),
    ],
)
def test_family_for_schema(schema: dict, family: Family) -> None:
    assert family_for_schema(schema) == family


@pytest.mark.parametrize(
    ("current", "incoming", "result"),
    [
        (Family.INTEGER, Family.DECIMAL, Family.DECIMAL),
        (Family.DECIMAL, Family.INTEGER, None),
        (Family.DATE, Family.TIMESTAMP, Family.TIMESTAMP),
        (Family.BOOLEAN, Family.INTEGER, Family.TEXT),
        (Family.TEXT, Family.JSON, None),
        (Family.JSON, Family.TEXT, Family.TEXT),
    ],
)
def test_widening_never_narrows(current: Family, incoming: Family, result: Family | None) -> None:
    assert widened(current, incoming) == result


def test_database_types_are_classified_for_both_dialects() -> None:
    assert family_from_database_type("DECIMAL(38,10)") == Family.DECIMAL
    assert family_from_database_type("numeric") == Family.DECIMAL
    assert family_from_database_type("timestamp with time zone") == Family.TIMESTAMP
    assert family_from_database_type("jsonb") == Family.JSON
    assert family_from_database_type("character varying") == Family.TEXT


def test_decimal_values_stay_exact_or_are_refused() -> None:
    assert to_load_value(Decimal("0.1"), Family.DECIMAL, "amount", 10) == Decimal("0.1")
    assert to_load_value(0.1, Family.DECIMAL, "amount", 10) == Decimal("0.1")
    assert to_load_value(Decimal("1.50000000000000"), Family.DECIMAL, "amount", 10) == Decimal("1.5")
    with pytest.raises(ValueConversionError, match="more than 10 decimal places"):
        to_load_value(Decimal("0.00000000001"), Family.DECIMAL, "amount", 10)
    with pytest.raises(ValueConversionError):
        to_load_value(True, Family.DECIMAL, "amount", 10)


def test_timestamps_without_offset_are_utc_and_offsets_are_kept() -> None:
    naive = to_load_value(dt.datetime(2026, 1, 1, 12), Family.TIMESTAMP, "t", 10)
    assert naive.tzinfo == dt.UTC
    offset = to_load_value("2026-11-02T09:15:02-08:00", Family.TIMESTAMP, "t", 10)
    assert offset.utcoffset() == dt.timedelta(hours=-8)
