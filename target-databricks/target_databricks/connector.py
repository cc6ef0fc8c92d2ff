"""Connections to the SQL warehouse, authentication, DDL and the table's column types."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import socket
import ssl
import threading
import time
import typing as t

from databricks import sql as dbsql
from qbc_plugin_kit.failures import SystemicFailure, missing_file

from target_databricks import merge_sql
from target_databricks.auth import (
    AuthenticationError,
    ClientCredentialsToken,
    OAuthCredentialsProvider,
)
from target_databricks.config import DatabricksSettings
from target_databricks.errors import (
    ConnectFailed,
    TableValidationError,
    TransientWarehouseError,
    UnauthorizedError,
    is_transient,
    is_unauthorized,
    message_of,
)
from target_databricks.merge_sql import Column
from target_databricks.type_mapping import ColumnPlan, normalize, plan_column

USER_AGENT_ENTRY = "quickbooks-connectors-target-databricks"
_EXISTS = re.compile(r"TABLE_OR_VIEW_ALREADY_EXISTS|TableAlreadyExistsException|already exists", re.IGNORECASE)
_NOT_FOUND = re.compile(r"TABLE_OR_VIEW_NOT_FOUND|NoSuchTableException|Table or view not found|"
                        r"SCHEMA_NOT_FOUND|not found", re.IGNORECASE)

# The connector, told never to sleep (see _connect), reports every failed connection with this
# text and drops the cause; diagnose_connection finds it again.
_CAUSE_HIDDEN = "would exceed retry policy max retry duration"
_PROBE_SECONDS = 10.0

__all__ = ["DatabricksConnector", "TableValidationError", "diagnose_connection"]


def _redact(text: str, secrets: t.Iterable[str | None]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


class DatabricksConnector:
    """Connections to the warehouse, each used by one statement at a time and then kept for the
    next (from any thread), rebuilt after a 401 with a fresh token."""

    def __init__(self, settings: DatabricksSettings, logger: logging.Logger) -> None:
        self.settings = settings
        self.logger = logger
        self._local = threading.local()  # per-thread statement counts
        self._connections: list[t.Any] = []
        # Open sessions no statement is using. A session is not tied to the thread that opened
        # it: a table described on a helper thread is written from the drain's thread on the
        # same session, with no second OpenSession.
        self._idle: list[t.Any] = []
        self._lock = threading.Lock()
        self.oauth_token: ClientCredentialsToken | None = None
        if settings.uses_oauth:
            self.oauth_token = ClientCredentialsToken(
                settings.token_url,
                str(settings.client_id),
                str(settings.client_secret),
                scope=settings.oauth_scope,
                verify=settings.ca_bundle or True,
            )
        elif not settings.access_token:
            raise SystemicFailure(
                "no credentials for the warehouse",
                "set access_token, or client_id and client_secret for a service principal (OAuth M2M)",
            )
        self.native_parameters = settings.parameter_style == "native"
        self.reconnect_count = 0
        # Round trips are what a small load spends its time on; counted for the run's summary.
        self.statement_count = 0
        # Tables created by this run that no batch has been written to (see take_empty).
        self._created_empty: set[str] = set()
        self._created_lock = threading.Lock()
        self.statement_seconds = 0.0

    # Parameters ------------------------------------------------------------------------

    def placeholder(self, name: str) -> str:
        """Marker for a parameter in the connector's style (native ``:x`` or inline ``%(x)s``)."""
        return f":{name}" if self.native_parameters else f"%({name})s"

    # Connections -----------------------------------------------------------------------

    def _connect(self) -> t.Any:
        settings = self.settings
        if settings.ca_bundle and not os.path.isfile(settings.ca_bundle):
            raise missing_file("ca_bundle", settings.ca_bundle)
        kwargs: dict[str, t.Any] = {
            "server_hostname": settings.host,
            "http_path": settings.http_path,
            "_port": settings.port,
            "user_agent_entry": USER_AGENT_ENTRY,
            # One retry policy (the plugin kit's) decides what is retried, with jitter: the
            # connector's own waits at least _retry_delay_max (>= 5 s) per retry. With a 1 s
            # budget it raises at once instead of sleeping, and says it would have retried.
            "_retry_stop_after_attempts_count": 1,
            "_retry_stop_after_attempts_duration": 1,
            "use_inline_params": False if self.native_parameters else "silent",
            "enable_telemetry": settings.connector_telemetry,
        }
        if settings.uses_volume:
            kwargs["staging_allowed_local_path"] = settings.local_staging_dir
        if settings.ca_bundle:
            kwargs["_tls_trusted_ca_file"] = settings.ca_bundle
        if self.oauth_token is not None:
            kwargs["credentials_provider"] = OAuthCredentialsProvider(self.oauth_token)
        else:
            kwargs["access_token"] = settings.access_token
        connection = dbsql.connect(**kwargs)
        with self._lock:
            self._connections.append(connection)
        return connection

    def _checkout(self) -> t.Any:
        """An idle session, or a new one: a statement has its connection to itself."""
        with self._lock:
            if self._idle:
                return self._idle.pop()
        try:
            return self._connect()
        except SystemicFailure:
            raise
        except Exception as exc:
            self._raise_connect_failure(exc)

    def _checkin(self, connection: t.Any) -> None:
        with self._lock:
            if connection in self._connections:  # not closed meanwhile
                self._idle.append(connection)

    def _drop_connection(self, connection: t.Any) -> None:
        with self._lock:
            if connection in self._connections:
                self._connections.remove(connection)
        with contextlib.suppress(Exception):  # already broken; nothing to recover
            connection.close()

    def close(self) -> None:
        with self._lock:
            connections, self._connections, self._idle = self._connections, [], []
        for connection in connections:
            with contextlib.suppress(Exception):  # closing at exit; nothing to recover
                connection.close()

    def statements_on_this_thread(self) -> int:
        """Statements this thread has run (a sink drains a batch on a single thread)."""
        return int(getattr(self._local, "statements", 0))

    def _secrets(self) -> list[str | None]:
        return list(self.settings.secrets())

    def _raise_clean(self, exc: Exception) -> t.NoReturn:
        """Re-raise with secrets removed from the message, auth failures as their own type."""
        message = _redact(f"{type(exc).__name__}: {message_of(exc)}", self._secrets())
        if isinstance(exc, AuthenticationError):
            raise AuthenticationError(message) from None
        if is_unauthorized(exc):
            raise UnauthorizedError(message) from None
        if is_transient(exc):
            raise TransientWarehouseError(message) from None
        raise type(exc)(message) if _rebuildable(exc) else exc

    def _raise_connect_failure(self, exc: Exception) -> t.NoReturn:
        """A failed connection as the error that names its cause (see errors.classify)."""
        if self.oauth_token is not None and self.oauth_token.refusal is not None:
            # The token endpoint refused the secret; the connector reports it as its own 401.
            raise AuthenticationError(self.oauth_token.refusal) from None
        if isinstance(exc, AuthenticationError) or is_unauthorized(exc):
            self._raise_clean(exc)
        message = _redact(f"{type(exc).__name__}: {message_of(exc)}", self._secrets())
        if _CAUSE_HIDDEN in message.lower():
            cause = diagnose_connection(self.settings.host, self.settings.port, self.settings.ca_bundle)
            if cause is None:  # the host answers: busy or starting, worth a retry
                raise TransientWarehouseError(message) from None
            message = cause
        failure = ConnectFailed(message)
        failure.context = getattr(exc, "context", None)  # type: ignore[attr-defined]
        raise failure from None

    # Statements ------------------------------------------------------------------------

    def execute(self, statement: str, parameters: dict[str, t.Any] | None = None) -> list[t.Any]:
        """Run one statement and return its rows; reconnect once with a new token after a 401."""
        for attempt in (1, 2):
            try:
                return self._execute_once(statement, parameters)
            except UnauthorizedError:
                if self.oauth_token is None:
                    raise AuthenticationError(
                        "the warehouse refused access_token (HTTP 401): the token is wrong, expired "
                        "or revoked") from None
                if attempt == 2:
                    raise AuthenticationError(
                        f"the workspace issued a token to service principal {self.settings.client_id!r} "
                        "but the warehouse refused it (HTTP 401)",
                        "give the service principal access to the workspace and CAN USE on the SQL "
                        "warehouse (or use another principal's client_id and client_secret)") from None
                self.logger.info("Warehouse answered 401; fetching a new OAuth token")
                self.oauth_token.invalidate()
                self.reconnect_count += 1
        raise AssertionError("unreachable")

    def _execute_once(self, statement: str, parameters: dict[str, t.Any] | None) -> list[t.Any]:
        connection = self._checkout()
        started = time.monotonic()
        try:
            with connection.cursor() as cursor:
                cursor.execute(statement, parameters)
                rows = cursor.fetchall() if cursor.description else []
        except Exception as exc:
            if _connection_broken(exc) or is_unauthorized(exc) or is_transient(exc):
                self._drop_connection(connection)
            else:
                self._checkin(connection)  # the statement failed; the session is sound
            self._raise_clean(exc)
        self._checkin(connection)
        elapsed = time.monotonic() - started
        self._local.statements = self.statements_on_this_thread() + 1
        with self._lock:
            self.statement_count += 1
            self.statement_seconds += elapsed
        # The statement text holds no values (they are parameters), so it is safe to log.
        self.logger.debug("%.2f s: %s", elapsed, statement[:120])
        return rows

    # Tables ----------------------------------------------------------------------------

    def table_columns(self, table: str) -> dict[str, str] | None:
        """``{column: TYPE}`` of a stored table, or None when it does not exist."""
        try:
            rows = self.execute(merge_sql.describe_table(table))
        except AuthenticationError:
            raise
        except Exception as exc:
            if _NOT_FOUND.search(message_of(exc)):
                return None
            raise
        columns: dict[str, str] = {}
        for row in rows:
            name, data_type = row[0], row[1]
            if not name or str(name).startswith("#"):
                break  # partition / detailed-information sections follow
            columns[str(name).lower()] = normalize(str(data_type))
        return columns

    def take_empty(self, table: str) -> bool:
        """True once for a table this connector created and nothing was written to yet: its first
        batch needs no MERGE. Taken before the write, so a retried write merges (idempotent)."""
        with self._created_lock:
            if table not in self._created_empty:
                return False
            self._created_empty.discard(table)
            return True

    def ensure_table(
        self,
        table: str,
        desired: t.Sequence[Column],
        keys: t.Sequence[str],
        *,
        provider: str,
        properties: t.Mapping[str, str],
        described: dict[str, str] | t.Literal[False] | None = False,
    ) -> list[Column]:
        """Create the table, or check and evolve the stored one; return the columns as stored.

        New properties become new columns, safe changes widen a column, and anything that
        would lose data raises TableValidationError before a single row is written.
        ``described``: the table's :meth:`table_columns` when the caller already asked.
        """
        existing = self.table_columns(table) if described is False else described
        if existing is None:
            try:
                # Not IF NOT EXISTS: only a table this statement created is known to be empty.
                self.execute(merge_sql.create_table(table, desired, provider=provider, properties=properties,
                                                    if_not_exists=False))
            except AuthenticationError:
                raise
            except Exception as exc:
                if not _EXISTS.search(message_of(exc)):
                    raise
                # Another writer created it since it was described: evolve it as a stored table.
                return self.ensure_table(table, desired, keys, provider=provider, properties=properties)
            with self._created_lock:
                self._created_empty.add(table)
            return list(desired)

        missing_keys = [k for k in keys if k not in existing]
        if missing_keys:
            raise TableValidationError(
                f"table {table} has no key column(s) {missing_keys}; the stored rows could not "
                "be matched to incoming ones, so the table must be migrated or dropped"
            )
        plans: dict[str, ColumnPlan] = {}
        problems: list[str] = []
        for column in desired:
            if column.name in existing:
                plan = plan_column(column.name, existing[column.name], column.sql_type)
                plans[column.name] = plan
                if plan.action == "refuse":
                    problems.append(plan.reason)
        if problems:
            raise TableValidationError(f"table {table}: " + "; ".join(problems))

        added = [c for c in desired if c.name not in existing]
        if added:
            self.execute(merge_sql.add_columns(table, added))
        widened = {name: plan.new_type for name, plan in plans.items() if plan.action == "widen"}
        if widened:
            self._widen(table, existing, widened, provider=provider, properties=properties)
        stored = {**existing, **widened}
        return [Column(c.name, stored.get(c.name, c.sql_type)) for c in desired]

    def _widen(
        self,
        table: str,
        existing: t.Mapping[str, str],
        widened: t.Mapping[str, str],
        *,
        provider: str,
        properties: t.Mapping[str, str],
    ) -> None:
        try:
            for name, new_type in widened.items():
                self.logger.info("Widening %s.%s from %s to %s", table, name, existing[name],
                                 new_type)
                self.execute(merge_sql.alter_column_type(table, name, new_type))
            return
        except AuthenticationError:
            raise
        except Exception as exc:
            self.logger.warning(
                "In-place type change on %s was refused (%s); rebuilding the table with the "
                "wider types. Table history and grants on the old table do not carry over.",
                table, str(exc).splitlines()[0][:200],
            )
        stored = self.table_columns(table) or {}
        columns = [Column(name, widened.get(name, sql_type)) for name, sql_type in stored.items()]
        # Copy out, replace, copy back: RENAME is not available in every catalog (Iceberg's
        # Hadoop catalog refuses it), CREATE OR REPLACE and INSERT are.
        copy = table[:-1] + "__widening`"
        self.execute(merge_sql.drop_table(copy))
        self.execute(merge_sql.rebuild_table(copy, table, columns, provider=provider,
                                             properties=properties))
        self.execute(merge_sql.create_table(table, columns, provider=provider,
                                            properties=properties, replace=True))
        self.execute(merge_sql.insert_select(table, columns, merge_sql.select_all(copy)))
        self.execute(merge_sql.drop_table(copy))


