"""target-powerbi and target-salesforce against their local services: records/s, API calls, RSS.

    python bench/saas_targets.py powerbi 30000
    python bench/saas_targets.py salesforce 10000

Sandbox and target run in one process; the input is N invoice (Power BI) or customer
(Salesforce) records in the shared record model.
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from singer_sdk.testing import target_sync_test


def records(stream: str, count: int) -> str:
    schema = {"type": "SCHEMA", "stream": stream, "key_properties": ["company_id", "id"], "schema": {
        "type": "object", "properties": {
            "company_id": {"type": "string"}, "edition": {"type": "string"}, "id": {"type": "string"},
            "display_name": {"type": ["string", "null"]}, "total_amount": {"type": ["number", "null"]},
            "balance": {"type": ["number", "null"]},
            "updated_at": {"type": ["string", "null"], "format": "date-time"},
            "sync_token": {"type": ["integer", "null"]}}}}
    lines = [json.dumps(schema)]
    lines += [json.dumps({"type": "RECORD", "stream": stream, "record": {
        "company_id": "9130", "edition": "qbo", "id": str(i), "display_name": f"Name {i}",
        "total_amount": 12.34, "balance": 1.5, "updated_at": "2026-11-01T09:00:00-08:00",
        "sync_token": 1}}) for i in range(count)]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", choices=["powerbi", "salesforce"])
    parser.add_argument("records", type=int)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    sandbox: Any
    if args.target == "powerbi":
        from sandboxes.powerbi import PowerBISandbox
        from target_powerbi.target import TargetPowerBI

        sandbox = PowerBISandbox(workdir=tmp / "sandbox").start()
        config = sandbox.target_config(mirror_path=str(tmp / "mirror.sqlite"), dead_letter_path=str(tmp / "dl"))
        target: Any = TargetPowerBI(config=config)
        stream = "invoices"

        def loaded() -> int:
            return len(sandbox.store.rows("QuickBooks", "invoices"))
    else:
        from sandboxes.salesforce import SalesforceSandbox
        from target_salesforce.target import TargetSalesforce

        sandbox = SalesforceSandbox(workdir=tmp / "sandbox").start()
        config = sandbox.target_config(dead_letter_path=str(tmp / "dl"), bulk_poll_seconds=0.2)
        target = TargetSalesforce(config=config)
        stream = "customers"

        def loaded() -> int:
            return len(sandbox.org.records["Account"])
    started = time.perf_counter()
    target_sync_test(target, io.StringIO(records(stream, args.records)))
    seconds = time.perf_counter() - started
    print(json.dumps({"target": args.target, "records": args.records, "loaded": loaded(),
                      "seconds": round(seconds, 2), "records_per_s": round(args.records / seconds),
                      "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
                      "api_requests": len(sandbox.request_log)}))
    sandbox.stop()


if __name__ == "__main__":
    main()
