"""Builds Singer message streams for tests and runs the target on them in-process."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import Any

import simplejson
from qbc_plugin_kit.dead_letters import DeadLetter, DeadLetterStore
from target_powerbi.target import TargetPowerBI

CUSTOMER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "company_id": {"type": "string"},
        "edition": {"type": ["string", "null"]},
        "id": {"type": "string"},
        "display_name": {"type": ["string", "null"]},
        "balance": {"type": ["number", "null"]},
        "active": {"type": ["boolean", "null"]},
        "billing_address": {"type": ["object", "null"], "properties": {
            "city": {"type": ["string", "null"]}, "postal_code": {"type": ["string", "null"]}}},
        "updated_at": {"type": ["string", "null"], "format": "date-time"},
        "sync_token": {"type": ["integer", "null"]},
        "edit_sequence": {"type": ["string", "null"]},
        "_sdc_deleted_at": {"type": ["string", "null"], "format": "date-time"},
    },
}
INVOICE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "company_id": {"type": "string"},
        "edition": {"type": ["string", "null"]},
        "id": {"type": "string"},
        "doc_number": {"type": ["string", "null"]},
        "txn_date": {"type": ["string", "null"], "format": "date"},
        "total_amount": {"type": ["number", "null"]},
        "lines": {"type": ["array", "null"], "items": {"type": "object"}},
        "updated_at": {"type": ["string", "null"], "format": "date-time"},
        "sync_token": {"type": ["integer", "null"]},
        "edit_sequence": {"type": ["string", "null"]},
        "_sdc_deleted_at": {"type": ["string", "null"], "format": "date-time"},
    },
}
INVOICE_LINE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "company_id": {"type": "string"},
        "edition": {"type": ["string", "null"]},
        "invoice_id": {"type": "string"},
        "line_id": {"type": "string"},
        "amount": {"type": ["number", "null"]},
        "updated_at": {"type": ["string", "null"], "format": "date-time"},
        "sync_token": {"type": ["integer", "null"]},
        "edit_sequence": {"type": ["string", "null"]},
        "_sdc_deleted_at": {"type": ["string", "null"], "format": "date-time"},
    },
}
KEYS = {"customers": ["company_id", "id"], "invoices": ["company_id", "id"],
        "invoice_lines": ["company_id", "invoice_id", "line_id"]}
SCHEMAS = {"customers": CUSTOMER_SCHEMA, "invoices": INVOICE_SCHEMA, "invoice_lines": INVOICE_LINE_SCHEMA}


def schema_message(stream: str) -> dict[str, Any]:
    return {"type": "SCHEMA", "stream": stream, "schema": SCHEMAS[stream], "key_properties": KEYS[stream]}


def record_message(stream: str, record: dict[str, Any]) -> dict[str, Any]:
    return {"type": "RECORD", "stream": stream, "record": record,
            "time_extracted": "2026-11-20T10:00:00+00:00"}


def customer(id_: str, name: str, updated_at: str, sync_token: int, **extra: Any) -> dict[str, Any]:
    return {"company_id": "9130", "edition": "qbo", "id": id_, "display_name": name, "balance": 10.25,
            "active": True, "billing_address": {"city": "Austin", "postal_code": "78701"},
            "updated_at": updated_at, "sync_token": sync_token, **extra}


def singer_lines(messages: list[dict[str, Any]]) -> str:
    # Raw text so that money goes through as JSON numbers with every digit.
    return "\n".join(simplejson.dumps(m, use_decimal=True) for m in messages) + "\n"


def run_target(config: dict[str, Any], messages: list[dict[str, Any]] | str) -> tuple[str, str]:
    """One run as ``target-powerbi`` runs it (pending letters first, then the input); raises
    what the run raises (RecordsSetAside when records were set aside, SystemicFailure)."""
    text = messages if isinstance(messages, str) else singer_lines(messages)
    target = TargetPowerBI(config=config, validate_config=True)
    stdout, stderr = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            target.listen(io.StringIO(text))
    finally:
        target.close_runtime()
        target.delivery.store.close()
    return stdout.getvalue(), stderr.getvalue()


def pending_letters(config: dict[str, Any]) -> list[DeadLetter]:
    store = DeadLetterStore(Path(config["dead_letter_path"]))
    try:
        return store.letters()
    finally:
        store.close()
