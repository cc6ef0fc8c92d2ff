"""target-databricks throughput against the MeltanoLabs approach, on the same local engine.

Both loaders get the same invoice-like rows and upsert them into a fresh table on the local
Spark SQL warehouse (sandboxes.databricks: Spark Thrift Server + Iceberg behind the adapter).

* target-databricks: the real target, in process (SDK message parsing, validation, dedupe,
  one JSON parameter per <= 900 kB chunk into a staging table, one MERGE per batch).
* baseline: MeltanoLabs target-databricks' load path, re-implemented here from its design:
  every value inlined as a literal into ``MERGE ... USING (SELECT CAST(..) FROM VALUES ...)``,
  20 000 cells per statement, numbers as DOUBLE, as a sink of the same singer-sdk, so both
  pay the same Singer parsing and record validation. It writes no audit columns (MeltanoLabs'
  default); target-databricks writes eight more columns per row.

Usage: python -m bench.target_databricks --rows 100000 [--batch-rows 50000]
       python -m bench.target_databricks --quick     # 20,000 rows, for bench/run's quick mode
Writes bench/results/target_databricks.md; `measure()` returns the figures as a dict.
"""

# S608: the baseline below builds SQL text with inlined values on purpose; that is the
# approach being measured.
# ruff: noqa: S608

from __future__ import annotations

import argparse
import datetime
import logging
import platform
import resource
import sys
import time
import typing as t
from decimal import Decimal
from pathlib import Path

# This file's name is the plugin's package name: drop bench/ from the import path first.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from sandboxes.databricks import LocalWarehouse  # noqa: E402
from singer_sdk import typing as th  # noqa: E402
from singer_sdk.sinks import BatchSink  # noqa: E402
from singer_sdk.target_base import Target  # noqa: E402
from target_databricks.row_encoding import to_json_text  # noqa: E402
from target_databricks.target import TargetDatabricks  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "target_databricks.md"
COLUMNS = {
    "company_id": "STRING", "edition": "STRING", "id": "STRING", "doc_number": "STRING",
    "customer_name": "STRING", "total_amount": "DOUBLE", "balance": "DOUBLE",
    "txn_date": "DATE", "updated_at": "TIMESTAMP", "sync_token": "BIGINT",
}
SCHEMA = {
    "company_id": {"type": "string"}, "edition": {"type": ["string", "null"]},
    "id": {"type": "string"}, "doc_number": {"type": ["string", "null"]},
    "customer_name": {"type": ["string", "null"]},
    "total_amount": {"type": ["number", "null"]}, "balance": {"type": ["number", "null"]},
    "txn_date": {"type": ["string", "null"], "format": "date"},
    "updated_at": {"type": ["string", "null"], "format": "date-time"},
    "sync_token": {"type": ["integer", "null"]},
}
CELLS_PER_STATEMENT = 20_000


def rows(count: int, version: int = 1) -> t.Iterator[dict[str, t.Any]]:
    """``version`` 2 is the same records edited an hour later with new amounts."""
    base = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone(datetime.timedelta(hours=-8)))
    base += datetime.timedelta(hours=version - 1)
    for i in range(count):
        yield {
            "company_id": "9130354", "edition": "qbo", "id": str(100000 + i),
            "doc_number": f"INV-{i:07d}", "customer_name": f"Customer {i % 5000} O'Hara",
            "total_amount": Decimal(f"{(i * 7919 * version) % 1000000}.{i % 100:02d}"),
            "balance": Decimal(f"{(i * 31) % 10000}.{(i * 3) % 100:02d}"),
            "txn_date": f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}",
            "updated_at": (base + datetime.timedelta(seconds=i)).isoformat(),
            "sync_token": i % 7 + version,
        }


class SingerInput:
    """Singer messages generated while the target reads them (no 1M-line buffer)."""

    def __init__(self, count: int, version: int = 1) -> None:
        self.count = count
        self.version = version

    def __iter__(self) -> t.Iterator[str]:
        yield to_json_text({"type": "SCHEMA", "stream": "invoices", "schema":
                            {"type": "object", "properties": SCHEMA},
                            "key_properties": ["company_id", "id"]}) + "\n"
        for row in rows(self.count, self.version):
            yield to_json_text({"type": "RECORD", "stream": "invoices", "record": row}) + "\n"


