"""JSON Schema to Databricks SQL types, and which changes to a stored column are safe.

Pure functions: no I/O, so the widening rules are unit-tested on their own.
"""

from __future__ import annotations

import re
import typing as t
from dataclasses import dataclass

STRING = "STRING"
BIGINT = "BIGINT"
BOOLEAN = "BOOLEAN"
DATE = "DATE"
TIMESTAMP = "TIMESTAMP"

# Integer widths Spark/Databricks may report for a column someone else created.
_INTEGER_RANK = {"TINYINT": 1, "BYTE": 1, "SMALLINT": 2, "SHORT": 2, "INT": 3, "INTEGER": 3,
                 "BIGINT": 4, "LONG": 4}
_INTEGER_DIGITS = {1: 3, 2: 5, 3: 10, 4: 19}
_DECIMAL = re.compile(r"^DECIMAL\((\d+),\s*(\d+)\)$")
MAX_DECIMAL_PRECISION = 38


@dataclass(frozen=True)
class TypeSettings:
    """The target settings that decide column types."""

    decimal_precision: int = 38
    decimal_scale: int = 10
    nested_as: str = "json_string"

    @property
    def decimal(self) -> str:
        return f"DECIMAL({self.decimal_precision},{self.decimal_scale})"


def _types_and_formats(prop: t.Mapping[str, t.Any]) -> tuple[set[str], set[str]]:
    types: set[str] = set()
    formats: set[str] = set()
    for sub in prop.get("anyOf") or prop.get("oneOf") or [prop]:
        raw = sub.get("type", [])
        types.update([raw] if isinstance(raw, str) else raw)
        if "format" in sub:
            formats.add(sub["format"])
    types.discard("null")
    return types, formats


def sql_type(prop: t.Mapping[str, t.Any], settings: TypeSettings) -> str:
    """Map one JSON Schema property to the column type it is stored as.

    ``number`` is an exact DECIMAL, never DOUBLE: QuickBooks money must sum to the cent.
    A property that may be several unrelated types is kept as STRING (its JSON text).
    """
    types, formats = _types_and_formats(prop)
    if types == {"string"}:
        if formats == {"date-time"}:
            return TIMESTAMP
        if formats == {"date"}:
            return DATE
        return STRING
    if types == {"integer"}:
        return BIGINT
    if types and types <= {"integer", "number"}:
        return settings.decimal
    if types == {"boolean"}:
        return BOOLEAN
    if settings.nested_as == "struct" and types in ({"object"}, {"array"}):
        nested = _nested_type(prop, settings)
        if nested is not None:
            return nested
    return STRING


def _nested_type(prop: t.Mapping[str, t.Any], settings: TypeSettings) -> str | None:
    """STRUCT/ARRAY DDL for a nested property, or None when its shape is not declared."""
    types, _ = _types_and_formats(prop)
    if types == {"object"}:
        properties = prop.get("properties") or {}
        if not properties:
            return None
        fields = []
        for name, sub in properties.items():
            field_type = _nested_type(sub, settings) or sql_type(
                sub, TypeSettings(settings.decimal_precision, settings.decimal_scale)
            )
            fields.append(f"{quote_field(name)}: {field_type}")
        return f"STRUCT<{', '.join(fields)}>"
    if types == {"array"}:
        items = prop.get("items")
        if not isinstance(items, dict):
            return None
        item_type = _nested_type(items, settings) or sql_type(
            items, TypeSettings(settings.decimal_precision, settings.decimal_scale)
        )
        return f"ARRAY<{item_type}>"
    return None


def quote_field(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def is_nested(sql: str) -> bool:
    return sql.startswith(("STRUCT<", "ARRAY<", "MAP<"))


def normalize(type_text: str) -> str:
    """Canonical spelling of a type as DESCRIBE TABLE reports it (``decimal(38,10)``)."""
    text = type_text.strip().upper()
    match = _DECIMAL.match(text.replace(" ", ""))
    if match:
        return f"DECIMAL({int(match.group(1))},{int(match.group(2))})"
    if text == "DECIMAL":
        return "DECIMAL(10,0)"
    if text in ("LONG",):
        return BIGINT
    if text in ("INTEGER",):
        return "INT"
    return text


def decimal_parts(type_text: str) -> tuple[int, int] | None:
    match = _DECIMAL.match(type_text)
    return (int(match.group(1)), int(match.group(2))) if match else None


def _integer_digits(type_text: str) -> int | None:
    rank = _INTEGER_RANK.get(type_text)
    return _INTEGER_DIGITS[rank] if rank else None


@dataclass(frozen=True)
class ColumnPlan:
    """What to do with a stored column before loading values of the desired type."""

    action: t.Literal["keep", "widen", "refuse"]
    new_type: str = ""
    reason: str = ""


def plan_column(column: str, existing: str, desired: str) -> ColumnPlan:
    """Decide whether a stored column takes values of ``desired`` as is, must widen, or cannot.

    Widening only ever moves to a type that holds every value the old one held
    (int to bigint to decimal, decimal precision up). Anything that would lose data, or
    store money inexactly, is refused with the reason a user needs to fix the table.
    """
    existing = normalize(existing)
    desired = normalize(desired)
    if existing == desired or (existing == STRING and not is_nested(desired)):
        return ColumnPlan("keep")

    int_existing, int_desired = _integer_digits(existing), _integer_digits(desired)
    dec_existing, dec_desired = decimal_parts(existing), decimal_parts(desired)

    if int_existing and int_desired:
        if int_existing >= int_desired:
            return ColumnPlan("keep")
        return ColumnPlan("widen", desired)
    if dec_existing and (int_desired or dec_desired):
        if dec_desired:
            need_int, need_scale = dec_desired[0] - dec_desired[1], dec_desired[1]
        else:
            need_int, need_scale = int_desired or 0, 0
        have_int, have_scale = dec_existing[0] - dec_existing[1], dec_existing[1]
        if have_int >= need_int and have_scale >= need_scale:
            return ColumnPlan("keep")
        return _widen_decimal(column, existing, max(have_int, need_int), max(have_scale, need_scale))
    if int_existing and dec_desired:
        digits = max(int_existing, dec_desired[0] - dec_desired[1])
        return _widen_decimal(column, existing, digits, dec_desired[1])
    if existing == TIMESTAMP and desired == DATE:
        return ColumnPlan("keep")
    if existing in ("DOUBLE", "FLOAT") and (dec_desired or int_desired):
        return ColumnPlan(
            "refuse",
            reason=(
                f"column `{column}` is {existing}, which cannot hold {desired} values exactly; "
                f"convert it to {desired} (for example CREATE OR REPLACE TABLE ... AS SELECT "
                f"CAST(`{column}` AS {desired}) ...) or load into a new table"
            ),
        )
    return ColumnPlan(
        "refuse",
        reason=(
            f"column `{column}` is {existing} but the stream now sends {desired}; "
            "that change would lose data, so the table must be migrated by hand"
        ),
    )


def _widen_decimal(column: str, existing: str, int_digits: int, scale: int) -> ColumnPlan:
    precision = int_digits + scale
    if precision > MAX_DECIMAL_PRECISION:
        return ColumnPlan(
            "refuse",
            reason=(
                f"column `{column}` is {existing}; holding {int_digits} integer digits and "
                f"{scale} decimal places needs DECIMAL({precision},{scale}), above the "
                f"maximum precision {MAX_DECIMAL_PRECISION}"
            ),
        )
    return ColumnPlan("widen", f"DECIMAL({precision},{scale})")
