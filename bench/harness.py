"""``bench/run``: one command for every benchmark figure (issue 17), with the peers beside them.

Steps, each a bench module run as its own process (its own results file, its own command line):

* target-looker-warehouse against the floors (orjson + psycopg COPY; orjson + Arrow into DuckDB)
  and meltanolabs-target-postgres (defaults, and use_copy + 100k batches + no validation),
  alternating rounds, medians and pair-by-pair ratios, every destination read back;
* tap-quickbooks-online, tap-quickbooks-desktop and target-databricks (``bench/tap_qbo.py``,
  ``bench/tap_qbd.py``, ``bench/target_databricks.py``);
* the main job through Meltano (``scripts/demo``).

The peers live in their own venvs under ``.bench/`` (made on first use, versions pinned here):
their dependencies differ from the project's. A step that fails, or a destination that reads
back wrong, ends the harness with exit 1 and the step named; the summary of the run (commands,
wall time, load average) goes to bench/results/harness.md, then bench/RESULTS.md is rebuilt.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_VENVS = ROOT / ".bench"
PEERS = {
    "meltanolabs": ["meltanolabs-target-postgres==0.8.1"],
    "floor": ["orjson==3.13.0", "psycopg[binary]==3.3.9", "duckdb==2.0.1", "pyarrow==26.0.1"],
    "tap-quickbooks": ["tap-quickbooks==2.5.0"],  # singer-io's QuickBooks Online tap (bench/tap_qbo.py)
}
RESULTS = ROOT / "bench" / "results" / "harness.md"


def peer_python(name: str) -> str:
    venv = BENCH_VENVS / name
    python = venv / "bin" / "python"
    marker = venv / ".installed"
    wanted = " ".join(PEERS[name])
    if not marker.exists() or marker.read_text() != wanted:
        print(f"bench/run: installing {wanted} into {venv.relative_to(ROOT)}", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *PEERS[name]], check=True)
        marker.write_text(wanted)
    return str(python.relative_to(ROOT))


def steps(quick: bool) -> list[tuple[str, list[str]]]:
    py = os.path.relpath(sys.executable, ROOT) if Path(sys.executable).is_relative_to(ROOT) else sys.executable
    warehouse = [py, "bench/target_looker_warehouse.py", "--meltanolabs-python", peer_python("meltanolabs"),
                 "--floor-python", peer_python("floor")]
    warehouse += (["--rows", "30000", "--rounds", "2", "--flatness-rows", "0", "--quick"] if quick
                  else ["--rows", "200000", "--rounds", "3", "--flatness-rows", "1000000"])
    return [
        ("target-looker-warehouse vs floors and meltanolabs-target-postgres", warehouse),
        ("tap-quickbooks-online vs singer-io tap-quickbooks",
         [py, "bench/tap_qbo.py", "--peer-python", peer_python("tap-quickbooks"),
          *(["--quick"] if quick else ["--transactions", "20000", "--rounds", "3"])]),
        ("tap-quickbooks-desktop drain", [py, "bench/tap_qbd.py", "--transactions", "2000" if quick else "20000"]),
        ("target-databricks paths", [py, "bench/target_databricks.py", "--rows", "5000" if quick else "50000",
                                     "--update-rows", "1000" if quick else "10000"]),
        ("main job through Meltano", ["bash", "scripts/demo", "--transactions", "200" if quick else "2000"]),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench/run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller inputs, no slow peer configuration")
    parser.add_argument("--only", action="append", default=[], help="run only steps whose name contains this")
    args = parser.parse_args()
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"}
    rows = []
    failed = None
    for name, command in steps(args.quick):
        if args.only and not any(o in name for o in args.only):
            continue
        load = os.getloadavg()[0]
        print(f"bench/run: {name}: {' '.join(command)}", file=sys.stderr, flush=True)
        started = time.perf_counter()
        result = subprocess.run(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                text=True, check=False)
        wall = time.perf_counter() - started
        status = "ok" if result.returncode == 0 else f"FAILED (exit {result.returncode})"
        rows.append(f"| {name} | `{' '.join(command)}` | {wall:.0f} s | {load:.1f} | {status} |")
        if result.returncode != 0:
            tail = result.stderr.strip().splitlines()[-1:] or ["(no output)"]
            failed = f"{name}: {tail[0]}"
            print(result.stderr[-3000:], file=sys.stderr)
            break
    lines = ["# bench/run: the last run of the whole harness", "",
             f"`bench/run{' --quick' if args.quick else ''}` on {platform.machine()}, {os.cpu_count()} cores shared "
             f"with other jobs, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC. Each step writes its own section "
             "(below in this file set) with its figures; load average (1 min) at each step's start.", "",
             "| step | command | wall | load avg | result |", "|---|---|---|---|---|", *rows]
    RESULTS.write_text("\n".join(lines) + "\n", encoding="utf-8")
    subprocess.run([sys.executable, "bench/collect_results.py"], cwd=ROOT, check=True)
    if failed:
        print(f"bench/run: {failed}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
