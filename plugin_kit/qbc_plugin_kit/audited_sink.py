"""The record intake both SaaS targets share: audit columns on every record, and a record
that cannot be loaded (it breaks the stream's schema, or its version fields are unreadable)
set aside with its reason for the dead-letter store instead of ending the run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from singer_sdk.exceptions import InvalidRecord
from singer_sdk.sinks import BatchSink

from qbc_plugin_kit.version_order import version_text

REJECTED = "__qbc_rejected__"


def json_safe(value: Any) -> Any:
    """A record value storable as JSON without losing precision or offsets."""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


def audit_source(stream: str, record: Mapping[str, Any]) -> str:
    """``_sdc_source``: which company a row came from (``qbo:<realm>``), else the stream."""
    edition, company_id = record.get("edition"), record.get("company_id")
    return f"{edition}:{company_id}" if edition and company_id else stream


class AuditedBatchSink(BatchSink):
    """A batch sink whose records carry their audit columns and version, or a rejection."""

    @property
    def include_sdc_metadata_properties(self) -> bool:
        # Audit columns are part of the targets' contract, not an opt-in.
        return True

    def _validate_and_parse(self, record: dict) -> dict:
        try:
            return super()._validate_and_parse(record)
        except InvalidRecord as exc:
            record[REJECTED] = f"record does not match the stream schema: {exc}"
            return record
        except ValueError as exc:  # the SDK's date-time parsing of a malformed timestamp
            record[REJECTED] = f"unreadable date-time value: {exc}"
            return record

    def preprocess_record(self, record: dict, context: dict) -> dict:
        if REJECTED in record:
            return record
        record = json_safe(record)
        record["_sdc_source"] = audit_source(self.stream_name, record)
        try:
            record["_sdc_version"] = version_text(record)
        except ValueError as exc:
            record[REJECTED] = f"unreadable version fields: {exc}"
        return record

    @staticmethod
    def rejection(record: dict) -> str | None:
        """Why the record was set aside (and the marker removed), or None for a loadable one."""
        reason = record.pop(REJECTED, None)
        return None if reason is None else str(reason)

    @staticmethod
    def stamp_batch(records: list[dict[str, Any]]) -> None:
        batched_at = dt.datetime.now(dt.UTC).isoformat()
        for record in records:
            record["_sdc_batched_at"] = batched_at
