"""target-looker-warehouse settings, each declared once: the defaults below feed both the
settings schema Meltano and ``--about`` show and the typed object the code reads
(``WarehouseSettings.from_config``), so no module restates a default."""

from __future__ import annotations

import dataclasses
import json
import typing as t

from qbc_plugin_kit.delivery import delivery_settings
from singer_sdk import typing as th

TARGET_NAME = "target-looker-warehouse"
DEFAULT_DUCKDB_PATH = ".meltano/warehouse/warehouse.duckdb"
APPEND_ONLY = "append-only"
# Old setting names still read (warned) under the new ones: one name per concept across the
# plugins (`request_timeout`, with the prefix of the second system this plugin talks to).
RENAMED_SETTINGS = {"looker_timeout": "looker_request_timeout"}


@dataclasses.dataclass(frozen=True)
class WarehouseSettings:
    dialect: str = "duckdb"
    duckdb_path: str = DEFAULT_DUCKDB_PATH
    duckdb_memory_limit: str = "48MB"
    sqlalchemy_url: str | None = None
    host: str | None = None
    port: int = 5432
    user: str | None = None
    password: str | None = None
    database: str | None = None
    sslmode: str | None = None
    default_target_schema: str = "quickbooks"
    model_schema: str = "finance"
    decimal_precision: int = 38
    decimal_scale: int = 10
    load_method: str = "upsert"
    hard_delete: bool = False
    model_enabled: bool = True
    aging_as_of: str | None = None
    lookml_path: str | None = None
    lookml_connection: str = "quickbooks_warehouse"
    lookml_model: str = "quickbooks"
    looker_api_enabled: bool = False
    looker_base_url: str | None = None
    looker_client_id: str | None = None
    looker_client_secret: str | None = None
    looker_verify_ssl: bool = True
    looker_ca_bundle: str | None = None
    looker_project_id: str | None = None
    looker_request_timeout: int = 120
    looker_scheduled_plans: tuple[t.Mapping[str, t.Any], ...] = ()
    looker_destination_secrets: str | None = None

    @classmethod
    def from_config(cls, config: t.Mapping[str, t.Any]) -> WarehouseSettings:
        """The settings a config holds; a missing or null value takes its declared default
        (the SDK fills defaults into a validated config, tests and helpers pass plain dicts)."""
        return cls(**{f.name: config[f.name] for f in dataclasses.fields(cls) if config.get(f.name) is not None})

    @property
    def destination_secrets(self) -> dict[str, t.Any]:
        """``looker_destination_secrets`` read (JSON text: Meltano passes a sensitive setting as text)."""
        if not self.looker_destination_secrets:
            return {}
        try:
            value = json.loads(self.looker_destination_secrets)
        except ValueError:
            value = None
        if not isinstance(value, dict):
            # The value is a secret: never shown.
            raise ValueError("looker_destination_secrets is not a JSON object: set it to text such as "
                             '{"finance_s3": {"secret_access_key": "..."}}')
        return value

    def connection_problem(self) -> tuple[str, str] | None:
        """(what is missing, the fix) when the warehouse settings cannot name a database:
        libpq would otherwise fall back to localhost:5432 and the OS user, and fail there."""
        if self.dialect != "postgres" or self.sqlalchemy_url:
            return None
        missing = [name for name in ("host", "user", "database") if not getattr(self, name)]
        if not missing:
            return None
        return (f"dialect postgres needs {', '.join(missing)} (or sqlalchemy_url); {missing[0]} is not set",
                f"set {', '.join(missing)} (meltano config target-looker-warehouse set {missing[0]} ...), "
                "or sqlalchemy_url")

    @property
    def looker_configured(self) -> bool:
        return self.looker_api_enabled or bool(self.looker_base_url)

    @property
    def upsert(self) -> bool:
        return self.load_method != APPEND_ONLY


_DEFAULTS = WarehouseSettings()

