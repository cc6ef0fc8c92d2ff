"""Which values a Power BI column cannot hold exactly (the record is set aside, never altered)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from target_powerbi.schema_mapping import RowShaper, table_columns

SCHEMA = {"type": "object", "properties": {
    "count": {"type": ["integer", "null"]}, "amount": {"type": ["number", "null"]},
    "memo": {"type": ["string", "null"]}}}


@pytest.mark.parametrize("field, value, refused", [
    ("count", 2**63 - 1, False),
    ("count", 2**63, True),
    ("count", -(2**63), False),
    ("amount", Decimal("922337203685477.5807"), False),
    ("amount", Decimal("922337203685477.5808"), True),
    ("amount", Decimal("-922337203685477.5808"), True),
    ("amount", Decimal("1.50000000"), False),  # trailing zeros round to the same value
    ("amount", Decimal("922337203685477.58074"), False),  # rounds to the largest fixed decimal
    ("amount", Decimal("922337203685477.58075"), True),  # rounds beyond it
    ("amount", Decimal("1E+40"), True),
    ("amount", Decimal("0.00001"), False),  # rounded to four places by row(), as Power BI stores it
    ("amount", 10**20, True),
    ("memo", "x" * 4000, False),
    ("memo", "x" * 4001, True),
])
def test_fixed_decimal_int64_and_string_limits(field, value, refused):
    shaper = RowShaper(table_columns(SCHEMA, "Decimal"))
    reason = shaper.problem({field: value})
    assert (reason is not None) == refused, reason
    if refused:
        assert f"field '{field}'" in reason


def test_double_columns_take_any_finite_number_but_not_one_beyond_its_range():
    shaper = RowShaper(table_columns(SCHEMA, "Double"))
    assert shaper.problem({"amount": Decimal("0.123456789")}) is None
    assert "Double" in shaper.problem({"amount": Decimal("1e400")})
    assert "Double" in shaper.problem({"amount": 10**400})


@pytest.mark.parametrize(("value", "stored"), [
    (Decimal("0.00005"), Decimal("0.0001")),
    (Decimal("-0.00005"), Decimal("-0.0001")),
    (Decimal("2.71828"), Decimal("2.7183")),
    (Decimal("19.99"), Decimal("19.99")),
    ("1.234549", Decimal("1.2345")),
])
def test_decimal_values_are_rounded_half_away_from_zero_to_four_places(value, stored):
    shaper = RowShaper(table_columns(SCHEMA, "Decimal"))
    assert shaper.row({"amount": value})["amount"] == stored
    assert shaper.rounded_values == (0 if Decimal(value) == stored else 1)
