"""Record values as the text the staging SQL casts back, and the byte-bounded chunks.

Every value becomes a string (or null) so that DECIMAL money crosses the wire as its exact
digits, never through a float, and a value that the column cannot hold is refused here,
with the column named, instead of being rounded or silently nulled by the engine.
"""

from __future__ import annotations

import datetime
import decimal
import json
import typing as t

import simplejson

from target_databricks.type_mapping import (
    BIGINT,
    BOOLEAN,
    DATE,
    STRING,
    TIMESTAMP,
    decimal_parts,
    is_nested,
)

_BIGINT_MIN, _BIGINT_MAX = -(2**63), 2**63 - 1


class ValueRejected(ValueError):
    """A record value cannot be stored in its column without losing information."""


def _json_default(value: t.Any) -> str:
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    return str(value)


def to_json_text(value: t.Any) -> str:
    """JSON text with Decimals written as exact numbers and text as itself (not \\u escapes)."""
    return str(simplejson.dumps(value, use_decimal=True, default=_json_default,
                                separators=(",", ":"), ignore_nan=True, ensure_ascii=False))


def _parse_datetime(value: t.Any) -> datetime.datetime:
    if isinstance(value, datetime.datetime):
        return value
    if isinstance(value, datetime.date):
        return datetime.datetime(value.year, value.month, value.day, tzinfo=datetime.UTC)
    return datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def timestamp_text(value: t.Any) -> str:
    """The UTC instant of a timestamp. A value without an offset is taken as UTC."""
    moment = _parse_datetime(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S.%f") + "+00:00"


def _decimal_text(column: str, value: t.Any, sql_type: str) -> str:
    precision, scale = decimal_parts(sql_type) or (38, 10)
    if isinstance(value, bool):
        raise ValueRejected(f"column `{column}`: boolean {value!r} is not a number")
    number = value if isinstance(value, decimal.Decimal) else decimal.Decimal(str(value))
    if not number.is_finite():
        raise ValueRejected(f"column `{column}`: {number} cannot be stored in {sql_type}")
    exponent = number.as_tuple().exponent
    assert isinstance(exponent, int)
    if -exponent > scale and number != number.quantize(decimal.Decimal(1).scaleb(-scale)):
        raise ValueRejected(
            f"column `{column}`: {number} has more than {scale} decimal places; raise the "
            "decimal_scale setting rather than let the warehouse round it"
        )
    integer_digits = len(str(abs(int(number))).lstrip("0"))
    if integer_digits > precision - scale:
        raise ValueRejected(
            f"column `{column}`: {number} has more than {precision - scale} integer digits "
            f"for {sql_type}; raise the decimal_precision setting"
        )
    return format(number, "f")


def _string_text(value: t.Any) -> str:
    """Text for a STRING column; scalars as their plain text, objects and arrays as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if isinstance(value, int):
        return str(value)
    return to_json_text(value)


def encode_value(column: str, value: t.Any, sql_type: str) -> str | None:
    """The text of one value for a column of ``sql_type`` (None stays NULL)."""
    if value is None:
        return None
    if sql_type == STRING:
        return _string_text(value)
    if is_nested(sql_type):
        return to_json_text(value)
    if sql_type == TIMESTAMP:
        return timestamp_text(value)
    if sql_type == DATE:
        if isinstance(value, datetime.datetime):
            return value.date().isoformat()
        if isinstance(value, datetime.date):
            return value.isoformat()
        return datetime.date.fromisoformat(str(value)[:10]).isoformat()
    if sql_type == BOOLEAN:
        if not isinstance(value, bool):
            raise ValueRejected(f"column `{column}`: {value!r} is not a boolean")
        return "true" if value else "false"
    if sql_type == BIGINT:
        if isinstance(value, bool) or int(value) != value:
            raise ValueRejected(f"column `{column}`: {value!r} is not an integer")
        if not _BIGINT_MIN <= int(value) <= _BIGINT_MAX:
            raise ValueRejected(f"column `{column}`: {value} is outside the BIGINT range")
        return str(int(value))
    if sql_type.startswith("DECIMAL"):
        return _decimal_text(column, value, sql_type)
    return str(value)


def encode_row(record: t.Mapping[str, t.Any], columns: t.Sequence[tuple[str, str]]) -> list[
    str | None
]:
    return [encode_value(name, record.get(name), sql_type) for name, sql_type in columns]


def json_chunks(rows: t.Iterable[list[str | None]], max_bytes: int) -> t.Iterator[str]:
    """JSON arrays of rows, each at most ``max_bytes`` long (a larger single row stands alone).

    Databricks caps the values of one statement's native parameters at 1 MB.
    """
    parts: list[str] = []
    size = 2
    for row in rows:
        text = json.dumps(row, ensure_ascii=False, separators=(",", ":"))
        length = len(text.encode()) + 1
        if parts and size + length > max_bytes:
            yield "[" + ",".join(parts) + "]"
            parts, size = [], 2
        parts.append(text)
        size += length
    if parts:
        yield "[" + ",".join(parts) + "]"


def split_constant_columns(
    rows: list[list[str | None]],
) -> tuple[dict[int, str | None], list[list[str | None]]]:
    """Columns whose value is the same in every row, and the rows without them."""
    if not rows:
        return {}, rows
    first = rows[0]
    constant = [i for i in range(len(first)) if all(row[i] == first[i] for row in rows)]
    if not constant:
        return {}, rows
    if len(constant) == len(first):
        constant = constant[:-1]  # keep one column so each row is still a JSON element
    keep = [i for i in range(len(first)) if i not in set(constant)]
    return {i: first[i] for i in constant}, [[row[i] for i in keep] for row in rows]
