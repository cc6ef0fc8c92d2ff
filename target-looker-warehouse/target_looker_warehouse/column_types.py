"""Column type families: how a JSON Schema property maps to a warehouse column, and widening.

Dialects turn a family into their own type name (see ``dialects.py``); this module
stays dialect-free so schema evolution behaves the same on every warehouse.
"""

from __future__ import annotations

import enum
import typing as t


class Family(enum.StrEnum):
    BOOLEAN = "boolean"
    INTEGER = "integer"
    DECIMAL = "decimal"
    DATE = "date"
    TIMESTAMP = "timestamp"
    TEXT = "text"
    JSON = "json"


def _types_of(prop: t.Mapping[str, t.Any]) -> list[str]:
    declared = prop.get("type")
    if declared is None and "anyOf" in prop:
        found: list[str] = []
        for sub in prop["anyOf"]:
            found.extend(x for x in _types_of(sub) if x not in found)
        return found
    if isinstance(declared, str):
        return [declared]
    if isinstance(declared, list):
        return [str(x) for x in declared]
    return []


def _format_of(prop: t.Mapping[str, t.Any]) -> str | None:
    if "format" in prop:
        return str(prop["format"])
    for sub in prop.get("anyOf", []):
        if sub.get("format"):
            return str(sub["format"])
    return None


def family_for_schema(prop: t.Mapping[str, t.Any]) -> Family:
    """Return the column family for one JSON Schema property."""
    types = [x for x in _types_of(prop) if x != "null"]
    if len(types) != 1:
        # No type at all means "anything": JSON keeps whatever arrives; several
        # scalar types can only share a text column without losing data.
        if not types:
            return Family.JSON
        if set(types) <= {"integer", "number"}:
            return Family.DECIMAL
        return Family.TEXT
    only = types[0]
    if only == "string":
        fmt = _format_of(prop)
        if fmt == "date-time":
            return Family.TIMESTAMP
        if fmt == "date":
            return Family.DATE
        return Family.TEXT
    return {
        "integer": Family.INTEGER,
        "number": Family.DECIMAL,
        "boolean": Family.BOOLEAN,
        "object": Family.JSON,
        "array": Family.JSON,
    }.get(only, Family.TEXT)


def widened(current: Family, incoming: Family) -> Family | None:
    """Return the family the column must become to hold ``incoming`` values.

    ``None`` means the current column already holds them without loss.
    """
    if current == incoming or current == Family.TEXT:
        return None
    if current == Family.DECIMAL and incoming == Family.INTEGER:
        return None
    if current == Family.INTEGER and incoming == Family.DECIMAL:
        return Family.DECIMAL
    if current == Family.TIMESTAMP and incoming == Family.DATE:
        return None
    if current == Family.DATE and incoming == Family.TIMESTAMP:
        return Family.TIMESTAMP
    return Family.TEXT


def family_from_database_type(data_type: str) -> Family:
    """Classify an ``information_schema.columns.data_type`` value (any dialect)."""
    name = data_type.strip().lower()
    if name.startswith(("decimal", "numeric")):
        return Family.DECIMAL
    if name in {"bigint", "integer", "int", "smallint", "hugeint", "int8", "int4", "int2"}:
        return Family.INTEGER
    if name in {"boolean", "bool"}:
        return Family.BOOLEAN
    if name == "date":
        return Family.DATE
    if name.startswith("timestamp"):
        return Family.TIMESTAMP
    if name in {"json", "jsonb"}:
        return Family.JSON
    return Family.TEXT
