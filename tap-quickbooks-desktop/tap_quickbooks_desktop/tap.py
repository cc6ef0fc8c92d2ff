"""TapQuickBooksDesktop: settings and the stream list."""

from __future__ import annotations

import uuid
from typing import Any

from qbc_plugin_kit.quiet_logs import quiet_dry_run_aborts, quiet_sdk_logs
from qbc_plugin_kit.settings_check import warn_unknown_settings
from qbc_plugin_kit.singer_output import BufferedSingerWriter
from singer_sdk import Tap
from singer_sdk import typing as th

from .config import (
    DEFAULT_BUFFER_CONSUMER_RETENTION_DAYS,
    DEFAULT_BUFFER_PATH,
    DEFAULT_FAILURE_BACKOFF_SECONDS,
    DEFAULT_HOST,
    DEFAULT_MAX_RETURNED,
    DEFAULT_OVERLAP_SECONDS,
    DEFAULT_PORT,
    DEFAULT_QUERIES_PER_MESSAGE,
    DEFAULT_RUN_SERVER_WAIT_SECONDS,
    DEFAULT_TICKET_TTL_SECONDS,
    QBXML_VERSION,
    buffer_consumer_retention_days,
    company_keys,
    run_server_wait_seconds,
)
from .run_and_wait import register_and_prune, run_server_for_one_session
from .store import StateStore, open_store
from .streams import CONSUMER_KEY, SEQUENCE_KEY, STREAM_TYPES, BufferStream

_COMPANY = th.ObjectType(
    th.Property("company", th.StringType, required=True,
                description="Key for this company file; emitted as company_id on every record."),
    th.Property("username", th.StringType, required=True,
                description="Web Connector user name (the .qwc UserName) for this company."),
    th.Property("password", th.StringType, required=True, secret=True,
                description="Web Connector password the user types into QBWC for this company."),
    th.Property("company_file", th.StringType,
                description="Full path of the .qbw file QBWC should open; empty = the open company."),
)


