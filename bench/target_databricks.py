"""target-databricks' two staging paths against the MeltanoLabs approach, on the same local engine.

Every loader gets the same invoice-like rows (a Singer file written once) and upserts them into
a fresh table on the local Spark SQL warehouse (sandboxes.databricks: Spark Thrift Server +
Iceberg behind the adapter), at several batch sizes, in alternating order:

* ``parameter``: the real target (``target-databricks`` console command, its own process),
  ``staging: insert``: the batch's rows as JSON query parameters (<= 900 kB each), one MERGE;
  a batch larger than one parameter goes through a staging table first.
* ``volume``: the same target, ``staging: volume``: one Parquet file PUT into a Unity Catalog
  Volume, one MERGE that reads it (``read_files``), REMOVE.
* ``auto``: the same target with the default ``staging: auto`` and a Volume configured: each
  batch takes one of the two paths by its size (``AUTO_VOLUME_MIN_BYTES`` in sinks.py).
* ``baseline``: MeltanoLabs target-databricks' load path, re-implemented here from its design:
  every value inlined as a literal into ``MERGE ... USING (SELECT CAST(..) FROM VALUES ...)``,
  20 000 cells per statement, numbers as DOUBLE, as a sink of the same singer-sdk (its own
  process too), so both pay the same Singer parsing and record validation. It writes no audit
  columns (MeltanoLabs' default); target-databricks writes eight more columns per row.

Per load: rows/s, the loader process's CPU seconds and peak RSS (``os.wait4``), and SQL
statements per 10,000 rows, counted by the sandbox warehouse (thrift ``ExecuteStatement``
calls, so PUT/REMOVE and the target's DDL count too). Every table is read back
(row count, distinct keys, exact Decimal sum; the baseline's DOUBLE sum to the cent); a
mismatch ends the bench with exit 1.

Usage: python bench/target_databricks.py --rows 100000 [--batch-sizes 1000,10000,50000]
       python bench/target_databricks.py --quick     # 20,000 rows, for bench/run's quick mode
Writes bench/results/target_databricks.md; `measure()` returns the figures as a dict.
"""

# S608: the baseline below builds SQL text with inlined values on purpose; that is the
# approach being measured.
# ruff: noqa: S608

from __future__ import annotations

import argparse
import datetime
import json
import logging
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import typing as t
from decimal import Decimal
from pathlib import Path

# This file's name is the plugin's package name: drop bench/ from the import path first.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from singer_sdk import typing as th  # noqa: E402
from singer_sdk.sinks import BatchSink  # noqa: E402
from singer_sdk.target_base import Target  # noqa: E402
from target_databricks.row_encoding import to_json_text  # noqa: E402
from target_databricks.sinks import AUTO_VOLUME_MIN_BYTES  # noqa: E402

if t.TYPE_CHECKING:
    from sandboxes.databricks import LocalWarehouse

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
LOADERS = ("parameter", "volume", "auto", "baseline")
STAGING = {"parameter": "insert", "volume": "volume", "auto": "auto"}
VOLUME = "bench_staging"
QUICK_ROWS = 20_000
DEFAULT_BATCH_SIZES = (1_000, 10_000, 50_000)


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


def write_input(path: Path, count: int, version: int = 1) -> Path:
    """The Singer messages a tap would send, written once and fed to every loader's stdin."""
    with path.open("w", encoding="utf-8") as out:
        out.write(to_json_text({"type": "SCHEMA", "stream": "invoices", "schema":
                                {"type": "object", "properties": SCHEMA},
                                "key_properties": ["company_id", "id"]}) + "\n")
        for row in rows(count, version):
            out.write(to_json_text({"type": "RECORD", "stream": "invoices", "record": row}) + "\n")
    return path


# The baseline, run as its own process: `python bench/target_databricks.py --baseline-child CONFIG`.

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


