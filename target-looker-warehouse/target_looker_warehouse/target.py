"""target-looker-warehouse: settings, sink class, and the after-load steps."""

from __future__ import annotations

import typing as t

from qbc_plugin_kit.bulk_intake import BulkIntake
from qbc_plugin_kit.delivery import DeliveryTarget
from qbc_plugin_kit.failures import SystemicFailure
from singer_sdk.exceptions import ConfigValidationError
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


class TargetLookerWarehouse(DeliveryTarget, BulkIntake, SQLTarget):
    """Loads QuickBooks records into the warehouse Looker queries and keeps it modelled."""

    name = TARGET_NAME
    default_sink_class = WarehouseSink
    bulk_sink_class = WarehouseSink

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