class TapQuickBooksDesktop(Tap):
    """Singer tap for QuickBooks Desktop, fed by its own Web Connector server."""

    name = "tap-quickbooks-desktop"
    # RECORD lines are not flushed one by one; every other message flushes.
    message_writer_class = BufferedSingerWriter

    config_jsonschema = th.PropertiesList(
        th.Property("companies", th.ArrayType(_COMPANY),
                    description="Company files to sync, one Web Connector user each."),
        th.Property("company", th.StringType,
                    description="Single-company shorthand: company key (instead of `companies`)."),
        th.Property("username", th.StringType,
                    description="Single-company shorthand: Web Connector user name."),
        th.Property("password", th.StringType, secret=True,
                    description="Single-company shorthand: Web Connector password."),
        th.Property("company_file", th.StringType,
                    description="Single-company shorthand: .qbw path QBWC should open."),
        th.Property("only_company", th.StringType,
                    description="Limit this run to one `company` key of `companies` (one Meltano job, and its own state, per company file); empty = every company."),
        th.Property("buffer_path", th.StringType, default=DEFAULT_BUFFER_PATH,
                    description="SQLite file holding QuickBooks responses between QBWC sessions and tap runs."),
        th.Property("buffer_consumer_retention_days", th.IntegerType, default=DEFAULT_BUFFER_CONSUMER_RETENTION_DAYS,
                    description="Each job draining the buffer (each Meltano state) is a consumer; entries are pruned once every consumer seen within this many days committed them. A job away longer fails its next run until its state is cleared."),
        th.Property("state_database_url", th.StringType, secret=True,
                    description="postgresql:// URL of the database holding the buffer, bookmarks and Web Connector sessions, shared by several QBWC server replicas; empty = the SQLite file at buffer_path."),
        th.Property("host", th.StringType, default=DEFAULT_HOST,
                    description="Address the QBWC server binds; anything but loopback requires TLS."),
        th.Property("port", th.IntegerType, default=DEFAULT_PORT,
                    description="Port the QBWC server listens on (0 = any free port)."),
        th.Property("ssl_certfile", th.StringType,
                    description="PEM certificate (chain) for HTTPS; QBWC requires HTTPS except to localhost."),
        th.Property("ssl_keyfile", th.StringType, secret=True,
                    description="PEM private key matching ssl_certfile."),
        th.Property("app_url", th.StringType,
                    description="URL QBWC uses to reach this server (written to the .qwc AppURL); defaults to the bind address."),
        th.Property("qbxml_version", th.StringType, default=QBXML_VERSION,
                    description="Lowest qbXML version accepted; the session uses the highest the company supports up to 13.0."),
        th.Property("max_returned", th.IntegerType, default=DEFAULT_MAX_RETURNED,
                    description="MaxReturned per iterator page; keep each request well inside QBWC's timeout."),
        th.Property("queries_per_message", th.IntegerType, default=DEFAULT_QUERIES_PER_MESSAGE,
                    description="Independent qbXML queries sent in one QBXMLMsgsRq."),
        th.Property("overlap_seconds", th.IntegerType, default=DEFAULT_OVERLAP_SECONDS,
                    description="Each query starts this many seconds before its bookmark (duplicates are removed)."),
        th.Property("start_date", th.DateTimeType,
                    description="Earliest TimeModified to sync on the first session; empty = everything."),
        th.Property("ticket_ttl_seconds", th.IntegerType, default=DEFAULT_TICKET_TTL_SECONDS,
                    description="Lifetime of a QBWC session ticket."),
        th.Property("failure_backoff_seconds", th.IntegerType, default=DEFAULT_FAILURE_BACKOFF_SECONDS,
                    description="After a failed session (QuickBooks not running, errors), authenticate tells QBWC to wait this long, doubling per failure."),
        th.Property("run_server_wait_seconds", th.IntegerType, default=DEFAULT_RUN_SERVER_WAIT_SECONDS,
                    description="If > 0, a tap run starts the QBWC server and waits up to this long for one session per company before draining."),
        th.Property("streams", th.ArrayType(th.StringType),
                    description="Streams the QBWC server queries (default: all)."),
        th.Property("log_metrics", th.BooleanType, default=False,
                    description="Log the SDK's METRIC lines (JSON per counter and timer); off: one summary line per stream."),
    ).to_dict()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        warn_unknown_settings(dict(self.config), self.config_jsonschema, self.logger)
        quiet_sdk_logs(self, log_metrics=bool(self.config.get("log_metrics")))

    _buffer: StateStore | None = None
    _drain_high_water: int | None = None

    @property
    def buffer(self) -> StateStore:
        if self._buffer is None:
            self._buffer = open_store(self.config)
        return self._buffer

    @property
    def drain_high_water(self) -> int:
        """Last buffer entry this run drains, fixed when the first stream starts.

        Entries a long-lived server appends during the run wait for the next run,
        so every stream of this run stops at the same sequence.
        """
        if self._drain_high_water is None:
            self._prepare_drain()
        assert self._drain_high_water is not None
        return self._drain_high_water

    def _prepare_drain(self) -> None:
        # Register this job as a consumer before the Web Connector session this run may wait
        # for: a job that must re-read a company (its entries were pruned before it first read
        # them) has that company's bookmarks reset first, so the same session re-reads it in full.
        streams = [s for s in self.streams.values() if isinstance(s, BufferStream) and s.selected]
        consumer = next((str(s.stream_state[CONSUMER_KEY]) for s in streams if s.stream_state.get(CONSUMER_KEY)),
                        None) or uuid.uuid4().hex
        positions: dict[str, int | None] = {}
        for stream in streams:
            state = stream.stream_state
            positions[stream.name] = None if state.get(SEQUENCE_KEY) is None else int(state[SEQUENCE_KEY])
            state[CONSUMER_KEY] = consumer
        pruned = register_and_prune(
            self.buffer, positions, streams, consumer, company_keys(self.config),
            buffer_consumer_retention_days(self.config), self.logger,
        )
        if pruned:
            self.logger.info("Pruned %d buffer entries every consumer has committed", pruned)
        wait = run_server_wait_seconds(self.config)
        if wait > 0:
            run_server_for_one_session(dict(self.config), self.buffer, wait, self.logger)
        self._drain_high_water = self.buffer.max_seq()

    def discover_streams(self) -> list[BufferStream]:
        streams = [stream_type(tap=self) for stream_type in STREAM_TYPES]
        quiet_dry_run_aborts(streams)
        return streams
