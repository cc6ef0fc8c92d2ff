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
    ("amount", Decimal("0.00001"), True),
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
