"""Power BI push datasets: storage, swagger validation and the documented push limits.

Limits come from Microsoft's "Push semantic model limitations" page: 75 tables, 75 columns,
10,000 rows per POST rows request, 120 POST rows requests per minute per dataset (120 per hour
once a table holds 250,000 rows), 1,000,000 rows added per hour per dataset, 200,000 rows per
table under ``basicFIFO`` (oldest dropped), 5,000,000 under ``None``, 4,000 characters per string
value. Request bodies are validated against the swagger definitions in
``shared/reference/powerbi/swagger.json``.

Decimal (fixed decimal) values are stored rounded to four places, half away from zero, as
Power BI's fixed decimal type holds them (DAX CURRENCY: "if the fifth significant decimal is
5 or more, the fourth is rounded up"). Relationships sent with a new dataset must join
columns that exist. PutTable on a table the dataset lacks answers ItemNotFound unless
``PushLimits.put_table_adds_tables`` is set (to exercise a service that allows it).
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import re
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import jsonschema

from sandboxes import reference_path

DATA_TYPES = {"int64": "Int64", "double": "Double", "decimal": "Decimal", "boolean": "Boolean",
              "bool": "Boolean", "datetime": "DateTime", "string": "String"}


@dataclass
class PushLimits:
    max_tables: int = 75
    max_columns: int = 75
    max_rows_per_post: int = 10_000
    post_requests_per_minute: int = 120
    post_requests_per_hour_large_table: int = 120
    large_table_rows: int = 250_000
    rows_per_hour: int = 1_000_000
    max_string_length: int = 4_000
    fifo_max_rows: int = 200_000
    none_max_rows: int = 5_000_000
    put_table_adds_tables: bool = False


FIXED_DECIMAL_QUANTUM = decimal.Decimal("0.0001")


class PowerBIError(Exception):
    def __init__(self, status: int, code: str, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.retry_after = status, code, message, retry_after


@cache
def _swagger_definitions() -> dict[str, Any]:
    swagger = json.loads(reference_path("powerbi", "swagger.json").read_text(encoding="utf-8"))
    return dict(swagger["definitions"])


def validate_body(definition: str, body: Any) -> None:
    """Raise a 400 ``InvalidRequest`` when ``body`` does not match the swagger definition."""
    schema = {"$ref": f"#/definitions/{definition}", "definitions": _swagger_definitions()}
    try:
        jsonschema.Draft4Validator(schema).validate(body)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "body"
        raise PowerBIError(400, "InvalidRequest", f"{definition} at {where}: {exc.message}") from exc


@dataclass
class Table:
    name: str
    columns: dict[str, str]  # name -> canonical data type
    rows: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Dataset:
    id: str
    name: str
    retention_policy: str
    tables: dict[str, Table] = field(default_factory=dict)
    relationships: list[dict[str, Any]] = field(default_factory=list)
    post_times: deque[float] = field(default_factory=deque)
    row_posts: deque[tuple[float, int]] = field(default_factory=deque)

    def describe(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "addRowsAPIEnabled": True,
                "configuredBy": "sandbox-service-principal", "isRefreshable": False,
                "defaultRetentionPolicy": self.retention_policy,
                "targetStorageMode": "PushStreaming"}


class PushDatasetStore:
    """All workspaces' push datasets, guarded by one lock (requests are small and few)."""

    def __init__(self, limits: PushLimits | None = None) -> None:
        self.limits = limits or PushLimits()
        self._groups: dict[str, dict[str, Dataset]] = {}
        self._lock = threading.RLock()

    # --- datasets and tables -------------------------------------------------------------

    def list_datasets(self, group_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return [d.describe() for d in self._groups.get(group_id, {}).values()]

    def create_dataset(self, group_id: str, body: Any, retention_policy: str | None) -> dict[str, Any]:
        validate_body("CreateDatasetRequest", body)
        policy = retention_policy or "None"
        if policy not in ("None", "basicFIFO"):
            raise PowerBIError(400, "InvalidRequest", f"defaultRetentionPolicy {policy!r} is not valid")
        if body.get("defaultMode", "Push") not in ("Push", "PushStreaming"):
            raise PowerBIError(400, "InvalidRequest", "only push datasets can be created through this API")
        if len(body["tables"]) > self.limits.max_tables:
            raise PowerBIError(400, "InvalidRequest",
                               f"a push dataset holds at most {self.limits.max_tables} tables")
        tables = [self._table_from_body(t) for t in body["tables"]]
        by_name = {t.name: t for t in tables}
        for relationship in body.get("relationships") or []:
            for side in ("from", "to"):
                table = by_name.get(relationship[f"{side}Table"])
                if table is None or relationship[f"{side}Column"] not in table.columns:
                    raise PowerBIError(400, "InvalidRequest",
                                       f"relationship {relationship['name']!r}: column "
                                       f"{relationship[side + 'Table']}.{relationship[side + 'Column']} does not exist")
        dataset = Dataset(str(uuid.uuid4()), body["name"], policy, by_name,
                          [dict(r) for r in body.get("relationships") or []])
        with self._lock:
            self._groups.setdefault(group_id, {})[dataset.id] = dataset
        return dataset.describe()

    def delete_dataset(self, group_id: str, dataset_id: str) -> None:
        with self._lock:
            self._dataset(group_id, dataset_id)
            del self._groups[group_id][dataset_id]

    def list_tables(self, group_id: str, dataset_id: str) -> list[dict[str, Any]]:
        with self._lock:
            dataset = self._dataset(group_id, dataset_id)
            return [{"name": t.name, "columns": [{"name": c, "dataType": d} for c, d in t.columns.items()]}
                    for t in dataset.tables.values()]

    def put_table(self, group_id: str, dataset_id: str, table_name: str, body: Any) -> dict[str, Any]:
        validate_body("Table", body)
        if body["name"] != table_name:
            raise PowerBIError(400, "InvalidRequest",
                               f"table name in body {body['name']!r} differs from the URL's {table_name!r}")
        table = self._table_from_body(body)
        with self._lock:
            dataset = self._dataset(group_id, dataset_id)
            # PutTable updates a table; Power BI cannot add a table to an existing push dataset
            # and answers ItemNotFound (seen in the field, e.g. gbrueckl/PowerBI.API.Client#21).
            if table_name not in dataset.tables and self.limits.put_table_adds_tables:
                dataset.tables[table_name] = table
                return {"name": table_name}
            existing = self._table(dataset, table_name)
            # Rows survive a schema update; values of dropped columns go with them.
            table.rows = [{k: v for k, v in row.items() if k in table.columns} for row in existing.rows]
            dataset.tables[table_name] = table
        return {"name": table_name}

    def _table_from_body(self, body: dict[str, Any]) -> Table:
        columns: dict[str, str] = {}
        if len(body["columns"]) > self.limits.max_columns:
            raise PowerBIError(400, "InvalidRequest",
                               f"table {body['name']!r} has {len(body['columns'])} columns; "
                               f"the limit is {self.limits.max_columns}")
        for column in body["columns"]:
            data_type = DATA_TYPES.get(str(column["dataType"]).lower())
            if data_type is None:
                raise PowerBIError(400, "InvalidRequest",
                                   f"column {column['name']!r} has unsupported dataType {column['dataType']!r}")
            if column["name"] in columns:
                raise PowerBIError(400, "InvalidRequest", f"duplicate column {column['name']!r}")
            columns[column["name"]] = data_type
        return Table(body["name"], columns)

    def _dataset(self, group_id: str, dataset_id: str) -> Dataset:
        dataset = self._groups.get(group_id, {}).get(dataset_id)
        if dataset is None:
            raise PowerBIError(404, "ItemNotFound", f"Dataset {dataset_id} is not found in group {group_id}")
        return dataset

    def _table(self, dataset: Dataset, table_name: str) -> Table:
        table = dataset.tables.get(table_name)
        if table is None:
            raise PowerBIError(404, "ItemNotFound",
                               f"Table '{table_name}' not found in dataset '{dataset.id}'")
        return table

    # --- rows --------------------------------------------------------------------------------

    def post_rows(self, group_id: str, dataset_id: str, table_name: str, body: Any) -> None:
        validate_body("PostRowsRequest", body)
        rows = body.get("rows") or []
        limits = self.limits
        if len(rows) > limits.max_rows_per_post:
            raise PowerBIError(400, "InvalidRequest",
                               f"{len(rows)} rows in one request; the limit is {limits.max_rows_per_post}")
        with self._lock:
            dataset = self._dataset(group_id, dataset_id)
            table = self._table(dataset, table_name)
            for index, row in enumerate(rows):
                self._check_row(table, index, row)
            self._enforce_rate(dataset, table, len(rows))
            table.rows.extend(_as_stored(table, row) for row in rows)
            cap = limits.fifo_max_rows if dataset.retention_policy == "basicFIFO" else None
            if cap is not None and len(table.rows) > cap:
                del table.rows[: len(table.rows) - cap]
            elif len(table.rows) > limits.none_max_rows:
                del table.rows[-len(rows):]
                raise PowerBIError(400, "InvalidRequest",
                                   f"table {table_name} would exceed {limits.none_max_rows} rows")

    def delete_rows(self, group_id: str, dataset_id: str, table_name: str) -> None:
        with self._lock:
            dataset = self._dataset(group_id, dataset_id)
            self._table(dataset, table_name).rows.clear()

    def rows(self, dataset_name: str, table_name: str) -> list[dict[str, Any]]:
        """Test helper: the rows Power BI holds for a table of the named dataset."""
        with self._lock:
            for datasets in self._groups.values():
                for dataset in datasets.values():
                    if dataset.name == dataset_name and table_name in dataset.tables:
                        return [dict(r) for r in dataset.tables[table_name].rows]
        return []

    def datasets_named(self, dataset_name: str) -> list[Dataset]:
        with self._lock:
            return [d for ds in self._groups.values() for d in ds.values() if d.name == dataset_name]

    def _check_row(self, table: Table, index: int, row: Any) -> None:
        if not isinstance(row, dict):
            raise PowerBIError(400, "InvalidRequest", f"row {index} is not an object")
        for column, value in row.items():
            data_type = table.columns.get(column)
            if data_type is None:
                raise PowerBIError(400, "InvalidRequest",
                                   f"row {index}: column {column!r} does not exist in table {table.name}")
            if value is None:
                continue
            if not _value_fits(data_type, value, self.limits.max_string_length):
                raise PowerBIError(400, "InvalidRequest",
                                   f"row {index}: value {str(value)[:60]!r} is not a valid {data_type} "
                                   f"for column {column!r} of table {table.name}")

    def _enforce_rate(self, dataset: Dataset, table: Table, row_count: int) -> None:
        now = time.monotonic()
        limits = self.limits
        while dataset.post_times and now - dataset.post_times[0] >= 3600:
            dataset.post_times.popleft()
        while dataset.row_posts and now - dataset.row_posts[0][0] >= 3600:
            dataset.row_posts.popleft()
        last_minute = [t for t in dataset.post_times if now - t < 60]
        if len(last_minute) >= limits.post_requests_per_minute:
            wait = 60 - (now - last_minute[0])
            raise _throttled(wait, f"more than {limits.post_requests_per_minute} POST rows requests "
                                   "in a minute for this dataset")
        largest = max((len(t.rows) for t in dataset.tables.values()), default=0)
        if largest >= limits.large_table_rows and len(dataset.post_times) >= limits.post_requests_per_hour_large_table:
            wait = 3600 - (now - dataset.post_times[0])
            raise _throttled(wait, f"a table holds {limits.large_table_rows}+ rows: at most "
                                   f"{limits.post_requests_per_hour_large_table} POST rows requests an hour")
        rows_last_hour = sum(n for _, n in dataset.row_posts)
        if rows_last_hour + row_count > limits.rows_per_hour:
            wait = 3600 - (now - dataset.row_posts[0][0]) if dataset.row_posts else 3600
            raise _throttled(wait, f"more than {limits.rows_per_hour} rows added in an hour to this dataset")
        dataset.post_times.append(now)
        dataset.row_posts.append((now, row_count))


def _as_stored(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    stored = dict(row)
    for column, value in row.items():
        if table.columns.get(column) == "Decimal" and value is not None:
            stored[column] = decimal.Decimal(str(value)).quantize(FIXED_DECIMAL_QUANTUM, decimal.ROUND_HALF_UP)
    return stored


def _throttled(wait_seconds: float, why: str) -> PowerBIError:
    return PowerBIError(429, "TooManyRequests", f"Rate limit exceeded: {why}",
                        retry_after=max(1, math.ceil(wait_seconds)))


_US_DATE = re.compile(r"^\d{1,2}/\d{1,2}/\d{4}( .*)?$")


def _value_fits(data_type: str, value: Any, max_string_length: int) -> bool:
    if data_type == "Int64":
        return isinstance(value, int) and not isinstance(value, bool) and -(2**63) <= value < 2**63
    if data_type in ("Double", "Decimal"):
        return isinstance(value, int | float | decimal.Decimal) and not isinstance(value, bool)
    if data_type == "Boolean":
        return isinstance(value, bool)
    if data_type == "DateTime":
        if not isinstance(value, str):
            return False
        if _US_DATE.match(value):
            return True
        try:
            dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return False
        return True
    return isinstance(value, str) and len(value) <= max_string_length