def diagnose_connection(host: str, port: int, ca_file: str | None) -> str | None:
    """Why a connection to ``host:port`` fails (name, listener, TLS), or None if it does not."""
    try:
        socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        return f"the name {host!r} does not resolve ({exc.strerror or exc}): name or service not known"
    try:
        raw = socket.create_connection((host, port), timeout=_PROBE_SECONDS)
    except ConnectionRefusedError:
        return f"nothing accepts connections at {host}:{port} (connection refused)"
    except OSError as exc:
        return f"{host}:{port} does not answer ({exc}): timed out"
    context = ssl.create_default_context(cafile=ca_file) if ca_file else ssl.create_default_context()
    try:
        with raw, context.wrap_socket(raw, server_hostname=host):
            return None
    except ssl.SSLCertVerificationError as exc:
        return (f"the certificate of {host}:{port} is not trusted ({exc.verify_message}): "
                "certificate verify failed")
    except (ssl.SSLError, OSError) as exc:
        return f"TLS with {host}:{port} failed ({exc}): ssl: handshake failed"


def _connection_broken(exc: BaseException) -> bool:
    text = f"{type(exc).__name__}: {exc}".lower()
    return any(m in text for m in ("connection", "session", "reset", "broken pipe", "timed out",
                                   "eof", "remote end closed"))


def _rebuildable(exc: Exception) -> bool:
    try:
        type(exc)("probe")
    except Exception:
        return False
    return True
