"""Benchmark: generating a QBO sandbox company (time, peak RSS, database size, page latency).

    python bench/qbo_sandbox.py --transactions 100000 1000000

Each size runs in its own child process so the peak RSS reported is that generation's alone.
Writes bench/results/qbo_sandbox.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results" / "qbo_sandbox.md"


def child(transactions: int, directory: Path) -> None:
    from sandboxes.qbo.realm import Realm, RealmSpec

    realm = Realm(RealmSpec("9130350000000001", seed=42, transactions=transactions), directory)
    started = time.perf_counter()
    counts = realm.generate()
    generate_s = time.perf_counter() - started
    invoices = realm.store.count("Invoice")
    timings = {}
    for label, query in (
        ("first page (1000 invoices by LastUpdatedTime)",
         "select * from Invoice where MetaData.LastUpdatedTime >= '2000-01-01' orderby MetaData.LastUpdatedTime maxresults 1000"),
        ("middle page (startposition = half the invoices)",
         f"select * from Invoice orderby MetaData.LastUpdatedTime startposition {max(1, invoices // 2)} maxresults 1000"),  # noqa: S608 (QBO query)
        ("count(*) of invoices", "select count(*) from Invoice"),
    ):
        t0 = time.perf_counter()
        body = realm.query(query)
        timings[label] = {"seconds": round(time.perf_counter() - t0, 4), "bytes": len(body)}
    t0 = time.perf_counter()
    report = realm.report("AgedPayables", {})
    timings["AgedPayables report"] = {"seconds": round(time.perf_counter() - t0, 4), "bytes": len(report)}
    realm.store.close()
    size = sum(p.stat().st_size for p in directory.iterdir())
    print(json.dumps({"generate_seconds": round(generate_s, 2), "objects": sum(counts.values()),
                      "db_bytes": size, "invoices": invoices, "timings": timings}))


def run(transactions: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="qbo-bench-") as tmp:
        proc = subprocess.Popen([sys.executable, __file__, "--child", str(transactions), tmp],
                                stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        output = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        if status != 0:
            raise SystemExit(f"child failed for {transactions} transactions (status {status})")
        result = json.loads(output.strip().splitlines()[-1])
        result["peak_rss_mib"] = round(usage.ru_maxrss / 1024, 1)
        result["transactions"] = transactions
        return dict(result)


def write(results: list[dict[str, Any]], command: str) -> None:
    lines = [
        "# QBO sandbox: generating a company",
        "",
        f"Command: `{command}` (from the repository root, with the sandboxes package installed)",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores (shared), Python {platform.python_version()}; "
        f"run {datetime.now(UTC).isoformat(timespec='minutes')}",
        "",
        "Each size is generated in a fresh child process (peak RSS = that child's ru_maxrss). "
        "Data goes to one SQLite file per realm; list records and the open-invoice/open-bill queues are "
        "the only things held in memory.",
        "",
        "| transactions | objects written | generate (s) | transactions/s | peak RSS (MiB) | SQLite size (MiB) |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        tps = int(r["transactions"]) / float(r["generate_seconds"])
        lines.append(f"| {r['transactions']:,} | {r['objects']:,} | {r['generate_seconds']} | {tps:,.0f} | "
                     f"{r['peak_rss_mib']} | {int(r['db_bytes']) / 2**20:,.0f} |")
    lines += ["", "Query latency on the generated data (in-process, no HTTP):", "",
              "| transactions | operation | seconds | response bytes |", "|---:|---|---:|---:|"]
    for r in results:
        for label, t in r["timings"].items():
            lines.append(f"| {r['transactions']:,} | {label} | {t['seconds']} | {t['bytes']:,} |")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(int(sys.argv[2]), Path(sys.argv[3]))
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--transactions", type=int, nargs="+", default=[100_000, 1_000_000])
    args = parser.parse_args()
    results = []
    for n in args.transactions:
        result = run(n)
        print(json.dumps(result), flush=True)
        results.append(result)
    write(results, "python bench/qbo_sandbox.py --transactions " + " ".join(str(n) for n in args.transactions))


if __name__ == "__main__":
    main()
