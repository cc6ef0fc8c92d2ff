"""Batch sink: audit columns, invalid-record capture, dead-lettering of failed batches."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from qbc_plugin_kit.audited_sink import AuditedBatchSink, json_safe

from target_powerbi.loader import LoadFailed

if TYPE_CHECKING:
    from target_powerbi.runtime import Runtime


class PowerBISink(AuditedBatchSink):
    """One Power BI table per stream."""

    def __init__(self, target: Any, stream_name: str, schema: dict, key_properties: Any) -> None:
        self._runtime: Runtime = target.runtime
        super().__init__(target=target, stream_name=stream_name, schema=schema, key_properties=key_properties)

    @property
    def max_size(self) -> int:
        return int(self.config.get("batch_size_rows", 10_000))

    @property
    def runtime(self) -> Runtime:
        return self._runtime

    def setup(self) -> None:
        self.runtime.loader.register_schema(self.stream_name, self.schema, list(self.key_properties))

    def process_record(self, record: dict, context: dict) -> None:
        reason = self.rejection(record)
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
        self.stamp_batch(records)
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
