"""Every setting of the tap declared once: its default (a constant here), its JSON schema (built
from the same constants) and its typed value, :class:`QBOSettings`, which the code reads instead
of ``config.get(key, default)``."""

from __future__ import annotations

import dataclasses
import typing as t
from collections.abc import Mapping

from singer_sdk import typing as th

SYNC_MODES = ("query", "cdc", "webhook")
ACCOUNTING_METHODS = ("Accrual", "Cash")

DEFAULT_TOKEN_STORE = ".meltano/tap-quickbooks-online/tokens.fernet"  # noqa: S105 - a path
DEFAULT_TOKEN_STORE_KEY_ENV = "QBO_TOKEN_STORE_KEY"  # noqa: S105 - a variable's name
DEFAULT_JOURNAL = ".meltano/tap-quickbooks-online/webhook-journal.jsonl"
DEFAULT_BASE_URL = "https://quickbooks.api.intuit.com"
DEFAULT_TOKEN_URL = "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer"  # noqa: S105 - a URL
DEFAULT_AUTHORIZE_URL = "https://appcenter.intuit.com/connect/oauth2"
DEFAULT_REDIRECT_URI = "http://localhost:8765/callback"
DEFAULT_SCOPE = "com.intuit.quickbooks.accounting"
DEFAULT_MINORVERSION = 75
DEFAULT_SYNC_MODE = "cdc"
DEFAULT_LOOKBACK_SECONDS = 300
DEFAULT_REPORT_WINDOW_DAYS = 365
DEFAULT_REPORT_CHUNK_DAYS = 31
DEFAULT_ACCOUNTING_METHOD = "Accrual"
DEFAULT_WEBHOOK_HOST = "127.0.0.1"
DEFAULT_WEBHOOK_PORT = 8080
DEFAULT_REQUESTS_PER_MINUTE = 500  # Intuit's limit per realm
DEFAULT_MAX_CONCURRENCY = 10  # Intuit's limit per realm
DEFAULT_REQUEST_TIMEOUT = 60
DEFAULT_MAX_RETRIES = 6
DEFAULT_BACKOFF_BASE_SECONDS = 1.0
DEFAULT_REFRESH_TOKEN_WARNING_DAYS = 30

SETTINGS = th.PropertiesList(
    th.Property("client_id", th.StringType, required=True, description="Intuit app Client ID (Keys & credentials)."),
    th.Property("client_secret", th.StringType, required=True, secret=True, description="Intuit app Client Secret."),
    th.Property(
        "realms",
        th.ArrayType(
            th.ObjectType(
                th.Property("realm_id", th.StringType, required=True, description="QuickBooks company (realm) id."),
                th.Property("refresh_token", th.StringType, secret=True,
                            description="Initial refresh token; rotated tokens live in the token store."),
            )
        ),
        description="Companies to extract in one run, each with its own tokens. Use this or realm_id.",
    ),
    th.Property("realm_id", th.StringType, description="The one company (realm) to extract, when `realms` is not set."),
    th.Property("only_realm", th.StringType,
                description="Limit this run to one realm_id of `realms` (one Meltano job, and its own state, per company); empty = every realm."),
    th.Property("refresh_token", th.StringType, secret=True,
                description="Initial refresh token of `realm_id` (after the first refresh the token store holds the current one)."),
    th.Property("token_store_path", th.StringType, default=DEFAULT_TOKEN_STORE,
                description="Encrypted (Fernet) file holding each realm's rotating refresh token and access token."),
    th.Property("token_store_key_env", th.StringType, default=DEFAULT_TOKEN_STORE_KEY_ENV,
                description="Name of the environment variable holding the token store's Fernet key."),
    th.Property("base_url", th.StringType, default=DEFAULT_BASE_URL,
                description="Accounting API base URL (sandbox companies: https://sandbox-quickbooks.api.intuit.com)."),
    th.Property("token_url", th.StringType, default=DEFAULT_TOKEN_URL,
                description="Intuit OAuth 2.0 token endpoint."),
    th.Property("authorize_url", th.StringType, default=DEFAULT_AUTHORIZE_URL,
                description="Intuit OAuth 2.0 authorization endpoint (used by `tap-quickbooks-online auth`)."),
    th.Property("redirect_uri", th.StringType, default=DEFAULT_REDIRECT_URI,
                description="Redirect URI registered on the Intuit app (used by `auth`)."),
    th.Property("scope", th.StringType, default=DEFAULT_SCOPE,
                description="OAuth scope requested by `auth`."),
    th.Property("minorversion", th.IntegerType, default=DEFAULT_MINORVERSION,
                description="API minorversion sent with every request (Intuit ignores values below 75 since 2025-08)."),
    th.Property("start_date", th.DateTimeType,
                description="Earliest LastUpdatedTime to extract on a first run (default: everything)."),
    th.Property("sync_mode", th.StringType(allowed_values=list(SYNC_MODES)), default=DEFAULT_SYNC_MODE,
                description="query: incremental queries only. cdc: one /cdc call for all changed entities "
                            "(falls back to query when the bookmark is older than 30 days; sees deletions). "
                            "webhook: cdc plus the events journaled by `webhooks serve`."),
    th.Property("stream_sync_modes", th.ObjectType(additional_properties=th.StringType(allowed_values=list(SYNC_MODES))),
                description="Per-stream override of sync_mode, e.g. {\"invoices\": \"webhook\"}."),
    th.Property("lookback_seconds", th.IntegerType, default=DEFAULT_LOOKBACK_SECONDS,
                description="Overlap re-read before each bookmark, for changes Intuit makes visible late."),
    th.Property("report_start_date", th.DateType, description="First day of report streams (default: report_end_date minus report_window_days)."),
    th.Property("report_end_date", th.DateType, description="Last day of report streams (default: today, UTC)."),
    th.Property("report_window_days", th.IntegerType, default=DEFAULT_REPORT_WINDOW_DAYS,
                description="Length of the report window when report_start_date is not set."),
    th.Property("report_chunk_days", th.IntegerType, default=DEFAULT_REPORT_CHUNK_DAYS,
                description="GeneralLedger is requested in windows of this many days (one posting per row; 0: one request)."),
    th.Property("accounting_method", th.StringType(allowed_values=list(ACCOUNTING_METHODS)), default=DEFAULT_ACCOUNTING_METHOD,
                description="Accounting method of the report streams."),
    th.Property("webhook_verifier_token", th.StringType, secret=True,
                description="Verifier token of the Intuit webhook subscription; `webhooks serve` refuses posts not signed with it."),
    th.Property("webhook_journal_path", th.StringType, default=DEFAULT_JOURNAL,
                description="Append-only journal the webhook receiver writes and webhook-mode syncs read."),
    th.Property("webhook_host", th.StringType, default=DEFAULT_WEBHOOK_HOST,
                description="Address `webhooks serve` binds (put TLS in front of it)."),
    th.Property("webhook_port", th.IntegerType, default=DEFAULT_WEBHOOK_PORT,
                description="Port `webhooks serve` listens on (0: any free port)."),
    th.Property("requests_per_minute", th.IntegerType, default=DEFAULT_REQUESTS_PER_MINUTE,
                description="Request budget per realm per minute (Intuit: 500)."),
    th.Property("max_concurrency", th.IntegerType, default=DEFAULT_MAX_CONCURRENCY,
                description="Requests in flight per realm (Intuit: 10)."),
    th.Property("request_timeout", th.NumberType, default=DEFAULT_REQUEST_TIMEOUT,
                description="Seconds to wait for one API response."),
    th.Property("max_retries", th.IntegerType, default=DEFAULT_MAX_RETRIES,
                description="Attempts for a request failing with 5xx, timeouts or dropped connections."),
    th.Property("backoff_base_seconds", th.NumberType, default=DEFAULT_BACKOFF_BASE_SECONDS,
                description="First backoff delay; doubles per retry, with jitter."),
    th.Property("log_metrics", th.BooleanType, default=False,
                description="Log the SDK's METRIC lines (JSON per counter and timer); off: one summary line per stream."),
    th.Property("refresh_token_warning_days", th.IntegerType, default=DEFAULT_REFRESH_TOKEN_WARNING_DAYS,
                description="Warn when the refresh token expires in fewer days than this (Intuit: 5 years max, 100 days idle)."),
)


