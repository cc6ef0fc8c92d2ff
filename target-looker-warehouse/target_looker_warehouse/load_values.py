"""Convert parsed Singer record values into the exact Python values a column family loads."""

from __future__ import annotations

import datetime as dt
import decimal
import typing as t

from singer_sdk.singerlib.json import serialize_json

from target_looker_warehouse.column_types import Family

# Wide enough that quantizing a DECIMAL(38, s) value never overflows the context.
_WIDE = decimal.Context(prec=100)


class ValueConversionError(ValueError):
    """A record value cannot be stored in its column without losing data."""


def _decimal(value: t.Any, column: str, scale: int, precision: int) -> decimal.Decimal:
    if isinstance(value, bool):
        raise ValueConversionError(f"column '{column}': boolean {value!r} is not a number")
    if isinstance(value, decimal.Decimal):
        number = value
    elif isinstance(value, int):
        number = decimal.Decimal(value)
    elif isinstance(value, float):
        # repr() is the shortest string that round-trips, so no binary noise is stored.
        number = decimal.Decimal(repr(value))
    else:
        number = decimal.Decimal(str(value))
    if not number.is_finite():
        raise ValueConversionError(f"column '{column}': {number} is not a finite number")
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > scale and number != number.quantize(
        decimal.Decimal(1).scaleb(-scale), context=_WIDE
    ):
        raise ValueConversionError(
            f"column '{column}': {number} has more than {scale} decimal places; "
            "raise the decimal_scale setting to store it exactly"
        )
    # adjusted(): the exponent of the first significant digit (2 for 123.4).
    if number and number.adjusted() >= precision - scale:
        raise ValueConversionError(
            f"column '{column}': {number} has more than {precision - scale} digits before the "
            f"decimal point, which DECIMAL({precision}, {scale}) cannot hold"
        )
    return number


def _timestamp(value: t.Any, column: str) -> dt.datetime:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime):
        # Singer timestamps without an offset are UTC by the Singer spec.
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    raise ValueConversionError(f"column '{column}': {value!r} is not a timestamp")


def _date(value: t.Any, column: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    raise ValueConversionError(f"column '{column}': {value!r} is not a date")


def to_load_value(value: t.Any, family: Family, column: str, scale: int, precision: int = 38) -> t.Any:
    """Return ``value`` as the Python object the warehouse column of ``family`` stores."""
    if value is None:
        return None
    if family == Family.DECIMAL:
        return _decimal(value, column, scale, precision)
    if family == Family.INTEGER:
        if isinstance(value, decimal.Decimal) and value == value.to_integral_value():
            return int(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ValueConversionError(f"column '{column}': {value!r} is not an integer")
    if family == Family.BOOLEAN:
        if isinstance(value, bool):
            return value
        raise ValueConversionError(f"column '{column}': {value!r} is not a boolean")
    if family == Family.TIMESTAMP:
        return _timestamp(value, column)
    if family == Family.DATE:
        return _date(value, column)
    if family == Family.JSON:
        return serialize_json(value)
    if isinstance(value, str):
        return value
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return serialize_json(value)