def baseline_child(config_file: str) -> None:
    """The same Singer input (stdin) through the same SDK (parsing, validation), baseline sink."""
    from databricks import sql

    config = json.loads(Path(config_file).read_text(encoding="utf-8"))
    host, _, port = config["server_hostname"].partition(":")
    table = f"`{config['catalog']}`.`{config['schema']}`.`invoices`"
    connection = sql.connect(server_hostname=host, _port=int(port), http_path=config["http_path"],
                             access_token=config["access_token"],
                             _tls_trusted_ca_file=config["ca_bundle"],
                             use_inline_params="silent", enable_telemetry=False)
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE SCHEMA IF NOT EXISTS `{config['catalog']}`.`{config['schema']}`")
        columns = ", ".join(f"`{n}` {tp}" for n, tp in COLUMNS.items())
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {table} ({columns})")
        BaselineSink.target_cursor = cursor  # type: ignore[attr-defined]
        BaselineSink.table = table  # type: ignore[attr-defined]
        target = BaselineTarget(config={"batch_size_rows": config["batch_size_rows"], "table": table},
                                parse_env_config=False)
        target.listen()
    connection.close()


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


# One load, measured --------------------------------------------------------------------------

class Load(t.NamedTuple):
    loader: str
    batch_rows: int
    rows: int
    seconds: float
    cpu_s: float
    rss_mib: float
    statements: int
    load_avg: float
    engine_cpu_s: float

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds

    @property
    def statements_per_10k(self) -> float:
        return self.statements * 10_000 / self.rows


def _target_python() -> str:
    return sys.executable


def run_loader(warehouse: LocalWarehouse, work: Path, loader: str, schema: str, input_file: Path,
               count: int, batch_rows: int) -> Load:
    """One loader as its own process on ``input_file``; its wall, CPU and peak RSS from wait4,
    its statements from the warehouse's own counter."""
    config: dict[str, t.Any] = {
        "server_hostname": warehouse.server_hostname, "http_path": warehouse.http_path,
        "access_token": warehouse.access_token, "catalog": warehouse.catalog,
        "ca_bundle": str(warehouse.ca_file), "batch_size_rows": batch_rows,
    }
    if loader == "baseline":
        config["schema"] = schema
        argv = [_target_python(), str(Path(__file__).resolve()), "--baseline-child"]
    else:
        local = work / f"parquet_{schema}"
        local.mkdir(exist_ok=True)
        config.update({
            "default_target_schema": schema, "table_provider": "iceberg",
            "connector_telemetry": False, "staging": STAGING[loader],
            "dead_letter_path": str(work / f"dead_letters_{schema}"),
        })
        if loader != "parameter":
            config.update({"staging_volume": VOLUME, "staging_local_path": str(local)})
        argv = [str(Path(_target_python()).parent / "target-databricks"), "--config"]
    config_file = work / f"config_{schema}.json"
    config_file.write_text(json.dumps(config), encoding="utf-8")
    argv.append(str(config_file))
    warehouse.faults.reset_counts()
    load_avg = os.getloadavg()[0]
    engine_cpu = warehouse.engine_cpu_seconds()
    started = time.monotonic()
    with input_file.open("rb") as stdin, (work / f"log_{schema}.txt").open("wb") as log:
        process = subprocess.Popen(argv, stdin=stdin, stdout=subprocess.DEVNULL, stderr=log)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.monotonic() - started
    statements = warehouse.faults.count("thrift.ExecuteStatement")
    engine_cpu = warehouse.engine_cpu_seconds() - engine_cpu
    if process.returncode != 0:
        tail = (work / f"log_{schema}.txt").read_text(errors="replace").strip().splitlines()[-5:]
        raise SystemExit(f"{loader} (batch {batch_rows:,}) failed with exit {process.returncode}: "
                         + " | ".join(tail))
    return Load(loader, batch_rows, count, seconds, usage.ru_utime + usage.ru_stime,
                usage.ru_maxrss / 1024, statements, load_avg, engine_cpu)