def load_with_target(warehouse: LocalWarehouse, schema: str, count: int, batch_rows: int,
                     version: int = 1) -> float:
    config = {
        "server_hostname": warehouse.server_hostname, "http_path": warehouse.http_path,
        "access_token": warehouse.access_token, "catalog": warehouse.catalog, "default_target_schema": schema,
        "ca_bundle": str(warehouse.ca_file), "table_provider": "iceberg",
        "connector_telemetry": False,
        "batch_size_rows": batch_rows, "dead_letter_path": "/tmp/bench-target-databricks-dl",
    }
    target = TargetDatabricks(config=config, parse_env_config=False)
    started = time.monotonic()
    target.listen(file_input=SingerInput(count, version))  # type: ignore[arg-type]
    elapsed = time.monotonic() - started
    target.connector.close()
    if target.delivery.set_aside_counts:
        raise RuntimeError(f"target-databricks set records aside: {dict(target.delivery.set_aside_counts)}")
    return elapsed


def _literal_select(batch: list[dict[str, t.Any]]) -> tuple[str, dict[str, t.Any]]:
    params: dict[str, t.Any] = {}
    values = []
    for r, row in enumerate(batch):
        marks = []
        for c, (name, sql_type) in enumerate(COLUMNS.items()):
            params[f"p{r}_{c}"] = _plain(row.get(name), sql_type)
            marks.append(f"%(p{r}_{c})s")
        values.append(f"({', '.join(marks)})")
    aliases = ", ".join(f"c{i}" for i in range(len(COLUMNS)))
    projection = ", ".join(f"CAST(c{i} AS {tp}) AS `{n}`"
                           for i, (n, tp) in enumerate(COLUMNS.items()))
    return f"SELECT {projection} FROM VALUES {', '.join(values)} AS v({aliases})", params


class BaselineSink(BatchSink):
    """MeltanoLabs target-databricks' load path: MERGE with every value inlined."""

    def process_batch(self, context: dict) -> None:
        cursor = self.target_cursor  # type: ignore[attr-defined]
        table = self.table  # type: ignore[attr-defined]
        names = ", ".join(f"`{n}`" for n in COLUMNS)
        updates = ", ".join(f"t.`{n}` = s.`{n}`" for n in COLUMNS if n not in ("company_id", "id"))
        latest = {(r["company_id"], r["id"]): r for r in context["records"]}  # last one wins
        records = list(latest.values())
        chunk = CELLS_PER_STATEMENT // len(COLUMNS)
        for start in range(0, len(records), chunk):
            _baseline_merge(cursor, table, records[start:start + chunk], names, updates)


class BaselineTarget(Target):
    name = "baseline-target-databricks"
    default_sink_class = BaselineSink
    config_jsonschema = th.PropertiesList(th.Property("table", th.StringType)).to_dict()


def load_with_baseline(warehouse: LocalWarehouse, schema: str, count: int, batch_rows: int,
                       version: int = 1) -> float:
    """The same Singer input through the same SDK (parsing, validation), baseline sink."""
    table = f"`{warehouse.catalog}`.`{schema}`.`invoices`"
    connection = warehouse.connect(use_inline_params="silent", enable_telemetry=False)
    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE SCHEMA IF NOT EXISTS `{warehouse.catalog}`.`{schema}`")
        columns = ", ".join(f"`{n}` {tp}" for n, tp in COLUMNS.items())
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {table} ({columns})")
        BaselineSink.target_cursor = cursor  # type: ignore[attr-defined]
        BaselineSink.table = table  # type: ignore[attr-defined]
        target = BaselineTarget(config={"batch_size_rows": batch_rows, "table": table},
                                parse_env_config=False)
        target.listen(file_input=SingerInput(count, version))  # type: ignore[arg-type]
    elapsed = time.monotonic() - started
    connection.close()
    return elapsed


