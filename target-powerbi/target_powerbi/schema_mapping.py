"""Singer JSON Schema -> Power BI push-table columns, and records -> push rows.

* ``integer`` -> Int64, ``number`` -> Decimal (Power BI's fixed decimal: money stays exact to
  four places; set ``number_data_type: Double`` for rates that need more), ``boolean`` ->
  Boolean, ``date``/``date-time`` strings -> DateTime, other strings -> String.
* Objects are flattened one level (``billing_address`` -> ``billing_address_city``); arrays and
  deeper objects become JSON text.
* A Decimal value is rounded to four places, half away from zero, the way Power BI's fixed
  decimal stores it (DAX ``CURRENCY``: a fifth decimal of 5 or more rounds the fourth up), so
  the mirror's rows and Power BI's agree; money (two places) is never touched, and each run logs
  how many values were rounded per stream (``number_data_type: Double`` keeps more places).
* A value a column cannot hold at all (a number beyond the fixed decimal's range, an integer
  beyond Int64, a string beyond the 4,000-character limit) is never cut:
  :meth:`RowShaper.problem` names it and the record is set aside as a data failure.
* JSON text is the target's own rendering of nested data Power BI has no type for (an invoice's
  ``lines`` array, whose rows are also the ``invoice_lines`` table). Beyond 4,000 characters it
  is left empty and counted (the full value stays in the mirror): setting the invoice aside for
  it would take the invoice itself out of every report, and cut JSON cannot be parsed.
* Audit columns are added to every table: ``_sdc_extracted_at``, ``_sdc_received_at``,
  ``_sdc_batched_at``, ``_sdc_deleted_at``, ``_sdc_source``, ``_sdc_version``.
"""

from __future__ import annotations

import decimal
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import simplejson
from qbc_plugin_kit.failures import SystemicFailure

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


# Power BI's fixed decimal type is a 64-bit integer of ten-thousandths.
_FIXED_DECIMAL_PLACES = 4
_FIXED_DECIMAL_QUANTUM = decimal.Decimal(1).scaleb(-_FIXED_DECIMAL_PLACES)
_FIXED_DECIMAL_LIMIT = decimal.Decimal(2**63 - 1).scaleb(-_FIXED_DECIMAL_PLACES)
_INT64 = range(-(2**63), 2**63)


class SchemaTooWideError(SystemicFailure):
    """A stream has more columns than a push table can hold (every record would be refused)."""


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
            f"a push dataset table holds at most {max_columns}",
            f"drop columns with a stream map (e.g. stream_maps: {{{stream}: {{unused_column: __NULL__}}}}) "
            "or select fewer properties",
        )
    return columns


# Characters a push table name may not hold (Power BI's CreateDatasetRequest pattern).
_NOT_IN_TABLE_NAME = re.compile("[^\t\n\r #\\-0-9@-Z^_a-z~\u007f-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def table_name(stream: str) -> str:
    """The Power BI table of a stream: its name, with characters Power BI refuses as ``_``."""
    return _NOT_IN_TABLE_NAME.sub("_", stream)[:100]


def table_definition(stream: str, columns: Iterable[Column]) -> dict[str, Any]:
    return {"name": table_name(stream), "columns": [{"name": c.name, "dataType": c.data_type} for c in columns]}




class RowShaper:
    """Turns a stored record into a push row, and says when a value cannot go as it is."""

    def __init__(self, columns: list[Column], max_string_length: int = 4000) -> None:
        self.columns = columns
        self.max_string_length = max_string_length
        self.emptied_json_values = 0
        self.rounded_values = 0

    def _values(self, record: Mapping[str, Any]) -> Iterable[tuple[Column, Any]]:
        for column in self.columns:
            value: Any = record
            for part in column.path:
                value = value.get(part) if isinstance(value, Mapping) else None
            if value is not None and column.as_json:
                value = simplejson.dumps(value, use_decimal=True, ensure_ascii=False, sort_keys=True)
            yield column, value

    def row(self, record: Mapping[str, Any]) -> dict[str, Any]:
        row: dict[str, Any] = {}
        for column, value in self._values(record):
            if column.as_json and value is not None and len(value) > self.max_string_length:
                value = None
                self.emptied_json_values += 1
            elif value is not None and column.data_type in ("Decimal", "Double") and isinstance(value, str):
                value = decimal.Decimal(value)
            if value is not None and column.data_type == "Decimal" and not isinstance(value, bool):
                value = self._fixed_decimal(value)
            elif value is not None and column.data_type == "String" and not isinstance(value, str):
                value = str(value)
            row[column.name] = value
        return row

    def _fixed_decimal(self, value: Any) -> Any:
        number = value if isinstance(value, decimal.Decimal) else decimal.Decimal(str(value))
        rounded = number.quantize(_FIXED_DECIMAL_QUANTUM, decimal.ROUND_HALF_UP)
        if rounded != number:
            self.rounded_values += 1
            return rounded
        return value

    def problem(self, record: Mapping[str, Any]) -> str | None:
        """Why a column cannot hold one of the record's values at all (a data failure: the
        record is set aside as it arrived, never cut), else None. Decimal places beyond four
        are not a problem: :meth:`row` rounds them as Power BI would."""
        for column, value in self._values(record):
            if value is None or isinstance(value, bool) or column.as_json:
                continue
            reason = _misfit(column.data_type, value, self.max_string_length)
            if reason:
                return f"field '{column.name}': {reason}"
        return None


def _misfit(data_type: str, value: Any, max_string_length: int) -> str | None:
    if data_type == "Int64" and isinstance(value, int) and value not in _INT64:
        return f"{value} does not fit Power BI's Int64 type"
    if data_type == "Decimal" and isinstance(value, int | decimal.Decimal | str):
        try:
            number = decimal.Decimal(value)
        except decimal.InvalidOperation:
            return f"{value!r} is not a number"
        if not number.is_finite():
            return f"{value} is not a finite number"
        # As it will be rounded: 922337203685477.58074 rounds into the range, ...58075 beyond it.
        if abs(number) >= _FIXED_DECIMAL_LIMIT + _FIXED_DECIMAL_QUANTUM / 2:
            return f"{value} is beyond Power BI's fixed decimal range (±{_FIXED_DECIMAL_LIMIT})"
    if data_type == "Double" and isinstance(value, int | decimal.Decimal):
        try:
            finite = math.isfinite(float(value))
        except OverflowError:
            finite = False
        if not finite:
            return f"{value} is beyond the range of Power BI's Double type"
    if data_type == "String" and isinstance(value, str) and len(value) > max_string_length:
        return (f"{len(value)} characters; a Power BI push table holds at most {max_string_length} "
                "per value")
    return None
