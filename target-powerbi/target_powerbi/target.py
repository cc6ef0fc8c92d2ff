"""target-powerbi: settings and sink wiring."""

from __future__ import annotations

from functools import cached_property
from typing import IO, ClassVar

from qbc_plugin_kit.delivery import DeliveryTarget, delivery_settings
from singer_sdk import Target
from singer_sdk import typing as th
from singer_sdk.helpers.capabilities import TargetCapabilities

from target_powerbi.failures import classifier, outside_batch, retry_policy
from target_powerbi.loader import DEFAULT_DIMENSION_STREAMS
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

    config_jsonschema = th.PropertiesList(
        th.Property("tenant_id", th.StringType, required=True,
                    description="Azure AD (Microsoft Entra ID) tenant ID or domain of the service principal."),
        th.Property("client_id", th.StringType, required=True,
                    description="Application (client) ID of the app registration used as service principal."),
        th.Property("client_secret", th.StringType, required=True, secret=True,
                    description="Client secret of the app registration."),
        th.Property("workspace_id", th.StringType, required=True,
                    description="Power BI workspace (group) ID; the service principal must be a Member or Admin of it."),
        th.Property("dataset_name", th.StringType, default="QuickBooks",
                    description="Name of the push dataset to create or reuse in the workspace."),
        th.Property("retention_policy", th.StringType, default="None", allowed_values=["None", "basicFIFO"],
                    description="Push dataset retention policy when the target creates it. 'None' keeps up to 5,000,000 "
                                "rows per table; 'basicFIFO' keeps the newest 200,000 and silently drops older rows."),
        th.Property("dimension_streams", th.ArrayType(th.StringType), default=list(DEFAULT_DIMENSION_STREAMS),
                    description="Streams loaded as dimension tables (rewritten from the local mirror when they change). "
                                "All other streams are fact tables: each new version is appended."),
        th.Property("number_data_type", th.StringType, default="Decimal", allowed_values=["Decimal", "Double"],
                    description="Power BI type for JSON numbers. Decimal (fixed decimal, 4 places) keeps money exact."),
        th.Property("hard_delete", th.BooleanType, default=False,
                    description="Leave deleted rows out of rewritten dimension tables instead of keeping them with "
                                "_sdc_deleted_at set. Fact tables always get a tombstone row."),
        th.Property("missing_table_action", th.StringType, default="recreate", allowed_values=["recreate", "fail"],
                    description="Power BI cannot add a table to an existing push dataset. 'recreate' rebuilds the "
                                "dataset with every table from the local mirror (new dataset id: rebind reports); "
                                "'fail' stops the run, naming the stream."),
        th.Property("mirror_path", th.StringType, default=".meltano/target-powerbi/mirror.sqlite",
                    description="SQLite file holding the current version of every row pushed (the version guard)."),
        th.Property("authority_host", th.StringType, default="https://login.microsoftonline.com",
                    description="Azure AD authority host (e.g. https://login.microsoftonline.us for US Government)."),
        th.Property("api_url", th.StringType, default="https://api.powerbi.com",
                    description="Power BI REST API base URL (e.g. https://api.powerbigov.us); a trailing /v1.0/myorg is accepted."),
        th.Property("ca_bundle", th.StringType,
                    description="Path to a PEM CA bundle to trust for both hosts (a TLS-inspecting proxy's CA). "
                                "Takes precedence over REQUESTS_CA_BUNDLE."),
        th.Property("token_refresh_margin_seconds", th.IntegerType, default=300,
                    description="Acquire a new access token this many seconds before the current one expires."),
        th.Property("max_rows_per_request", th.IntegerType, default=10_000,
                    description="Rows per POST rows request (Power BI's documented maximum is 10,000)."),
        th.Property("max_post_requests_per_minute", th.IntegerType, default=120,
                    description="POST rows requests per minute per dataset (documented limit: 120)."),
        th.Property("max_rows_per_hour", th.IntegerType, default=1_000_000,
                    description="Rows added per hour per dataset (documented limit: 1,000,000)."),
        th.Property("backoff_base_seconds", th.NumberType, default=1.0,
                    description="First retry delay; doubles each attempt, with jitter. Retry-After wins when sent."),
        th.Property("backoff_max_seconds", th.NumberType, default=60.0,
                    description="Longest delay between retries (Retry-After excepted)."),
        th.Property("request_timeout_seconds", th.NumberType, default=120,
                    description="Timeout of one HTTP request."),
        th.Property("batch_size_rows", th.IntegerType, default=10_000,
                    description="Records per batch handed to the loader."),
        *delivery_settings("target-powerbi"),
    ).to_dict()

    @cached_property
    def runtime(self) -> Runtime:
        return build_runtime(self.config, self.logger)

    def listen(self, file_input: IO[str] | None = None) -> None:  # type: ignore[misc]
        try:
            # Rows the mirror holds but Power BI does not (an interrupted rewrite, line
            # tombstones of a deleted document) go out before anything new.
            outside_batch(self.runtime.loader.flush_pending, describe="re-pushing rows waiting in the mirror",
                          policy=retry_policy(self.config), classify=classifier(self.config),
                          logger=self.logger)
            super().listen(file_input)
        finally:
            self.close_runtime()

    def value_refusal(self, stream: str, schema_message: dict, record: dict) -> str | None:
        """For ``replay --dry-run``: what Power BI's table could not hold exactly (no call out)."""
        columns = table_columns(schema_message["schema"], self.config["number_data_type"], stream=stream)
        return RowShaper(columns).problem(record)

    def close_runtime(self) -> None:
        runtime = self.__dict__.pop("runtime", None)
        if runtime is not None:
            runtime.close()
