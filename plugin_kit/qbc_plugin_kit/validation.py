"""Record validation with full JSON Schema semantics, compiled once per stream.

fastjsonschema compiles the checks into Python (the swap the SDK documents in
``Sink.get_validator``), but its generated ``multipleOf`` code divides by a float, which fails
on the ``Decimal`` values singer-sdk reads (``TypeError: unsupported operand type(s) for /:
'decimal.Decimal' and 'float'``). So ``multipleOf`` is taken out of the compiled schema and
checked here in ``Decimal`` arithmetic, exactly. ``date``, ``date-time`` and ``time`` formats are
checked by parsing, as the targets will parse them; NaN and Infinity are refused (RFC 8259 JSON
has no such numbers, and no destination here stores them in an exact column).
"""

from __future__ import annotations

import copy
import datetime as dt
import decimal
import math
from collections.abc import Callable, Mapping
from typing import Any

import fastjsonschema

Check = Callable[[Any], None]
_MAX_REASON = 300


def _parses(parse: Callable[[str], Any]) -> Callable[[str], bool]:
    def check(value: str) -> bool:
        try:
            parse(value.replace("Z", "+00:00") if parse is dt.datetime.fromisoformat else value)
        except (ValueError, TypeError):
            return False
        return True
    return check


# Formats the targets parse; other formats are annotations here, as in the SDK's default.
_FORMATS: dict[str, Callable[[str], bool]] = {
    "date-time": _parses(dt.datetime.fromisoformat),
    "date": _parses(dt.date.fromisoformat),
    "time": _parses(dt.time.fromisoformat),
}
_IGNORED_FORMATS = ("email", "hostname", "ipv4", "ipv6", "uri", "uuid", "regex", "idn-email",
                    "uri-reference", "iri", "json-pointer", "duration", "singer.decimal")


def _without_multiple_of(node: Any, path: tuple[str, ...], found: dict[tuple[str, ...], decimal.Decimal]) -> Any:
    """The schema with every ``multipleOf`` removed; ``found`` maps property paths to it."""
    if isinstance(node, list):
        return [_without_multiple_of(item, path, found) for item in node]
    if not isinstance(node, dict):
        return node
    result: dict[str, Any] = {}
    for key, value in node.items():
        if key == "multipleOf" and isinstance(value, int | float | decimal.Decimal):
            found[path] = decimal.Decimal(str(value))
        elif key == "properties" and isinstance(value, dict):
            result[key] = {name: _without_multiple_of(sub, (*path, name), found) for name, sub in value.items()}
        elif key == "items":
            result[key] = _without_multiple_of(value, (*path, "[]"), found)
        else:
            result[key] = _without_multiple_of(value, path, found)
    return result


def _values_at(record: Any, path: tuple[str, ...]) -> list[Any]:
    values = [record]
    for step in path:
        nxt: list[Any] = []
        for value in values:
            if step == "[]" and isinstance(value, list):
                nxt.extend(value)
            elif isinstance(value, Mapping) and step in value:
                nxt.append(value[step])
        values = nxt
    return values


def non_finite_reason(record: Mapping[str, Any]) -> str | None:
    field = non_finite_field(record)
    return f"field '{field}' is NaN or Infinity, which is not a JSON number" if field else None


def non_finite_field(value: Any, path: str = "") -> str | None:
    """The path of the first NaN or Infinity in a record, or None."""
    if isinstance(value, float):
        return path or "(value)" if not math.isfinite(value) else None
    if isinstance(value, decimal.Decimal):
        return path or "(value)" if not value.is_finite() else None
    if isinstance(value, Mapping):
        for key, item in value.items():
            found = non_finite_field(item, f"{path}.{key}" if path else str(key))
            if found:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = non_finite_field(item, f"{path}[{index}]")
            if found:
                return found
    return None


# Enough digits for any number a JSON line can carry exactly: the default context (28 digits)
# cannot take the remainder of a 40-digit amount.
_EXACT = decimal.Context(prec=10_000, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN)


def _is_multiple(number: decimal.Decimal, multiple: decimal.Decimal) -> bool:
    try:
        return _EXACT.remainder(number, multiple) == 0
    except decimal.InvalidOperation:
        return False


class RecordValidator:
    """``validate(record)`` returns None for a valid record, else the reason (field named)."""

    def __init__(self, schema: Mapping[str, Any], *, check_formats: bool = True) -> None:
        multiples: dict[tuple[str, ...], decimal.Decimal] = {}
        compiled_schema = _without_multiple_of(copy.deepcopy(dict(schema)), (), multiples)
        formats: dict[str, Any] = {name: (lambda _v: True) for name in _IGNORED_FORMATS}
        if check_formats:
            formats.update(_FORMATS)
        else:
            formats.update({name: (lambda _v: True) for name in _FORMATS})
        self._compiled = fastjsonschema.compile(compiled_schema, formats=formats, use_default=False)
        self._multiples = multiples

    def validate(self, record: Mapping[str, Any]) -> str | None:
        """Why the record breaks its schema, or None. NaN and Infinity are the intake's to find
        (:func:`non_finite_reason`): the reader knows which lines hold them."""
        try:
            self._compiled(record)
        except fastjsonschema.JsonSchemaValueException as exc:
            return self._reason(exc)
        for path, multiple in self._multiples.items():
            for value in _values_at(record, path):
                if isinstance(value, bool) or not isinstance(value, int | float | decimal.Decimal):
                    continue
                number = decimal.Decimal(str(value)) if isinstance(value, float) else decimal.Decimal(value)
                if multiple and not _is_multiple(number, multiple):
                    return f"field '{'.'.join(path)}': {value} is not a multiple of {multiple}"
        return None

    @staticmethod
    def _reason(exc: fastjsonschema.JsonSchemaValueException) -> str:
        # "data.total_amount must be number" -> "field 'total_amount' must be number"
        name = str(exc.name or "data")
        field = name[5:] if name.startswith("data.") else ("" if name == "data" else name)
        message = str(exc.message)
        if message.startswith(name):
            message = message[len(name):].strip()
        shown = f"field '{field}' {message}" if field else f"record {message}"
        return shown[:_MAX_REASON]


def decimal_fits(value: decimal.Decimal | int, precision: int, scale: int) -> bool:
    """True when ``value`` is stored exactly in DECIMAL(precision, scale) (no rounding, no
    overflow): a value a column would round is a data failure, never a silent change."""
    number = value if isinstance(value, decimal.Decimal) else decimal.Decimal(value)
    if not number.is_finite():
        return False
    if number.is_zero():
        return True
    exponent = int(number.as_tuple().exponent)
    # Trailing zeros beyond the scale round to the same value: 1.50000000000 fits.
    if -exponent > scale and -int(number.normalize(_EXACT).as_tuple().exponent) > scale:
        return False
    # adjusted(): the exponent of the first significant digit (0 for 1.5, 2 for 123).
    return number.adjusted() < precision - scale
