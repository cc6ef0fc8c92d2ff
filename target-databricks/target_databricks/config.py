"""target-databricks settings, each declared once: the defaults below feed both the settings
schema Meltano and ``--about`` show and the typed object the code reads
(``DatabricksSettings.from_config``), so no module restates a default."""

from __future__ import annotations

import dataclasses
import tempfile
import typing as t

from qbc_plugin_kit.delivery import delivery_settings
from singer_sdk import typing as th

TARGET_NAME = "target-databricks"
DEFAULT_SCOPE = "all-apis"
DEFAULT_PORT = 443
# Old setting names still read (warned) under the new ones: one name per concept across the
# plugins (`ca_bundle` as in target-powerbi and target-salesforce; `default_target_schema`,
# the SDK's and Meltano's name for the schema).
RENAMED_SETTINGS = {"tls_ca_file": "ca_bundle", "schema": "default_target_schema"}


@dataclasses.dataclass(frozen=True)
class DatabricksSettings:
    server_hostname: str = ""
    http_path: str = ""
    catalog: str | None = None
    default_target_schema: str = "quickbooks"
    access_token: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    oauth_token_url: str | None = None
    oauth_scope: str = DEFAULT_SCOPE
    ca_bundle: str | None = None
    table_provider: str = "DELTA"
    table_properties: t.Mapping[str, str] | None = None
    nested_as: str = "json_string"
    load_method: str = "upsert"
    hard_delete: bool = False
    staging: str = "auto"
    staging_volume: str | None = None
    staging_local_path: str | None = None
    stage_chunk_bytes: int = 900_000
    parameter_style: str = "native"
    decimal_precision: int = 38
    decimal_scale: int = 10
    connector_telemetry: bool = True
    max_parallel_streams: int = 4

    @classmethod
    def from_config(cls, config: t.Mapping[str, t.Any]) -> DatabricksSettings:
        """The settings a config holds; a missing or null value takes its declared default
        (the SDK fills defaults into a validated config; `check` and tests pass plain dicts)."""
        return cls(**{f.name: config[f.name] for f in dataclasses.fields(cls) if config.get(f.name) is not None})

    @property
    def host(self) -> str:
        return self.server_hostname.partition(":")[0]

    @property
    def port(self) -> int:
        """The connector takes the port apart from the host (``_port``, default 443)."""
        port = self.server_hostname.partition(":")[2]
        return int(port) if port.isdigit() else DEFAULT_PORT

    @property
    def uses_oauth(self) -> bool:
        """Service-principal OAuth M2M: client_id and client_secret, and no access_token."""
        return bool(self.client_id and self.client_secret and not self.access_token)

    @property
    def token_url(self) -> str:
        return self.oauth_token_url or f"https://{self.server_hostname}/oidc/v1/token"

    @property
    def provider(self) -> str:
        """The table format for ``USING``; empty leaves it to the catalog."""
        provider = str(self.table_provider or "").strip()
        return "" if provider.lower() == "none" else provider

    @property
    def uses_volume(self) -> bool:
        """Batches may go through ``staging_volume``: ``staging: volume``, or ``auto`` with a
        Volume named (``auto`` without one sends every batch as query parameters)."""
        return self.staging == "volume" or (self.staging == "auto" and bool(self.staging_volume))

    @property
    def local_staging_dir(self) -> str:
        return self.staging_local_path or tempfile.gettempdir()

    @property
    def new_table_properties(self) -> dict[str, str]:
        if self.table_properties is not None:
            return dict(self.table_properties)
        if self.table_provider.upper() == "DELTA":
            # Delta changes a column type in place only with this table feature on.
            return {"delta.enableTypeWidening": "true"}
        return {}

    def secrets(self) -> list[str]:
        return [s for s in (self.access_token, self.client_secret) if s]


_DEFAULTS = DatabricksSettings()

