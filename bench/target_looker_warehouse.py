"""Benchmark target-looker-warehouse against the floors and meltanolabs-target-postgres.

One Singer file of N ``invoice_lines`` records (the widest fact stream of the record model,
28 columns, exact money, dates, timestamps) is generated once and fed to every loader as a
separate process, in rounds whose order alternates; each run starts from an empty destination.
Every destination is read back (row count, distinct keys, exact sum of ``amount``) and a wrong
answer ends the benchmark with exit 1, naming the loader and the mismatch. Peak RSS is the
loader process's own (``wait4``). Writes bench/results/target_looker_warehouse.md.

    python bench/target_looker_warehouse.py --rows 200000 --rounds 3 --flatness-rows 1000000 \
        --meltanolabs-python .bench/meltanolabs/bin/python --floor-python .bench/floor/bin/python

``bench/run`` makes both venvs (meltanolabs-target-postgres pinned, from PyPI) and calls this.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime as dt
import json
import multiprocessing
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
import typing as t
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import msgspec
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
    """N invoice_lines records, four lines per invoice; every line carries its invoice's version
    (updated_at and sync_token of the header, as the taps write them), so a loader that keeps
    the record model's line rules flags none of them as dropped from a newer version."""
    DATA.mkdir(parents=True, exist_ok=True)
    # "v2": the lines of one invoice share its version (the earlier files gave each line its own).
    path = DATA / f"invoice_lines_v2_{rows}.singer"
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
                "updated_at": (base + dt.timedelta(seconds=n // 4)).isoformat(), "sync_token": (n // 4) % 7,
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


class WrongAnswer(SystemExit):
    pass


@dataclass
class Expected:
    rows: int
    amount: Decimal


def expected_of(input_path: Path) -> Expected:
    """What every loader must leave behind: one row per key, the exact sum of its amounts.

    Computed in a forked child: its dict of a million keys would otherwise raise this process's
    peak RSS, and every loader it then starts inherits that peak as its own ``ru_maxrss`` (the
    high-water mark survives vfork + exec), which read as a 1M-row load of 495 MiB that the
    loader itself never reached (208 MiB measured alone)."""
    context = multiprocessing.get_context("fork")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=context) as pool:
        return pool.submit(_expected_in_child, input_path).result()


def _expected_in_child(input_path: Path) -> Expected:
    decoder = msgspec.json.Decoder(float_hook=Decimal)
    newest: dict[tuple[str, ...], Decimal] = {}
    with input_path.open("rb") as handle:
        for line in handle:
            message = decoder.decode(line)
            if message.get("type") == "RECORD":
                record = message["record"]
                newest[tuple(record[k] for k in KEY)] = Decimal(record["amount"])
    return Expected(len(newest), sum(newest.values(), Decimal(0)))


def run(command: list[str], config: dict | None, input_path: Path) -> tuple[float, float, int]:
    """Run a loader on the input; return (wall s, CPU s, peak RSS bytes) of that process."""
    args = list(command)
    if config is not None:
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
            json.dump(config, handle)
        args += ["--config", handle.name]
    started = time.perf_counter()
    with input_path.open("rb") as stdin, open(os.devnull, "wb") as devnull, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(args, stdin=stdin, stdout=devnull, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - started
        if status != 0:
            err.seek(0)
            raise SystemExit(f"{args[0]} failed:\n{err.read().decode(errors='replace')[-3000:]}")
    if config is not None:
        os.unlink(handle.name)
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024


# Live rows: a loader that keeps soft deletions (ours) must not have flagged any line deleted.
_LIVE = {True: " WHERE _sdc_deleted_at IS NULL", False: ""}


def read_back_postgres(dsn: str, table: str, ours: bool = False) -> tuple[int, int, Decimal, int]:
    import psycopg

    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            f"SELECT COUNT(*), COUNT(DISTINCT (company_id, invoice_id, line_id)), "  # noqa: S608
            f"COALESCE(SUM(amount::numeric), 0) FROM {table}").fetchone()
        live = conn.execute(f"SELECT COUNT(*) FROM {table}{_LIVE[ours]}").fetchone()  # noqa: S608
    assert row is not None and live is not None
    return int(row[0]), int(row[1]), Decimal(row[2]), int(live[0])


def read_back_duckdb(path: str, table: str, ours: bool = False) -> tuple[int, int, Decimal, int]:
    import duckdb

    with duckdb.connect(path, read_only=True) as conn:
        row = conn.execute(
            f"SELECT COUNT(*), COUNT(DISTINCT (company_id, invoice_id, line_id)), "  # noqa: S608
            f"COALESCE(SUM(amount), 0) FROM {table}").fetchone()
        live = conn.execute(f"SELECT COUNT(*) FROM {table}{_LIVE[ours]}").fetchone()  # noqa: S608
    assert row is not None and live is not None
    return int(row[0]), int(row[1]), Decimal(row[2]), int(live[0])


def check(name: str, found: tuple[int, int, Decimal, int], want: Expected) -> None:
    rows, keys, amount, live = found
    problems = []
    if live != want.rows:
        problems.append(f"{want.rows - live} rows flagged deleted, expected none")
    if rows != want.rows:
        problems.append(f"{rows} rows, expected {want.rows}")
    if keys != want.rows:
        problems.append(f"{keys} distinct keys, expected {want.rows}")
    if amount != want.amount:
        problems.append(f"sum(amount) {amount}, expected exactly {want.amount}")
    if problems:
        raise WrongAnswer(f"WRONG ANSWER from {name}: " + "; ".join(problems))


@dataclass
class Loader:
    name: str
    dialect: str  # "postgres" | "duckdb"
    command: list[str]
    config: t.Callable[[str, str], dict | None]  # (dsn or sqlalchemy url, schema or path) -> config
    table: str  # where the rows land (schema-qualified; {schema} replaced)
    extra_args: t.Callable[[str, str], list[str]] | None = None
    ours: bool = False  # takes the project's config (a SQLAlchemy URL), not a bare DSN


@dataclass
class Measure:
    loader: str
    round: int
    rows: int
    seconds: float
    cpu: float
    rss: int
    load: float

    @property
    def rate(self) -> float:
        return self.rows / self.seconds


def loaders(args: argparse.Namespace) -> list[Loader]:
    common = {"batch_size_rows": args.batch_size, "model_enabled": False}
    def ours(label: str, command: list[str]) -> list[Loader]:
        return [
            Loader(f"{label} -> PostgreSQL", "postgres", command,
                   lambda url, schema: {**common, "dialect": "postgres", "sqlalchemy_url": url,
                                        "default_target_schema": schema,
                                        "dead_letter_path": str(Path(tempfile.gettempdir()) / f"bench-dl-{schema}")},
                   "{schema}.invoice_lines", ours=True),
            Loader(f"{label} -> DuckDB", "duckdb", command,
                   lambda _url, path: {**common, "dialect": "duckdb", "duckdb_path": path,
                                       "dead_letter_path": path + ".dl"},
                   "quickbooks.invoice_lines", ours=True),
        ]

    found = ours("target-looker-warehouse", [args.python or TARGET[0], *TARGET[1:]])
    if args.before_python:
        found += ours(f"before ({args.before_label})", [args.before_python, *TARGET[1:]])
    if args.floor_python:
        floor = [args.floor_python, str(Path(__file__).parent / "warehouse_floor.py")]
        found += [
            Loader("floor: orjson + psycopg COPY -> PostgreSQL", "postgres", floor, lambda _u, _s: None,
                   "{schema}.invoice_lines", lambda dsn, schema: ["postgres", dsn, schema]),
            Loader("floor: orjson + Arrow -> DuckDB", "duckdb", floor, lambda _u, _s: None,
                   "floor.invoice_lines", lambda _dsn, path: ["duckdb", path]),
        ]
    if args.meltanolabs_python:
        mltp = [args.meltanolabs_python, "-c", "from target_postgres.target import TargetPostgres; TargetPostgres.cli()"]

        def mltp_config(fast: bool) -> t.Callable[[str, str], dict]:
            def config(dsn: str, schema: str) -> dict:
                port = int(dsn.rsplit(":", 1)[1].split("/")[0])
                settings = {"host": "127.0.0.1", "port": port, "user": "postgres", "password": "",
                            "database": "postgres", "default_target_schema": schema, "add_record_metadata": True}
                if fast:
                    settings.update({"use_copy": True, "batch_size_rows": 100_000, "validate_records": False})
                return settings
            return config

        found.append(Loader("meltanolabs-target-postgres, use_copy + 100k batches + no validation", "postgres", mltp,
                            mltp_config(True), "{schema}.invoice_lines"))
        if not args.quick:
            found.append(Loader("meltanolabs-target-postgres, defaults", "postgres", mltp, mltp_config(False),
                                "{schema}.invoice_lines"))
    return found


def run_one(loader: Loader, input_path: Path, want: Expected, cluster: t.Any, work: Path, label: str,
            round_no: int) -> Measure:
    load = os.getloadavg()[0]
    if loader.dialect == "postgres":
        schema = f"b_{label}"
        destination, where = (cluster.sqlalchemy_url() if loader.ours else cluster.dsn), schema
        table = loader.table.format(schema=schema)
    else:
        where = str(work / f"{label}.duckdb")
        destination, table = "", loader.table
    config = loader.config(destination if loader.ours else cluster.dsn, where)
    extra = loader.extra_args(cluster.dsn, where) if loader.extra_args else []
    seconds, cpu, rss = run([*loader.command, *extra], config, input_path)
    found = (read_back_postgres(cluster.dsn, table, loader.ours) if loader.dialect == "postgres"
             else read_back_duckdb(where, table, loader.ours))
    check(loader.name, found, want)
    if loader.dialect == "duckdb":
        Path(where).unlink(missing_ok=True)
    return Measure(loader.name, round_no, want.rows, seconds, cpu, rss, load)


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=100_000)
    parser.add_argument("--flatness-rows", type=int, default=1_000_000,
                        help="also load this many rows once per dialect (peak RSS flatness); 0 skips")
    parser.add_argument("--python", help="python of the venv target-looker-warehouse runs from (default: this "
                        "one; bench/run installs it on its own, as meltano.yml does)")
    parser.add_argument("--meltanolabs-python", help="python of a venv with meltanolabs-target-postgres")
    parser.add_argument("--floor-python", help="python of a venv with orjson, psycopg, duckdb, pyarrow")
    parser.add_argument("--quick", action="store_true", help="no meltanolabs defaults run")
    parser.add_argument("--before-python", help="python of a venv holding an earlier target-looker-warehouse")
    parser.add_argument("--before-label", default="main")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--command-line", default="", help="the command to print in the results")
    args = parser.parse_args()

    input_path = make_input(args.rows)
    want = expected_of(input_path)
    work = Path(tempfile.mkdtemp(prefix="bench-tlw-"))
    measures: list[Measure] = []
    chosen = loaders(args)
    flat: list[Measure] = []
    with PostgresCluster() as cluster:
        for round_no in range(args.rounds):
            # Alternate the order: each loader runs early in one round and late in another.
            order = chosen[round_no % len(chosen):] + chosen[:round_no % len(chosen)]
            if round_no % 2:
                order.reverse()
            for index, loader in enumerate(order):
                measure = run_one(loader, input_path, want, cluster, work, f"r{round_no}_{index}", round_no)
                print(f"round {round_no + 1}: {loader.name}: {measure.rate:,.0f} rows/s, "
                      f"{measure.rss / 2**20:.0f} MiB, load {measure.load:.1f}", file=sys.stderr, flush=True)
                measures.append(measure)
        if args.flatness_rows:
            big = make_input(args.flatness_rows)
            big_want = expected_of(big)
            for loader in chosen[:2]:
                measure = run_one(loader, big, big_want, cluster, work, f"flat_{loader.dialect}", -1)
                print(f"flatness: {loader.name}: {measure.rate:,.0f} rows/s, {measure.rss / 2**20:.0f} MiB",
                      file=sys.stderr, flush=True)
                flat.append(measure)
    write_results(args, measures, flat, chosen)
    write_figures(args, measures, flat, chosen)


