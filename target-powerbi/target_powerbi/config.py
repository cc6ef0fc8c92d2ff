"""Each setting of target-powerbi declared once: its default as a constant, the JSON schema
built from those constants, and the typed, frozen settings object the code reads.

The SDK fills schema defaults into a validated run's config; ``check`` and ``replay`` read
unvalidated files and variables, so :meth:`PowerBISettings.from_config` applies the same
constants itself. Old setting names are accepted with a deprecation warning
(:data:`RENAMED_SETTINGS`): one name per concept across the plugins.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from qbc_plugin_kit.delivery import DeliverySettings, delivery_settings, settings_from_config
from singer_sdk import typing as th

PROG = "target-powerbi"

DIMENSION_STREAMS = ("accounts", "customers", "vendors", "employees", "items", "classes", "departments")
DATASET_NAME = "QuickBooks"
RETENTION_POLICIES = ("None", "basicFIFO")
NUMBER_DATA_TYPES = ("Decimal", "Double")
MISSING_TABLE_ACTIONS = ("fail", "recreate")
SCHEMA_CHANGE_ACTIONS = ("refuse", "migrate")
MIRROR_PATH = ".meltano/target-powerbi/mirror.sqlite"
AUTHORITY_HOST = "https://login.microsoftonline.com"
API_URL = "https://api.powerbi.com"
TOKEN_REFRESH_MARGIN_SECONDS = 300
# Microsoft, "Push semantic model limitations".
MAX_ROWS_PER_REQUEST = 10_000
MAX_POST_REQUESTS_PER_MINUTE = 120
MAX_ROWS_PER_HOUR = 1_000_000
BACKOFF_BASE_SECONDS = 1.0
BACKOFF_MAX_SECONDS = 60.0
REQUEST_TIMEOUT_SECONDS = 120
BATCH_SIZE_ROWS = 10_000

# Old name -> the name every plugin now uses for the concept.
RENAMED_SETTINGS = {"request_timeout_seconds": "request_timeout"}


def config_schema() -> dict[str, Any]:
    return th.PropertiesList(
        th.Property("tenant_id", th.StringType, required=True,
                    description="Azure AD (Microsoft Entra ID) tenant ID or domain of the service principal."),
        th.Property("client_id", th.StringType, required=True,
                    description="Application (client) ID of the app registration used as service principal."),
        th.Property("client_secret", th.StringType, required=True, secret=True,
                    description="Client secret of the app registration."),
        th.Property("workspace_id", th.StringType, required=True,
                    description="Power BI workspace (group) ID; the service principal must be an Admin, Member "
                                "or Contributor of it (a Viewer cannot push)."),
        th.Property("dataset_name", th.StringType, default=DATASET_NAME,
                    description="Name of the push dataset to create or reuse in the workspace."),
        th.Property("retention_policy", th.StringType, default=RETENTION_POLICIES[0],
                    allowed_values=list(RETENTION_POLICIES),
                    description="Push dataset retention policy when the target creates it. 'None' keeps up to 5,000,000 "
                                "rows per table; 'basicFIFO' keeps the newest 200,000 and silently drops older rows."),
        th.Property("dimension_streams", th.ArrayType(th.StringType), default=list(DIMENSION_STREAMS),
                    description="Streams loaded as dimension tables (rewritten from the local mirror when they change). "
                                "All other streams are fact tables: each new version is appended."),
        th.Property("number_data_type", th.StringType, default=NUMBER_DATA_TYPES[0],
                    allowed_values=list(NUMBER_DATA_TYPES),
                    description="Power BI type for JSON numbers. Decimal (fixed decimal, 4 places) keeps money exact."),
        th.Property("hard_delete", th.BooleanType, default=False,
                    description="Leave deleted rows out of rewritten dimension tables instead of keeping them with "
                                "_sdc_deleted_at set. Fact tables always get a tombstone row."),
        th.Property("missing_table_action", th.StringType, default=MISSING_TABLE_ACTIONS[0],
                    allowed_values=list(MISSING_TABLE_ACTIONS),
                    description="A stream new to an existing dataset is first added with PutTable (the dataset id "
                                "stays). Where Power BI refuses that: 'fail' stops the run before anything is "
                                "dropped, naming the stream; 'recreate' deletes and rebuilds the dataset with every "
                                "table from the local mirror (new dataset id: rebind reports)."),
        th.Property("schema_change_action", th.StringType, default=SCHEMA_CHANGE_ACTIONS[0],
                    allowed_values=list(SCHEMA_CHANGE_ACTIONS),
                    description="When a stream's columns differ from the existing dataset table's (a column added, "
                                "gone or of another type): 'refuse' stops the run naming each column and both "
                                "types; 'migrate' changes the table (PutTable) and pushes its rows again from the "
                                "local mirror."),
        th.Property("mirror_path", th.StringType, default=MIRROR_PATH,
                    description="SQLite file holding the current version of every row pushed (the version guard)."),
        th.Property("authority_host", th.StringType, default=AUTHORITY_HOST,
                    description="Azure AD authority host (e.g. https://login.microsoftonline.us for US Government)."),
        th.Property("api_url", th.StringType, default=API_URL,
                    description="Power BI REST API base URL (e.g. https://api.powerbigov.us); a trailing /v1.0/myorg is accepted."),
        th.Property("ca_bundle", th.StringType,
                    description="Path to a PEM CA bundle to trust for both hosts (a TLS-inspecting proxy's CA). "
                                "Takes precedence over REQUESTS_CA_BUNDLE."),
        th.Property("token_refresh_margin_seconds", th.IntegerType, default=TOKEN_REFRESH_MARGIN_SECONDS,
                    description="Acquire a new access token this many seconds before the current one expires."),
        th.Property("max_rows_per_request", th.IntegerType, default=MAX_ROWS_PER_REQUEST,
                    description="Rows per POST rows request (Power BI's documented maximum is 10,000)."),
        th.Property("max_post_requests_per_minute", th.IntegerType, default=MAX_POST_REQUESTS_PER_MINUTE,
                    description="POST rows requests per minute per dataset (documented limit: 120)."),
        th.Property("max_rows_per_hour", th.IntegerType, default=MAX_ROWS_PER_HOUR,
                    description="Rows added per hour per dataset (documented limit: 1,000,000)."),
        th.Property("backoff_base_seconds", th.NumberType, default=BACKOFF_BASE_SECONDS,
                    description="First retry delay; doubles each attempt, with jitter. Retry-After wins when sent."),
        th.Property("backoff_max_seconds", th.NumberType, default=BACKOFF_MAX_SECONDS,
                    description="Longest delay between retries (Retry-After excepted)."),
        th.Property("request_timeout", th.NumberType, default=REQUEST_TIMEOUT_SECONDS,
                    description="Timeout of one HTTP request, in seconds (formerly request_timeout_seconds, "
                                "still accepted with a warning)."),
        th.Property("batch_size_rows", th.IntegerType, default=BATCH_SIZE_ROWS,
                    description="Records per batch handed to the loader."),
        *delivery_settings(PROG),
    ).to_dict()


@dataclass(frozen=True)
class PowerBISettings:
    """What a run, ``replay`` and ``check`` read; defaults are the constants above."""

    tenant_id: str = ""
    client_id: str = ""
    client_secret: str = field(default="", repr=False)
    workspace_id: str = ""
    dataset_name: str = DATASET_NAME
    retention_policy: str = RETENTION_POLICIES[0]
    dimension_streams: tuple[str, ...] = DIMENSION_STREAMS
    number_data_type: str = NUMBER_DATA_TYPES[0]
    hard_delete: bool = False
    missing_table_action: str = MISSING_TABLE_ACTIONS[0]
    schema_change_action: str = SCHEMA_CHANGE_ACTIONS[0]
    mirror_path: str = MIRROR_PATH
    authority_host: str = AUTHORITY_HOST
    api_url: str = API_URL
    ca_bundle: str | None = None
    token_refresh_margin_seconds: int = TOKEN_REFRESH_MARGIN_SECONDS
    max_rows_per_request: int = MAX_ROWS_PER_REQUEST
    max_post_requests_per_minute: int = MAX_POST_REQUESTS_PER_MINUTE
    max_rows_per_hour: int = MAX_ROWS_PER_HOUR
    backoff_base_seconds: float = BACKOFF_BASE_SECONDS
    backoff_max_seconds: float = BACKOFF_MAX_SECONDS
    request_timeout: float = REQUEST_TIMEOUT_SECONDS
    batch_size_rows: int = BATCH_SIZE_ROWS
    delivery: DeliverySettings = field(default_factory=lambda: DeliverySettings.from_config({}, PROG))

    @classmethod
    def from_config(cls, config: Mapping[str, Any], logger: logging.Logger | None = None) -> PowerBISettings:
        return settings_from_config(cls, config, PROG, RENAMED_SETTINGS, logger)

    @property
    def max_retries(self) -> int:
        return int(self.delivery.max_retries)

