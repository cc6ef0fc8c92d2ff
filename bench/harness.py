"""``bench/run``: every figure of issue 17 in one command, the peers and floors beside them.

    bench/run            the full set (sized to finish under 20 minutes on an idle 2-core machine)
    bench/run --quick    the same comparisons on smaller inputs (under 3 minutes)
    bench/run --only qbo run the steps whose key or name contains "qbo" (repeatable)

Each step is a bench module run as its own process, in this order: target-looker-warehouse
against the floors (orjson + psycopg COPY; orjson + Arrow into DuckDB) and
meltanolabs-target-postgres, alternating rounds inside the module; tap-quickbooks-online beside
the singer-io tap on one sandbox; the tap-quickbooks-desktop drain (twice in the full set, at two
sizes, for memory flatness); target-databricks against the MeltanoLabs approach; the main job
through Meltano (``scripts/demo``), in the full set only.

The peers live in their own venvs under ``.bench/`` (from PyPI, pinned in ``PEERS``), made before
the clock starts; a step finds a peer's interpreter in the environment variable named in
``PEER_ENV`` (and the warehouse step also on its command line).

The figures contract: the harness names a file in ``QBC_BENCH_FIGURES``; a step writes there
one JSON object ``{"figures": {name: value}, "checks": [{"what", "expected", "found"}]}`` where a
value is a number, a boolean, a string or ``{"median": x, "runs": [..]}``. A check whose
``found`` differs from ``expected`` is a wrong answer: the harness stops with exit 1 and names
it on the last line, as it does for a step's non-zero exit. A goal whose figure a step did not
write shows "not measured", never a guess. Writes bench/results/harness.md (the goals table
first, then the steps, the main job's pipelines) and bench/results/harness.json (every figure
of the run), then rebuilds bench/RESULTS.md. A quick run writes harness_quick.md/.json instead
(a partial run harness_<mode>_partial), so the full set's table stays; the full set's row for
the quick budget shows the last quick run's total, with its date.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import typing as t
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_VENVS = ROOT / ".bench"
RESULTS_DIR = ROOT / "bench" / "results"
FIGURES_ENV = "QBC_BENCH_FIGURES"
PEERS = {
    "meltanolabs": ["meltanolabs-target-postgres==0.8.1"],
    "floor": ["orjson==3.13.0", "psycopg[binary]==3.3.9", "duckdb==2.0.1", "pyarrow==26.0.1"],
    "tap-quickbooks": ["tap-quickbooks==2.5.0"],  # singer-io's QuickBooks Online tap (bench/tap_qbo.py)
}
PEER_ENV = {
    "meltanolabs": "QBC_BENCH_MELTANOLABS_PYTHON",
    "floor": "QBC_BENCH_FLOOR_PYTHON",
    "tap-quickbooks": "QBC_BENCH_TAP_QUICKBOOKS_PYTHON",
}
BUDGET_S = {"quick": 180, "full": 1200}


# ---------------------------------------------------------------------------------------------
# Peers


def _venv_python(name: str, requirements: list[str], stamp: str, source: str) -> str:
    """The interpreter of ``.bench/<name>``, a venv holding ``requirements`` (pip arguments, run
    from the repository's root), made again when ``stamp`` changes; ``source`` says where they
    come from when pip fails."""
    venv = BENCH_VENVS / name
    python = venv / "bin" / "python"
    marker = venv / ".installed"
    if not (marker.exists() and marker.read_text() == stamp and python.exists()):
        print(f"bench/run: installing {' '.join(requirements)} into {venv.relative_to(ROOT)}", file=sys.stderr,
              flush=True)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        installed = subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                                    *requirements], capture_output=True, text=True, check=False, cwd=ROOT)
        if installed.returncode != 0:
            print(installed.stderr[-2000:], file=sys.stderr)
            raise SystemExit(f"bench/run: could not install {' '.join(requirements)} into "
                             f"{venv.relative_to(ROOT)}: {source}; check network access or pip's index settings")
        marker.write_text(stamp)
    return str(python.relative_to(ROOT))


def peer_python(name: str) -> str:
    """The interpreter of ``.bench/<name>``, a venv holding exactly ``PEERS[name]`` (made once)."""
    return _venv_python(name, PEERS[name], " ".join(PEERS[name]),
                        "the peers come from the package index (pip install by name)")


def own_python() -> str:
    """The interpreter of ``.bench/target-looker-warehouse``: the target installed on its own, as
    meltano.yml's ``pip_url`` installs it for ``meltano run`` (the plugin kit and the target,
    editable, with their dependencies and nothing else), so that it is measured as its users run
    it, beside the peers in theirs. The development venv holds every plugin's dependencies and
    the test tools (numpy, pandas, pyspark), some of which the SDK imports when present
    (joblib imports numpy): its start-up is not the target's. Made again when a pyproject.toml
    of the two changes."""
    packages = ["plugin_kit", "target-looker-warehouse"]
    requirements = [arg for p in packages for arg in ("-e", f"./{p}")]
    stamp = " ".join(requirements) + " " + hashlib.sha256(
        b"".join((ROOT / p / "pyproject.toml").read_bytes() for p in packages)).hexdigest()[:16]
    return _venv_python("target-looker-warehouse", requirements, stamp,
                        "their dependencies come from the package index")


# ---------------------------------------------------------------------------------------------
# Steps


@dataclass
class Step:
    key: str  # the figures' name in harness.json and the goals table
    name: str
    command: list[str]


@dataclass
class Done:
    step: Step
    wall: float
    cpu: float  # user + sys of the step's process and the children it waited for
    load_start: float
    load_end: float
    code: int
    figures: dict[str, t.Any] | None
    checks: list[dict[str, t.Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.code == 0 and not wrong(self.checks)


@dataclass(frozen=True)
class Sizes:
    warehouse_rows: int
    warehouse_rounds: int
    flatness_rows: int  # 0: no flatness run
    qbo_transactions: int
    qbd_transactions: tuple[int, ...]  # two sizes: the drain's memory flatness
    databricks_rows: int
    databricks_updates: int
    databricks_batches: tuple[int, ...]  # batch_size_rows each loader runs at (auto's choice is checked at each)
    demo_transactions: int  # 0: the main job is left to the full set (its fixed costs alone exceed quick's budget)


# Sized so each mode's sum fits its budget with margin on an idle 2-core machine (each step's
# wall of the last run is in harness.md).
SIZES = {
    "quick": Sizes(warehouse_rows=20_000, warehouse_rounds=2, flatness_rows=0, qbo_transactions=2_000,
                   qbd_transactions=(5_000,), databricks_rows=5_000, databricks_updates=1_000,
                   databricks_batches=(5_000,), demo_transactions=0),
    "full": Sizes(warehouse_rows=200_000, warehouse_rounds=3, flatness_rows=1_000_000, qbo_transactions=20_000,
                  qbd_transactions=(20_000, 100_000), databricks_rows=50_000, databricks_updates=10_000,
                  databricks_batches=(5_000, 50_000), demo_transactions=2_000),
}


def steps(quick: bool) -> list[Step]:
    size = SIZES["quick" if quick else "full"]
    py = _relative(sys.executable)
    warehouse = [py, "bench/target_looker_warehouse.py", "--python", own_python(),
                 "--meltanolabs-python", peer_python("meltanolabs"),
                 "--floor-python", peer_python("floor"), "--rows", str(size.warehouse_rows),
                 "--rounds", str(size.warehouse_rounds), "--flatness-rows", str(size.flatness_rows)]
    if quick:
        warehouse.append("--quick")
    found = [
        Step("warehouse", "target-looker-warehouse vs floors and meltanolabs-target-postgres", warehouse),
        Step("qbo", "tap-quickbooks-online vs the singer-io tap",
             [py, "bench/tap_qbo.py", "--peer-python", peer_python("tap-quickbooks"),
              *(["--quick"] if quick else ["--transactions", str(size.qbo_transactions), "--rounds", "3"])]),
    ]
    for index, transactions in enumerate(size.qbd_transactions):
        found.append(Step("qbd" if index == 0 else "qbd_large", f"tap-quickbooks-desktop drain, {transactions:,} "
                          "transactions", [py, "bench/tap_qbd.py", "--transactions", str(transactions),
                                           "--output", f"bench/results/tap_qbd{'' if index == 0 else '_large'}.md"]))
    found += [
        Step("databricks", "target-databricks vs the MeltanoLabs approach",
             [py, "bench/target_databricks.py", "--rows", str(size.databricks_rows),
              "--update-rows", str(size.databricks_updates),
              "--batch-sizes", ",".join(str(b) for b in size.databricks_batches),
              # The quick set runs the target's default path beside the baseline; the full set
              # also forces each path, to check the default picks the faster one by size.
              *(["--loaders", "auto,baseline"] if quick else [])]),
    ]
    if size.demo_transactions:
        found.append(Step("main_job", "the main job through Meltano",
                          ["bash", "scripts/demo", "--transactions", str(size.demo_transactions)]))
    return found


def _relative(path: str) -> str:
    return os.path.relpath(path, ROOT) if Path(path).is_relative_to(ROOT) else path


def wrong(checks: list[dict[str, t.Any]]) -> list[dict[str, t.Any]]:
    return [c for c in checks if c.get("found") != c.get("expected")]


def run_step(step: Step, work: Path, env: dict[str, str]) -> Done:
    figures_path = work / f"{step.key}.json"
    figures_path.unlink(missing_ok=True)
    log = work / f"{step.key}.log"
    load_start = os.getloadavg()[0]
    started = time.perf_counter()
    with log.open("wb") as out:
        process = subprocess.Popen(step.command, cwd=ROOT, env={**env, FIGURES_ENV: str(figures_path)},
                                   stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    figures: dict[str, t.Any] | None = None
    checks: list[dict[str, t.Any]] = []
    if figures_path.exists():
        try:
            written = json.loads(figures_path.read_text(encoding="utf-8"))
            figures, checks = dict(written.get("figures") or {}), list(written.get("checks") or [])
        except (ValueError, AttributeError, TypeError) as exc:
            code = code or 1
            with log.open("a", encoding="utf-8") as out:
                out.write(f"\nbench/run: {figures_path} does not hold the figures contract "
                          f"({{\"figures\": {{...}}, \"checks\": [...]}}): {exc}\n")
    return Done(step, wall, usage.ru_utime + usage.ru_stime, load_start, os.getloadavg()[0], code, figures, checks)


def _last_line(log: Path) -> str:
    lines = [line.strip() for line in log.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"


def run(planned: list[Step], mode: str, results_dir: Path, work: Path, env: dict[str, str] | None = None,
        command: str = "bench/run") -> int:
    """Run the steps in order, stop at the first failure or wrong answer; write the results.

    Returns the exit status; on failure the last line on stderr names the step and the cause.
    """
    work.mkdir(parents=True, exist_ok=True)
    env = dict(env if env is not None else os.environ)
    started_at = dt.datetime.now(dt.UTC)
    started = time.perf_counter()
    done: list[Done] = []
    failure = ""
    for step in planned:
        print(f"bench/run: {step.name}: {' '.join(step.command)}", file=sys.stderr, flush=True)
        result = run_step(step, work, env)
        done.append(result)
        print(f"bench/run: {step.name}: {result.wall:.0f} s wall, {result.cpu:.0f} CPU s, load "
              f"{result.load_start:.1f} -> {result.load_end:.1f}", file=sys.stderr, flush=True)
        mismatches = wrong(result.checks)
        if mismatches:
            first = mismatches[0]
            failure = (f"WRONG ANSWER from {step.name}: {first['what']}: found {first.get('found')!r}, "
                       f"expected {first.get('expected')!r}"
                       + (f" (and {len(mismatches) - 1} more in {_relative(str(work / (step.key + '.json')))})"
                          if len(mismatches) > 1 else ""))
        elif result.code != 0:
            log = work / f"{step.key}.log"
            print(log.read_text(encoding="utf-8", errors="replace")[-3000:], file=sys.stderr)
            failure = f"{step.name} failed (exit {result.code}): {_last_line(log)} (whole log: {_relative(str(log))})"
        if failure:
            break
    total = time.perf_counter() - started
    write_results(results_dir, mode, command, started_at, total, done, failure)
    if failure:
        print(f"bench/run: {failure}", file=sys.stderr, flush=True)
        return 1
    return 0


# ---------------------------------------------------------------------------------------------
# Goals: one row per goal of issue 17, from the figures of this run only


class NotMeasured(Exception):
    pass


@dataclass
class Row:
    goal: str
    measured: str
    beside: str
    met: bool | None  # None: not measured
    step: str


def _figure(figs: dict[str, dict[str, t.Any]], step: str, name: str) -> t.Any:
    value = (figs.get(step) or {}).get(name)
    if value is None:
        raise NotMeasured(f"no figure {step}.{name}")
    return value


def _median(value: t.Any) -> float:
    return float(value["median"]) if isinstance(value, dict) else float(value)


def _spread(value: t.Any, fmt: str = "{:.2f}", unit: str = "") -> str:
    """"0.42x (0.40-0.45, 3 runs)" for a figure with runs; the value alone otherwise."""
    if isinstance(value, dict) and value.get("runs"):
        runs = [float(r) for r in value["runs"]]
        median = float(value.get("median", statistics.median(runs)))
        if len(runs) > 1:
            return f"{fmt.format(median)}{unit} ({fmt.format(min(runs))}-{fmt.format(max(runs))}, {len(runs)} runs)"
        return fmt.format(median) + unit
    return fmt.format(float(value)) + unit


def _rate(value: t.Any) -> str:
    return _spread(value, "{:,.0f}", " rows/s")


@dataclass
class RunInfo:
    mode: str  # "quick" | "full", ", partial" after it for --only
    total: float  # wall seconds of all the steps
    loads: list[float]  # load averages (1 min) sampled at each step's start and end
    # The last quick run (its harness_quick.json) when this run is the full set: the quick
    # budget is that run's, shown with its date, since one run cannot be both sizes.
    last_quick: dict[str, t.Any] | None = None


GoalFn = t.Callable[[dict[str, dict[str, t.Any]], RunInfo], Row]


def _ratio_goal(goal: str, step: str, ratio: str, ours: str, theirs: str, label: str, at_least: float) -> GoalFn:
    def evaluate(figs: dict[str, dict[str, t.Any]], _run: RunInfo) -> Row:
        value = _figure(figs, step, ratio)
        return Row(goal, f"{_spread(value, unit='x')}; ours {_rate(_figure(figs, step, ours))}",
                   f"{label}: {_rate(_figure(figs, step, theirs))}", _median(value) >= at_least, step)
    return evaluate


def _rss_goal(figs: dict[str, dict[str, t.Any]], _run: RunInfo) -> Row:
    pg, duck = _figure(figs, "warehouse", "pg_peak_rss_mib"), _figure(figs, "warehouse", "duckdb_peak_rss_mib")
    beside = []
    for label, name in (("meltanolabs fast", "meltanolabs_fast_peak_rss_mib"),
                        ("PostgreSQL floor", "pg_floor_peak_rss_mib"), ("DuckDB floor", "duckdb_floor_peak_rss_mib")):
        value = (figs.get("warehouse") or {}).get(name)
        if value is not None:
            beside.append(f"{label} {float(value):.0f} MiB")
    return Row("target-looker-warehouse peak RSS < 300 MiB", f"PostgreSQL {pg:.0f} MiB, DuckDB {duck:.0f} MiB",
               ", ".join(beside) or "-", max(pg, duck) < 300, "warehouse")


def _flat_goal(figs: dict[str, dict[str, t.Any]], _run: RunInfo) -> Row:
    rows = _figure(figs, "warehouse", "rows")
    big = _figure(figs, "warehouse", "flatness_rows")
    if not big:
        raise NotMeasured("no large run in this set: the full set loads 1M rows")
    pg, duck = _figure(figs, "warehouse", "pg_rss_flatness"), _figure(figs, "warehouse", "duckdb_rss_flatness")
    flat_pg = _figure(figs, "warehouse", "pg_flat_peak_rss_mib")
    flat_duck = _figure(figs, "warehouse", "duckdb_flat_peak_rss_mib")
    return Row("", f"PostgreSQL {pg:.2f}x, DuckDB {duck:.2f}x ({rows:,} -> {big:,} rows)",
               f"at {big:,} rows: PostgreSQL {flat_pg:.0f} MiB, DuckDB {flat_duck:.0f} MiB",
               max(pg, duck) <= 1.5 and max(flat_pg, flat_duck) < 300, "warehouse")


def _databricks_goal(figs: dict[str, dict[str, t.Any]], _run: RunInfo) -> Row:
    ratio = _figure(figs, "databricks", "vs_meltanolabs_approach")
    update = (figs.get("databricks") or {}).get("update_vs_meltanolabs_approach")
    return Row("target-databricks >= 4x the MeltanoLabs approach (local engine)",
               f"{_spread(ratio, unit='x')} initial" + (f", {float(update):.2f}x update" if update is not None else "")
               + f"; ours {_rate(_figure(figs, 'databricks', 'rows_per_s'))}",
               f"MeltanoLabs approach: {_rate(_figure(figs, 'databricks', 'baseline_rows_per_s'))}",
               _median(ratio) >= 4 and (update is None or float(update) >= 4), "databricks")


def _databricks_path_goal(figs: dict[str, dict[str, t.Any]], _run: RunInfo) -> Row:
    chosen = _figure(figs, "databricks", "auto_path")
    faster = _figure(figs, "databricks", "auto_path_is_faster")
    statements = (figs.get("databricks") or {}).get("statements_per_10k_rows")
    return Row("target-databricks picks the faster path (Volume file or parameters) by size",
               f"chose {chosen}" + (f", {statements} statements per 10k rows" if statements is not None else ""),
               f"Volume {_rate(_figure(figs, 'databricks', 'volume_rows_per_s'))}, parameters "
               f"{_rate(_figure(figs, 'databricks', 'parameter_rows_per_s'))}", bool(faster), "databricks")


def _qbd_goal(figs: dict[str, dict[str, t.Any]], _run: RunInfo) -> Row:
    key = "qbd_large" if "qbd_large" in figs else "qbd"
    rate = _figure(figs, key, "drain_records_per_s")
    cpu = _figure(figs, key, "drain_records_per_cpu_s")
    records = _figure(figs, key, "records")
    return Row("tap-quickbooks-desktop drain >= 30,000 records/s",
               f"{_spread(rate, '{:,.0f}', ' records/s')} over {records:,} records",
               f"per CPU second: {_spread(cpu, '{:,.0f}')}", _median(rate) >= 30_000, key)


def _qbd_flat_goal(figs: dict[str, dict[str, t.Any]], run: RunInfo) -> Row:
    if "qbd" in figs and "qbd_large" not in figs and run.mode.startswith("quick"):
        raise NotMeasured("one drain size in the quick set: the full set drains two")
    small, large = _figure(figs, "qbd", "drain_rss_mib"), _figure(figs, "qbd_large", "drain_rss_mib")
    small_n, large_n = _figure(figs, "qbd", "records"), _figure(figs, "qbd_large", "records")
    return Row("tap-quickbooks-desktop drain memory flat (within 1.5x)", f"{large / small:.2f}x",
               f"{small:.0f} MiB at {small_n:,} records, {large:.0f} MiB at {large_n:,}", large / small <= 1.5,
               "qbd, qbd_large")


def _qbo_goal(figs: dict[str, dict[str, t.Any]], _run: RunInfo) -> Row:
    ratio = _figure(figs, "qbo", "vs_singer_io")
    ours = _figure(figs, "qbo", "records_per_s")
    theirs = _figure(figs, "qbo", "singer_io_records_per_s")
    return Row("tap-quickbooks-online >= 3x the singer-io tap (same sandbox)",
               f"{_spread(ratio, unit='x')}; ours {_spread(ours, '{:,.0f}', ' records/s')}",
               f"singer-io tap-quickbooks: {_spread(theirs, '{:,.0f}', ' records/s')}", _median(ratio) >= 3, "qbo")


def _qbo_calls_goal(figs: dict[str, dict[str, t.Any]], _run: RunInfo) -> Row:
    full, inc = _figure(figs, "qbo", "full_calls"), _figure(figs, "qbo", "incremental_calls")
    peer_full = _figure(figs, "qbo", "singer_io_full_calls")
    peer_inc = (figs.get("qbo") or {}).get("singer_io_incremental_calls")
    pages, needed = (figs.get("qbo") or {}).get("full_query_calls"), (figs.get("qbo") or {}).get("full_pages_needed")
    within_need = pages is None or needed is None or pages <= needed
    return Row("tap-quickbooks-online: no more API calls than it needs (and than the singer-io tap)",
               f"full sync {full}" + (f" ({pages} query pages, {needed} needed)" if pages is not None else "")
               + f", no-change incremental {inc}",
               f"singer-io: full sync {peer_full}" + (f", incremental {peer_inc}" if peer_inc is not None else ""),
               within_need and full <= peer_full and (peer_inc is None or inc <= peer_inc), "qbo")


def _main_job_goal(figs: dict[str, dict[str, t.Any]], run: RunInfo) -> Row:
    if "main_job" not in figs and run.mode.startswith("quick"):
        raise NotMeasured("the main job runs in the full set (Meltano and the Spark engine starting alone take "
                          "most of the quick budget)")
    pipelines = _figure(figs, "main_job", "pipelines")
    ok = sum(1 for p in pipelines if p.get("ok"))
    wall = sum(float(p["seconds"]) for p in pipelines)
    return Row("the main job through Meltano: every pipeline delivers", f"{ok} of {len(pipelines)} ok",
               f"{wall:.0f} s over the pipelines (table below)", ok == len(pipelines) > 0, "main_job")


def _budget_goal(mode: str) -> GoalFn:
    def evaluate(_figs: dict[str, dict[str, t.Any]], run: RunInfo) -> Row:
        quick = run.last_quick
        if mode == "quick" and run.mode == "full" and quick and not quick.get("failure"):
            loads = [x for step in quick.get("steps", []) for x in step.get("load", [])]
            total = float(quick["total_s"])
            return Row("", f"{total:.0f} s (the last `bench/run --quick`, {quick.get('started_at', '?')}; "
                       "bench/results/harness_quick.md)",
                       f"budget {BUDGET_S[mode]} s on an idle machine; load average there "
                       f"{min(loads, default=0):.1f}-{max(loads, default=0):.1f}", total < BUDGET_S[mode], "all")
        if run.mode != mode:
            raise NotMeasured(f"this run was the {run.mode} set")
        return Row("", f"{run.total:.0f} s", f"budget {BUDGET_S[mode]} s on an idle machine; load average here "
                   f"{min(run.loads, default=0):.1f}-{max(run.loads, default=0):.1f}", run.total < BUDGET_S[mode], "all")
    return evaluate


GOALS: list[tuple[str, str, GoalFn]] = [
    ("target-looker-warehouse -> PostgreSQL >= 0.40 of the floor", "warehouse",
     _ratio_goal("target-looker-warehouse -> PostgreSQL >= 0.40 of the floor", "warehouse", "pg_vs_floor",
                 "pg_rows_per_s", "pg_floor_rows_per_s", "floor (orjson + psycopg COPY)", 0.40)),
    ("target-looker-warehouse -> DuckDB >= 0.40 of the floor", "warehouse",
     _ratio_goal("target-looker-warehouse -> DuckDB >= 0.40 of the floor", "warehouse", "duckdb_vs_floor",
                 "duckdb_rows_per_s", "duckdb_floor_rows_per_s", "floor (orjson + Arrow)", 0.40)),
    ("target-looker-warehouse >= 2x meltanolabs-target-postgres, fastest configuration", "warehouse",
     _ratio_goal("target-looker-warehouse >= 2x meltanolabs-target-postgres, fastest configuration", "warehouse",
                 "pg_vs_meltanolabs_fast", "pg_rows_per_s", "meltanolabs_fast_rows_per_s",
                 "meltanolabs use_copy + 100k batches + no validation", 2.0)),
    ("target-looker-warehouse peak RSS < 300 MiB", "warehouse", _rss_goal),
    ("target-looker-warehouse peak RSS flat within 1.5x, 200k -> 1M rows", "warehouse", _flat_goal),
    ("target-databricks >= 4x the MeltanoLabs approach (local engine)", "databricks", _databricks_goal),
    ("target-databricks picks the faster path (Volume file or parameters) by size", "databricks",
     _databricks_path_goal),
    ("tap-quickbooks-desktop drain >= 30,000 records/s", "qbd", _qbd_goal),
    ("tap-quickbooks-desktop drain memory flat (within 1.5x)", "qbd_large", _qbd_flat_goal),
    ("tap-quickbooks-online >= 3x the singer-io tap (same sandbox)", "qbo", _qbo_goal),
    ("tap-quickbooks-online: no more API calls than it needs (and than the singer-io tap)", "qbo", _qbo_calls_goal),
    ("the main job through Meltano: every pipeline delivers", "main_job", _main_job_goal),
    ("`bench/run --quick` under 3 minutes", "all", _budget_goal("quick")),
    ("`bench/run` (full set) under 20 minutes", "all", _budget_goal("full")),
]


def goal_rows(figs: dict[str, dict[str, t.Any]], run: RunInfo) -> list[Row]:
    rows = []
    for goal, step, evaluate in GOALS:
        try:
            row = evaluate(figs, run)
            row.goal = goal
            rows.append(row)
        except NotMeasured as missing:
            rows.append(Row(goal, f"not measured ({missing})", "-", None, step))
        except (TypeError, ValueError, KeyError, ZeroDivisionError) as exc:
            rows.append(Row(goal, f"not measured (unreadable figure: {exc})", "-", None, step))
    return rows


# ---------------------------------------------------------------------------------------------
# Results


def summary_name(mode: str) -> str:
    """The stem of a run's goals table and figures in bench/results: ``harness`` for the full set,
    so a quick or partial run never replaces the full set's goals table."""
    return "harness" if mode == "full" else "harness_" + mode.replace(", ", "_")


