"""target-databricks: settings and capabilities."""

from __future__ import annotations

import atexit
import threading
import typing as t

from qbc_plugin_kit.delivery import DeliveryTarget, delivery_settings
from singer_sdk import typing as th
from singer_sdk.helpers.capabilities import TargetCapabilities
from singer_sdk.target_base import Target

from target_databricks import merge_sql
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


class TargetDatabricks(DeliveryTarget, Target):
    """Loads Singer streams into Unity Catalog tables on a Databricks SQL warehouse."""

    name = "target-databricks"
    default_sink_class = DatabricksSink
    # The `default_target_schema` and `hard_delete` settings below are these two capabilities;
    # declared so that --about and the Hub definition say so.
    capabilities: t.ClassVar = [*Target.capabilities, TargetCapabilities.TARGET_SCHEMA,
                                TargetCapabilities.HARD_DELETE]

    config_jsonschema = th.PropertiesList(
        th.Property("server_hostname", th.StringType, required=True,
                    description="Workspace host of the SQL warehouse "
                    "(Connection details: `adb-123.4.azuredatabricks.net`); `host:port` for a "
                    "non-standard port."),
        th.Property("http_path", th.StringType, required=True,
                    description="HTTP path of the SQL warehouse (`/sql/1.0/warehouses/<id>`)."),
        th.Property("catalog", th.StringType,
                    description="Unity Catalog catalog that holds the schema (three-part names)."),
        th.Property("schema", th.StringType,
                    description="Schema the tables are written to; created if missing. "
                    "Default: `default_target_schema`, else `quickbooks`."),
        th.Property("default_target_schema", th.StringType,
                    description="Alias of `schema`, the name Meltano's other SQL targets use."),
        th.Property("access_token", th.StringType, secret=True,
                    description="Personal access token. Leave empty to use a service "
                    "principal (client_id and client_secret)."),
        th.Property("client_id", th.StringType,
                    description="Service principal's OAuth client id (OAuth M2M)."),
        th.Property("client_secret", th.StringType, secret=True,
                    description="Service principal's OAuth secret (OAuth M2M)."),
        th.Property("oauth_token_url", th.StringType,
                    description="Token endpoint for OAuth M2M. "
                    "Default: `https://<server_hostname>/oidc/v1/token`."),
        th.Property("oauth_scope", th.StringType, default="all-apis",
                    description="Scope requested for OAuth M2M tokens."),
        th.Property("tls_ca_file", th.StringType,
                    description="PEM bundle of the certificate authorities to trust for the "
                    "warehouse and token endpoint (private deployments, TLS-inspecting "
                    "proxies). Default: the system's trust store."),
        th.Property("table_provider", th.StringType, default="DELTA",
                    description="Table format in `CREATE TABLE ... USING <provider>`; empty "
                    "leaves it to the catalog's default."),
        th.Property("table_properties", th.ObjectType(additional_properties=th.StringType),
                    description="TBLPROPERTIES for new tables. Default for Delta: "
                    "`delta.enableTypeWidening=true`, so columns widen in place."),
        th.Property("nested_as", th.StringType, default="json_string",
                    allowed_values=["json_string", "struct"],
                    description="Objects and arrays as JSON text (`json_string`) or typed "
                    "STRUCT/ARRAY columns (`struct`)."),
        th.Property("load_method", th.StringType, default="upsert",
                    allowed_values=["upsert", "append-only", "overwrite"],
                    description="`upsert`: MERGE on the key, newest version wins; "
                    "`append-only`: INSERT every record; `overwrite`: the run's first batch "
                    "replaces the table's rows, later batches append."),
        th.Property("hard_delete", th.BooleanType, default=False,
                    description="Delete rows whose record carries `_sdc_deleted_at` instead of "
                    "keeping them flagged."),
        th.Property("staging", th.StringType, default="insert",
                    allowed_values=["insert", "volume"],
                    description="How a batch larger than one statement is staged: `insert` "
                    "(parameterised INSERTs into a staging table) or `volume` (a Parquet file "
                    "uploaded to `staging_volume`, then COPY INTO)."),
        th.Property("staging_volume", th.StringType,
                    description="Unity Catalog Volume name in the target schema for "
                    "`staging: volume`."),
        th.Property("stage_chunk_bytes", th.IntegerType, default=900_000,
                    description="Largest JSON payload per staging statement; Databricks caps "
                    "a statement's parameter values at 1 MB."),
        th.Property("parameter_style", th.StringType, default="native",
                    allowed_values=["native", "inline"],
                    description="`native`: values travel as query parameters (Databricks "
                    "Runtime 14.2+, every SQL warehouse). `inline`: the connector renders "
                    "them as escaped literals, for older clusters and Spark Thrift servers."),
        th.Property("decimal_precision", th.IntegerType, default=38,
                    description="Precision of the DECIMAL columns that hold JSON numbers."),
        th.Property("decimal_scale", th.IntegerType, default=10,
                    description="Scale (decimal places) of those DECIMAL columns."),
        th.Property("connector_telemetry", th.BooleanType, default=True,
                    description="Let databricks-sql-connector send its usage telemetry to the "
                    "workspace (the connector's default). Off skips its feature-flag request."),
        th.Property("max_parallel_streams", th.IntegerType, default=4,
                    description="Streams loaded at the same time, each on its own connection."),
        *delivery_settings("target-databricks"),
    ).to_dict()

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self.connector = DatabricksConnector(self.config, self.logger)
        atexit.register(self.connector.close)
        self.overwritten_tables: set[str] = set()
        self._tables_seen: set[str] = set()
        self._schemas_created: set[tuple[str | None, str]] = set()
        self._schema_lock = threading.Lock()
        self.volume_stager: t.Any = None
        if self.config.get("staging") == "volume":
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
            self.connector.close()
            self.logger.info("Ran %d statements on the warehouse, %.1f s in total",
                             self.connector.statement_count, self.connector.statement_seconds)

    @property
    def max_parallelism(self) -> int:
        return int(self.config.get("max_parallel_streams", 4))

    @max_parallelism.setter
    def max_parallelism(self, value: int) -> None:
        pass

    @property
    def table_properties(self) -> dict[str, str]:
        configured = self.config.get("table_properties")
        if configured is not None:
            return dict(configured)
        if str(self.config.get("table_provider", "DELTA")).upper() == "DELTA":
            # Delta changes a column type in place only with this table feature on.
            return {"delta.enableTypeWidening": "true"}
        return {}

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
