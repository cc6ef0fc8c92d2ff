"""The parts of the record model (docs/record-model.md) every target keeps the same way."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from qbc_plugin_kit.version_order import DELETED_AT

# header stream -> (its line stream, the line column naming the header)
HEADER_LINES: dict[str, tuple[str, str]] = {
    "invoices": ("invoice_lines", "invoice_id"),
    "bills": ("bill_lines", "bill_id"),
    "purchase_orders": ("purchase_order_lines", "purchase_order_id"),
    "journal_entries": ("journal_entry_lines", "journal_entry_id"),
    "credit_memos": ("credit_memo_lines", "credit_memo_id"),
    "sales_receipts": ("sales_receipt_lines", "sales_receipt_id"),
    "checks": ("check_lines", "check_id"),  # QuickBooks Desktop only
}
# line stream -> (its header stream, the line column naming the header)
LINE_HEADERS: dict[str, tuple[str, str]] = {
    lines: (header, column) for header, (lines, column) in HEADER_LINES.items()
}

SOURCE_COLUMN = "_sdc_source"
# Audit columns on every row of every target: the SDK's metadata columns plus the source.
AUDIT_COLUMNS = ("_sdc_extracted_at", "_sdc_received_at", "_sdc_batched_at", DELETED_AT,
                 "_sdc_sequence", "_sdc_table_version", "_sdc_sync_started_at", SOURCE_COLUMN)
DELETED_RECORDS_STREAM = "deleted_records"


def audit_source(stream: str, record: Mapping[str, Any]) -> str:
    """``_sdc_source``: which company a row came from (``qbo:<realm>``), else the stream."""
    edition, company_id = record.get("edition"), record.get("company_id")
    return f"{edition}:{company_id}" if edition and company_id else stream


def is_deleted(record: Mapping[str, Any]) -> bool:
    return record.get(DELETED_AT) not in (None, "")
