"""Benchmark target-looker-warehouse: rows/s into DuckDB and PostgreSQL, beside meltanolabs-target-postgres.

One Singer file of N ``invoice_lines`` records (the widest fact stream of the record model,
29 columns, Decimals, dates, timestamps) is generated once and fed to every target as a
separate process; each run starts from an empty warehouse. Peak RSS is the target
process's own (``wait4``). Writes bench/results/target_looker_warehouse.md.

    python bench/target_looker_warehouse.py --rows 1000000 \
        --meltanolabs-python /tmp/venv-mltp/bin/python

``--meltanolabs-python`` is the interpreter of a separate venv holding
``meltanolabs-target-postgres`` (its dependencies differ from ours); omit it to skip that run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from sandboxes.postgres import PostgresCluster

RESULTS = Path(__file__).parent / "results" / "target_looker_warehouse.md"
DATA = Path(__file__).parent / "data"
TARGET = [sys.executable, "-c", "from target_looker_warehouse.cli import main; main()"]

STR = {"type": ["string", "null"]}
NUM = {"type": ["number", "null"]}
SCHEMA = {
    "type": "object",
    "properties": {
        "company_id": {"type": "string"}, "edition": STR, "invoice_id": {"type": "string"},
        "line_id": {"type": "string"}, "line_num": {"type": ["integer", "null"]}, "doc_number": STR,
        "txn_date": {"type": ["string", "null"], "format": "date"}, "currency": STR, "exchange_rate": NUM,
        "customer_id": STR, "vendor_id": STR,
        "updated_at": {"type": ["string", "null"], "format": "date-time"},
        "sync_token": {"type": ["integer", "null"]}, "edit_sequence": STR,
        "_sdc_deleted_at": {"type": ["string", "null"], "format": "date-time"},
        "detail_type": STR, "description": STR, "amount": NUM, "item_id": STR, "item_name": STR,
        "account_id": STR, "account_name": STR, "class_id": STR, "quantity": NUM, "unit_price": NUM,
        "posting_type": STR, "entity_id": STR, "billable_customer_id": STR,
    },
}
KEY = ["company_id", "invoice_id", "line_id"]


def make_input(rows: int) -> Path:
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"invoice_lines_{rows}.singer"
    if path.exists():
        return path
    rng = random.Random(42)
    base = dt.datetime(2026, 1, 1, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=-8)))
    with path.open("w", encoding="utf-8") as out:
        out.write(json.dumps({"type": "SCHEMA", "stream": "invoice_lines", "schema": SCHEMA, "key_properties": KEY}) + "\n")
        for n in range(rows):
            quantity = rng.randint(1, 20)
            price = Decimal(rng.randint(100, 99999)) / 100
            record = {
                "company_id": "9130350000000001", "edition": "qbo", "invoice_id": str(n // 4 + 1),
                "line_id": str(n % 4 + 1), "line_num": n % 4 + 1, "doc_number": str(100000 + n // 4),
                "txn_date": (dt.date(2026, 1, 1) + dt.timedelta(days=n % 300)).isoformat(), "currency": "USD",
                "exchange_rate": None, "customer_id": str(n % 5000), "vendor_id": None,
                "updated_at": (base + dt.timedelta(seconds=n)).isoformat(), "sync_token": n % 7,
                "edit_sequence": None, "_sdc_deleted_at": None, "detail_type": "SalesItemLineDetail",
                "description": f"Consulting hours, engagement {n % 997}", "amount": str(price * quantity),
                "item_id": str(n % 300), "item_name": f"Service {n % 300}", "account_id": "79",
                "account_name": "Services", "class_id": None, "quantity": quantity, "unit_price": str(price),
                "posting_type": None, "entity_id": None, "billable_customer_id": None,
            }
            # Money as exact JSON number literals, as the taps write them.
            line = json.dumps({"type": "RECORD", "stream": "invoice_lines", "record": record})
            for field in ("amount", "unit_price"):
                line = line.replace(f'"{field}": "{record[field]}"', f'"{field}": {record[field]}')
            out.write(line + "\n")
        out.write(json.dumps({"type": "STATE", "value": {"bookmarks": {"invoice_lines": rows}}}) + "\n")
    return path


def run(command: list[str], config: dict, input_path: Path) -> tuple[float, float, int]:
    """Run a target on the input; return (wall s, CPU s, peak RSS bytes) of that process."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(config, handle)
    started = time.perf_counter()
    with input_path.open("rb") as stdin, open(os.devnull, "wb") as devnull, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen([*command, "--config", handle.name], stdin=stdin, stdout=devnull, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - started
        if status != 0:
            err.seek(0)
            raise SystemExit(f"{command[0]} failed:\n{err.read().decode(errors='replace')[-3000:]}")
    os.unlink(handle.name)
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024


def count_rows_postgres(dsn: str, schema: str) -> int:
    import psycopg

    with psycopg.connect(dsn) as conn:
        row = conn.execute(f'SELECT COUNT(*) FROM "{schema}"."invoice_lines"').fetchone()  # noqa: S608
        return int(row[0]) if row else 0


def count_rows_duckdb(path: str) -> int:
    import duckdb

    with duckdb.connect(path, read_only=True) as conn:
        row = conn.execute("SELECT COUNT(*) FROM quickbooks.invoice_lines").fetchone()
        return int(row[0]) if row else 0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=100_000)
    parser.add_argument("--meltanolabs-python", help="python of a venv with meltanolabs-target-postgres")
    args = parser.parse_args()

    input_path = make_input(args.rows)
    results: list[tuple[str, float, float, int, int]] = []
    load_before = os.getloadavg()[0]
    work = Path(tempfile.mkdtemp(prefix="bench-tlw-"))
    common = {"batch_size_rows": args.batch_size, "model_enabled": False, "dead_letter_path": str(work / "dl")}

    duck_path = str(work / "bench.duckdb")
    seconds, cpu, rss = run(TARGET, {**common, "dialect": "duckdb", "duckdb_path": duck_path}, input_path)
    results.append(("target-looker-warehouse -> DuckDB", seconds, cpu, rss, count_rows_duckdb(duck_path)))

    with PostgresCluster() as cluster:
        url = cluster.sqlalchemy_url()
        seconds, cpu, rss = run(TARGET, {**common, "dialect": "postgres", "sqlalchemy_url": url,
                                         "default_target_schema": "tlw"}, input_path)
        results.append(("target-looker-warehouse -> PostgreSQL (COPY)", seconds, cpu, rss,
                        count_rows_postgres(cluster.dsn, "tlw")))
        if args.meltanolabs_python:
            command = [args.meltanolabs_python, "-c", "from target_postgres.target import TargetPostgres; TargetPostgres.cli()"]
            config = {"host": "127.0.0.1", "port": cluster.port, "user": "postgres", "password": "",
                      "database": "postgres", "default_target_schema": "mltp", "batch_size_rows": args.batch_size,
                      "add_record_metadata": True}
            seconds, cpu, rss = run(command, config, input_path)
            results.append(("meltanolabs-target-postgres -> PostgreSQL", seconds, cpu, rss,
                            count_rows_postgres(cluster.dsn, "mltp")))

    lines = [
        "# target-looker-warehouse benchmark",
        "",
        f"Command (from the repo root, target-looker-warehouse and sandboxes installed): "
        f"`python bench/target_looker_warehouse.py --rows {args.rows} --batch-size {args.batch_size}"
        + (" --meltanolabs-python <venv with meltanolabs-target-postgres>/bin/python`" if args.meltanolabs_python else "`"),
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores (shared with other jobs), Python {platform.python_version()}. "
        f"Input: {args.rows} `invoice_lines` records (29 columns, version-guarded upsert key "
        f"company_id+invoice_id+line_id), one process per run, empty warehouse each time, modelled layer off "
        "(raw load only). PostgreSQL 15 throwaway cluster on 127.0.0.1 with fsync off. "
        f"Load average {load_before:.1f} at the start and {os.getloadavg()[0]:.1f} at the end: other jobs "
        "shared the 2 cores, so wall-clock rows/s understate; CPU s (the target process's user+system "
        "time, not counting the database server's) compare the targets more fairly.",
        "",
        "| target -> warehouse | wall s | rows loaded | rows/s (wall) | CPU s | rows per CPU s | peak RSS |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, seconds, cpu, rss, loaded in results:
        lines.append(
            f"| {name} | {seconds:.1f} | {loaded} | {loaded / seconds:,.0f} | {cpu:.1f} | {loaded / cpu:,.0f} "
            f"| {rss / 2**20:.0f} MB |"
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