SETTINGS_SCHEMA: dict[str, t.Any] = th.PropertiesList(
    th.Property(
        "dialect",
        th.StringType(allowed_values=["duckdb", "postgres"]),
        default=_DEFAULTS.dialect,
        description="Warehouse engine: 'duckdb' (an embedded file) or 'postgres'.",
    ),
    th.Property(
        "duckdb_path",
        th.StringType,
        default=_DEFAULTS.duckdb_path,
        description="DuckDB database file (dialect 'duckdb'); its folder is created.",
    ),
    th.Property(
        "duckdb_memory_limit",
        th.StringType,
        default=_DEFAULTS.duckdb_memory_limit,
        description="DuckDB's memory limit while loading (dialect 'duckdb'), e.g. '48MB', '1GB': beyond "
        "it DuckDB spills to a temporary folder beside the database file. The model rebuild after "
        "the load runs under DuckDB's own default (80% of RAM).",
    ),
    th.Property(
        "sqlalchemy_url",
        th.StringType,
        secret=True,
        description="Full SQLAlchemy URL for dialect 'postgres' (postgresql+psycopg://...); "
        "overrides host/port/user/password/database.",
    ),
    th.Property("host", th.StringType, description="PostgreSQL host (dialect 'postgres')."),
    th.Property("port", th.IntegerType, default=_DEFAULTS.port, description="PostgreSQL port."),
    th.Property("user", th.StringType, description="PostgreSQL user."),
    th.Property("password", th.StringType, secret=True, description="PostgreSQL password."),
    th.Property("database", th.StringType, description="PostgreSQL database."),
    th.Property(
        "sslmode",
        th.StringType,
        description="libpq sslmode for PostgreSQL (e.g. 'require', 'verify-full').",
    ),
    th.Property(
        "default_target_schema",
        th.StringType,
        default=_DEFAULTS.default_target_schema,
        description="Schema the raw streams are loaded into.",
    ),
    th.Property(
        "model_schema",
        th.StringType,
        default=_DEFAULTS.model_schema,
        description="Schema of the modelled layer (dim_*, fct_*, ap_aging, ar_aging).",
    ),
    th.Property(
        "decimal_precision",
        th.IntegerType,
        default=_DEFAULTS.decimal_precision,
        description="Precision of DECIMAL columns holding JSON numbers (money, rates, quantities).",
    ),
    th.Property(
        "decimal_scale",
        th.IntegerType,
        default=_DEFAULTS.decimal_scale,
        description="Scale of DECIMAL columns. QuickBooks money has 2 places, prices and "
        "quantities 5, exchange rates more: 10 stores all of them exactly.",
    ),
    th.Property(
        "load_method",
        th.StringType(allowed_values=["upsert", "append-only"]),
        default=_DEFAULTS.load_method,
        description="'upsert': one row per key, version-guarded (record-model.md order). "
        "'append-only': every record appended as it arrives (history tables).",
    ),
    *delivery_settings("target-looker-warehouse"),
    th.Property(
        "model_enabled",
        th.BooleanType,
        default=_DEFAULTS.model_enabled,
        description="Rebuild the modelled layer after each run.",
    ),
    th.Property(
        "aging_as_of",
        th.DateType,
        description="Date the AP/AR aging buckets are computed as of (default: today, UTC).",
    ),
    th.Property(
        "lookml_path",
        th.StringType,
        description="Folder to write the generated LookML project to (unset: no LookML).",
    ),
    th.Property(
        "lookml_connection",
        th.StringType,
        default=_DEFAULTS.lookml_connection,
        description="Name of the Looker database connection the LookML model uses.",
    ),
    th.Property(
        "lookml_model",
        th.StringType,
        default=_DEFAULTS.lookml_model,
        description="Name of the generated LookML model.",
    ),
    th.Property(
        "looker_api_enabled",
        th.BooleanType,
        default=_DEFAULTS.looker_api_enabled,
        description="After a load: validate and deploy the LookML project and reset the "
        "model's datagroup through the Looker API 4.0.",
    ),
    th.Property(
        "looker_base_url",
        th.StringType,
        description="Looker API host, e.g. https://mycompany.cloud.looker.com (no /api/4.0).",
    ),
    th.Property("looker_client_id", th.StringType, secret=True, description="Looker API3 client id."),
    th.Property(
        "looker_client_secret", th.StringType, secret=True, description="Looker API3 client secret."
    ),
    th.Property(
        "looker_verify_ssl",
        th.BooleanType,
        default=_DEFAULTS.looker_verify_ssl,
        description="Verify the Looker host's TLS certificate.",
    ),
    th.Property(
        "looker_ca_bundle",
        th.StringType,
        description="CA bundle file to verify the Looker host with (private CA).",
    ),
    th.Property("looker_project_id", th.StringType, description="Looker LookML project id to validate and deploy."),
    th.Property(
        "looker_request_timeout", th.IntegerType, default=_DEFAULTS.looker_request_timeout,
        description="Looker API request timeout, seconds (formerly `looker_timeout`, still read).",
    ),
    th.Property(
        "looker_scheduled_plans",
        th.ArrayType(
            th.ObjectType(
                th.Property("name", th.StringType, required=True,
                            description="Plan name: the plan is found again by it (owned by the API user)."),
                th.Property("lookml_dashboard", th.StringType,
                            description="A generated dashboard (ap_aging = AP aging by vendor, "
                            "ap_aging_by_cost_center, ar_aging, general_ledger, cash) or any LookML "
                            "dashboard as model::name."),
                th.Property("dashboard_id", th.StringType, description="A user-defined dashboard's id."),
                th.Property("look_id", th.StringType, description="A Look's id."),
                th.Property("crontab", th.StringType, required=True,
                            description="Five-field cron, e.g. '0 6 * * 1-5' (weekdays at 06:00)."),
                th.Property("timezone", th.StringType, description="Time zone of the cron, e.g. 'Europe/Paris'."),
                th.Property("enabled", th.BooleanType, default=True),
                th.Property("filters_string", th.StringType, description="Dashboard filters as a URL query."),
                th.Property(
                    "destinations",
                    th.ArrayType(
                        th.ObjectType(
                            th.Property("type", th.StringType(allowed_values=["email", "s3", "sftp", "webhook"]),
                                        required=True),
                            th.Property("address", th.StringType,
                                        description="Email address, s3://bucket/folder, sftp://host/folder or URL."),
                            th.Property("format", th.StringType,
                                        description="e.g. wysiwyg_pdf, csv_zip (dashboards), csv, xlsx (looks)."),
                            th.Property("apply_formatting", th.BooleanType),
                            th.Property("apply_vis", th.BooleanType),
                            th.Property("parameters", th.ObjectType(additional_properties=True),
                                        description="S3: access_key_id and region; SFTP: username."),
                            th.Property("secret", th.StringType,
                                        description="Name of an entry of looker_destination_secrets holding "
                                        "this destination's secret parameters."),
                            th.Property("message", th.StringType),
                        )
                    ),
                    required=True,
                ),
            )
        ),
        description="Looker Scheduled Plans created or updated after each successful load (needs "
        "looker_api_enabled). Each names one dashboard or look, a cron and destinations.",
    ),
    th.Property(
        "looker_destination_secrets",
        th.StringType,
        secret=True,
        description="JSON object of the secret parameters of scheduled-plan destinations, by the name a "
        "destination's 'secret' gives, e.g. {\"finance_s3\": {\"secret_access_key\": \"...\"}} (S3) or "
        "{\"board_sftp\": {\"password\": \"...\"}} (SFTP). Kept apart so the plans hold no secret.",
    ),
).to_dict()
