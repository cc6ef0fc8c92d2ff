"""target-databricks: settings and capabilities."""

from __future__ import annotations

import atexit
import threading
import typing as t
from concurrent.futures import Future, ThreadPoolExecutor

from qbc_plugin_kit.bulk_intake import BulkIntake
from qbc_plugin_kit.delivery import DeliveryTarget
from singer_sdk.helpers.capabilities import TargetCapabilities
from singer_sdk.target_base import Target

from target_databricks import merge_sql
from target_databricks.config import (
    RENAMED_SETTINGS,
    SETTINGS_SCHEMA,
    TARGET_NAME,
    DatabricksSettings,
)
from target_databricks.connector import DatabricksConnector
from target_databricks.sinks import DatabricksSink

# Settings of earlier versions: (old name, new name or None when it has no successor, why).
DEPRECATED_SETTINGS: tuple[tuple[str, str | None, str], ...] = (
    ("retry_attempts", "max_retries", "retry_attempts counted the first attempt too: "
     "max_retries = retry_attempts - 1"),
    ("retry_base_delay_seconds", None, "the backoff is the plugin kit's one retry policy"),
    ("retry_max_delay_seconds", None, "the backoff is the plugin kit's one retry policy"),
    ("version_columns", None, "the version order is one rule for every target "
     "(updated_at, deletion, sync_token, edit_sequence: docs/delivery-contract.md)"),
)


class TargetDatabricks(DeliveryTarget, BulkIntake, Target):
    """Loads Singer streams into Unity Catalog tables on a Databricks SQL warehouse."""

    name = TARGET_NAME
    default_sink_class = DatabricksSink
    # Records go straight to DatabricksSink.accept (qbc_plugin_kit.bulk_intake).
    bulk_sink_class = DatabricksSink
    # The `default_target_schema` and `hard_delete` settings below are these two capabilities;
    # declared so that --about and the Hub definition say so.
    capabilities: t.ClassVar = [*Target.capabilities, TargetCapabilities.TARGET_SCHEMA,
                                TargetCapabilities.HARD_DELETE]

    config_jsonschema = SETTINGS_SCHEMA
    RENAMED_SETTINGS = RENAMED_SETTINGS

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self.settings = DatabricksSettings.from_config(self.config)
        self.connector = DatabricksConnector(self.settings, self.logger)
        atexit.register(self.connector.close)
        self.overwritten_tables: set[str] = set()
        self._tables_seen: set[str] = set()
        self._schemas_created: set[tuple[str | None, str]] = set()
        self._schema_lock = threading.Lock()
        # One helper thread for the round trips a stream's first write would otherwise wait for
        # (see ahead); one thread, so streams starting together do not open a session each.
        self._ahead = ThreadPoolExecutor(max_workers=1, thread_name_prefix="warehouse-ahead")
        self.volume_stager: t.Any = None
        if self.settings.uses_volume:
            from target_databricks.volume_staging import VolumeStager

            self.volume_stager = VolumeStager(self)

    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        """Map the settings of earlier versions, then validate (after files and environment
        were merged, before anything reads them)."""
        for old, new, why in DEPRECATED_SETTINGS:
            if old not in self._config:
                continue
            value = self._config.pop(old)
            if new is None:
                self.logger.warning("Setting %s is no longer used and was ignored: %s", old, why)
            elif new in self._config:
                self.logger.warning("Setting %s is deprecated and was ignored: %s is set (%s)",
                                    old, new, why)
            else:
                self._config[new] = max(0, int(value) - 1)
                self.logger.warning("Setting %s is deprecated: use %s (%s); read as %s: %s",
                                    old, new, why, new, self._config[new])
        return t.cast("list[str]", super()._validate_config(raise_errors=raise_errors))

    def process_endofpipe(self) -> None:
        """Drain as usual, then end the warehouse sessions while the warehouse is listening
        (an atexit close can run after logging has shut down)."""
        try:
            super().process_endofpipe()
        finally:
            # A DESCRIBE no write waited for (a stream whose records were all set aside) ends
            # before the sessions close, not on a closed connection in a thread nobody joins.
            self._ahead.shutdown(wait=True, cancel_futures=True)
            self.connector.close()
            self.logger.info("Ran %d statements on the warehouse, %.1f s in total",
                             self.connector.statement_count, self.connector.statement_seconds)

    def ahead(self, call: t.Callable[..., t.Any], *args: t.Any) -> Future[t.Any]:
        """Run ``call`` on the helper thread, while the main thread goes on reading records: the
        session opens (and a stopped warehouse starts) and a table is described meanwhile."""
        return self._ahead.submit(call, *args)

    @property
    def max_parallelism(self) -> int:
        return self.settings.max_parallel_streams

    @max_parallelism.setter
    def max_parallelism(self, value: int) -> None:
        pass

    @property
    def table_properties(self) -> dict[str, str]:
        return self.settings.new_table_properties

    def ensure_schema(self, catalog: str | None, schema: str) -> None:
        """CREATE SCHEMA once per run, not once per stream: every stream shares the schema,
        and each statement is a round trip (several HTTP requests) to the warehouse."""
        with self._schema_lock:  # sinks drain on parallel threads
            if (catalog, schema) in self._schemas_created:
                return
            self.connector.execute(merge_sql.create_schema(catalog, schema))
            self._schemas_created.add((catalog, schema))

    def table_exists(self, table: str) -> bool:
        # Only "exists" is remembered: tables are not dropped during a run, but a missing one
        # may be created by another stream's sink at any time.
        if table in self._tables_seen:
            return True
        if self.connector.table_columns(table) is None:
            return False
        self._tables_seen.add(table)
        return True
