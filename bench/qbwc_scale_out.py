"""QBWC service scaled out: N Web Connectors at once through haproxy to two replicas on PostgreSQL.

    python bench/qbwc_scale_out.py --companies 1 5 10 25 50 --transactions 200

For each N: a fresh PostgreSQL cluster and N sandbox companies, one full sync of every company
(all Web Connectors polling at once), then sessions per minute and records (qbXML objects
buffered) per second, per replica, and each replica's peak RSS. Same harness as
tests/test_scale_out.py (tests/qbwc_fleet.py), without the kill.
"""

from __future__ import annotations

import argparse
import importlib.util
import platform
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from sandboxes.postgres.cluster import PostgresCluster

ROOT = Path(__file__).resolve().parents[1]


def _fleet_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("qbwc_fleet", ROOT / "tests" / "qbwc_fleet.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def measure(companies: int, transactions: int, replicas: int) -> dict[str, float]:
    fleet_module = _fleet_module()
    with tempfile.TemporaryDirectory() as tmp, PostgresCluster() as pg, fleet_module.QbwcFleet(
        Path(tmp), pg.dsn, companies=companies, transactions=transactions, replicas=replicas, max_returned=100,
    ) as fleet:
        fleet.sample()
        cpu_before = sum(r.cpu_seconds for r in fleet.replicas)  # start-up (imports) excluded
        wall = fleet.run_wave()
        sessions = sum(1 for c in fleet.companies for r in c.reports if r.outcome == "completed")
        with psycopg.connect(pg.dsn) as conn:
            row = conn.execute("SELECT COUNT(*) FROM qbd_versions").fetchone()
        records = int(row[0]) if row else 0
        fleet.sample()
        cpu = sum(r.cpu_seconds for r in fleet.replicas) - cpu_before
        return {
            "companies": companies,
            "sessions": sessions,
            "wall": wall,
            "sessions_per_min_per_replica": sessions / wall * 60 / replicas,
            "records": records,
            "records_per_s_per_replica": records / wall / replicas,
            "peak_rss_mib": max(r.peak_rss_mib for r in fleet.replicas),
            "replica_cpu_seconds": cpu,
            "sessions_per_cpu_minute": sessions / cpu * 60 if cpu else 0.0,
            "records_per_cpu_second": records / cpu if cpu else 0.0,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, nargs="+", default=[1, 5, 10, 25, 50])
    parser.add_argument("--transactions", type=int, default=200)
    parser.add_argument("--replicas", type=int, default=2)
    args = parser.parse_args()
    print(f"Command: `python bench/qbwc_scale_out.py --companies {' '.join(map(str, args.companies))} "
          f"--transactions {args.transactions} --replicas {args.replicas}`")
    print(f"Machine: {platform.machine()}, Python {platform.python_version()}; "
          f"run {datetime.now(UTC).strftime('%Y-%m-%dT%H:%M+00:00')}\n")
    print("| companies | sessions | wall (s) | sessions/min per replica | records | records/s per replica "
          "| peak RSS per replica (MiB) | replicas' CPU (s) | sessions per replica CPU-minute "
          "| records per replica CPU-second |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for count in args.companies:
        row = measure(count, args.transactions, args.replicas)
        print(f"| {count} | {row['sessions']:.0f} | {row['wall']:.1f} | {row['sessions_per_min_per_replica']:.1f} "
              f"| {row['records']:,.0f} | {row['records_per_s_per_replica']:,.0f} | {row['peak_rss_mib']:.1f} "
              f"| {row['replica_cpu_seconds']:.1f} | {row['sessions_per_cpu_minute']:.1f} "
              f"| {row['records_per_cpu_second']:,.0f} |",
              flush=True)


if __name__ == "__main__":
    main()
