"""Batch sink: audit columns, invalid-record capture, dead-lettering of failed batches."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from qbc_plugin_kit.versioning import version_text
from singer_sdk.exceptions import InvalidRecord
from singer_sdk.sinks import BatchSink

from target_powerbi.loader import LoadFailed
from target_powerbi.schema_mapping import json_safe

if TYPE_CHECKING:
    from target_powerbi.runtime import Runtime

_REJECTED = "__target_powerbi_rejected__"


def audit_source(stream: str, record: dict[str, Any]) -> str:
    edition, company_id = record.get("edition"), record.get("company_id")
    return f"{edition}:{company_id}" if edition and company_id else stream


class PowerBISink(BatchSink):
    """One Power BI table per stream."""

    def __init__(self, target: Any, stream_name: str, schema: dict, key_properties: Any) -> None:
        self._runtime: Runtime = target.runtime
        super().__init__(target=target, stream_name=stream_name, schema=schema, key_properties=key_properties)

    @property
    def include_sdc_metadata_properties(self) -> bool:
        # Audit columns are part of this target's contract, not an opt-in.
        return True

    @property
    def max_size(self) -> int:
        return int(self.config.get("batch_size_rows", 10_000))

    @property
    def runtime(self) -> Runtime:
        return self._runtime

    def setup(self) -> None:
        self.runtime.loader.register_schema(self.stream_name, self.schema, list(self.key_properties))

    # Invalid input is kept, not dropped: it goes to the dead-letter store with the reason,
    # and the rest of the stream still loads.
    def _validate_and_parse(self, record: dict) -> dict:
        try:
            return super()._validate_and_parse(record)
        except InvalidRecord as exc:
            record[_REJECTED] = f"record does not match the stream schema: {exc}"
            return record
        except ValueError as exc:  # the SDK's date-time parsing of a malformed timestamp
            record[_REJECTED] = f"unreadable date-time value: {exc}"
            return record

    def preprocess_record(self, record: dict, context: dict) -> dict:
        if _REJECTED in record:
            return record
        record = json_safe(record)
        record["_sdc_source"] = audit_source(self.stream_name, record)
        try:
            record["_sdc_version"] = version_text(record)
        except ValueError as exc:
            record[_REJECTED] = f"unreadable version fields: {exc}"
        return record

    def process_record(self, record: dict, context: dict) -> None:
        reason = record.pop(_REJECTED, None)
        if reason is not None:
            keys = {k: record.get(k) for k in self.key_properties}
            letter = self.runtime.dead_letters.add(
                self.stream_name, self.schema, list(self.key_properties), [json_safe(record)], reason)
            self.logger.error("%s: rejected record %s: %s (kept as dead letter %d; fix it and run "
                              "`target-powerbi replay`)", self.stream_name, keys, reason, letter)
            return
        context.setdefault("records", []).append(record)

    def process_batch(self, context: dict) -> None:
        records: list[dict[str, Any]] = context.get("records", [])
        if not records:
            return
        batched_at = dt.datetime.now(dt.UTC).isoformat()
        for record in records:
            record["_sdc_batched_at"] = batched_at
        loader = self.runtime.loader
        try:
            report = loader.load(self.stream_name, list(self.key_properties), records)
        except LoadFailed as exc:
            if not exc.unsent:
                self.logger.error("%s: %s (rows stay in the mirror; `target-powerbi replay` pushes them)",
                                  exc.stream, exc)
                return
            letter = self.runtime.dead_letters.add(
                exc.stream, loader.schemas.get(exc.stream, self.schema),
                loader.key_properties.get(exc.stream, list(self.key_properties)), exc.unsent, str(exc))
            self.logger.error("%s: Power BI did not accept %d record(s): %s (kept as dead letter %d; "
                              "run `target-powerbi replay` once the cause is fixed)",
                              exc.stream, len(exc.unsent), exc, letter)
            return
        self.logger.info("%s: pushed %d record(s) to Power BI", self.stream_name, report.accepted)