def _baseline_merge(cursor: t.Any, table: str, batch: list[dict[str, t.Any]], names: str,
                    updates: str) -> None:
    select, params = _literal_select(batch)
    values = ", ".join(f"s.`{n}`" for n in COLUMNS)
    cursor.execute(
        f"MERGE INTO {table} AS t USING ({select}) AS s "
        "ON t.`company_id` = s.`company_id` AND t.`id` = s.`id` "
        f"WHEN MATCHED THEN UPDATE SET {updates} "
        f"WHEN NOT MATCHED THEN INSERT ({names}) VALUES ({values})",
        params,
    )


def _plain(value: t.Any, sql_type: str) -> t.Any:
    if value is None:
        return None
    if sql_type == "DOUBLE":
        return float(value)  # what the baseline stores money as
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return value


def check(warehouse: LocalWarehouse, schema: str, count: int) -> tuple[int, t.Any]:
    connection = warehouse.connect(enable_telemetry=False)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*), sum(total_amount) FROM "
                       f"`{warehouse.catalog}`.`{schema}`.`invoices`")
        result = cursor.fetchall()[0]
    connection.close()
    return int(result[0]), result[1]


QUICK_ROWS = 20_000


def measure(rows_count: int = 100_000, batch_rows: int = 50_000, update_rows: int = 20_000,
            skip_baseline: bool = False) -> dict[str, t.Any]:
    """Both loaders on one local warehouse; the figures, each sum checked against the input."""
    expected = sum(r["total_amount"] for r in rows(rows_count))
    expected_up = expected - sum(r["total_amount"] for r in rows(update_rows)) + sum(
        r["total_amount"] for r in rows(update_rows, 2))
    with LocalWarehouse() as warehouse:
        # A fresh JVM compiles as it goes: warm both paths up so neither pays for it alone.
        load_with_target(warehouse, "bench_warmup_a", 3000, 3000)
        load_with_baseline(warehouse, "bench_warmup_b", 3000, 3000)
        ours = load_with_target(warehouse, "bench_ours", rows_count, batch_rows)
        ours_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        ours_count, ours_sum = check(warehouse, "bench_ours", rows_count)
        ours_up = load_with_target(warehouse, "bench_ours", update_rows, batch_rows, 2)
        ours_up_sum = check(warehouse, "bench_ours", rows_count)[1]
        base = base_count = base_sum = base_up = base_up_sum = None
        if not skip_baseline:
            base = load_with_baseline(warehouse, "bench_base", rows_count, batch_rows)
            base_count, base_sum = check(warehouse, "bench_base", rows_count)
            base_up = load_with_baseline(warehouse, "bench_base", update_rows,
                                         batch_rows, 2)
            base_up_sum = check(warehouse, "bench_base", rows_count)[1]
        engine_rss = warehouse.rss_bytes() / 2**20

    return {
        "rows": rows_count, "batch_rows": batch_rows, "update_rows": update_rows,
        "expected_sum": expected, "expected_sum_after_update": expected_up,
        "ours_s": ours, "ours_rss_mib": ours_rss, "ours_count": ours_count, "ours_sum": ours_sum,
        "ours_exact": ours_sum == expected, "ours_update_s": ours_up, "ours_update_sum": ours_up_sum,
        "ours_update_exact": ours_up_sum == expected_up,
        "baseline_s": base, "baseline_count": base_count, "baseline_sum": base_sum,
        "baseline_update_s": base_up, "baseline_update_sum": base_up_sum,
        "ratio": None if base is None else base / ours,
        "update_ratio": None if base_up is None else base_up / ours_up,
        "engine_rss_mib": engine_rss,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_ROWS:,} rows, 5,000 updated")
    parser.add_argument("--batch-rows", type=int, default=50_000)
    parser.add_argument("--update-rows", type=int, default=20_000)
    parser.add_argument("--skip-baseline", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if args.quick:
        args.rows, args.update_rows = QUICK_ROWS, 5_000
    f = measure(args.rows, args.batch_rows, args.update_rows, args.skip_baseline)
    expected, expected_up = f["expected_sum"], f["expected_sum_after_update"]
    ours, ours_rss, ours_count, ours_sum = f["ours_s"], f["ours_rss_mib"], f["ours_count"], f["ours_sum"]
    ours_up, ours_up_sum = f["ours_update_s"], f["ours_update_sum"]
    base, base_count, base_sum = f["baseline_s"], f["baseline_count"], f["baseline_sum"]
    base_up, base_up_sum, engine_rss = f["baseline_update_s"], f["baseline_update_sum"], f["engine_rss_mib"]

    lines: list[str] = [
        "# target-databricks: load throughput on the local Spark SQL warehouse",
        "",
        f"Command: `python -m bench.target_databricks --rows {args.rows} "
        f"--batch-rows {args.batch_rows} --update-rows {args.update_rows}`",
        "",
        f"Machine: {platform.machine()}, {platform.python_version()}, shared 2-core box "
        "(other engineers' test suites were running; absolute numbers are noisy, the ratio "
        "is the point). Both paths are warmed up on 3,000 rows first. Engine: Spark 3.5 Thrift Server, local[2], Iceberg tables, behind "
        "the sandbox's TLS adapter. Both loaders upsert (MERGE on company_id + id) the same "
        f"{args.rows:,} invoice-like rows (10 columns) into an empty table.",
        "",
        "| loader | rows | seconds | rows/s | rows stored | sum(total_amount) exact? |",
        "|---|---:|---:|---:|---:|---|",
        f"| target-databricks (JSON parameter chunks, staging table, 1 MERGE per "
        f"{args.batch_rows:,}-row batch, DECIMAL(38,10)) | {args.rows:,} | {ours:.1f} | "
        f"{args.rows / ours:,.0f} | {ours_count:,} | {ours_sum == expected} |",
    ]
    if base is not None:
        lines.append(
            f"| baseline: MeltanoLabs approach (inline VALUES literals, MERGE per "
            f"{CELLS_PER_STATEMENT // len(COLUMNS):,} rows, DOUBLE) | {args.rows:,} | "
            f"{base:.1f} | {args.rows / base:,.0f} | {base_count:,} | "
            f"{Decimal(str(base_sum)) == expected} ({base_sum!r} vs {expected}) |"
        )
        lines += ["", f"Initial load, target-databricks vs baseline: {base / ours:.2f}x."]
    lines += [
        "",
        f"Then {args.update_rows:,} of those records arrive again, edited (newer updated_at, "
        f"new amounts), into the {args.rows:,}-row table:",
        "",
        "| loader | rows | seconds | rows/s | sum exact after update? |",
        "|---|---:|---:|---:|---|",
        f"| target-databricks | {args.update_rows:,} | {ours_up:.1f} | "
        f"{args.update_rows / ours_up:,.0f} | {ours_up_sum == expected_up} |",
    ]
    if base_up is not None:
        lines.append(
            f"| baseline | {args.update_rows:,} | {base_up:.1f} | "
            f"{args.update_rows / base_up:,.0f} | "
            f"{Decimal(str(base_up_sum)) == expected_up} |")
        lines += ["", f"Update run, target-databricks vs baseline: {base_up / ours_up:.2f}x."]
    lines += [
        "",
        f"Peak RSS of the Python process (target + bench): {ours_rss:,.0f} MiB; Spark engine "
        f"RSS at the end: {engine_rss:,.0f} MiB.",
        "",
        "Exact sum: `sum(total_amount)` read back from the table compared with the Decimal "
        "sum of the input. DOUBLE columns cannot promise it.",
    ]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    write_figures(f)


# --- Figures for bench/run (the harness's contract, see bench/harness.py) ---------------------


def write_figures(f: dict[str, t.Any]) -> None:
    """The figures as JSON into the file bench/run names in QBC_BENCH_FIGURES (nothing without it).

    Reads either shape of ``measure()``: one load per loader (``ours_s``, ``baseline_s``), or a
    list of ``loads`` per loader (parameter, volume, auto, baseline) and batch size. Checks:
    the row counts and exact sums read back (the baseline's count only: it stores DOUBLE).
    """
    import json
    import os
    import statistics

    target = os.environ.get("QBC_BENCH_FIGURES")
    if not target:
        return

    def exact(value: t.Any) -> str | None:
        return None if value is None else format(Decimal(str(value)).normalize(), "f")

    figures: dict[str, t.Any] = {"rows": f["rows"], "update_rows": f["update_rows"],
                                 "engine_rss_mib": f.get("engine_rss_mib")}
    checks: list[dict[str, t.Any]] = []
    if "loads" in f:  # every path at every batch size; the module ends with exit 1 on a wrong read-back
        loads = f["loads"]
        ours = "auto" if any(x.loader == "auto" for x in loads) else "parameter"
        largest = max(x.batch_rows for x in loads)

        def rates(loader: str, size: int) -> list[float]:
            return [x.rows_per_s for x in loads if x.loader == loader and x.batch_rows == size]

        def median(values: list[float]) -> float | None:
            return statistics.median(values) if values else None

        mine, base = rates(ours, largest), rates("baseline", largest)
        figures.update({"loader": ours, "batch_rows": largest, "rows_per_s": median(mine),
                        "baseline_rows_per_s": median(base),
                        "volume_rows_per_s": median(rates("volume", largest)),
                        "parameter_rows_per_s": median(rates("parameter", largest))})
        if mine and base:
            pairs = [a / b for a, b in zip(mine, base, strict=False)]
            figures["vs_meltanolabs_approach"] = {"median": statistics.median(pairs), "runs": pairs}
        ups = {x.loader: x.rows_per_s for x in f.get("updates", [])}
        if ups.get(ours) and ups.get("baseline"):
            figures["update_vs_meltanolabs_approach"] = ups[ours] / ups["baseline"]
        figures["statements_per_10k_rows"] = median([x.statements_per_10k for x in loads
                                                     if x.loader == ours and x.batch_rows == largest])
        if any(x.loader == "auto" for x in loads):
            # The path auto took at each size is the one whose statement count it matches; it
            # chose well when that path was the faster of the two at that size.
            chosen, right = [], True
            for size in sorted({x.batch_rows for x in loads}):
                stmts = {x.loader: x.statements_per_10k for x in loads if x.batch_rows == size}
                speed = {name: median(rates(name, size)) or 0.0 for name in ("parameter", "volume")}
                if "auto" not in stmts or not all(speed.values()):
                    continue
                took = min(("parameter", "volume"), key=lambda name: abs(stmts.get(name, 1e9) - stmts["auto"]))
                chosen.append(f"{took} at {size:,}")
                right = right and took == max(speed, key=lambda name: speed[name])
            figures["auto_path"] = ", ".join(chosen)
            figures["auto_path_is_faster"] = right
    else:
        figures.update({"loader": "parameter", "batch_rows": f["batch_rows"], "rows_per_s": f["rows"] / f["ours_s"],
                        "ours_rss_mib": f["ours_rss_mib"]})
        if f.get("baseline_s"):
            figures["baseline_rows_per_s"] = f["rows"] / f["baseline_s"]
            figures["vs_meltanolabs_approach"] = f["ratio"]
        if f.get("baseline_update_s"):
            figures["update_vs_meltanolabs_approach"] = f["update_ratio"]
        checks = [
            {"what": "target-databricks rows stored", "expected": f["rows"], "found": f["ours_count"]},
            {"what": "target-databricks sum(total_amount)", "expected": exact(f["expected_sum"]),
             "found": exact(f["ours_sum"])},
            {"what": "target-databricks sum(total_amount) after the update run",
             "expected": exact(f["expected_sum_after_update"]), "found": exact(f["ours_update_sum"])},
        ]
        if f.get("baseline_count") is not None:
            checks.append({"what": "baseline rows stored", "expected": f["rows"], "found": f["baseline_count"]})
    Path(target).write_text(json.dumps({"figures": figures, "checks": checks}, indent=1, default=str),
                            encoding="utf-8")

if __name__ == "__main__":
    main()