def prepare_schema(warehouse: LocalWarehouse, loader: str, schema: str) -> None:
    """A Volume needs its schema, and the target does not create Volumes: the user does."""
    if loader in ("volume", "auto"):
        _sql(warehouse, f"CREATE SCHEMA IF NOT EXISTS `{warehouse.catalog}`.`{schema}`")
        _sql(warehouse, f"CREATE VOLUME IF NOT EXISTS `{warehouse.catalog}`.`{schema}`.`{VOLUME}`")


def _sql(warehouse: LocalWarehouse, statement: str) -> list[t.Any]:
    connection = warehouse.connect(enable_telemetry=False)
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement)
            return cursor.fetchall() if cursor.description else []
    finally:
        connection.close()


class ReadBack(t.NamedTuple):
    stored: int
    distinct_keys: int
    total: t.Any


def read_back(warehouse: LocalWarehouse, schema: str) -> ReadBack:
    row = _sql(warehouse, "SELECT count(*), count(DISTINCT company_id, id), sum(total_amount) "
                          f"FROM `{warehouse.catalog}`.`{schema}`.`invoices`")[0]
    return ReadBack(int(row[0]), int(row[1]), row[2])


def verify(loader: str, got: ReadBack, count: int, expected_sum: Decimal, what: str) -> str:
    """Exact for target-databricks (DECIMAL); the baseline's DOUBLE sum to the cent. A wrong
    answer ends the bench: a fast wrong load is no figure."""
    if loader == "baseline":
        total_ok = Decimal(repr(float(got.total))).quantize(Decimal("0.01")) == expected_sum
    else:
        total_ok = got.total == expected_sum
    if got.stored != count or got.distinct_keys != count or not total_ok:
        raise SystemExit(f"WRONG ANSWER: {loader} {what}: read back {got.stored:,} rows, "
                         f"{got.distinct_keys:,} distinct keys, sum {got.total} ; expected "
                         f"{count:,} rows and keys, sum {expected_sum}")
    return "exact" if loader != "baseline" else "to the cent (DOUBLE)"


def measure(rows_count: int = 100_000, batch_sizes: t.Sequence[int] = DEFAULT_BATCH_SIZES,
            update_rows: int = 20_000, update_batch_rows: int | None = None,
            loaders: t.Sequence[str] = LOADERS, rounds: int = 1) -> dict[str, t.Any]:
    """Every loader at every batch size on one local warehouse, alternating the order from one
    batch size (and round) to the next; then an update run at ``update_batch_rows``."""
    from sandboxes.databricks import LocalWarehouse

    sizes = sorted({min(b, rows_count) for b in batch_sizes})
    update_batch = min(update_batch_rows or sizes[-1], rows_count)
    if update_batch not in sizes:
        sizes.append(update_batch)
    expected = sum((r["total_amount"] for r in rows(rows_count)), Decimal(0))
    expected_up = expected - sum((r["total_amount"] for r in rows(update_rows)), Decimal(0)) + sum(
        (r["total_amount"] for r in rows(update_rows, 2)), Decimal(0))
    loads: list[Load] = []
    updates: list[Load] = []
    checks: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="bench-dbx-") as tmp, LocalWarehouse() as warehouse:
        work = Path(tmp)
        initial = write_input(work / "initial.jsonl", rows_count)
        edited = write_input(work / "edited.jsonl", update_rows, 2)
        warm = write_input(work / "warm.jsonl", 3_000)
        # A fresh JVM compiles as it goes: warm every path up so none pays for it alone.
        for loader in loaders:
            schema = f"bench_warm_{loader}"
            prepare_schema(warehouse, loader, schema)
            run_loader(warehouse, work, loader, schema, warm, 3_000, 1_000)
        turn = 0
        for round_ in range(rounds):
            for size in sizes:
                order = list(loaders) if turn % 2 == 0 else list(reversed(loaders))
                turn += 1
                for loader in order:
                    schema = f"bench_{loader}_{size}_{round_}"
                    prepare_schema(warehouse, loader, schema)
                    load = run_loader(warehouse, work, loader, schema, initial, rows_count, size)
                    checks[loader] = verify(loader, read_back(warehouse, schema), rows_count,
                                            expected, f"initial load, batch {size:,}")
                    loads.append(load)
                    if size == update_batch:
                        up = run_loader(warehouse, work, loader, schema, edited, update_rows, size)
                        verify(loader, read_back(warehouse, schema), rows_count, expected_up,
                               f"update run, batch {size:,}")
                        updates.append(up)
                    print(f"{loader:>9} batch {size:>7,}: {load.rows_per_s:>8,.0f} rows/s, "
                          f"{load.cpu_s:6.1f} CPU s, engine {load.engine_cpu_s:6.1f} CPU s, {load.statements_per_10k:7.1f} statements/10k, "
                          f"{load.rss_mib:5.0f} MiB (load {load.load_avg:.1f})", file=sys.stderr, flush=True)
        engine_rss = warehouse.rss_bytes() / 2**20
    return {"rows": rows_count, "sizes": sizes, "update_rows": update_rows, "update_batch": update_batch,
            "loads": loads, "updates": updates, "checks": checks, "expected_sum": expected,
            "expected_sum_after_update": expected_up, "engine_rss_mib": engine_rss, "rounds": rounds}


