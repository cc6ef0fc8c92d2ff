"""One Power BI table per stream, delivered under the kit's delivery contract."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from qbc_plugin_kit.delivery import DeliverySink
from qbc_plugin_kit.failures import RecordRefused, Verdict
from qbc_plugin_kit.record_model import SOURCE_COLUMN, audit_source
from qbc_plugin_kit.retry import RetryPolicy
from singer_sdk.sinks import BatchSink

from target_powerbi.failures import classifier, outside_batch, retry_policy

if TYPE_CHECKING:
    from target_powerbi.config import PowerBISettings
    from target_powerbi.runtime import Runtime


class PowerBISink(DeliverySink, BatchSink):
    def __init__(self, target: Any, stream_name: str, schema: dict, key_properties: Any) -> None:
        self._runtime: Runtime = target.runtime
        super().__init__(target, stream_name=stream_name, schema=schema, key_properties=key_properties)
        self._settings: PowerBISettings = target.settings
        self._classify = classifier(self._settings)

    @property
    def include_sdc_metadata_properties(self) -> bool:
        # Audit columns are part of the targets' contract, not an opt-in.
        return True

    @property
    def max_size(self) -> int:
        return self._settings.batch_size_rows

    @property
    def retry_policy(self) -> RetryPolicy:
        return retry_policy(self._settings)

    @property
    def runtime(self) -> Runtime:
        return self._runtime

    def setup(self) -> None:
        self.runtime.loader.register_schema(self.stream_name, self.schema, list(self.key_properties))

    def _parse_timestamps_in_record(self, record: dict, schema: dict, treatment: Any) -> None:
        # Date-time strings stay exactly as they arrived (offsets included): the kit's
        # validator already checked their format, and Power BI reads ISO 8601 text.
        return None

    def preprocess_record(self, record: dict, context: dict) -> dict:
        record[SOURCE_COLUMN] = audit_source(self.stream_name, record)
        reason = self.runtime.loader.refusal(self.stream_name, record)
        if reason:
            raise RecordRefused(reason)
        return record

    def process_batch(self, context: dict) -> None:
        records: list[dict[str, Any]] = context.get("records", [])
        if not records:
            return
        batched_at = dt.datetime.now(dt.UTC).isoformat()
        for record in records:
            record["_sdc_batched_at"] = batched_at
        loader = self.runtime.loader
        # Rows waiting in the mirror for this table (a deleted document's line tombstones)
        # go first, so this batch cannot overtake them.
        self._outside_batch(lambda: loader.flush_pending([self.stream_name]))
        stream, keys = self.stream_name, list(self.key_properties)
        # A fact table: one POST per delivery, so what Power BI took is exactly what the mirror
        # marks pushed. A dimension table is rewritten whole whatever the batch: one delivery.
        dimension = stream in loader.dimension_streams
        size = len(records) if dimension else loader.pacer.limits.max_rows_per_request
        def load(batch: list[dict[str, Any]]) -> None:
            loader.load(stream, keys, batch)  # refuses a batch whole: nothing per record to report

        landed = 0
        for start in range(0, len(records), size):
            landed += len(self.deliver(records[start:start + size], load, self.classify))
        self.logger.info("%s: %d record(s) delivered to Power BI (newer versions pushed, older ones "
                         "skipped)", stream, landed)
        # Whatever the batch put in the outbox: tombstones of the deleted documents' lines,
        # staged with their headers, and every table of a dataset the batch had to recreate.
        self._outside_batch(loader.flush_pending)

    def classify(self, error: BaseException) -> Verdict:
        return self._classify(error)

    def _outside_batch(self, operation: Any) -> None:
        outside_batch(operation, describe=f"{self.stream_name}: re-pushing rows waiting in the mirror",
                      policy=self.retry_policy, classify=self._classify, logger=self.logger)
