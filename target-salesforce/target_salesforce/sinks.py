"""Batch sink: audit fields, invalid-record capture, dead-lettering of what Salesforce refused."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from qbc_plugin_kit.audited_sink import AuditedBatchSink, json_safe

from target_salesforce.loader import LOAD_ORDER, SUPPORTED_STREAMS, LoadFailed

if TYPE_CHECKING:
    from target_salesforce.runtime import Runtime


class SalesforceSink(AuditedBatchSink):
    """customers/vendors -> Account, invoices -> Opportunity, invoice_lines -> line items."""

    def __init__(self, target: Any, stream_name: str, schema: dict, key_properties: Any) -> None:
        self._runtime: Runtime = target.runtime
        self._owner = target
        super().__init__(target=target, stream_name=stream_name, schema=schema, key_properties=key_properties)
        if stream_name not in SUPPORTED_STREAMS:
            self.logger.info("%s: no Salesforce mapping for this stream; its records are ignored "
                             "(mapped: %s)", stream_name, ", ".join(SUPPORTED_STREAMS))

    @property
    def max_size(self) -> int:
        return int(self.config.get("batch_size_rows", 5000))

    def process_record(self, record: dict, context: dict) -> None:
        if self.stream_name not in SUPPORTED_STREAMS:
            return
        reason = self.rejection(record)
        if reason is not None:
            self._dead_letter([json_safe(record)], reason)
            return
        context.setdefault("records", []).append(record)

    def process_batch(self, context: dict) -> None:
        records: list[dict[str, Any]] = context.get("records", [])
        if not records:
            return
        self._drain_parents()
        self.stamp_batch(records)
        try:
            report = self._runtime.loader.load(self.stream_name, records)
        except LoadFailed as exc:
            self._dead_letter(exc.unsent, str(exc))
            return
        by_error: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for record, error in report.rejected:
            by_error[error].append(record)
        for error, rejected in by_error.items():
            self._dead_letter(rejected, error)
        self.logger.info("%s: %d written, %d skipped (not newer than Salesforce's), %d rejected",
                         self.stream_name, report.written, report.skipped, len(report.rejected))

    def _drain_parents(self) -> None:
        order = LOAD_ORDER.get(self.stream_name, 3)
        for stream, parent_order in LOAD_ORDER.items():
            if parent_order < order:
                parent = self._owner.sink_for(stream)
                if parent is not None and parent.current_size:
                    self._owner.drain_one(parent)

    def _dead_letter(self, records: list[dict[str, Any]], reason: str) -> None:
        letter = self._runtime.dead_letters.add(self.stream_name, self.schema, list(self.key_properties),
                                                records, reason)
        keys = [{k: r.get(k) for k in self.key_properties} for r in records[:3]]
        self.logger.error("%s: %d record(s) not written to Salesforce: %s (first keys %s; kept as dead letter %d, "
                          "run `target-salesforce replay` once fixed)",
                          self.stream_name, len(records), reason, keys, letter)