def write_results(results_dir: Path, mode: str, command: str, started_at: dt.datetime, total: float,
                  done: list[Done], failure: str) -> None:
    figs = {d.step.key: d.figures for d in done if d.figures is not None and d.ok}
    loads = [x for d in done for x in (d.load_start, d.load_end)]
    name = summary_name(mode)
    last_quick = None
    if mode == "full" and (results_dir / "harness_quick.json").exists():
        with contextlib.suppress(ValueError):
            last_quick = json.loads((results_dir / "harness_quick.json").read_text(encoding="utf-8"))
    rows = goal_rows(figs, RunInfo(mode, total, loads, last_quick)) if not failure else []
    verdict = {True: "met", False: "NOT met", None: "-"}
    lines = [
        "# bench/run: the goals of issue 17, measured in one run" + ("" if mode == "full" else f" ({mode} set)"),
        "",
        f"Command: `{command}` ({mode} set), {started_at:%Y-%m-%d %H:%M} UTC, on {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}; total wall {total:.0f} s, load average "
        f"(1 min) {min(loads, default=0):.1f}-{max(loads, default=0):.1f} over the run. Peers from PyPI in "
        f"their own venvs under `.bench/` ({', '.join(' '.join(p) for p in PEERS.values())}), floors measured "
        "in the same run. The loaders' destinations are read back (row count, distinct keys, exact sum) and "
        f"each step's checks (bench/results/{name}.json) must match; a wrong answer stops the run, so no "
        "figure below comes from one. Each step's own section of "
        "bench/RESULTS.md (its bench/results/<name>.md) has its per-round figures and its command line; "
        f"bench/results/{name}.json has every figure of this run.",
        "",
    ]
    if failure:
        lines += [f"**This run FAILED and measured no goal:** {failure}", ""]
    else:
        lines += ["| goal | measured | peer / floor beside it | verdict | step |", "|---|---|---|---|---|"]
        lines += [f"| {r.goal} | {r.measured} | {r.beside} | {verdict[r.met]} | {r.step} |" for r in rows]
        lines.append("")
    lines += ["Steps, in order (load average at the step's start and end; CPU s: the step's processes):", "",
              "| step | command | wall | CPU s | load avg | result |", "|---|---|---|---|---|---|"]
    for d in done:
        bad = wrong(d.checks)
        result = ("ok" if d.ok else f"WRONG ANSWER: {bad[0]['what']}" if bad else f"FAILED (exit {d.code})")
        if d.ok and d.figures is None:
            result = "ok (wrote no figures)"
        lines.append(f"| {d.step.key} | `{' '.join(d.step.command)}` | {d.wall:.0f} s | {d.cpu:.0f} | "
                     f"{d.load_start:.1f} -> {d.load_end:.1f} | {result} |")
    pipelines = (figs.get("main_job") or {}).get("pipelines") or []
    if pipelines:
        lines += ["", "The main job through Meltano, per pipeline (`meltano run`, wall):", "",
                  "| pipeline | wall | result |", "|---|---|---|"]
        lines += [f"| {p.get('name')} | {float(p.get('seconds', 0)):.0f} s | {'ok' if p.get('ok') else 'FAILED'} |"
                  for p in pipelines]
    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / f"{name}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    summary = {"command": command, "mode": mode, "started_at": started_at.isoformat(timespec="seconds"),
               "total_s": round(total, 1), "failure": failure or None,
               "goals": [{"goal": r.goal, "measured": r.measured, "beside": r.beside, "met": r.met, "step": r.step}
                         for r in rows],
               "steps": [{"key": d.step.key, "command": d.step.command, "wall_s": round(d.wall, 1),
                          "cpu_s": round(d.cpu, 1), "load": [d.load_start, d.load_end], "exit": d.code,
                          "figures": d.figures, "checks": d.checks} for d in done]}
    (results_dir / f"{name}.json").write_text(json.dumps(summary, indent=1, default=str) + "\n", encoding="utf-8")
    subprocess.run([sys.executable, str(Path(__file__).parent / "collect_results.py"), str(results_dir)],
                   check=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller inputs (under 3 minutes)")
    parser.add_argument("--only", action="append", default=[],
                        help="run only the steps whose key or name contains this (repeatable)")
    args = parser.parse_args(argv)
    # A partial run (--only) measures no time budget: its goals table says so.
    mode = ("quick" if args.quick else "full") + (", partial" if args.only else "")
    # The peers' venvs are made here, before the clock starts.
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
           **{var: peer_python(name) for name, var in PEER_ENV.items()}}
    planned = [s for s in steps(args.quick) if not args.only or any(o in s.key or o in s.name for o in args.only)]
    command = "bench/run" + (" --quick" if args.quick else "") + "".join(f" --only {o}" for o in args.only)
    return run(planned, mode, RESULTS_DIR, BENCH_VENVS / "run", env, command)


if __name__ == "__main__":
    sys.exit(main())
