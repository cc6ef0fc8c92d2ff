"""target-looker-warehouse: settings, sink class, and the after-load steps."""

from __future__ import annotations

import typing as t

from qbc_plugin_kit.delivery import DeliveryTarget, delivery_settings
from singer_sdk import typing as th
from singer_sdk.sql import SQLTarget

from target_looker_warehouse.connector import WarehouseConnector
from target_looker_warehouse.dialects import dialect_for
from target_looker_warehouse.sinks import WarehouseSink


class TargetLookerWarehouse(DeliveryTarget, SQLTarget):
    """Loads QuickBooks records into the warehouse Looker queries and keeps it modelled."""

    name = "target-looker-warehouse"
    default_sink_class = WarehouseSink

    config_jsonschema = th.PropertiesList(
        th.Property(
            "dialect",
            th.StringType(allowed_values=["duckdb", "postgres"]),
            default="duckdb",
            description="Warehouse engine: 'duckdb' (an embedded file) or 'postgres'.",
        ),
        th.Property(
            "duckdb_path",
            th.StringType,
            default=".meltano/warehouse/warehouse.duckdb",
            description="DuckDB database file (dialect 'duckdb'); its folder is created.",
        ),
        th.Property(
            "sqlalchemy_url",
            th.StringType,
            secret=True,
            description="Full SQLAlchemy URL for dialect 'postgres' (postgresql+psycopg://...); "
            "overrides host/port/user/password/database.",
        ),
        th.Property("host", th.StringType, description="PostgreSQL host (dialect 'postgres')."),
        th.Property("port", th.IntegerType, default=5432, description="PostgreSQL port."),
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
            default="quickbooks",
            description="Schema the raw streams are loaded into.",
        ),
        th.Property(
            "model_schema",
            th.StringType,
            default="finance",
            description="Schema of the modelled layer (dim_*, fct_*, ap_aging, ar_aging).",
        ),
        th.Property(
            "decimal_precision",
            th.IntegerType,
            default=38,
            description="Precision of DECIMAL columns holding JSON numbers (money, rates, quantities).",
        ),
        th.Property(
            "decimal_scale",
            th.IntegerType,
            default=10,
            description="Scale of DECIMAL columns. QuickBooks money has 2 places, prices and "
            "quantities 5, exchange rates more: 10 stores all of them exactly.",
        ),
        th.Property(
            "load_method",
            th.StringType(allowed_values=["upsert", "append-only"]),
            default="upsert",
            description="'upsert': one row per key, version-guarded (record-model.md order). "
            "'append-only': every record appended as it arrives (history tables).",
        ),
        *delivery_settings("target-looker-warehouse"),
        th.Property(
            "model_enabled",
            th.BooleanType,
            default=True,
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
            default="quickbooks_warehouse",
            description="Name of the Looker database connection the LookML model uses.",
        ),
        th.Property(
            "lookml_model",
            th.StringType,
            default="quickbooks",
            description="Name of the generated LookML model.",
        ),
        th.Property(
            "looker_api_enabled",
            th.BooleanType,
            default=False,
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
            default=True,
            description="Verify the Looker host's TLS certificate.",
        ),
        th.Property(
            "looker_ca_bundle",
            th.StringType,
            description="CA bundle file to verify the Looker host with (private CA).",
        ),
        th.Property("looker_project_id", th.StringType, description="Looker LookML project id to validate and deploy."),
        th.Property(
            "looker_timeout", th.IntegerType, default=120, description="Looker API request timeout, seconds."
        ),
    ).to_dict()

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self.after_load_report: dict[str, t.Any] = {}
        dialect_for(self.config)  # a config the warehouse would refuse fails now, before any input
        if self.config.get("dialect", "duckdb") == "duckdb":
            # DuckDB runs one writer at a time: parallel drains only add thread overhead.
            self.max_parallelism = 1

    @property
    def warehouse_connector(self) -> WarehouseConnector:
        return t.cast(WarehouseConnector, self.target_connector)

    def after_delivery(self) -> None:
        from target_looker_warehouse.after_load import run_after_load

        self.after_load_report = run_after_load(self.warehouse_connector, dict(self.config), self.logger)


if __name__ == "__main__":
    TargetLookerWarehouse.cli()
