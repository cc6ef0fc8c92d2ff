"""Singer JSON Schema -> Power BI push-table columns, and records -> push rows.

* ``integer`` -> Int64, ``number`` -> Decimal (Power BI's fixed decimal: money stays exact to
  four places; set ``number_data_type: Double`` for rates that need more), ``boolean`` ->
  Boolean, ``date``/``date-time`` strings -> DateTime, other strings -> String.
* Objects are flattened one level (``billing_address`` -> ``billing_address_city``); arrays and
  deeper objects become JSON text.
* Audit columns are added to every table: ``_sdc_extracted_at``, ``_sdc_received_at``,
  ``_sdc_batched_at``, ``_sdc_deleted_at``, ``_sdc_source``, ``_sdc_version``.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import simplejson

AUDIT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("_sdc_extracted_at", "DateTime"),
    ("_sdc_received_at", "DateTime"),
    ("_sdc_batched_at", "DateTime"),
    ("_sdc_deleted_at", "DateTime"),
    ("_sdc_source", "String"),
    ("_sdc_version", "String"),
)
# SDK bookkeeping that says nothing to a Power BI user and would spend the 75-column budget.
_SKIPPED = {"_sdc_sequence", "_sdc_table_version", "_sdc_sync_started_at"}


class SchemaTooWideError(Exception):
    pass


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str
    path: tuple[str, ...]
    as_json: bool = False


def _types(schema: Mapping[str, Any]) -> set[str]:
    declared = schema.get("type")
    if isinstance(declared, str):
        return {declared} - {"null"}
    if isinstance(declared, list):
        return set(declared) - {"null"}
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return {t for option in schema[key] for t in _types(option)}
    return set()


def _scalar_type(schema: Mapping[str, Any], number_type: str) -> str | None:
    types = _types(schema)
    if types == {"integer"}:
        return "Int64"
    if types <= {"number", "integer"} and types:
        return number_type
    if types == {"boolean"}:
        return "Boolean"
    if types == {"string"}:
        return "DateTime" if schema.get("format") in ("date-time", "date") else "String"
    return None


def table_columns(schema: Mapping[str, Any], number_type: str = "Decimal", max_columns: int = 75,
                  stream: str = "") -> list[Column]:
    columns: list[Column] = []
    audit_names = {name for name, _ in AUDIT_COLUMNS}
    for name, prop in (schema.get("properties") or {}).items():
        if name in _SKIPPED or name in audit_names:
            continue
        scalar = _scalar_type(prop, number_type)
        if scalar is not None:
            columns.append(Column(name, scalar, (name,)))
        elif _types(prop) == {"object"} and prop.get("properties"):
            for child, child_schema in prop["properties"].items():
                child_scalar = _scalar_type(child_schema, number_type)
                columns.append(Column(f"{name}_{child}", child_scalar or "String", (name, child),
                                      as_json=child_scalar is None))
        else:
            columns.append(Column(name, "String", (name,), as_json=True))
    columns.extend(Column(name, data_type, (name,)) for name, data_type in AUDIT_COLUMNS)
    if len(columns) > max_columns:
        raise SchemaTooWideError(
            f"stream {stream!r} maps to {len(columns)} Power BI columns (audit columns included); "
            f"a push dataset table holds at most {max_columns}. Drop columns with a stream map "
            f"(e.g. stream_maps: {{{stream}: {{unused_column: __NULL__}}}}) or select fewer properties."
        )
    return columns


def table_definition(name: str, columns: Iterable[Column]) -> dict[str, Any]:
    return {"name": name, "columns": [{"name": c.name, "dataType": c.data_type} for c in columns]}




class RowShaper:
    """Turns a stored record into a push row; counts values cut to the string limit."""

    def __init__(self, columns: list[Column], max_string_length: int = 4000) -> None:
        self.columns = columns
        self.max_string_length = max_string_length
        self.truncated_values = 0

    def row(self, record: Mapping[str, Any]) -> dict[str, Any]:
        row: dict[str, Any] = {}
        for column in self.columns:
            value: Any = record
            for part in column.path:
                value = value.get(part) if isinstance(value, Mapping) else None
            if value is None:
                row[column.name] = None
                continue
            if column.as_json:
                value = simplejson.dumps(value, use_decimal=True, ensure_ascii=False, sort_keys=True)
            elif column.data_type in ("Decimal", "Double") and isinstance(value, str):
                value = decimal.Decimal(value)
            elif column.data_type == "String" and not isinstance(value, str):
                value = str(value)
            if isinstance(value, str) and column.data_type == "String" and len(value) > self.max_string_length:
                # Power BI rejects the whole POST for one long value; the full value stays in the
                # local mirror, the table gets the documented maximum.
                value = value[: self.max_string_length]
                self.truncated_values += 1
            row[column.name] = value
        return row