SETTINGS_SCHEMA: dict[str, t.Any] = th.PropertiesList(
    th.Property("server_hostname", th.StringType, required=True,
                description="Workspace host of the SQL warehouse "
                "(Connection details: `adb-123.4.azuredatabricks.net`); `host:port` for a "
                "non-standard port."),
    th.Property("http_path", th.StringType, required=True,
                description="HTTP path of the SQL warehouse (`/sql/1.0/warehouses/<id>`)."),
    th.Property("catalog", th.StringType,
                description="Unity Catalog catalog that holds the schema (three-part names)."),
    th.Property("default_target_schema", th.StringType, default=_DEFAULTS.default_target_schema,
                description="Schema the tables are written to; created if missing "
                "(formerly `schema`, still read)."),
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
    th.Property("oauth_scope", th.StringType, default=_DEFAULTS.oauth_scope,
                description="Scope requested for OAuth M2M tokens."),
    th.Property("ca_bundle", th.StringType,
                description="PEM bundle of the certificate authorities to trust for the "
                "warehouse and token endpoint (private deployments, TLS-inspecting "
                "proxies). Default: the system's trust store (formerly `tls_ca_file`, still read)."),
    th.Property("table_provider", th.StringType, default=_DEFAULTS.table_provider,
                description="Table format in `CREATE TABLE ... USING <provider>`; empty "
                "leaves it to the catalog's default."),
    th.Property("table_properties", th.ObjectType(additional_properties=th.StringType),
                description="TBLPROPERTIES for new tables. Default for Delta: "
                "`delta.enableTypeWidening=true`, so columns widen in place."),
    th.Property("nested_as", th.StringType, default=_DEFAULTS.nested_as,
                allowed_values=["json_string", "struct"],
                description="Objects and arrays as JSON text (`json_string`) or typed "
                "STRUCT/ARRAY columns (`struct`)."),
    th.Property("load_method", th.StringType, default=_DEFAULTS.load_method,
                allowed_values=["upsert", "append-only", "overwrite"],
                description="`upsert`: MERGE on the key, newest version wins; "
                "`append-only`: INSERT every record; `overwrite`: the run's first batch "
                "replaces the table's rows, later batches append."),
    th.Property("hard_delete", th.BooleanType, default=_DEFAULTS.hard_delete,
                description="Delete rows whose record carries `_sdc_deleted_at` instead of "
                "keeping them flagged."),
    th.Property("staging", th.StringType, default=_DEFAULTS.staging,
                allowed_values=["auto", "insert", "volume"],
                description="How a batch reaches the warehouse: `insert` (its rows as JSON "
                "query parameters, through a staging table when larger than one statement), "
                "`volume` (a Parquet file uploaded to `staging_volume`, read by the MERGE), or "
                "`auto`: the Volume for large batches when `staging_volume` is set, query "
                "parameters otherwise."),
    th.Property("staging_volume", th.StringType,
                description="Unity Catalog Volume name in the target schema, for "
                "`staging: volume` and for the large batches of `staging: auto` (needs the "
                "`volume` extra, pyarrow)."),
    th.Property("staging_local_path", th.StringType,
                description="Local folder the Parquet files for the Volume are written to "
                "before the upload. Default: the system's temporary folder."),
    th.Property("stage_chunk_bytes", th.IntegerType, default=_DEFAULTS.stage_chunk_bytes,
                description="Largest JSON payload per staging statement; Databricks caps "
                "a statement's parameter values at 1 MB."),
    th.Property("parameter_style", th.StringType, default=_DEFAULTS.parameter_style,
                allowed_values=["native", "inline"],
                description="`native`: values travel as query parameters (Databricks "
                "Runtime 14.2+, every SQL warehouse). `inline`: the connector renders "
                "them as escaped literals, for older clusters and Spark Thrift servers."),
    th.Property("decimal_precision", th.IntegerType, default=_DEFAULTS.decimal_precision,
                description="Precision of the DECIMAL columns that hold JSON numbers."),
    th.Property("decimal_scale", th.IntegerType, default=_DEFAULTS.decimal_scale,
                description="Scale (decimal places) of those DECIMAL columns."),
    th.Property("connector_telemetry", th.BooleanType, default=_DEFAULTS.connector_telemetry,
                description="Let databricks-sql-connector send its usage telemetry to the "
                "workspace (the connector's default). Off skips its feature-flag request."),
    th.Property("max_parallel_streams", th.IntegerType, default=_DEFAULTS.max_parallel_streams,
                description="Streams loaded at the same time, each on its own connection."),
    *delivery_settings(TARGET_NAME),
).to_dict()
