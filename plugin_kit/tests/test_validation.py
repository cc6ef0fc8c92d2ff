"""Validation with JSON Schema semantics on the values singer-sdk reads (Decimal)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from qbc_plugin_kit.validation import RecordValidator, decimal_fits, non_finite_reason

SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "amount": {"type": ["number", "null"], "multipleOf": 0.01},
        "count": {"type": ["integer", "null"]},
        "updated_at": {"type": ["string", "null"], "format": "date-time"},
        "lines": {"type": ["array", "null"], "items": {"type": "object", "properties": {
            "rate": {"type": ["number", "null"], "multipleOf": 0.0001}}}},
    },
}


@pytest.mark.parametrize("amount", [Decimal("12.34"), Decimal("-0.01"), 5, Decimal("1" * 40 + ".00"), None])
def test_multiple_of_accepts_exact_cents(amount: object) -> None:
    assert RecordValidator(SCHEMA).validate({"id": "1", "amount": amount}) is None


def test_multiple_of_names_the_field_that_breaks_it() -> None:
    reason = RecordValidator(SCHEMA).validate({"id": "1", "amount": Decimal("12.345")})
    assert reason == "field 'amount': 12.345 is not a multiple of 0.01"
    nested = RecordValidator(SCHEMA).validate({"id": "1", "lines": [{"rate": Decimal("0.00001")}]})
    assert nested is not None and "lines.[].rate" in nested


@pytest.mark.parametrize("value", [float("nan"), float("inf"), Decimal("NaN"), Decimal("-Infinity")])
def test_nan_and_infinity_are_found_and_named(value: object) -> None:
    assert non_finite_reason({"id": "1", "lines": [{"rate": value}]}) == (
        "field 'lines[0].rate' is NaN or Infinity, which is not a JSON number")
    assert non_finite_reason({"id": "1", "amount": Decimal("1E+400")}) is None


def test_type_and_format_failures_name_the_field_once() -> None:
    reason = RecordValidator(SCHEMA).validate({"id": "1", "count": Decimal("1.5")})
    assert reason is not None and reason.startswith("field 'count'") and reason.count("count") == 1
    assert "updated_at" in str(RecordValidator(SCHEMA).validate({"id": "1", "updated_at": "2026-13-45T00:00:00Z"}))
    assert RecordValidator(SCHEMA).validate({"id": "1", "updated_at": "2026-11-02T09:15:02-08:00"}) is None


@pytest.mark.parametrize(
    ("value", "fits"),
    [(Decimal("12.34"), True), (Decimal("1.50000000000000"), True), (Decimal("1.00000000001"), False),
     (Decimal("9" * 28), True), (Decimal("9" * 29), False), (10**27, True), (10**28, False),
     (Decimal("-0.5"), True), (Decimal("0E-20"), True), (Decimal("1E+400"), False)],
)
def test_decimal_fits_decimal_38_10_exactly(value: Decimal, fits: bool) -> None:
    assert decimal_fits(value, 38, 10) is fits