def write_results(args: argparse.Namespace, measures: list[Measure], flat: list[Measure],
                  chosen: list[Loader]) -> None:
    by_loader: dict[str, list[Measure]] = {}
    for m in measures:
        by_loader.setdefault(m.loader, []).append(m)
    command = args.command_line or (
        f"python bench/target_looker_warehouse.py --rows {args.rows} --rounds {args.rounds} "
        f"--flatness-rows {args.flatness_rows}" + (" --quick" if args.quick else "")
        + (" --python .bench/target-looker-warehouse/bin/python" if args.python else "")
        + (" --meltanolabs-python .bench/meltanolabs/bin/python" if args.meltanolabs_python else "")
        + (" --floor-python .bench/floor/bin/python" if args.floor_python else ""))
    loads = [m.load for m in measures]
    lines = [
        "# target-looker-warehouse benchmark: against the floors and meltanolabs-target-postgres",
        "",
        f"Command: `{command}` (or `bench/run`, which makes the peer venvs and calls it).",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores shared with other jobs, Python "
        f"{platform.python_version()}; {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC. Input: {args.rows:,} "
        "`invoice_lines` records (28 columns, key company_id+invoice_id+line_id, exact money as JSON "
        f"numbers), batch_size_rows {args.batch_size:,}, validation on for target-looker-warehouse "
        + ("(run from its own venv, installed as meltano.yml installs it), " if args.python else
           "(run from this venv), ") +
        f"{args.rounds} rounds in alternating order, each run into an empty destination and read back "
        "(row count, distinct keys, exact sum of amount: all matched). PostgreSQL 15 sandbox on "
        "127.0.0.1 (fsync off). Load average (1 min) at the start of each run: "
        f"{min(loads):.1f}-{max(loads):.1f}.",
        "",
        "| loader | rows/s median | rows/s per round | CPU s median | peak RSS | load avg |",
        "|---|---|---|---|---|---|",
    ]
    for loader in chosen:
        ms = by_loader.get(loader.name, [])
        if not ms:
            continue
        rates = " / ".join(f"{m.rate:,.0f}" for m in sorted(ms, key=lambda m: m.round))
        rss = f"{min(m.rss for m in ms) / 2**20:.0f}-{max(m.rss for m in ms) / 2**20:.0f} MiB"
        lines.append(f"| {loader.name} | {_median([m.rate for m in ms]):,.0f} | {rates} | "
                     f"{_median([m.cpu for m in ms]):.1f} | {rss} | "
                     f"{min(m.load for m in ms):.1f}-{max(m.load for m in ms):.1f} |")

    def ratios(ours: str, other: str) -> list[float]:
        mine = {m.round: m.rate for m in by_loader.get(ours, [])}
        theirs = {m.round: m.rate for m in by_loader.get(other, [])}
        return [mine[r] / theirs[r] for r in sorted(mine) if r in theirs]

    names = [loader.name for loader in chosen]
    pairs = [(names[0], n) for n in names[2:] if "PostgreSQL" in n or "meltanolabs" in n]
    pairs += [(names[1], n) for n in names[2:] if "DuckDB" in n]
    pairs = [(a, b) for a, b in pairs if not (b.startswith("before") and ("PostgreSQL" in a) != ("PostgreSQL" in b))]
    goals = {"floor: orjson + psycopg COPY -> PostgreSQL": 0.40, "floor: orjson + Arrow -> DuckDB": 0.40,
             "meltanolabs-target-postgres, use_copy + 100k batches + no validation": 2.0}
    if pairs:
        lines += ["", "Pair by pair, in the same round (ours / theirs):", "",
                  "| pair | ratio median | per round | goal |", "|---|---|---|---|"]
        for ours, other in pairs:
            values = ratios(ours, other)
            if values:
                goal = goals.get(other)
                verdict = "" if goal is None else (f"≥ {goal:g}: " + ("met" if _median(values) >= goal else "NOT met"))
                lines.append(f"| {ours} / {other} | {_median(values):.2f} | "
                             f"{' / '.join(f'{v:.2f}' for v in values)} | {verdict} |")
    if flat:
        lines += ["", f"Peak RSS flatness ({args.rows:,} rows above vs {flat[0].rows:,} rows here; goal: under 300 MiB "
                  "and within 1.5x):", "", "| loader | rows | rows/s | peak RSS | ratio to the small run |",
                  "|---|---|---|---|---|"]
        for m in flat:
            small = max(x.rss for x in by_loader.get(m.loader, [m]))
            lines.append(f"| {m.loader} | {m.rows:,} | {m.rate:,.0f} | {m.rss / 2**20:.0f} MiB | "
                         f"{m.rss / small:.2f}x |")
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))



