"""Batch sink on the delivery contract: audit fields, then one version-guarded load per batch
whose refused records are set aside alone (qbc_plugin_kit.delivery)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from qbc_plugin_kit.delivery import DeliverySink
from qbc_plugin_kit.record_model import SOURCE_COLUMN, audit_source
from qbc_plugin_kit.retry import RetryPolicy
from singer_sdk.sinks import BatchSink

from target_salesforce.failure_kinds import classify
from target_salesforce.loader import LOAD_ORDER, SUPPORTED_STREAMS

if TYPE_CHECKING:
    from target_salesforce.config import SalesforceSettings
    from target_salesforce.runtime import Runtime


def json_safe(value: Any) -> Any:
    """A record value Salesforce's JSON takes without losing precision or offsets (the SDK
    parses date-times into datetime objects)."""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


class SalesforceSink(DeliverySink, BatchSink):
    """customers/vendors -> Account, accounts -> chart object, items -> Product2, invoices/bills ->
    Opportunity (and Order), their lines -> OrderItem or the configured line object."""

    def __init__(self, target: Any, stream_name: str, schema: dict, key_properties: Any) -> None:
        self._owner = target
        super().__init__(target, stream_name=stream_name, schema=schema, key_properties=key_properties)
        if stream_name not in SUPPORTED_STREAMS:
            self.logger.info("%s: no Salesforce mapping for this stream; its records are ignored "
                             "(mapped: %s)", stream_name, ", ".join(SUPPORTED_STREAMS))

    @property
    def include_sdc_metadata_properties(self) -> bool:
        # Audit fields are part of the target's contract, not an opt-in.
        return True

    @property
    def max_size(self) -> int:
        return self.settings.batch_size_rows

    @property
    def retry_policy(self) -> RetryPolicy:
        settings = self.settings
        return RetryPolicy(max_attempts=settings.max_retries + 1, base_seconds=settings.backoff_base_seconds,
                           max_seconds=settings.backoff_max_seconds)

    @property
    def settings(self) -> SalesforceSettings:
        return self._owner.settings  # type: ignore[no-any-return]

    @property
    def runtime(self) -> Runtime:
        # Built on first use: `replay --list` and a run of unmapped streams need no org.
        return self._owner.runtime  # type: ignore[no-any-return]

    def preprocess_record(self, record: dict, context: dict) -> dict:
        record = json_safe(record)
        record[SOURCE_COLUMN] = audit_source(self.stream_name, record)
        return record

    def process_record(self, record: dict, context: dict) -> None:
        if self.stream_name in SUPPORTED_STREAMS:
            context.setdefault("records", []).append(record)

    def process_batch(self, context: dict) -> None:
        records: list[dict[str, Any]] = context.get("records", [])
        if not records:
            return
        self._drain_parents()
        batched_at = dt.datetime.now(dt.UTC).isoformat()
        for record in records:
            record["_sdc_batched_at"] = batched_at
        loader = self.runtime.loader
        counts = {"written": 0, "skipped": 0}

        def load(batch: list[dict[str, Any]]) -> list[tuple[dict[str, Any], str]]:
            # The mapping picks named fields only: the kit's private keys never reach Salesforce.
            report = loader.load(self.stream_name, batch)
            counts["written"] += report.written
            counts["skipped"] += report.skipped
            return report.refused

        landed = self.deliver(records, load, classify)
        self.logger.info("%s: %d record(s) delivered (%d written, %d skipped: not newer than Salesforce's, "
                         "subtotal lines, unsent invoices held back, payments summarised), %d set aside", self.stream_name, len(landed), counts["written"], counts["skipped"],
                         len(records) - len(landed))

    def _drain_parents(self) -> None:
        order = LOAD_ORDER.get(self.stream_name, 3)
        for stream, parent_order in LOAD_ORDER.items():
            if parent_order < order:
                parent = self._owner.sink_for(stream)
                if parent is not None and parent.current_size:
                    self._owner.drain_one(parent)