# Report ----------------------------------------------------------------------------------------

def _median(loads: list[Load], attr: str) -> float:
    return statistics.median(getattr(x, attr) for x in loads)


def _spread(loads: list[Load], attr: str, fmt: str) -> str:
    values = [getattr(x, attr) for x in loads]
    text = format(statistics.median(values), fmt)
    return text if len(values) == 1 else f"{text} ({format(min(values), fmt)}-{format(max(values), fmt)})"


def report(f: dict[str, t.Any], command: str) -> list[str]:
    loads: list[Load] = f["loads"]
    loaders = list(dict.fromkeys(x.loader for x in loads))
    lines = [
        "# target-databricks: parameter path, Volume path and the MeltanoLabs approach",
        "",
        f"Command: `{command}`",
        "",
        f"Machine: {platform.machine()}, Python {platform.python_version()}, {os.cpu_count()} cores shared "
        "with other jobs (load average at each load's start in the last column; wall-clock "
        "figures are noisy, CPU seconds and statements are not). Engine: Spark 3.5 Thrift "
        "Server, local[2], Iceberg tables, behind the sandbox's TLS adapter, which serves "
        "Volumes and read_files. Each loader runs as its own process on the same Singer file "
        f"of {f['rows']:,} invoice-like records (10 columns) and upserts them (MERGE on "
        "company_id + id) into an empty table; each path warmed up on 3,000 rows first; the "
        f"order of the loaders alternates from one batch size to the next ({f['rounds']} "
        "round(s); with more, the median and the range).",
        "",
        "* parameter: `staging: insert`; volume: `staging: volume`; auto: the default "
        f"`staging: auto` with `staging_volume` set (Volume path for a batch of at least "
        f"{AUTO_VOLUME_MIN_BYTES:,} bytes of values, else the parameter path);",
        "* baseline: MeltanoLabs target-databricks' approach re-implemented on the same SDK "
        f"(values inlined as literals, MERGE per {CELLS_PER_STATEMENT // len(COLUMNS):,} rows, "
        "DOUBLE money, no audit columns);",
        "* CPU s and peak RSS: the loader process (`os.wait4`); engine CPU s: the Spark JVM's "
        "CPU time during the load (/proc), the warehouse's side of the work; statements: counted "
        "by the warehouse (thrift ExecuteStatement calls), per 10,000 rows, setup included.",
        "",
        "| batch rows | loader | rows/s | CPU s | engine CPU s | statements / 10k rows | peak RSS MiB | vs baseline (rows/s) | vs baseline (CPU) | load avg |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size in f["sizes"]:
        base = [x for x in loads if x.loader == "baseline" and x.batch_rows == size]
        for loader in loaders:
            mine = [x for x in loads if x.loader == loader and x.batch_rows == size]
            if not mine:
                continue
            vs = vs_cpu = ""
            if base and loader != "baseline":
                vs = f"{_median(mine, 'rows_per_s') / _median(base, 'rows_per_s'):.2f}x"
                vs_cpu = f"{_median(base, 'cpu_s') / _median(mine, 'cpu_s'):.2f}x"
            lines.append(
                f"| {size:,} | {loader} | {_spread(mine, 'rows_per_s', ',.0f')} | {_spread(mine, 'cpu_s', '.1f')} | "
                f"{_spread(mine, 'engine_cpu_s', '.1f')} | "
                f"{_spread(mine, 'statements_per_10k', ',.1f')} | {_spread(mine, 'rss_mib', ',.0f')} | {vs} | "
                f"{vs_cpu} | {', '.join(f'{x.load_avg:.1f}' for x in mine)} |")
    lines += [
        "",
        f"Read back after every load: {f['rows']:,} rows, {f['rows']:,} distinct keys, "
        f"sum(total_amount) = {f['expected_sum']} — "
        + "; ".join(f"{k} {v}" for k, v in f["checks"].items()) + " (a mismatch ends the bench).",
        "",
        f"Then {f['update_rows']:,} of those records arrive again, edited (newer updated_at, new "
        f"amounts), into each {f['rows']:,}-row table loaded with {f['update_batch']:,}-row "
        f"batches; sums after the update checked against {f['expected_sum_after_update']}:",
        "",
        "| loader | rows/s | CPU s | engine CPU s | statements / 10k rows | vs baseline (rows/s) | load avg |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    ups: list[Load] = f["updates"]
    base_up = [x for x in ups if x.loader == "baseline"]
    for loader in loaders:
        mine = [x for x in ups if x.loader == loader]
        if not mine:
            continue
        vs = (f"{_median(mine, 'rows_per_s') / _median(base_up, 'rows_per_s'):.2f}x"
              if base_up and loader != "baseline" else "")
        lines.append(f"| {loader} | {_spread(mine, 'rows_per_s', ',.0f')} | {_spread(mine, 'cpu_s', '.1f')} | "
                     f"{_spread(mine, 'engine_cpu_s', '.1f')} | "
                     f"{_spread(mine, 'statements_per_10k', ',.1f')} | {vs} | "
                     f"{', '.join(f'{x.load_avg:.1f}' for x in mine)} |")
    lines += ["", f"Spark engine RSS at the end: {f['engine_rss_mib']:,.0f} MiB."]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK_ROWS:,} rows, 5,000 updated, batches of 1,000 and 10,000")
    parser.add_argument("--batch-sizes", default=",".join(str(b) for b in DEFAULT_BATCH_SIZES),
                        help="comma-separated batch sizes (batch_size_rows) to measure every loader at")
    parser.add_argument("--batch-rows", type=int, default=None,
                        help="batch size of the update run (default: the largest of --batch-sizes)")
    parser.add_argument("--update-rows", type=int, default=20_000)
    parser.add_argument("--loaders", default=",".join(LOADERS), help=f"subset of {','.join(LOADERS)}")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--out", type=Path, default=RESULTS, help="results file (default: %(default)s)")
    parser.add_argument("--baseline-child", metavar="CONFIG", help=argparse.SUPPRESS)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if args.baseline_child:
        baseline_child(args.baseline_child)
        return
    if args.quick:
        args.rows, args.update_rows, args.batch_sizes = QUICK_ROWS, 5_000, "1000,10000"
    sizes = [int(b) for b in args.batch_sizes.split(",") if b.strip()]
    loaders = [x for x in args.loaders.split(",") if x]
    unknown = set(loaders) - set(LOADERS)
    if unknown:
        parser.error(f"unknown loaders {sorted(unknown)}: choose from {','.join(LOADERS)}")
    f = measure(args.rows, sizes, args.update_rows, args.batch_rows, loaders, args.rounds)
    command = "python bench/target_databricks.py " + " ".join(sys.argv[1:])
    lines = report(f, command.strip())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
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
            if chosen:  # no size with both paths measured (bench/run --quick): nothing to judge
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
