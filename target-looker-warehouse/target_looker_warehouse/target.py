"""target-looker-warehouse: settings, sink class, and the after-load steps."""

from __future__ import annotations

import datetime as dt
import time
import typing as t

from qbc_plugin_kit.delivery import DeliveryTarget
from qbc_plugin_kit.failures import SystemicFailure
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.mapper import SameRecordTransform
from singer_sdk.sql import SQLTarget

from target_looker_warehouse.config import (
    RENAMED_SETTINGS,
    SETTINGS_SCHEMA,
    TARGET_NAME,
    WarehouseSettings,
)
from target_looker_warehouse.connector import WarehouseConnector
from target_looker_warehouse.dialects import dialect_for
from target_looker_warehouse.sinks import WarehouseSink


def _missing_secrets(settings: WarehouseSettings) -> list[str]:
    if not settings.looker_scheduled_plans:
        return []
    # Imported only when plans are configured: the Looker SDK takes seconds to import.
    from target_looker_warehouse.scheduled_plans import missing_secrets

    return missing_secrets(settings)


class _BulkIntake:
    """The record path of this target: records travel in bulk (docs/architecture-notes.md).

    The SDK's per-record path (copy, map, metadata, validate, parse every timestamp, tally)
    cost more than the whole load; here each record goes straight to its sink's
    :meth:`WarehouseSink.accept`, which checks and encodes it once. When stream maps or
    flattening are configured, records take the SDK's path unchanged.
    """

    mapper: t.Any
    config: t.Any
    _sinks_active: dict[str, t.Any]

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        self._bulk_sinks: dict[str, WarehouseSink | None] = {}
        self._bulk_count = 0
        self._received_ms = 0
        self._received: tuple[str, int] = ("", 0)
        super().__init__(*args, **kwargs)

    def _process_schema_message(self, message_dict: dict) -> None:
        super()._process_schema_message(message_dict)  # type: ignore[misc]
        self._bulk_sinks.clear()  # a new schema may have made a new sink

    def _bulk_sink(self, stream: str) -> WarehouseSink | None:
        if stream in self._bulk_sinks:
            return self._bulk_sinks[stream]
        sink: WarehouseSink | None = None
        maps = self.mapper.stream_maps.get(stream) or []
        if (len(maps) == 1 and type(maps[0]) is SameRecordTransform and maps[0].stream_alias == stream
                and not self.config.get("stream_maps") and not self.config.get("flattening_enabled")):
            found = self._sinks_active.get(stream)
            sink = found if isinstance(found, WarehouseSink) else None
        self._bulk_sinks[stream] = sink
        return sink

    def _process_record_message(self, message_dict: dict) -> None:
        stream = message_dict.get("stream")
        sink = self._bulk_sink(stream) if isinstance(stream, str) else None
        if sink is None:
            super()._process_record_message(message_dict)  # type: ignore[misc]
            return
        self._bulk_count += 1
        if self._bulk_count % 1024 == 0:
            self._handle_max_record_age()  # type: ignore[attr-defined]
        millis = round(time.time() * 1000)
        if millis != self._received_ms:
            # The SDK's _sdc_received_at and _sdc_sequence, rendered once per millisecond.
            self._received_ms = millis
            self._received = (dt.datetime.fromtimestamp(millis / 1000, dt.UTC).isoformat(), millis)
        sink.accept(message_dict["record"], message_dict, self._received)
        sink.record_counter_metric.increment()
        if sink.is_full:
            self.logger.info(  # type: ignore[attr-defined]
                "Target sink for '%s' is full. Current size is '%s'. Draining...", sink.stream_name, sink.current_size)
            # Loaded while the next records are read (when the dialect says it pays).
            sink.drain_in_background = True
            try:
                self.drain_one(sink)  # type: ignore[attr-defined]
            finally:
                sink.drain_in_background = False


class TargetLookerWarehouse(DeliveryTarget, _BulkIntake, SQLTarget):
    """Loads QuickBooks records into the warehouse Looker queries and keeps it modelled."""

    name = TARGET_NAME
    default_sink_class = WarehouseSink

    config_jsonschema = SETTINGS_SCHEMA
    RENAMED_SETTINGS = RENAMED_SETTINGS

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self.after_load_report: dict[str, t.Any] = {}
        self._looker_login_verified = False
        self.settings = WarehouseSettings.from_config(self.config)
        problem = self.settings.connection_problem()
        if problem is not None:
            raise SystemicFailure(*problem)
        dialect_for(self.config)  # a config the warehouse would refuse fails now, before any input
        try:
            missing = _missing_secrets(self.settings)
        except ValueError as error:
            raise ConfigValidationError(str(error)) from None
        if missing:
            raise ConfigValidationError(
                f"looker_scheduled_plans name secret(s) {', '.join(missing)} that looker_destination_secrets "
                "does not hold: add them there, or remove 'secret' from those destinations")
        if self.settings.dialect == "duckdb":
            # DuckDB runs one writer at a time: parallel drains only add thread overhead.
            self.max_parallelism = 1

    def _process_schema_message(self, message_dict: dict) -> None:
        if self.settings.looker_api_enabled and not self._looker_login_verified:
            # A wrong Looker key fails the run before anything is loaded (no STATE), not after
            # the load when the deploy logs in.
            from target_looker_warehouse.looker_client import verify_login

            verify_login(dict(self.config))
            self._looker_login_verified = True
        super()._process_schema_message(message_dict)

    @property
    def warehouse_connector(self) -> WarehouseConnector:
        return t.cast(WarehouseConnector, self.target_connector)

    def after_delivery(self) -> None:
        from target_looker_warehouse.after_load import run_after_load

        self.after_load_report = run_after_load(self.warehouse_connector, dict(self.config), self.logger)

    def process_endofpipe(self) -> None:
        # After the last drain and the after-load steps, failed or not: the run's last use of
        # the warehouse (not atexit/weakref.finalize, which keep the engine alive meanwhile).
        try:
            super().process_endofpipe()
        finally:
            if self._target_connector is not None:
                self.warehouse_connector.dispose()


if __name__ == "__main__":
    TargetLookerWarehouse.cli()
