"""Singer messages in the shared record model, and an in-process target run."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from contextlib import redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import simplejson
from qbc_plugin_kit.dead_letters import DeadLetter, DeadLetterStore
from qbc_plugin_kit.failures import RecordsSetAside
from target_salesforce.target import TargetSalesforce

_VERSION = {
    "updated_at": {"type": ["string", "null"], "format": "date-time"},
    "sync_token": {"type": ["integer", "null"]},
    "edit_sequence": {"type": ["string", "null"]},
    "_sdc_deleted_at": {"type": ["string", "null"], "format": "date-time"},
}
_ADDRESS = {"type": ["object", "null"], "properties": {k: {"type": ["string", "null"]} for k in (
    "line1", "line2", "city", "region", "postal_code", "country")}}
_PARTY = {
    "company_id": {"type": "string"}, "edition": {"type": ["string", "null"]}, "id": {"type": "string"},
    "display_name": {"type": ["string", "null"]}, "company_name": {"type": ["string", "null"]},
    "email": {"type": ["string", "null"]}, "phone": {"type": ["string", "null"]},
    "balance": {"type": ["number", "null"]}, "billing_address": _ADDRESS,
    "active": {"type": ["boolean", "null"]}, "fully_qualified_name": {"type": ["string", "null"]},
    "parent_id": {"type": ["string", "null"]}, "terms_id": {"type": ["string", "null"]},
    "terms_name": {"type": ["string", "null"]}, **_VERSION,
}
_TEXT = {"type": ["string", "null"]}
_NUMBER = {"type": ["number", "null"]}
SCHEMAS: dict[str, dict[str, Any]] = {
    "customers": {"type": "object", "properties": dict(_PARTY)},
    "vendors": {"type": "object", "properties": {**_PARTY, "account_number": {"type": ["string", "null"]}}},
    "invoices": {"type": "object", "properties": {
        "company_id": {"type": "string"}, "edition": {"type": ["string", "null"]}, "id": {"type": "string"},
        "doc_number": {"type": ["string", "null"]}, "txn_date": {"type": ["string", "null"], "format": "date"},
        "due_date": {"type": ["string", "null"], "format": "date"}, "customer_id": {"type": ["string", "null"]},
        "total_amount": {"type": ["number", "null"]}, "balance": {"type": ["number", "null"]},
        "voided": {"type": ["boolean", "null"]}, "private_note": {"type": ["string", "null"]},
        "email_status": _TEXT, "print_status": _TEXT, **_VERSION}},
    "bills": {"type": "object", "properties": {
        "company_id": {"type": "string"}, "edition": _TEXT, "id": {"type": "string"}, "doc_number": _TEXT,
        "txn_date": {"type": ["string", "null"], "format": "date"}, "due_date": {"type": ["string", "null"], "format": "date"},
        "vendor_id": _TEXT, "total_amount": _NUMBER, "balance": _NUMBER, "voided": {"type": ["boolean", "null"]},
        "private_note": _TEXT, **_VERSION}},
    "bill_lines": {"type": "object", "properties": {
        "company_id": {"type": "string"}, "edition": _TEXT, "bill_id": {"type": "string"},
        "line_id": {"type": "string"}, "line_num": {"type": ["integer", "null"]}, "doc_number": _TEXT,
        "detail_type": _TEXT, "description": _TEXT, "amount": _NUMBER, "quantity": _NUMBER, "unit_price": _NUMBER,
        "item_id": _TEXT, "item_name": _TEXT, "account_name": _TEXT, **_VERSION}},
    "payments": {"type": "object", "properties": {
        "company_id": {"type": "string"}, "edition": _TEXT, "id": {"type": "string"}, "customer_id": _TEXT,
        "txn_date": {"type": ["string", "null"], "format": "date"}, "total_amount": _NUMBER, **_VERSION}},
    "items": {"type": "object", "properties": {
        "company_id": {"type": "string"}, "edition": _TEXT, "id": {"type": "string"}, "name": _TEXT,
        "fully_qualified_name": _TEXT, "sku": _TEXT, "item_type": _TEXT, "description": _TEXT,
        "unit_price": _NUMBER, "active": {"type": ["boolean", "null"]}, **_VERSION}},
    "invoice_lines": {"type": "object", "properties": {
        "company_id": {"type": "string"}, "edition": {"type": ["string", "null"]},
        "invoice_id": {"type": "string"}, "line_id": {"type": "string"}, "line_num": {"type": ["integer", "null"]},
        "doc_number": {"type": ["string", "null"]}, "detail_type": {"type": ["string", "null"]},
        "description": {"type": ["string", "null"]}, "amount": {"type": ["number", "null"]},
        "quantity": {"type": ["number", "null"]}, "unit_price": {"type": ["number", "null"]},
        "item_id": {"type": ["string", "null"]}, "item_name": {"type": ["string", "null"]}, **_VERSION}},
    "terms": {"type": "object", "properties": {
        "company_id": {"type": "string"}, "edition": _TEXT, "id": {"type": "string"}, "name": _TEXT,
        "due_days": {"type": ["integer", "null"]}, "active": {"type": ["boolean", "null"]}, **_VERSION}},
    "accounts": {"type": "object", "properties": {
        "company_id": {"type": "string"}, "edition": _TEXT, "id": {"type": "string"}, "name": _TEXT,
        "fully_qualified_name": _TEXT, "account_number": _TEXT, "account_type": _TEXT, "classification": _TEXT,
        "parent_id": _TEXT, "current_balance": _NUMBER, "active": {"type": ["boolean", "null"]}, **_VERSION}},
}
KEYS = {"invoice_lines": ["company_id", "invoice_id", "line_id"], "bill_lines": ["company_id", "bill_id", "line_id"]}


def schema(stream: str) -> dict[str, Any]:
    return {"type": "SCHEMA", "stream": stream, "schema": SCHEMAS[stream],
            "key_properties": KEYS.get(stream, ["company_id", "id"])}


def record(stream: str, values: dict[str, Any]) -> dict[str, Any]:
    return {"type": "RECORD", "stream": stream, "record": values, "time_extracted": "2026-11-20T10:00:00+00:00"}


def customer(id_: str, name: str, updated_at: str = "2026-11-01T09:00:00-08:00", sync_token: int = 0,
             **extra: Any) -> dict[str, Any]:
    return record("customers", {"company_id": "9130", "edition": "qbo", "id": id_, "display_name": name,
                                "balance": 0, "active": True, "updated_at": updated_at,
                                "sync_token": sync_token, **extra})


def invoice(id_: str, customer_id: str = "1", updated_at: str = "2026-11-02T09:00:00Z", sync_token: int = 0,
            **extra: Any) -> dict[str, Any]:
    return record("invoices", {"company_id": "9130", "edition": "qbo", "id": id_, "doc_number": f"10{id_}",
                               "txn_date": "2026-11-02", "due_date": "2026-12-02", "customer_id": customer_id,
                               "total_amount": 150.25, "balance": 150.25, "voided": False,
                               "updated_at": updated_at, "sync_token": sync_token, **extra})


def line(invoice_id: str, line_id: str, amount: float = 100.0, **extra: Any) -> dict[str, Any]:
    return record("invoice_lines", {"company_id": "9130", "edition": "qbo", "invoice_id": invoice_id,
                                    "line_id": line_id, "line_num": int(line_id), "doc_number": f"10{invoice_id}",
                                    "detail_type": "SalesItemLineDetail", "description": "Consulting",
                                    "amount": amount, "quantity": 2, "unit_price": amount / 2, "item_id": "5",
                                    "item_name": "Hours", "updated_at": "2026-11-02T09:00:00Z",
                                    "sync_token": 0, **extra})


@dataclass
class Run:
    stdout: str
    set_aside: bool  # the run ended with RecordsSetAside (records set aside, on_data_failure: fail)

    @property
    def states(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]


def singer_text(messages: list[dict[str, Any]] | str) -> str:
    return messages if isinstance(messages, str) else "\n".join(
        simplejson.dumps(m, use_decimal=True) for m in messages) + "\n"


def run_target(config: dict[str, Any], messages: list[dict[str, Any]] | str) -> Run:
    """One run in this process, as `target-salesforce` runs it (the kit's listen, end of pipe)."""
    target = TargetSalesforce(config=config, validate_config=True)
    out = io.StringIO()
    set_aside = False
    try:
        with redirect_stdout(out):
            target.listen(io.StringIO(singer_text(messages)))
    except RecordsSetAside:
        set_aside = True
    finally:
        target.delivery.store.close()
    return Run(out.getvalue(), set_aside)


CONSOLE = str(Path(sys.executable).with_name("target-salesforce"))


def console(config: dict[str, Any] | None, tmp_path: Path, *args: str,
            messages: list[dict[str, Any]] | str = "", env: dict[str, str] | None = None
            ) -> subprocess.CompletedProcess[str]:
    """The installed console command, as Meltano runs it."""
    command = [CONSOLE, *args]
    if config is not None:
        config_file = tmp_path / "config.json"
        config_file.write_text(json.dumps(config))
        command += ["--config", str(config_file)]
    return subprocess.run(command, input=singer_text(messages) if messages else "", capture_output=True,
                          text=True, timeout=180, env={**os.environ, **(env or {})}, check=False)


def last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def letters(config: dict[str, Any]) -> list[DeadLetter]:
    store = DeadLetterStore(Path(config["dead_letter_path"]))
    try:
        return store.letters()
    finally:
        store.close()
