"""Benchmark tap-quickbooks-online against the QBO sandbox.

Full sync of an N-transaction company (records/s, peak RSS of the tap process), then a no-change
incremental run (API calls used). Writes bench/results/tap_qbo.md.

    python -m bench.tap_qbo --transactions 100000 [--with-reports]
    python -m bench.tap_qbo --quick          # 5,000 transactions, for bench/run's quick mode

`measure()` returns the figures as a dict (for bench/run); `main()` also writes the section.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import typing as t
from pathlib import Path

from cryptography.fernet import Fernet
from sandboxes.qbo import QBOSandbox, RealmSpec

REALM = "9130350000000001"
TAP = [sys.executable, "-c", "from tap_quickbooks_online.cli import main; main()"]
RESULTS = Path(__file__).parent / "results" / "tap_qbo.md"


def run_tap(args: list[str], env: dict[str, str]) -> tuple[float, collections.Counter[str], dict, str]:
    """Run the tap; returns wall seconds, records per stream, last STATE, stderr tail."""
    started = time.perf_counter()
    proc = subprocess.Popen([*TAP, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    counts: collections.Counter[str] = collections.Counter()
    state: dict = {}
    assert proc.stdout is not None and proc.stderr is not None
    err_lines: collections.deque[str] = collections.deque(maxlen=20)
    import threading

    drain = threading.Thread(target=lambda: err_lines.extend(proc.stderr), daemon=True)  # type: ignore[arg-type]
    drain.start()
    for line in proc.stdout:
        if line.startswith('{"type":"RECORD"'):
            start = line.index('"stream":"') + 10
            counts[line[start:line.index('"', start)]] += 1
        elif line.startswith('{"type":"STATE"'):
            state = json.loads(line)["value"]
    code = proc.wait()
    drain.join(timeout=5)
    elapsed = time.perf_counter() - started
    if code != 0:
        raise SystemExit(f"tap failed ({code}):\n" + "".join(err_lines))
    return elapsed, counts, state, "".join(err_lines)


QUICK_TRANSACTIONS = 5_000


def measure(transactions: int = 100_000, with_reports: bool = False) -> dict[str, t.Any]:
    """A full sync and a no-change incremental run against a fresh sandbox; the figures.

    A failed tap run raises SystemExit with its stderr tail, so it never yields figures.
    """
    work = Path(tempfile.mkdtemp(prefix="bench-tap-qbo-"))
    env = {**os.environ, "QBO_BENCH_KEY": Fernet.generate_key().decode()}
    t0 = time.perf_counter()
    sandbox = QBOSandbox(realms=[RealmSpec(REALM, seed=42, transactions=transactions)], data_dir=work / "sandbox").start()
    generated_s = time.perf_counter() - t0
    try:
        config = {
            "client_id": sandbox.client_id,
            "client_secret": sandbox.client_secret,
            "realms": [{"realm_id": REALM, "refresh_token": sandbox.issue_tokens(REALM)["refresh_token"]}],
            "base_url": sandbox.base_url,
            "token_url": sandbox.token_url,
            "token_store_path": str(work / "tokens.fernet"),
            "token_store_key_env": "QBO_BENCH_KEY",
            "webhook_journal_path": str(work / "journal.jsonl"),
            "report_window_days": 365,
        }
        (work / "config.json").write_text(json.dumps(config))
        catalog = json.loads(subprocess.run([*TAP, "--config", str(work / "config.json"), "--discover"],
                                            capture_output=True, text=True, check=True, env=env).stdout)
        for entry in catalog["streams"]:
            selected = with_reports or not entry["tap_stream_id"].startswith("report_")
            for meta in entry["metadata"]:
                if meta["breadcrumb"] == []:
                    meta["metadata"]["selected"] = selected
        (work / "catalog.json").write_text(json.dumps(catalog))
        base = ["--config", str(work / "config.json"), "--catalog", str(work / "catalog.json")]

        sandbox.reset_stats()
        full_s, counts, state, _ = run_tap(base, env)
        full_rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        full_calls = sandbox.stats(REALM)
        full_total, full_by = full_calls.total, dict(full_calls.by_endpoint)

        (work / "state.json").write_text(json.dumps(state))
        sandbox.reset_stats()
        inc_s, inc_counts, _, _ = run_tap([*base, "--state", str(work / "state.json")], env)
        inc = sandbox.stats(REALM)
        inc_total, inc_by = inc.total, dict(inc.by_endpoint)
    finally:
        sandbox.stop()

    records = sum(counts.values())
    return {
        "transactions_requested": transactions, "with_reports": with_reports,
        "generated_s": generated_s, "full_s": full_s, "records": records, "counts": dict(counts),
        "records_per_second": records / full_s, "full_rss_mb": full_rss_mb,
        "full_calls": full_total, "full_calls_by_endpoint": full_by,
        "incremental_s": inc_s, "incremental_records": sum(inc_counts.values()),
        "incremental_counts": dict(inc_counts), "incremental_calls": inc_total,
        "incremental_calls_by_endpoint": inc_by,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--transactions", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK_TRANSACTIONS:,} transactions (overrides --transactions)")
    parser.add_argument("--with-reports", action="store_true", help="also sync the five report streams")
    args = parser.parse_args()
    transactions = QUICK_TRANSACTIONS if args.quick else args.transactions
    f = measure(transactions, args.with_reports)
    counts, inc_counts = f["counts"], f["incremental_counts"]
    full_s, inc_s, generated_s = f["full_s"], f["incremental_s"], f["generated_s"]
    full_rss_mb, full_total, full_by = f["full_rss_mb"], f["full_calls"], f["full_calls_by_endpoint"]
    inc_total, inc_by = f["incremental_calls"], f["incremental_calls_by_endpoint"]
    records = sum(counts.values())
    transactions = sum(v for k, v in counts.items() if k in {
        "invoices", "bills", "payments", "bill_payments", "journal_entries", "credit_memos", "sales_receipts",
        "purchase_orders", "estimates", "deposits", "purchases", "refund_receipts", "vendor_credits", "transfers"})
    command = ("python -m bench.tap_qbo --quick" if args.quick else
               f"python -m bench.tap_qbo --transactions {transactions}") + (" --with-reports" if args.with_reports else "")
    lines = [
        f"## `{command}`",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores (shared), Python {platform.python_version()}; "
        f"sandbox company generated in {generated_s:.1f} s. The sandbox serves from the same machine, so the "
        "figures include its CPU time competing with the tap's.",
        "",
        "| run | wall s | records | records/s | transactions | API calls | calls by endpoint | peak RSS (tap) |",
        "|---|---|---|---|---|---|---|---|",
        f"| full sync ({'all streams' if args.with_reports else 'all streams except reports'}) | {full_s:.1f} | {records} | "
        f"{records / full_s:.0f} | {transactions} | {full_total} | {json.dumps(full_by)} | {full_rss_mb:.0f} MB |",
        f"| no-change incremental (default sync_mode cdc) | {inc_s:.1f} | {sum(inc_counts.values())} | - | - | "
        f"{inc_total} | {json.dumps(inc_by)} | - |",
        "",
        "Records per stream (full sync): " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())),
        "",
        "Records per stream (no-change run): "
        + (", ".join(f"{k} {v}" for k, v in sorted(inc_counts.items())) or "none"),
        "",
        "The no-change run makes one `/cdc` call for every entity Intuit's CDC serves, plus one `/batch` call "
        "carrying the first query page of every stream CDC does not serve (TaxAgency, TaxCode, TaxRate, "
        "TimeActivity per Intuit's docs); a report stream is read again only when its window moved (the default "
        "window ends today) or the change feed saw a change to an entity it is computed from. The "
        "`lookback_seconds` overlap is re-read but versions already sent are skipped, so unchanged entity "
        "streams emit nothing.",
        "",
    ]
    write_section(command, lines)
    print("\n".join(lines))
    write_figures(f)


def write_section(command: str, lines: list[str]) -> None:
    """Replace this command's section of the results file, keeping the other commands' sections."""
    header = "# tap-quickbooks-online benchmark\n\nRun from the repo root with tap-quickbooks-online and sandboxes installed.\n"
    sections: dict[str, str] = {}
    if RESULTS.exists():
        for chunk in RESULTS.read_text().split("\n## ")[1:]:
            sections[chunk.split("\n", 1)[0]] = "## " + chunk.rstrip("\n")
    sections[f"`{command}`"] = "\n".join(lines).rstrip("\n")
    RESULTS.write_text(header + "\n" + "\n\n".join(sections[k] for k in sorted(sections)) + "\n")


# --- Figures for bench/run (the harness's contract, see bench/harness.py) ---------------------


def write_figures(f: dict[str, t.Any]) -> None:
    """The figures as JSON into the file bench/run names in QBC_BENCH_FIGURES (nothing without it).

    The singer-io peer's figures, when ``measure()`` returns them, keep their names:
    ``singer_io_records_per_s``, ``singer_io_full_calls``, ``singer_io_incremental_calls`` and
    ``vs_singer_io`` (ours / theirs, records/s, a number or ``{"median", "runs"}``).
    """
    target = os.environ.get("QBC_BENCH_FIGURES")
    if not target:
        return
    names = ("transactions_requested", "records", "full_s", "records_per_second", "full_rss_mb", "full_calls",
             "incremental_s", "incremental_records", "incremental_calls")
    figures = {name: f[name] for name in names if name in f}
    figures["records_per_s"] = f["records_per_second"]
    figures.update({k: v for k, v in f.items() if k.startswith(("singer_io_", "vs_singer_io"))})
    checks = [
        {"what": "records of the full sync", "expected": True, "found": f["records"] > 0},
        {"what": "records re-sent by the no-change incremental run", "expected": 0,
         "found": f["incremental_records"]},
    ]
    Path(target).write_text(json.dumps({"figures": figures, "checks": checks}, indent=1, default=str),
                            encoding="utf-8")


if __name__ == "__main__":
    main()
