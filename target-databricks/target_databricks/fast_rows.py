"""One converter per column, chosen once per stream, for the records of the bulk path.

A record whose every value is of its property's plain JSON type (a string for a STRING column, a
date-time string that parses for a TIMESTAMP, an int in range for a BIGINT, a Decimal or int
within the scale and precision for a DECIMAL, ...) is encoded into its row in one pass, and that
pass is its schema check too. Anything else raises :class:`NeedsFullCheck`: the record then goes
through the full JSON Schema validator and :func:`row_encoding.encode_value`, whose texts these
converters reproduce exactly (the tests compare both on the same records).
"""

from __future__ import annotations

import datetime as dt
import decimal
import typing as t

from qbc_plugin_kit.record_intake import fast_property, simple_record_schema

from target_databricks.row_encoding import to_json_text
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
_UTC = dt.UTC
_Decimal = decimal.Decimal
Convert = t.Callable[[t.Any], str]


class NeedsFullCheck(Exception):
    """The fast converters cannot vouch for this record: validate and encode it in full."""


def _timestamp() -> Convert:
    # The audit columns repeat one value for thousands of records in a row: the last one is kept.
    last: list[t.Any] = [None, ""]

    def timestamp(value: t.Any) -> str:
        if value is last[0]:
            return t.cast(str, last[1])
        if type(value) is not str:
            raise NeedsFullCheck
        try:
            moment = dt.datetime.fromisoformat(value)
            # Singer timestamps without an offset are UTC by the Singer spec.
            moment = moment.astimezone(_UTC) if moment.tzinfo is not None else moment.replace(tzinfo=_UTC)
        except (ValueError, OverflowError):
            raise NeedsFullCheck from None
        text = moment.isoformat(" ", "microseconds")
        last[0], last[1] = value, text
        return text
    return timestamp


def _date(value: t.Any) -> str:
    if type(value) is not str:
        raise NeedsFullCheck
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise NeedsFullCheck from None
    return value if len(value) == 10 else day.isoformat()


def _bigint(value: t.Any) -> str:
    if type(value) is not int or not _BIGINT_MIN <= value <= _BIGINT_MAX:
        raise NeedsFullCheck
    return str(value)


def _boolean(value: t.Any) -> str:
    if type(value) is not bool:
        raise NeedsFullCheck
    return "true" if value else "false"


def _decimal(sql_type: str, integers: bool) -> Convert:
    precision, scale = decimal_parts(sql_type) or (38, 10)
    integer_digits = precision - scale

    def number(value: t.Any) -> str:
        kind = type(value)
        if kind is int:
            text = str(value)
            if len(text.lstrip("-")) > integer_digits:
                raise NeedsFullCheck
            return text
        if kind is not _Decimal or integers:
            raise NeedsFullCheck
        text = str(value)
        # Plain notation only ("123.45", "-0.50"); exponents and non-finite values take the full
        # path, which checks them exactly.
        whole, _, places = text.partition(".")
        if (len(places) > scale or len(whole.lstrip("-")) > integer_digits
                or "E" in text or "N" in text or "n" in text):
            raise NeedsFullCheck
        return text
    return number


def _nested(expected: type) -> Convert:
    def nested(value: t.Any) -> str:
        if type(value) is not expected:
            raise NeedsFullCheck
        return to_json_text(value)
    return nested


def _converter(prop: t.Mapping[str, t.Any], sql_type: str) -> tuple[Convert | None, bool] | None:
    """(converter, nullable) for one column; converter None: a string kept as it is. None: this
    property always needs the full check."""
    found = fast_property(prop)
    if found is None:
        return None
    types, nullable, fmt = found
    if types == {"string"} and fmt is None and sql_type == STRING:
        return None, nullable
    if types == {"string"} and fmt == "date-time" and sql_type == TIMESTAMP:
        return _timestamp(), nullable
    if types == {"string"} and fmt == "date" and sql_type == DATE:
        return _date, nullable
    if types == {"integer"} and sql_type == BIGINT:
        return _bigint, nullable
    if types <= {"integer", "number"} and sql_type.startswith("DECIMAL"):
        return _decimal(sql_type, integers=types == {"integer"}), nullable
    if types == {"boolean"} and sql_type == BOOLEAN:
        return _boolean, nullable
    if types in ({"object"}, {"array"}) and (sql_type == STRING or is_nested(sql_type)):
        return _nested(dict if types == {"object"} else list), nullable
    return None


class FastRows:
    """Encodes records of one stream into rows of text (``encode_row``'s values), one converter
    per column. ``encode`` is None when the schema needs the full check for every record."""

    def __init__(self, schema: t.Mapping[str, t.Any], sources: t.Sequence[str], sql_types: t.Sequence[str]) -> None:
        properties = schema.get("properties", {})
        chosen = [_converter(properties.get(source, {}), sql_type) for source, sql_type in zip(sources, sql_types,
                                                                                               strict=True)]
        self.encode: t.Callable[[t.Mapping[str, t.Any]], list[str | None]] | None = None
        if simple_record_schema(schema) and all(c is not None for c in chosen):
            self.encode = self._compile(sources, t.cast(list[tuple[Convert | None, bool]], chosen))

    @staticmethod
    def _compile(sources: t.Sequence[str], chosen: list[tuple[Convert | None, bool]],
                 ) -> t.Callable[[t.Mapping[str, t.Any]], list[str | None]]:
        """One function per stream with every column's check written out in line (a call per
        cell cost as much as the conversion), as fastjsonschema turns checks into Python code."""
        body = ["def encode(record):", "    get = record.get"]
        namespace: dict[str, t.Any] = {"NeedsFullCheck": NeedsFullCheck}
        for i, (source, (convert, nullable)) in enumerate(zip(sources, chosen, strict=True)):
            body += [f"    v = get({source!r})", "    if v is None:",
                     f"        t{i} = None" if nullable else "        raise NeedsFullCheck"]
            if convert is None:  # a plain string column: the value is its text
                body += ["    elif type(v) is str:", f"        t{i} = v", "    else:", "        raise NeedsFullCheck"]
            else:
                namespace[f"c{i}"] = convert
                body += ["    else:", f"        t{i} = c{i}(v)"]
        body.append(f"    return [{', '.join(f't{i}' for i in range(len(chosen)))}]")
        exec(compile("\n".join(body), f"<databricks rows {sources[:1]}>", "exec"), namespace)  # noqa: S102
        return t.cast(t.Callable[[t.Mapping[str, t.Any]], list[str | None]], namespace["encode"])
