"""target-powerbi and target-salesforce against their local services: records/s, API calls, RSS.

    python bench/saas_targets.py powerbi 30000
    python bench/saas_targets.py salesforce 10000
    python bench/saas_targets.py salesforce-books 2000

Sandbox and target run in one process; the input is N invoice (Power BI) or customer
(Salesforce) records in the shared record model; ``salesforce-books``: N bills of N/20 vendors,
three lines each (Opportunities, Orders, OrderItems, products made from the lines, the Account
summaries).
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


def books(count: int) -> str:
    """Vendors, bills and bill lines (three a bill) as tap-quickbooks-desktop emits them."""
    text = {"type": ["string", "null"]}
    number = {"type": ["number", "null"]}
    version = {"updated_at": {"type": ["string", "null"], "format": "date-time"}, "edit_sequence": text}
    schemas = {
        "vendors": (["company_id", "id"], {"company_id": text, "edition": text, "id": text, "display_name": text,
                                           "balance": number, **version}),
        "bills": (["company_id", "id"], {"company_id": text, "edition": text, "id": text, "doc_number": text,
                                         "txn_date": text, "due_date": text, "vendor_id": text,
                                         "total_amount": number, "balance": number, **version}),
        "bill_lines": (["company_id", "bill_id", "line_id"], {
            "company_id": text, "edition": text, "bill_id": text, "line_id": text, "line_num": number,
            "amount": number, "quantity": number, "unit_price": number, "item_id": text, "item_name": text,
            **version}),
    }
    lines = [json.dumps({"type": "SCHEMA", "stream": name, "key_properties": keys,
                         "schema": {"type": "object", "properties": props}})
             for name, (keys, props) in schemas.items()]
    stamp = {"updated_at": "2026-11-01T09:00:00-05:00", "edit_sequence": "1730469600"}
    company = {"company_id": "bench", "edition": "qbd"}
    lines += [json.dumps({"type": "RECORD", "stream": "vendors", "record": {
        **company, "id": f"V{v}", "display_name": f"Vendor {v}", "balance": 0, **stamp}})
        for v in range(max(1, count // 20))]
    for b in range(count):
        lines.append(json.dumps({"type": "RECORD", "stream": "bills", "record": {
            **company, "id": f"B{b}", "doc_number": str(b), "txn_date": "2026-10-01", "due_date": "2026-10-31",
            "vendor_id": f"V{b % max(1, count // 20)}", "total_amount": 36.0, "balance": 12.0, **stamp}}))
        lines += [json.dumps({"type": "RECORD", "stream": "bill_lines", "record": {
            **company, "bill_id": f"B{b}", "line_id": str(n), "line_num": n, "amount": 12.0, "quantity": 3,
            "unit_price": 4.0, "item_id": f"I{n}", "item_name": f"Item {n}", **stamp}}) for n in (1, 2, 3)]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", choices=["powerbi", "salesforce", "salesforce-books"])
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
            if args.target == "salesforce-books":
                return len(sandbox.org.records["Opportunity"])
            return len(sandbox.org.records["Account"])
    started = time.perf_counter()
    messages = books(args.records) if args.target == "salesforce-books" else records(stream, args.records)
    target_sync_test(target, io.StringIO(messages))
    seconds = time.perf_counter() - started
    print(json.dumps({"target": args.target, "records": args.records, "loaded": loaded(),
                      "seconds": round(seconds, 2), "records_per_s": round(args.records / seconds),
                      "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
                      "api_requests": len(sandbox.request_log),
                      **({"order_items": len(sandbox.org.records["OrderItem"])}
                         if args.target == "salesforce-books" else {})}))
    sandbox.stop()


if __name__ == "__main__":
    main()
