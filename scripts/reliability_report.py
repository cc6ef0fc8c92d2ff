"""Write RELIABILITY.md from the results the reliability suite recorded (tests/reliability/results.py).

    python scripts/reliability_report.py RESULTS.jsonl [MORE.jsonl ...] [--command "how they were made"] > RELIABILITY.md

Each input file is one batch of scenarios (a CI run, a long soak); the report lists every scenario
with the runs, kills and faults made and what the reconciliation found, and the totals over all.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any


def load(paths: list[Path]) -> list[dict[str, Any]]:
    entries = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                entry = json.loads(line)
                entry["_batch"] = path.name
                entries.append(entry)
    return entries


def _verdict(entry: dict[str, Any]) -> str:
    return "reconciled" if entry.get("ok") else "**NOT reconciled**"


_COUNTS = re.compile(r"(\d+) lost, (\d+) duplicated, (\d+) stale, (\d+) deletions not flagged, (\d+) money differences")
COUNT_NAMES = ("lost", "duplicated", "stale", "deletions not flagged", "money differences")


def short_pair(pair: str) -> str:
    """``tap-quickbooks-online target-databricks (databricks)`` -> ``qbo-databricks``."""
    edition = "qbd" if "desktop" in pair else "qbo"
    return f"{edition}-{pair.rsplit('(', 1)[-1].rstrip(')')}" if "(" in pair else pair


def pair_section(entries: list[dict[str, Any]]) -> list[str]:
    """Per pair, over every batch: runs, kills, faults, and what the reconciliations found."""
    rows: dict[str, dict[str, Any]] = {}
    for e in entries:
        if e["kind"] not in ("soak", "fault") or "(" not in str(e.get("pair", "")):
            continue
        row = rows.setdefault(short_pair(e["pair"]), {"runs": 0, "kills": Counter(), "faults": 0, "checks": 0,
                                                       "ok": 0, "counts": [0] * len(COUNT_NAMES)})
        if e["kind"] == "soak":
            row["runs"] += e["runs"]
            row["kills"].update(e["kills"])
        else:
            row["runs"] += 1 + e.get("recovery_runs", 0)
            row["faults"] += 1
            if e.get("target_killed"):
                row["kills"]["target"] += 1
        row["checks"] += 1
        row["ok"] += bool(e.get("ok"))
        found = _COUNTS.search(str(e.get("result", "")))
        if found:
            row["counts"] = [a + int(b) for a, b in zip(row["counts"], found.groups(), strict=True)]
    if not rows:
        return []
    lines = ["## Per pair", "",
             "Over every batch below: `meltano run`s, SIGKILLs, fault scenarios, and the sum of what the "
             "reconciliations after them found.", "",
             "| pair | runs | SIGKILLs (meltano/tap/target) | fault scenarios | reconciliations | "
             + " | ".join(COUNT_NAMES) + " |",
             "|---|---|---|---|---|" + "---|" * len(COUNT_NAMES)]
    for pair in sorted(rows):
        r = rows[pair]
        k = r["kills"]
        lines.append(f"| {pair} | {r['runs']} | {sum(k.values())} ({k.get('meltano', 0)}/{k.get('tap', 0)}/"
                     f"{k.get('target', 0)}) | {r['faults']} | {r['ok']} of {r['checks']} reconciled | "
                     + " | ".join(str(n) for n in r["counts"]) + " |")
    return [*lines, ""]


def soak_section(entries: list[dict[str, Any]]) -> list[str]:
    soaks = [e for e in entries if e["kind"] == "soak"]
    if not soaks:
        return []
    kills: Counter[str] = Counter()
    for e in soaks:
        kills.update(e["kills"])
    lines = [
        "## Seeded kill soak",
        "",
        f"{len(soaks)} soaks, {sum(e['runs'] for e in soaks)} `meltano run`s, "
        f"**{sum(kills.values())} SIGKILLs** ({', '.join(f'{n} of {v}' for v, n in sorted(kills.items()))}), "
        f"{sum(e['changes_total'] for e in soaks)} source changes, "
        f"{sum(e['token_expiries'] for e in soaks)} forced token refreshes mid-run; "
        f"{sum(1 for e in soaks if e.get('ok'))} of {len(soaks)} reconciled.",
        "",
        "| batch | pair | seed | iterations | runs | kills (meltano/tap/target) | ended before the kill | forced runs "
        "| changes | orphans left | longest orphan (s) | seconds | result |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for e in soaks:
        k = e["kills"]
        lines.append(
            f"| {e['_batch']} | {e['pair']} | {e['seed']} | {e['iterations']} | {e['runs']} "
            f"| {k.get('meltano', 0)}/{k.get('tap', 0)}/{k.get('target', 0)} | {e['runs_ended_before_kill']} "
            f"| {e.get('forced_runs', '')} | {e['changes_total']} | {e['orphans_left']} | {e['longest_orphan_seconds']} "
            f"| {e['seconds']} | {_verdict(e)}: {e['result']} |")
    moments: Counter[str] = Counter()
    for e in soaks:
        moments.update(e.get("kill_moments", {}))
    if moments:
        lines += ["", "Where the kills fell, as seen from outside the run: "
                  + "; ".join(f"{n} {moment}" for moment, n in moments.most_common()) + "."]
    lines += ["", "Controller figures as landed after each soak (equal to QuickBooks to the cent when reconciled):", ""]
    for e in soaks:
        figures = ", ".join(f"{name} {value}" for name, value in e.get("figures", {}).items())
        lines.append(f"- {e['_batch']}, {e['pair']}, seed {e['seed']}: {figures}")
    failures = [(e, run) for e in soaks for run in e.get("failed_clean_runs", [])]
    if failures:
        lines += ["", "Runs that failed where they should not have:", ""]
        lines += [f"- {e['pair']} (seed {e['seed']}): {run}" for e, run in failures]
    return [*lines, ""]


def fault_section(entries: list[dict[str, Any]]) -> list[str]:
    faults = [e for e in entries if e["kind"] == "fault"]
    if not faults:
        return []
    lines = [
        "## Fault matrix",
        "",
        "Each fault armed for a pair's first (full) `meltano run`, then 15 source changes and one more run "
        "with nothing done by hand (the webhook scenario: a clean full load and the changes first, the "
        "deliveries armed for the second run); \"+ target killed\": the target is also SIGKILLed at a seeded "
        "moment of the faulted run. With the CI-size soak every pair of tap and destination is covered.",
        "",
        "| batch | fault | pair | faulted run | its last plugin error | next run | result |",
        "|---|---|---|---|---|---|---|",
    ]
    for e in faults:
        error = e.get("error", "").replace("|", "\\|")[:200]
        recovered = "failed: " + "; ".join(e["recovery_failures"])[:200] if e.get("recovery_failures") else "completed"
        lines.append(f"| {e['_batch']} | {e['scenario']} | {e['pair']} | {e['faulted_run']} | {error} | {recovered} "
                     f"| {_verdict(e)}: {e['result']} |")
    return [*lines, ""]


def operations_section(entries: list[dict[str, Any]]) -> list[str]:
    ops = [e for e in entries if e["kind"] == "operations"]
    if not ops:
        return []
    lines = ["## Operations", ""]
    for e in ops:
        if "refused_message" in e:
            lines.append(f"- {e['scenario']}: {_verdict(e)} ({e['result']}); Meltano's refusal: "
                         f"`{e.get('refused_message', '')}`; still refused after a successful forced run: "
                         f"{e.get('blocked_again_after_forced_run')}")
        elif "concurrent_exit_codes" in e:
            lines.append(f"- {e['scenario']}: exit codes of the two at once {e['concurrent_exit_codes']}, of the "
                         f"next forced run {e.get('next_forced_run')}; {_verdict(e)} ({e['result']})")
        else:
            lines.append(f"- {e['scenario']}: {_verdict(e)} ({e['result']})")
    return [*lines, ""]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="+", type=Path)
    parser.add_argument("--command", action="append", default=[],
                        help="the command that produced a results file (repeatable, listed in the report)")
    parser.add_argument("--note", action="append", default=[],
                        help="a paragraph the reader needs (machine load, what fell short); repeatable")
    args = parser.parse_args()
    entries = load(args.results)
    out = [
        "# RELIABILITY",
        "",
        "Generated by `scripts/reliability_report.py` from the results `tests/reliability/` records "
        "(docs/operations.md explains the scenarios an operator meets). Every scenario ends with a "
        "reconciliation against the sandbox's truth: each id present once at its newest version, deletions "
        "and voids flagged, invoice and bill totals, open AR by customer, open AP by vendor, every "
        "document's line amounts and the trial balance by account (debits minus credits of the documents' "
        "AR/AP accounts and line accounts) to the cent. Salesforce gets no trial balance: the CRM mirrors "
        "documents, not a ledger (Opportunities carry no AR/AP account, invoice lines only an account name). "
        "Results recorded before the trial balance was added show no trial balance figures.",
        "",
        f"Batches: {', '.join(p.name for p in args.results)}.",
        *([""] + [f"    {c}" for c in args.command] if args.command else []),
        "",
        *[line for note in args.note for line in (note, "")],
        *pair_section(entries),
        *soak_section(entries),
        *fault_section(entries),
        *operations_section(entries),
    ]
    sys.stdout.write("\n".join(out).rstrip() + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
