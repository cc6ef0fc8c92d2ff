"""target-powerbi: settings and sink wiring."""

from __future__ import annotations

from functools import cached_property
from typing import IO, ClassVar

from qbc_plugin_kit.delivery import DeliveryTarget
from singer_sdk import Target
from singer_sdk.helpers.capabilities import TargetCapabilities

from target_powerbi.config import RENAMED_SETTINGS, PowerBISettings, config_schema
from target_powerbi.failures import classifier, outside_batch, retry_policy
from target_powerbi.runtime import Runtime, build_runtime
from target_powerbi.schema_mapping import RowShaper, table_columns
from target_powerbi.sinks import PowerBISink


class TargetPowerBI(DeliveryTarget, Target):
    """Pushes Singer streams into a Power BI push dataset (service principal auth)."""

    name = "target-powerbi"
    default_sink_class = PowerBISink
    # The `hard_delete` setting below is this capability; declared so that --about and the Hub
    # definition say so.
    capabilities: ClassVar = [*Target.capabilities, TargetCapabilities.HARD_DELETE]

    config_jsonschema = config_schema()
    # Old setting names read as their new ones, each warned (the kit's DeliveryTarget applies it).
    RENAMED_SETTINGS = RENAMED_SETTINGS

    @cached_property
    def settings(self) -> PowerBISettings:
        return PowerBISettings.from_config(self.config, self.logger)

    @cached_property
    def runtime(self) -> Runtime:
        return build_runtime(self.settings, self.logger)

    def listen(self, file_input: IO[str] | None = None) -> None:  # type: ignore[misc]
        try:
            # Rows the mirror holds but Power BI does not (an interrupted rewrite, line
            # tombstones of a deleted document) go out before anything new.
            outside_batch(self.runtime.loader.flush_pending, describe="re-pushing rows waiting in the mirror",
                          policy=retry_policy(self.settings), classify=classifier(self.settings),
                          logger=self.logger)
            super().listen(file_input)
        finally:
            self.close_runtime()

    def value_refusal(self, stream: str, schema_message: dict, record: dict) -> str | None:
        """For ``replay --dry-run``: what Power BI's table could not hold exactly (no call out)."""
        columns = table_columns(schema_message["schema"], self.settings.number_data_type, stream=stream)
        return RowShaper(columns).problem(record)

    def close_runtime(self) -> None:
        runtime = self.__dict__.pop("runtime", None)
        if runtime is not None:
            runtime.close()
