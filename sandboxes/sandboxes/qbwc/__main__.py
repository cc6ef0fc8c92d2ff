"""``python -m sandboxes.qbwc --qwc app.qwc --password ... --company seed:42:10000 [--once|--every N]``"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from sandboxes import MissingReferenceFile

from .company import QuickBooksCompany
from .qwc_file import QWCFile
from .web_connector import WebConnector


def _company(spec: str, path: str | None, tz: str) -> QuickBooksCompany:
    if spec.startswith("seed:"):
        parts = spec.split(":")
        if len(parts) != 3:
            raise SystemExit("--company seed:<seed>:<transactions>, e.g. seed:42:10000")
        seed, transactions = int(parts[1]), int(parts[2])
        target = Path(path) if path else Path(tempfile.mkdtemp(prefix="qb-company-")) / "company.sqlite"
        if target.exists():
            return QuickBooksCompany.open(target, tz)
        return QuickBooksCompany.generate(seed=seed, transactions=transactions, path=target, tz=tz)
    return QuickBooksCompany.open(spec, tz)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandboxes.qbwc",
                                     description="Run a QuickBooks Web Connector against a QBWC server.")
    parser.add_argument("--qwc", required=True, help="the .qwc file the server generated")
    secret = parser.add_mutually_exclusive_group(required=True)
    secret.add_argument("--password", help="the Web Connector password for the QWC user")
    secret.add_argument("--password-env", help="read the password from this environment variable")
    parser.add_argument("--company", required=True,
                        help="seed:<seed>:<transactions> to generate, or a path to a company .sqlite")
    parser.add_argument("--company-path", help="where a generated company is stored (reused if present)")
    parser.add_argument("--tz", default="-05:00", help="the company's UTC offset (default -05:00)")
    parser.add_argument("--ca-file", help="PEM bundle trusted for an https AppURL")
    when = parser.add_mutually_exclusive_group()
    when.add_argument("--once", action="store_true", help="one update (default)")
    when.add_argument("--every", type=float, metavar="MINUTES", help="run every N minutes")
    parser.add_argument("--max-runs", type=int, default=1, help="with --every: how many updates")
    args = parser.parse_args(argv)

    password = args.password if args.password is not None else os.environ.get(args.password_env, "")
    try:
        company = _company(args.company, args.company_path, args.tz)
    except MissingReferenceFile as missing:
        print(f"error: {missing}", file=sys.stderr)
        return 2
    try:
        try:
            connector = WebConnector(QWCFile.load(args.qwc), password, company, ca_file=args.ca_file)
        except MissingReferenceFile as missing:
            print(f"error: {missing}", file=sys.stderr)
            return 2
        if args.every is not None:
            reports = connector.run_scheduled(every_minutes=args.every, max_runs=args.max_runs)
        else:
            reports = [connector.run_once()]
    finally:
        company.close()
    for report in reports:
        print(json.dumps({
            "outcome": report.outcome, "operations": report.operations,
            "requests_answered": report.requests_answered, "progress": report.progress,
            "request_types": dict(report.request_types), "last_error": report.last_error,
            "close_message": report.close_message, "errors": report.errors,
        }))
    return 0 if all(r.outcome in ("completed", "none") for r in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
