"""Translate a parsed QBO query into one SQL statement over a realm's `objects` table (no I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from . import clock
from .catalog import ACTIVE_FLAG_ENTITIES, ALL_ENTITIES
from .errors import invalid_query, parse_error
from .query_grammar import Condition, Query, Value

MAX_RESULTS = 1000
TIME_COLUMNS = {"MetaData.LastUpdatedTime": "updated_s", "MetaData.CreateTime": "created_s"}


@dataclass
class SqlQuery:
    sql: str
    params: list[Any]


def check_entity(entity: str) -> None:
    if entity not in ALL_ENTITIES:
        raise parse_error(f"Invalid entity: {entity}")


def column_for(entity: str, name: str, known: set[str], tz: ZoneInfo) -> tuple[str, bool]:
    """SQL expression for a query property and whether literals are timestamps."""
    if name in TIME_COLUMNS:
        return TIME_COLUMNS[name], True
    if name == "Id":
        return "id", False
    if name == "Active" and entity in ACTIVE_FLAG_ENTITIES:
        return "active", False
    top = name.split(".", 1)[0]
    if top not in known or (top in ("MetaData",) and name not in TIME_COLUMNS):
        raise invalid_query(f"property '{name}' is not queryable")
    path = name + (".value" if name.endswith("Ref") else "")
    return f"json_extract(payload, '$.{path}')", False


def literal(value: Value, timestamp: bool, tz: ZoneInfo, name: str) -> Any:
    if timestamp:
        if not isinstance(value, str):
            raise invalid_query(f"{name} needs a date/time string, got {value!r}")
        try:
            return clock.to_epoch(clock.parse_instant(value, tz))
        except ValueError:
            raise invalid_query(f"Invalid date/time value '{value}' for {name}") from None
    if isinstance(value, bool):
        return int(value)
    return value


def id_literal(value: Value) -> Any:
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return value


def condition_sql(entity: str, cond: Condition, known: set[str], tz: ZoneInfo) -> tuple[str, list[Any]]:
    column, timestamp = column_for(entity, cond.field, known, tz)
    convert = id_literal if column == "id" else (lambda v: literal(v, timestamp, tz, cond.field))
    if cond.op == "in":
        values = [convert(v) for v in cond.values]
        return f"{column} IN ({', '.join('?' * len(values))})", values
    if cond.op == "like":
        if timestamp:
            raise invalid_query(f"like is not supported on {cond.field}")
        return f"{column} LIKE ?", [cond.values[0]]
    value = convert(cond.values[0])
    if column.startswith("json_extract") and isinstance(value, str) and _numeric(value):
        # Intuit compares `Balance > '0.0'` numerically and `DocNumber = '1001'` as text.
        return (
            f"(CASE WHEN typeof({column}) IN ('integer', 'real') THEN {column} {cond.op} "
            f"CAST(? AS REAL) ELSE {column} {cond.op} ? END)",
            [value, value],
        )
    return f"{column} {cond.op} ?", [value]


def _numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def build(query: Query, known: set[str], tz: ZoneInfo) -> SqlQuery:
    check_entity(query.entity)
    if query.max_results > MAX_RESULTS:
        raise invalid_query(f"value {query.max_results} is too large. Max allowed value is {MAX_RESULTS}")
    clauses = ["entity = ?", "deleted = 0"]
    params: list[Any] = [query.entity]
    mentions_active = False
    for cond in query.where:
        sql, values = condition_sql(query.entity, cond, known, tz)
        clauses.append(sql)
        params.extend(values)
        mentions_active |= cond.field == "Active"
    # Intuit hides inactive list records unless the query names Active itself.
    if query.entity in ACTIVE_FLAG_ENTITIES and not mentions_active:
        clauses.append("active = 1")
    # Column expressions come from column_for(): fixed columns or json_extract paths built from
    # identifiers the tokenizer restricts to [A-Za-z0-9_.] and the XSD knows; values are parameters.
    where = " AND ".join(clauses)
    if query.count:
        return SqlQuery(f"SELECT count(*) FROM objects WHERE {where}", params)  # noqa: S608
    order_terms = []
    for name, descending in query.order:
        column, _ = column_for(query.entity, name, known, tz)
        order_terms.append(f"{column} {'DESC' if descending else 'ASC'}")
    order_terms.append("id ASC")  # ties keep a stable order so paging never skips or repeats
    sql = f"SELECT payload FROM objects WHERE {where} ORDER BY {', '.join(order_terms)} LIMIT ? OFFSET ?"  # noqa: S608
    return SqlQuery(sql, [*params, query.max_results, query.start_position - 1])