# --- Figures for bench/run (the harness's contract, see bench/harness.py) ---------------------


def write_figures(args: argparse.Namespace, measures: list[Measure], flat: list[Measure],
                  chosen: list[Loader]) -> None:
    """The figures as JSON into the file bench/run names in QBC_BENCH_FIGURES (nothing without it).

    Every run here passed its read-back (``check`` ends the benchmark otherwise), so no checks.
    """
    target = os.environ.get("QBC_BENCH_FIGURES")
    if not target:
        return
    names = [loader.name for loader in chosen]
    roles = {"pg": names[0], "duckdb": names[1]}
    for name in names[2:]:
        if name.startswith("floor") and "PostgreSQL" in name:
            roles["pg_floor"] = name
        elif name.startswith("floor") and "DuckDB" in name:
            roles["duckdb_floor"] = name
        elif name.startswith("meltanolabs") and "defaults" in name:
            roles["meltanolabs_defaults"] = name
        elif name.startswith("meltanolabs"):
            roles["meltanolabs_fast"] = name
    rounds: dict[str, dict[int, Measure]] = {}
    for m in measures:
        rounds.setdefault(m.loader, {})[m.round] = m

    def runs(values: list[float]) -> dict[str, t.Any]:
        return {"median": _median(values), "runs": values}

    figures: dict[str, t.Any] = {"rows": args.rows, "rounds": args.rounds, "flatness_rows": args.flatness_rows}
    for role, name in roles.items():
        mine = rounds.get(name, {})
        if mine:
            figures[f"{role}_rows_per_s"] = runs([mine[r].rate for r in sorted(mine)])
            figures[f"{role}_cpu_s"] = runs([mine[r].cpu for r in sorted(mine)])
            figures[f"{role}_peak_rss_mib"] = max(m.rss for m in mine.values()) / 2**20
    for ours, other, figure in (("pg", "pg_floor", "pg_vs_floor"), ("duckdb", "duckdb_floor", "duckdb_vs_floor"),
                                ("pg", "meltanolabs_fast", "pg_vs_meltanolabs_fast"),
                                ("pg", "meltanolabs_defaults", "pg_vs_meltanolabs_defaults")):
        mine, theirs = rounds.get(roles[ours], {}), rounds.get(roles.get(other, ""), {})
        pairs = [mine[r].rate / theirs[r].rate for r in sorted(mine) if r in theirs]  # same round
        if pairs:
            figures[figure] = runs(pairs)
    for m in flat:
        role = "pg" if m.loader == roles["pg"] else "duckdb"
        figures[f"{role}_flat_peak_rss_mib"] = m.rss / 2**20
        figures[f"{role}_flat_rows_per_s"] = m.rate
        if f"{role}_peak_rss_mib" in figures:
            figures[f"{role}_rss_flatness"] = m.rss / 2**20 / figures[f"{role}_peak_rss_mib"]
    Path(target).write_text(json.dumps({"figures": figures, "checks": []}, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
