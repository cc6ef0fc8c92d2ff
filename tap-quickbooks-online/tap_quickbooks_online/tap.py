"""TapQuickBooksOnline: settings and stream list; per-realm clients and change feeds."""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import functools
import threading
import typing as t

import requests
from qbc_plugin_kit.quiet_logs import quiet_dry_run_aborts, quiet_sdk_logs
from qbc_plugin_kit.settings_check import warn_unknown_settings
from qbc_plugin_kit.singer_output import BufferedSingerWriter
from singer_sdk import Stream, Tap

from tap_quickbooks_online.auth import OAuthClient, RealmTokens
from tap_quickbooks_online.cdc import ChangeFeed, Participant, Watch
from tap_quickbooks_online.client import QBOClient
from tap_quickbooks_online.config import SETTINGS, QBOSettings
from tap_quickbooks_online.deleted_records import DeletedRecordsStream
from tap_quickbooks_online.entity_stream import EntityStream
from tap_quickbooks_online.errors import ConfigError
from tap_quickbooks_online.list_streams import LIST_STREAMS
from tap_quickbooks_online.query_batch import fetch_first_pages
from tap_quickbooks_online.rate_limit import RealmRateLimiter
from tap_quickbooks_online.reports import REPORT_STREAMS, ReportStream
from tap_quickbooks_online.token_store import TokenStore
from tap_quickbooks_online.transaction_streams import HEADER_STREAMS, LINE_STREAMS
from tap_quickbooks_online.webhooks.journal import Journal


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
        # One thread fetching the first page of the stream that syncs next (fetch_next_first_page).
        self._ahead = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="qbo-next-stream")
        super().__init__(*args, **kwargs)
        warn_unknown_settings(dict(self.config), self.config_jsonschema, self.logger)
        quiet_sdk_logs(self, log_metrics=self.settings.log_metrics)

    def discover_streams(self) -> list[Stream]:
        classes: list[type[Stream]] = [*LIST_STREAMS, *HEADER_STREAMS, *LINE_STREAMS, DeletedRecordsStream, *REPORT_STREAMS]
        streams = [cls(tap=self) for cls in classes]  # type: ignore[call-arg]
        quiet_dry_run_aborts(streams)
        entity_streams = {s.name for s in streams if isinstance(s, EntityStream)}
        for name in sorted(set(self.settings.stream_sync_modes) - entity_streams):
            self.logger.warning("stream_sync_modes names %r, which is not an entity stream; ignored", name)
        return streams

    @functools.cached_property
    def settings(self) -> QBOSettings:
        """The settings, typed, defaults filled in (read this, not ``config``)."""
        return QBOSettings.from_config(self.config)

    # -- realms and credentials --------------------------------------------------------------

    def required(self, key: str) -> t.Any:
        """A setting the command cannot do without; its absence named, not a KeyError."""
        value = getattr(self.settings, key)
        if value in (None, ""):
            msg = (f"the setting {key} is not set. Fix: meltano config tap-quickbooks-online set {key} ... "
                   f"(or TAP_QUICKBOOKS_ONLINE_{key.upper()}, or {key} in the --config file)")
            raise ConfigError(msg)
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
        only = self.settings.only_realm
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
        settings = self.settings
        if settings.realms:
            return [dict(r) for r in settings.realms]
        if settings.realm_id:
            return [{"realm_id": settings.realm_id, "refresh_token": settings.refresh_token}]
        msg = ("no company is configured. Fix: set realm_id (and refresh_token, or run "
               "`tap-quickbooks-online auth`), or realms (a list of {realm_id, refresh_token})")
        raise ConfigError(msg)

    @property
    def realm_ids(self) -> list[str]:
        return [str(r["realm_id"]) for r in self.realm_entries()]

    def token_store(self) -> TokenStore:
        with self._lock:
            if self._store is None:
                self._store = TokenStore.from_env(self.settings.token_store_path, self.settings.token_store_key_env)
            return self._store

    def oauth_client(self, session: requests.Session | None = None) -> OAuthClient:
        return OAuthClient(
            token_url=self.settings.token_url,
            client_id=self.required("client_id"),
            client_secret=self.required("client_secret"),
            session=session,
            timeout=self.settings.request_timeout,
            backoff_base=self.settings.backoff_base_seconds,
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
            refresh_warning_days=self.settings.refresh_token_warning_days,
        )
        limiter = RealmRateLimiter(
            requests_per_minute=self.settings.requests_per_minute,
            max_concurrency=self.settings.max_concurrency,
        )
        client = QBOClient(
            realm_id,
            base_url=self.settings.base_url,
            minorversion=self.settings.minorversion,
            tokens=tokens,
            limiter=limiter,
            session=session,
            timeout=self.settings.request_timeout,
            max_attempts=self.settings.max_retries,
            backoff_base=self.settings.backoff_base_seconds,
        )
        with self._lock:
            return self._clients.setdefault(realm_id, client)

    # -- change feed and deletions -----------------------------------------------------------

    def change_feed(self, realm_id: str) -> ChangeFeed:
        with self._lock:
            feed = self._feeds.get(realm_id)
        if feed is not None:
            return feed
        journal = Journal(self.settings.webhook_journal_path)
        self._prune_journal_once(journal)
        feed = ChangeFeed(self.client(realm_id), journal=journal, max_concurrency=self.settings.max_concurrency)
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
            feed.first_pages.update(fetch_first_pages(self.client(realm_id), plans))
        with self._lock:
            return self._feeds.setdefault(realm_id, feed)

    def fetch_next_first_page(self, current: str, realm_id: str) -> None:
        """Start fetching the first query page of the next stream of this realm that syncs by query.

        The SDK syncs streams one after the other, in ``self.streams`` order; the next one's first
        request would otherwise wait for this one's last row. Only one page is fetched ahead, the
        request it would make anyway, through the realm's rate limiter like every call.
        """
        feed = self.change_feed(realm_id)
        order = [s for s in self.streams.values()
                 if (s.selected or s.has_selected_descendents) and not s.parent_stream_type]
        names = [s.name for s in order]
        if current not in names:
            return
        for stream in order[names.index(current) + 1:]:
            if isinstance(stream, EntityStream) and feed.syncs_by_query(stream.name):
                if stream.name not in feed.first_pages:
                    feed.first_pages[stream.name] = self._ahead.submit(
                        self.client(realm_id).query, stream.first_statement(realm_id))
                return


if __name__ == "__main__":
    TapQuickBooksOnline.cli()
