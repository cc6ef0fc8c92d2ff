"""TapQuickBooksOnline: settings and stream list; per-realm clients and change feeds."""

from __future__ import annotations

import datetime as dt
import threading
import typing as t

import requests
from qbc_plugin_kit.quiet_logs import quiet_dry_run_aborts, quiet_sdk_logs
from qbc_plugin_kit.settings_check import warn_unknown_settings
from qbc_plugin_kit.singer_output import BufferedSingerWriter
from singer_sdk import Stream, Tap
from singer_sdk import typing as th

from tap_quickbooks_online.auth import OAuthClient, RealmTokens
from tap_quickbooks_online.cdc import ChangeFeed, Participant, Watch
from tap_quickbooks_online.client import QBOClient
from tap_quickbooks_online.deleted_records import DeletedRecordsStream
from tap_quickbooks_online.entity_stream import SYNC_MODES, EntityStream
from tap_quickbooks_online.errors import ConfigError
from tap_quickbooks_online.list_streams import LIST_STREAMS
from tap_quickbooks_online.query_batch import fetch_first_pages
from tap_quickbooks_online.rate_limit import RealmRateLimiter
from tap_quickbooks_online.reports import REPORT_STREAMS, ReportStream
from tap_quickbooks_online.token_store import TokenStore
from tap_quickbooks_online.transaction_streams import HEADER_STREAMS, LINE_STREAMS
from tap_quickbooks_online.webhooks.journal import Journal

DEFAULT_TOKEN_STORE = ".meltano/tap-quickbooks-online/tokens.fernet"  # noqa: S105 - a path
DEFAULT_JOURNAL = ".meltano/tap-quickbooks-online/webhook-journal.jsonl"

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
    th.Property("token_store_key_env", th.StringType, default="QBO_TOKEN_STORE_KEY",
                description="Name of the environment variable holding the token store's Fernet key."),
    th.Property("base_url", th.StringType, default="https://quickbooks.api.intuit.com",
                description="Accounting API base URL (sandbox companies: https://sandbox-quickbooks.api.intuit.com)."),
    th.Property("token_url", th.StringType, default="https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer",
                description="Intuit OAuth 2.0 token endpoint."),
    th.Property("authorize_url", th.StringType, default="https://appcenter.intuit.com/connect/oauth2",
                description="Intuit OAuth 2.0 authorization endpoint (used by `tap-quickbooks-online auth`)."),
    th.Property("redirect_uri", th.StringType, default="http://localhost:8765/callback",
                description="Redirect URI registered on the Intuit app (used by `auth`)."),
    th.Property("scope", th.StringType, default="com.intuit.quickbooks.accounting",
                description="OAuth scope requested by `auth`."),
    th.Property("minorversion", th.IntegerType, default=75,
                description="API minorversion sent with every request (Intuit ignores values below 75 since 2025-08)."),
    th.Property("start_date", th.DateTimeType,
                description="Earliest LastUpdatedTime to extract on a first run (default: everything)."),
    th.Property("sync_mode", th.StringType(allowed_values=list(SYNC_MODES)), default="cdc",
                description="query: incremental queries only. cdc: one /cdc call for all changed entities "
                            "(falls back to query when the bookmark is older than 30 days; sees deletions). "
                            "webhook: cdc plus the events journaled by `webhooks serve`."),
    th.Property("stream_sync_modes", th.ObjectType(additional_properties=th.StringType(allowed_values=list(SYNC_MODES))),
                description="Per-stream override of sync_mode, e.g. {\"invoices\": \"webhook\"}."),
    th.Property("lookback_seconds", th.IntegerType, default=300,
                description="Overlap re-read before each bookmark, for changes Intuit makes visible late."),
    th.Property("report_start_date", th.DateType, description="First day of report streams (default: report_end_date minus report_window_days)."),
    th.Property("report_end_date", th.DateType, description="Last day of report streams (default: today, UTC)."),
    th.Property("report_window_days", th.IntegerType, default=365, description="Length of the report window when report_start_date is not set."),
    th.Property("report_chunk_days", th.IntegerType, default=31,
                description="GeneralLedger is requested in windows of this many days (one posting per row; 0: one request)."),
    th.Property("accounting_method", th.StringType(allowed_values=["Accrual", "Cash"]), default="Accrual",
                description="Accounting method of the report streams."),
    th.Property("webhook_verifier_token", th.StringType, secret=True,
                description="Verifier token of the Intuit webhook subscription; `webhooks serve` refuses posts not signed with it."),
    th.Property("webhook_journal_path", th.StringType, default=DEFAULT_JOURNAL,
                description="Append-only journal the webhook receiver writes and webhook-mode syncs read."),
    th.Property("webhook_host", th.StringType, default="127.0.0.1", description="Address `webhooks serve` binds (put TLS in front of it)."),
    th.Property("webhook_port", th.IntegerType, default=8080, description="Port `webhooks serve` listens on (0: any free port)."),
    th.Property("requests_per_minute", th.IntegerType, default=500, description="Request budget per realm per minute (Intuit: 500)."),
    th.Property("max_concurrency", th.IntegerType, default=10, description="Requests in flight per realm (Intuit: 10)."),
    th.Property("request_timeout", th.NumberType, default=60, description="Seconds to wait for one API response."),
    th.Property("max_retries", th.IntegerType, default=6, description="Attempts for a request failing with 5xx, timeouts or dropped connections."),
    th.Property("backoff_base_seconds", th.NumberType, default=1.0, description="First backoff delay; doubles per retry, with jitter."),
    th.Property("log_metrics", th.BooleanType, default=False,
                description="Log the SDK's METRIC lines (JSON per counter and timer); off: one summary line per stream."),
    th.Property("refresh_token_warning_days", th.IntegerType, default=30,
                description="Warn when the refresh token expires in fewer days than this (Intuit: 5 years max, 100 days idle)."),
)


