"""The floors target-looker-warehouse is measured against: what one Python process can push into
PostgreSQL and DuckDB with no Singer machinery, no validation and no merge.

    <floor venv>/bin/python bench/warehouse_floor.py postgres <dsn> <schema> < input.singer
    <floor venv>/bin/python bench/warehouse_floor.py duckdb <path> < input.singer

PostgreSQL: orjson parses each RECORD line, psycopg COPYs the values into a typed table keyed on
the stream's key. DuckDB: orjson, then Arrow tables of 50,000 rows inserted into a typed, keyed
table with casts. Run in its own venv (``bench/run`` makes it under .bench/floor).
"""

from __future__ import annotations

import sys

import orjson

SCHEMA_LINE_TYPES = {"integer": "BIGINT", "number": "DECIMAL(38, 10)", "boolean": "BOOLEAN"}


def _columns(schema: dict) -> list[tuple[str, str]]:
    columns = []
    for name, prop in schema["properties"].items():
        types = [t for t in ([prop["type"]] if isinstance(prop["type"], str) else prop["type"]) if t != "null"]
        kind = SCHEMA_LINE_TYPES.get(types[0], "VARCHAR")
        if types[0] == "string" and prop.get("format") == "date-time":
            kind = "TIMESTAMP WITH TIME ZONE"
        elif types[0] == "string" and prop.get("format") == "date":
            kind = "DATE"
        columns.append((name, kind))
    return columns


def _lines() -> tuple[dict, list[str], object]:
    handle = sys.stdin.buffer
    first = orjson.loads(handle.readline())
    return first, first["key_properties"], handle


def postgres(dsn: str, schema_name: str) -> None:
    import psycopg

    message, keys, handle = _lines()
    columns = _columns(message["schema"])
    names = [c for c, _ in columns]
    with psycopg.connect(dsn) as conn:
        conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema_name}"')
        ddl = ", ".join(f'"{c}" {k}' for c, k in columns)
        key = ", ".join(f'"{k}"' for k in keys)
        conn.execute(f'CREATE TABLE "{schema_name}".invoice_lines ({ddl}, PRIMARY KEY ({key}))')
        cols = ", ".join(f'"{c}"' for c in names)
        with conn.cursor() as cursor, cursor.copy(f'COPY "{schema_name}".invoice_lines ({cols}) FROM STDIN') as copy:
            for line in handle:  # type: ignore[attr-defined]
                msg = orjson.loads(line)
                if msg.get("type") == "RECORD":
                    record = msg["record"]
                    copy.write_row(tuple(record.get(c) for c in names))


def duckdb_floor(db_path: str) -> None:
    import duckdb
    import pyarrow as pa

    message, keys, handle = _lines()
    columns = _columns(message["schema"])
    names = [c for c, _ in columns]
    conn = duckdb.connect(db_path)
    conn.execute("CREATE SCHEMA IF NOT EXISTS floor")
    ddl = ", ".join(f'"{c}" {k}' for c, k in columns)
    conn.execute(f"CREATE TABLE floor.invoice_lines ({ddl}, PRIMARY KEY ({', '.join(keys)}))")
    select = ", ".join(f'CAST("{c}" AS {k})' for c, k in columns)
    batch: list[dict] = []

    def flush() -> None:
        arrow_batch = pa.Table.from_pylist(batch)  # noqa: F841 - read by DuckDB by name
        conn.execute(f"INSERT INTO floor.invoice_lines SELECT {select} FROM arrow_batch")  # noqa: S608
        batch.clear()

    for line in handle:  # type: ignore[attr-defined]
        msg = orjson.loads(line)
        if msg.get("type") == "RECORD":
            batch.append({c: msg["record"].get(c) for c in names})
            if len(batch) >= 50_000:
                flush()
    if batch:
        flush()
    conn.close()


if __name__ == "__main__":
    if sys.argv[1] == "postgres":
        postgres(sys.argv[2], sys.argv[3])
    else:
        duckdb_floor(sys.argv[2])