@dataclasses.dataclass(frozen=True)
class QBOSettings:
    """The tap's settings, typed; an unset (or null) setting holds the default above."""

    client_id: str | None = None
    client_secret: str | None = dataclasses.field(default=None, repr=False)
    realms: tuple[Mapping[str, t.Any], ...] = ()
    realm_id: str | None = None
    only_realm: str | None = None
    refresh_token: str | None = dataclasses.field(default=None, repr=False)
    token_store_path: str = DEFAULT_TOKEN_STORE
    token_store_key_env: str = DEFAULT_TOKEN_STORE_KEY_ENV
    base_url: str = DEFAULT_BASE_URL
    token_url: str = DEFAULT_TOKEN_URL
    authorize_url: str = DEFAULT_AUTHORIZE_URL
    redirect_uri: str = DEFAULT_REDIRECT_URI
    scope: str = DEFAULT_SCOPE
    minorversion: int = DEFAULT_MINORVERSION
    start_date: str | None = None
    sync_mode: str = DEFAULT_SYNC_MODE
    stream_sync_modes: Mapping[str, str] = dataclasses.field(default_factory=dict)
    lookback_seconds: int = DEFAULT_LOOKBACK_SECONDS
    report_start_date: str | None = None
    report_end_date: str | None = None
    report_window_days: int = DEFAULT_REPORT_WINDOW_DAYS
    report_chunk_days: int = DEFAULT_REPORT_CHUNK_DAYS
    accounting_method: str = DEFAULT_ACCOUNTING_METHOD
    webhook_verifier_token: str | None = dataclasses.field(default=None, repr=False)
    webhook_journal_path: str = DEFAULT_JOURNAL
    webhook_host: str = DEFAULT_WEBHOOK_HOST
    webhook_port: int = DEFAULT_WEBHOOK_PORT
    requests_per_minute: int = DEFAULT_REQUESTS_PER_MINUTE
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT
    max_retries: int = DEFAULT_MAX_RETRIES
    backoff_base_seconds: float = DEFAULT_BACKOFF_BASE_SECONDS
    log_metrics: bool = False
    refresh_token_warning_days: int = DEFAULT_REFRESH_TOKEN_WARNING_DAYS

    @classmethod
    def from_config(cls, config: Mapping[str, t.Any]) -> QBOSettings:
        """Known settings from ``config`` (unknown ones are warned about elsewhere), typed."""
        values: dict[str, t.Any] = {}
        for field in dataclasses.fields(cls):
            value = config.get(field.name)
            if value is None or value == "":
                continue
            values[field.name] = _typed(field.type, value)
        return cls(**values)


def _typed(annotation: t.Any, value: t.Any) -> t.Any:
    """Settings read from variables arrive as text only when the schema did not type them."""
    kind = str(annotation)
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    if kind == "bool":
        return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes", "on")
    if kind.startswith("tuple"):
        return tuple(value)
    if kind == "str" or kind == "str | None":
        return str(value)
    return value
