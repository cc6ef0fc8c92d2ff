"""Benchmark tap-quickbooks-online against the singer-io tap (PyPI ``tap-quickbooks``) on one QBO sandbox.

One generated company, served by the sandbox from this process. In each round, alternating:

* ``peer``: singer-io ``tap-quickbooks`` 2.5.0 (its own venv), its 29 entity streams;
* ``ours, same streams``: tap-quickbooks-online with exactly those 29 streams selected (like with like);
* ``ours, all streams``: every entity stream of ours (``*_lines``, attachables, ... too; reports with
  ``--with-reports``).

Each run's stdout goes to a file and is read back afterwards: records per stream, distinct keys, and the
exact (Decimal) sum of the invoices' totals must agree between the peer and ours, and from round to round,
or the benchmark fails. CPU seconds are the tap process's own (``os.wait4``); the sandbox's CPU is this
process's. After the first round both taps run again from their own final STATE with nothing changed
(the no-change incremental run). Writes this command's section of bench/results/tap_qbo.md.

    python bench/tap_qbo.py --transactions 20000 [--rounds 3] [--with-reports] [--peer-python PATH]
    python bench/tap_qbo.py --quick          # 2,000 transactions, 2 rounds

Without ``--peer-python`` the peer's venv is made under ``.bench/`` by bench/harness.py's rule.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import typing as t
from decimal import Decimal
from pathlib import Path

from cryptography.fernet import Fernet
from own_peak import measured, reap
from sandboxes.qbo import QBOSandbox, RealmSpec
from tap_quickbooks_online.cdc import CDC_UNSUPPORTED

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

REALM = "9130350000000001"
OURS = [sys.executable, "-c", "from tap_quickbooks_online.cli import main; main()"]
PEER_WRAPPER = ROOT / "tests" / "peer_clients" / "tap_quickbooks_redirect.py"
RESULTS = Path(__file__).parent / "results" / "tap_qbo.md"
QUICK_TRANSACTIONS = 2_000
PAGE = 1000  # Intuit's maxresults ceiling
# The peer's streams that are not one QBO entity each (a CDC feed of deletions, a report by day).
PEER_NON_ENTITY = {"deleted_objects", "profit_loss_report"}
# QBO entity of each of the peer's streams (ours: the same names).
ENTITY = {
    "accounts": "Account", "bill_payments": "BillPayment", "bills": "Bill", "budgets": "Budget", "classes": "Class",
    "credit_memos": "CreditMemo", "customer_types": "CustomerType", "customers": "Customer",
    "departments": "Department", "deposits": "Deposit", "employees": "Employee", "estimates": "Estimate",
    "invoices": "Invoice", "items": "Item", "journal_entries": "JournalEntry", "payment_methods": "PaymentMethod",
    "payments": "Payment", "purchase_orders": "PurchaseOrder", "purchases": "Purchase",
    "refund_receipts": "RefundReceipt", "sales_receipts": "SalesReceipt", "tax_agencies": "TaxAgency",
    "tax_codes": "TaxCode", "tax_rates": "TaxRate", "terms": "Term", "time_activities": "TimeActivity",
    "transfers": "Transfer", "vendor_credits": "VendorCredit", "vendors": "Vendor",
}


class Run(t.NamedTuple):
    wall_s: float
    cpu_s: float  # the tap process's user + system seconds
    sandbox_cpu_s: float  # this process's (the sandbox's threads) during the run
    rss_mb: float
    counts: dict[str, int]
    ids: dict[str, int]  # distinct keys per stream
    invoice_total: Decimal
    calls: int
    calls_by_endpoint: dict[str, int]
    max_concurrent: int  # requests in flight at once, as the sandbox saw them
    state: dict[str, t.Any]

    @property
    def records(self) -> int:
        return sum(self.counts.values())


def run_tap(command: list[str], env: dict[str, str], sandbox: QBOSandbox, work: Path, *, peer: bool) -> Run:
    """Run one tap to completion with stdout in a file; read the file back afterwards."""
    out_path, err_path = work / "out.jsonl", work / "err.txt"
    sandbox.reset_stats()
    self_before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    report = work / "own_peak.txt"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        code, peak_mib, cpu = reap(measured(command, report, stdout=out, stderr=err, env=env), report)
    wall = time.perf_counter() - started
    self_after = resource.getrusage(resource.RUSAGE_SELF)
    if code != 0:
        tail = err_path.read_text(errors="replace")[-3000:]
        raise SystemExit(f"{tail}\nbench/tap_qbo: {'the peer tap' if peer else 'tap-quickbooks-online'} failed "
                         f"(exit {code}); its stderr is above")
    stats = sandbox.stats(REALM)
    counts: collections.Counter[str] = collections.Counter()
    ids: dict[str, set[str]] = collections.defaultdict(set)
    invoice_total = Decimal(0)
    state: dict[str, t.Any] = {}
    with out_path.open("rb") as lines:
        for line in lines:
            message = json.loads(line, parse_float=Decimal)
            kind = message["type"]
            if kind == "RECORD":
                stream, record = message["stream"], message["record"]
                counts[stream] += 1
                ids[stream].add(str(record.get("Id") if peer else record.get("id")))
                if stream == "invoices":
                    invoice_total += Decimal(str(record.get("TotalAmt" if peer else "total_amount") or 0))
            elif kind == "STATE":
                state = message["value"]
    sandbox_cpu = (self_after.ru_utime + self_after.ru_stime) - (self_before.ru_utime + self_before.ru_stime)
    return Run(wall, cpu, sandbox_cpu, peak_mib, dict(counts),
               {k: len(v) for k, v in ids.items()}, invoice_total, stats.total, dict(stats.by_endpoint),
               stats.max_concurrent, state)


def discover(command: list[str], env: dict[str, str]) -> dict[str, t.Any]:
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{done.stderr[-3000:]}\nbench/tap_qbo: discovery failed: {' '.join(command)}")
    return t.cast(dict[str, t.Any], json.loads(done.stdout))


def select(catalog: dict[str, t.Any], keep: t.Callable[[str], bool]) -> dict[str, t.Any]:
    for entry in catalog["streams"]:
        for meta in entry["metadata"]:
            if meta["breadcrumb"] == []:
                meta["metadata"]["selected"] = keep(entry["tap_stream_id"])
    return catalog


def peer_python_default() -> str:
    from bench.harness import ROOT as HARNESS_ROOT
    from bench.harness import peer_python

    return str(HARNESS_ROOT / peer_python("tap-quickbooks"))


def measure(transactions: int, rounds: int, with_reports: bool, peer_python: str) -> dict[str, t.Any]:
    work = Path(tempfile.mkdtemp(prefix="bench-tap-qbo-"))
    key_env = "QBO_BENCH_KEY"
    env = {**os.environ, key_env: Fernet.generate_key().decode()}
    t0 = time.perf_counter()
    sandbox = QBOSandbox(realms=[RealmSpec(REALM, seed=42, transactions=transactions)],
                         data_dir=work / "sandbox", tls=True).start()
    generated_s = time.perf_counter() - t0
    try:
        # The peer's OAuth library refuses plain HTTP, so both taps talk HTTPS to the sandbox, trusting
        # its CA as a corporate CA bundle would be trusted.
        assert sandbox.certificate is not None
        env["REQUESTS_CA_BUNDLE"] = str(sandbox.certificate.ca_file)
        ours_config = work / "ours-config.json"
        ours_config.write_text(json.dumps({
            "client_id": sandbox.client_id, "client_secret": sandbox.client_secret,
            "realms": [{"realm_id": REALM, "refresh_token": sandbox.issue_tokens(REALM)["refresh_token"]}],
            "base_url": sandbox.base_url, "token_url": sandbox.token_url,
            "token_store_path": str(work / "tokens.fernet"), "token_store_key_env": key_env,
            "webhook_journal_path": str(work / "journal.jsonl"), "report_window_days": 365,
        }))
        peer_config = work / "peer-config.json"
        peer_config.write_text(json.dumps({
            "start_date": "2000-01-01T00:00:00Z", "user_agent": "quickbooks-connectors bench", "realm_id": REALM,
            "client_id": sandbox.client_id, "client_secret": sandbox.client_secret,
            "refresh_token": sandbox.issue_tokens(REALM)["refresh_token"],
        }))
        peer_env = {**env, "QBC_PEER_API_BASE": sandbox.base_url, "QBC_PEER_TOKEN_URL": sandbox.token_url}
        peer_cmd = [peer_python, str(PEER_WRAPPER), "--config", str(peer_config)]
        discovered = discover([*peer_cmd, "--discover"], peer_env)
        same = [e["tap_stream_id"] for e in discovered["streams"] if e["tap_stream_id"] not in PEER_NON_ENTITY]
        if set(same) != set(ENTITY):
            raise SystemExit(f"bench/tap_qbo: the peer's entity streams changed: {sorted(set(same) ^ set(ENTITY))}; "
                             "update ENTITY in bench/tap_qbo.py")
        (work / "peer-catalog.json").write_text(json.dumps(select(discovered, lambda s: s in ENTITY)))
        ours_catalog = discover([*OURS, "--config", str(ours_config), "--discover"], env)
        (work / "ours-same.json").write_text(json.dumps(select(ours_catalog, lambda s: s in ENTITY)))
        (work / "ours-all.json").write_text(json.dumps(
            select(ours_catalog, lambda s: with_reports or not s.startswith("report_"))))
        commands = {
            "peer": ([*peer_cmd, "--catalog", str(work / "peer-catalog.json")], peer_env),
            "ours_same": ([*OURS, "--config", str(ours_config), "--catalog", str(work / "ours-same.json")], env),
            "ours_all": ([*OURS, "--config", str(ours_config), "--catalog", str(work / "ours-all.json")], env),
        }
        runs: dict[str, list[Run]] = {name: [] for name in commands}
        for _ in range(rounds):
            for name, (command, run_env) in commands.items():
                print(f"bench/tap_qbo: {name} full sync (load {os.getloadavg()[0]:.1f})", file=sys.stderr, flush=True)
                runs[name].append(run_tap(command, run_env, sandbox, work, peer=name == "peer"))
        check(runs)
        incremental: dict[str, Run] = {}
        for name, (command, run_env) in commands.items():
            if name == "ours_all":
                continue
            state_file = work / f"{name}-state.json"
            state_file.write_text(json.dumps(runs[name][-1].state, default=str))
            print(f"bench/tap_qbo: {name} no-change run", file=sys.stderr, flush=True)
            incremental[name] = run_tap([*command, "--state", str(state_file)], run_env, sandbox, work,
                                        peer=name == "peer")
    finally:
        sandbox.stop()
    return {"transactions": transactions, "rounds": rounds, "with_reports": with_reports, "generated_s": generated_s,
            "runs": runs, "incremental": incremental, "load": os.getloadavg()[0]}


def check(runs: dict[str, list[Run]]) -> None:
    """Every run of a tap lands the same rows, and ours lands what the peer lands."""
    for name, series in runs.items():
        first = series[0]
        for later in series[1:]:
            if (later.counts, later.ids, later.invoice_total) != (first.counts, first.ids, first.invoice_total):
                raise SystemExit(f"bench/tap_qbo: {name} read back differently from one round to the next")
        for stream, count in first.counts.items():
            if first.ids.get(stream, 0) != count and not stream.endswith("_lines"):
                raise SystemExit(f"bench/tap_qbo: {name} wrote {count} {stream} records for "
                                 f"{first.ids.get(stream)} distinct keys")
    peer, same = runs["peer"][0], runs["ours_same"][0]
    if set(peer.counts) != set(same.counts):
        raise SystemExit(f"bench/tap_qbo: streams differ: peer {sorted(peer.counts)}, ours {sorted(same.counts)}")
    for stream in peer.counts:
        # The peer leaves inactive rows out of customer_types (it does not ask for them); never more.
        if peer.ids[stream] > same.ids[stream]:
            raise SystemExit(f"bench/tap_qbo: the peer read {peer.ids[stream]} {stream} ids, ours {same.ids[stream]}")
    if peer.invoice_total != same.invoice_total:
        raise SystemExit(f"bench/tap_qbo: invoice totals differ: peer {peer.invoice_total}, ours {same.invoice_total}")
    if same.counts != {k: v for k, v in runs["ours_all"][0].counts.items() if k in same.counts}:
        raise SystemExit("bench/tap_qbo: ours wrote different counts with all streams selected")


def queries_asked(name: str, run: Run, streams: int) -> str:
    """Queries a run asked, a /batch item counting one: the peer batches every stream each time."""
    if name == "peer":
        return str(run.calls_by_endpoint.get("batch", 0) * streams + run.calls_by_endpoint.get("query", 0))
    # Ours batches only the first pages of the streams CDC does not serve, on a run from a bookmark.
    batched = sum(entity in CDC_UNSUPPORTED for entity in ENTITY.values()) if run.calls_by_endpoint.get("batch") else 0
    return str(run.calls_by_endpoint.get("query", 0) + batched)


def median(values: t.Iterable[float]) -> float:
    return statistics.median(list(values))


def spread(values: t.Sequence[float], fmt: str = "{:.1f}") -> str:
    return f"{fmt.format(min(values))}-{fmt.format(max(values))}"


def pages_needed(counts: dict[str, int]) -> int:
    # A page short of 1,000 rows is the last one: floor(rows / 1000) + 1 per entity.
    return sum(n // PAGE + 1 for n in counts.values())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--transactions", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK_TRANSACTIONS:,} transactions, 2 rounds (overrides both)")
    parser.add_argument("--with-reports", action="store_true", help="ours, all streams: the report streams too")
    parser.add_argument("--peer-python", help="interpreter of a venv with tap-quickbooks==2.5.0 installed")
    args = parser.parse_args()
    transactions, rounds = (QUICK_TRANSACTIONS, 2) if args.quick else (args.transactions, args.rounds)
    peer_python = args.peer_python or peer_python_default()
    load_before = os.getloadavg()[0]
    f = measure(transactions, rounds, args.with_reports, peer_python)
    runs, inc = f["runs"], f["incremental"]
    command = ("python bench/tap_qbo.py --quick" if args.quick else
               f"python bench/tap_qbo.py --transactions {transactions} --rounds {rounds}") + (
        " --with-reports" if args.with_reports else "")
    label = {"peer": "singer-io tap-quickbooks 2.5.0 (29 entity streams)",
             "ours_same": "tap-quickbooks-online, the same 29 streams",
             "ours_all": "tap-quickbooks-online, all entity streams" + (" and reports" if args.with_reports else "")}
    table = ["| run | records | wall s (median, range) | records/s (median) | tap CPU s (median) | records per CPU s "
             "| sandbox CPU s | API calls | calls by endpoint | peak RSS (tap) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    rate: dict[str, float] = {}
    per_cpu: dict[str, float] = {}
    for name, series in runs.items():
        records = series[0].records
        rate[name] = median(records / r.wall_s for r in series)
        per_cpu[name] = median(records / r.cpu_s for r in series)
        table.append(f"| {label[name]} | {records} | {median(r.wall_s for r in series):.1f} "
                     f"({spread([r.wall_s for r in series])}) | {rate[name]:.0f} | {median(r.cpu_s for r in series):.1f} "
                     f"| {per_cpu[name]:.0f} | {median(r.sandbox_cpu_s for r in series):.1f} | {series[0].calls} "
                     f"| {json.dumps(series[0].calls_by_endpoint)} | {max(r.rss_mb for r in series):.0f} MB |")
    pairs = [(p.records / p.wall_s, o.records / o.wall_s) for p, o in zip(runs["peer"], runs["ours_same"], strict=True)]
    ratios = [o / p for p, o in pairs]
    needed = pages_needed(runs["ours_same"][0].counts)
    inc_rows = [f"| {label[name]} | {r.records} | {r.wall_s:.1f} | {r.calls} | {json.dumps(r.calls_by_endpoint)} "
                f"| {queries_asked(name, r, len(ENTITY))} |" for name, r in inc.items()]
    peer_full = runs["peer"][0]
    lines = [
        f"## `{command}`",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores shared with other jobs, Python "
        f"{platform.python_version()}; load average (1 min) {load_before:.1f} at the start, {f['load']:.1f} at the end. "
        f"Sandbox company: {transactions:,} transactions requested, generated in {f['generated_s']:.1f} s, served from "
        f"the benchmark's own process (its CPU in the \"sandbox CPU s\" column). {rounds} rounds, the three runs "
        "alternating in each; every run's output read back (records and distinct keys per stream, the exact sum of "
        "the invoices' totals) and checked against the peer's and the other rounds'.",
        "",
        *table,
        "",
        f"**Same streams, pair by pair (records/s, ours / peer, each round): {', '.join(f'{x:.2f}x' for x in ratios)}; "
        f"median {median(ratios):.2f}x.** Records per CPU second of the tap process: "
        f"{per_cpu['ours_same'] / per_cpu['peer']:.2f}x the peer's. The peer's 29 streams hold the same rows as "
        "ours (ours also asks for inactive customer types); its records are Intuit's JSON as is, ours the record "
        "model's rows with the nested lines mapped.",
        "",
        f"API calls, full sync of the same streams: ours {runs['ours_same'][0].calls} HTTP requests "
        f"({json.dumps(runs['ours_same'][0].calls_by_endpoint)}), at most "
        f"{max(r.max_concurrent for r in runs['ours_same'])} in flight; the peer {peer_full.calls} HTTP requests "
        f"carrying {queries_asked('peer', peer_full, len(ENTITY))} queries (it sends all {len(ENTITY)} streams' "
        "queries in every /batch call until none returns a row). Needed: "
        f"{needed} query pages (floor(rows/1000) + 1 per entity: paging ends at the first page short of 1,000), "
        "plus, on our first run, the change feed's sweep of the last 30 days for deletions (/cdc, 1,000 objects "
        "per answer), which the peer's entity streams do not read.",
        "",
        "No-change incremental run (each tap from its own final STATE of round 1; nothing changed in between):",
        "",
        "| run | records | wall s | HTTP requests | by endpoint | queries asked |",
        "|---|---|---|---|---|---|",
        *inc_rows,
        "",
        "Records per stream (ours, all streams): " + ", ".join(f"{k} {v}" for k, v in
                                                                sorted(runs["ours_all"][0].counts.items())),
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

    API calls are counted as the issue counts them: queries asked (a /batch item is one query,
    a /cdc call one), so the peer's /batch of 29 queries counts 29.
    """
    target = os.environ.get("QBC_BENCH_FIGURES")
    if not target:
        return
    runs, inc = f["runs"], f["incremental"]
    ours, peer = runs["ours_same"], runs["peer"]
    ours_rates = [r.records / r.wall_s for r in ours]
    peer_rates = [r.records / r.wall_s for r in peer]
    ratios = [o / p for o, p in zip(ours_rates, peer_rates, strict=True)]

    def queries(name: str, run: Run) -> int:
        asked = int(queries_asked(name, run, len(ENTITY)))
        return asked if name == "peer" else asked + run.calls_by_endpoint.get("cdc", 0)

    figures = {
        "transactions_requested": f["transactions"],
        "records": ours[0].records,
        "records_per_s": {"median": median(ours_rates), "runs": ours_rates},
        "singer_io_records_per_s": {"median": median(peer_rates), "runs": peer_rates},
        "vs_singer_io": {"median": median(ratios), "runs": ratios},
        "full_calls": queries("ours_same", ours[0]),
        "full_query_calls": int(queries_asked("ours_same", ours[0], len(ENTITY))),
        "full_pages_needed": pages_needed(ours[0].counts),
        "singer_io_full_calls": queries("peer", peer[0]),
        "incremental_calls": queries("ours_same", inc["ours_same"]),
        "singer_io_incremental_calls": queries("peer", inc["peer"]),
        "incremental_records": inc["ours_same"].records,
        "full_rss_mb": max(r.rss_mb for r in ours),
    }
    checks = [
        {"what": "records of the full sync", "expected": True, "found": ours[0].records > 0},
        {"what": "records re-sent by the no-change incremental run", "expected": 0,
         "found": inc["ours_same"].records},
        {"what": "invoice total, ours equals the peer's", "expected": str(peer[0].invoice_total),
         "found": str(ours[0].invoice_total)},
    ]
    Path(target).write_text(json.dumps({"figures": figures, "checks": checks}, indent=1, default=str),
                            encoding="utf-8")


if __name__ == "__main__":
    main()