class TapQuickBooksOnline(Tap):
    """QuickBooks Online tap: query, CDC and webhook sync over several realms."""

    name = "tap-quickbooks-online"
    # RECORD lines are not flushed one by one; every other message (STATE, ...) flushes.
    message_writer_class = BufferedSingerWriter
    config_jsonschema = SETTINGS.to_dict()

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        self._lock = threading.Lock()
        self._clients: dict[str, QBOClient] = {}
        self._feeds: dict[str, ChangeFeed] = {}
        self._store: TokenStore | None = None
        self._journal_pruned = False
        super().__init__(*args, **kwargs)
        warn_unknown_settings(dict(self.config), self.config_jsonschema, self.logger)
        quiet_sdk_logs(self, log_metrics=bool(self.config.get("log_metrics")))

    def discover_streams(self) -> list[Stream]:
        classes: list[type[Stream]] = [*LIST_STREAMS, *HEADER_STREAMS, *LINE_STREAMS, DeletedRecordsStream, *REPORT_STREAMS]
        streams = [cls(tap=self) for cls in classes]  # type: ignore[call-arg]
        quiet_dry_run_aborts(streams)
        entity_streams = {s.name for s in streams if isinstance(s, EntityStream)}
        for name in sorted(set(self.config.get("stream_sync_modes") or {}) - entity_streams):
            self.logger.warning("stream_sync_modes names %r, which is not an entity stream; ignored", name)
        return streams

    # -- realms and credentials --------------------------------------------------------------

    def required(self, key: str) -> t.Any:
        """A setting the command cannot do without; its absence named, not a KeyError."""
        value = self.config.get(key)
        if value in (None, ""):
            msg = (f"the setting {key} is not set. Fix: meltano config tap-quickbooks-online set {key} ... "
                   f"(or TAP_QUICKBOOKS_ONLINE_{key.upper()}, or {key} in the --config file)")
            raise ConfigError(msg)
        return value

    def setting(self, key: str) -> t.Any:
        value = self.config.get(key)
        if value is None:
            value = SETTINGS.to_dict()["properties"].get(key, {}).get("default")
        return value

    def _prune_journal_once(self, journal: Journal) -> None:
        """Drop journal events every webhook-mode stream of every realm has already committed.

        Runs before any stream of this run moves its webhook_seq, so it only trusts the STATE
        Meltano handed in (saved after the target committed). Events are hints anyway: each
        webhook run also sweeps CDC, so a stream that never saw an event still gets the change.
        """
        with self._lock:
            if self._journal_pruned:
                return
            self._journal_pruned = True
        seqs = []
        for stream in self.streams.values():
            if (isinstance(stream, EntityStream) and stream.sync_mode == "webhook"
                    and (stream.selected or stream.has_selected_descendents)):
                for realm_id in self.realm_ids:
                    seqs.append(int(stream.partition_state(realm_id).get("webhook_seq") or 0))
        if seqs and min(seqs) > 0:
            dropped = journal.prune(min(seqs))
            if dropped:
                self.logger.info("Pruned %d committed events from the webhook journal", dropped)

    def realm_entries(self) -> list[dict[str, t.Any]]:
        entries = self._configured_realms()
        only = self.config.get("only_realm")
        if not only:
            return entries
        chosen = [r for r in entries if str(r["realm_id"]) == str(only)]
        if not chosen:
            known = ", ".join(str(r["realm_id"]) for r in entries)
            msg = (f"only_realm {only!r} is not a configured realm_id ({known}); "
                   "set it to one of them or leave it empty.")
            raise ConfigError(msg)
        return chosen

    def _configured_realms(self) -> list[dict[str, t.Any]]:
        realms = self.config.get("realms")
        if realms:
            return [dict(r) for r in realms]
        if self.config.get("realm_id"):
            return [{"realm_id": self.config["realm_id"], "refresh_token": self.config.get("refresh_token")}]
        msg = ("no company is configured. Fix: set realm_id (and refresh_token, or run "
               "`tap-quickbooks-online auth`), or realms (a list of {realm_id, refresh_token})")
        raise ConfigError(msg)

    @property
    def realm_ids(self) -> list[str]:
        return [str(r["realm_id"]) for r in self.realm_entries()]

    def token_store(self) -> TokenStore:
        with self._lock:
            if self._store is None:
                self._store = TokenStore.from_env(self.setting("token_store_path"), self.setting("token_store_key_env"))
            return self._store

    def oauth_client(self, session: requests.Session | None = None) -> OAuthClient:
        return OAuthClient(
            token_url=self.setting("token_url"),
            client_id=self.required("client_id"),
            client_secret=self.required("client_secret"),
            session=session,
            timeout=float(self.setting("request_timeout")),
            backoff_base=float(self.setting("backoff_base_seconds")),
        )

    def client(self, realm_id: str) -> QBOClient:
        with self._lock:
            if realm_id in self._clients:
                return self._clients[realm_id]
        entry = next(r for r in self.realm_entries() if str(r["realm_id"]) == realm_id)
        session = requests.Session()
        tokens = RealmTokens(
            realm_id,
            oauth=self.oauth_client(session),
            store=self.token_store(),
            configured_refresh_token=entry.get("refresh_token"),
            refresh_warning_days=int(self.setting("refresh_token_warning_days")),
        )
        limiter = RealmRateLimiter(
            requests_per_minute=int(self.setting("requests_per_minute")),
            max_concurrency=int(self.setting("max_concurrency")),
        )
        client = QBOClient(
            realm_id,
            base_url=self.setting("base_url"),
            minorversion=int(self.setting("minorversion")),
            tokens=tokens,
            limiter=limiter,
            session=session,
            timeout=float(self.setting("request_timeout")),
            max_attempts=int(self.setting("max_retries")),
            backoff_base=float(self.setting("backoff_base_seconds")),
        )
        with self._lock:
            return self._clients.setdefault(realm_id, client)

    # -- change feed and deletions -----------------------------------------------------------

    def change_feed(self, realm_id: str) -> ChangeFeed:
        with self._lock:
            feed = self._feeds.get(realm_id)
        if feed is not None:
            return feed
        journal = Journal(self.setting("webhook_journal_path"))
        self._prune_journal_once(journal)
        feed = ChangeFeed(self.client(realm_id), journal=journal, max_concurrency=int(self.setting("max_concurrency")))
        now = dt.datetime.now(dt.UTC)
        participants: list[Participant] = []
        watches: list[Watch] = []
        for stream in self.streams.values():
            if isinstance(stream, EntityStream):
                participant = stream.participant(realm_id, now)
                if participant is not None:
                    participants.append(participant)
            elif isinstance(stream, ReportStream):
                watch = stream.watch(realm_id, now)
                if watch is not None:
                    watches.append(watch)
        feed.prepare(participants, watches)
        # Streams outside the feed (CDC does not serve them, or it refused them just now) that resume
        # from a bookmark: their first pages in one batch call, not one query each.
        plans = [
            plan for stream in self.streams.values()
            if isinstance(stream, EntityStream) and stream.name not in feed.participants
            and (plan := stream.query_plan(realm_id)) is not None
        ]
        if plans:
            feed.first_pages = fetch_first_pages(self.client(realm_id), plans)
        with self._lock:
            return self._feeds.setdefault(realm_id, feed)


if __name__ == "__main__":
    TapQuickBooksOnline.cli()
