"""What the warehouse's errors mean for a load: the classify hook of the delivery contract.

The retry loop, the splitting of refused batches and the systemic stop live in the plugin kit
(``qbc_plugin_kit.delivery``); this module only reads Databricks' error text and answers
TRANSIENT (retry), SYSTEMIC (stop, with the setting to change), DATA (this record) or
REFUSED (isolate by splitting), per docs/delivery-contract.md.
"""

from __future__ import annotations

import re

from qbc_plugin_kit.failures import Kind, RecordRefused, Verdict

from target_databricks.auth import AuthenticationError
from target_databricks.config import DatabricksSettings

# Text the connector and the warehouse put in errors that go away on their own: throttling,
# a warehouse still starting, a dropped connection, and optimistic-concurrency conflicts
# between jobs writing the same table (Delta's Concurrent*Exception, Iceberg's
# CommitFailedException).
_TRANSIENT_MARKERS = (
    "429",
    "503",
    "502",
    "504",
    "too many requests",
    "temporarily unavailable",
    "temporarily_unavailable",
    "service unavailable",
    "starting",
    "connection reset",
    "connection aborted",
    "remotedisconnected",
    "broken pipe",
    "timed out",
    "timeout",
    "concurrentappendexception",
    "concurrentdeletereadexception",
    "concurrenttransactionexception",
    "delta_concurrent",
    "commitfailedexception",
)
_AUTH_MARKERS = ("unauthorized", "unauthenticated", "invalid access token",
                 "invalid_token", "token is expired", "expired token")
# "401" only as a number of its own: Spark's error text carries query and operation ids whose
# hex digits contain "401" now and then, and a missing table must not read as a bad token.
_HTTP_401 = re.compile(r"(?<![0-9a-z])401(?![0-9a-z])")
_HTTP_404 = re.compile(r"(?<![0-9a-z])404(?![0-9a-z])|endpoint_not_found|not found for url")
_HTTP_403 = re.compile(r"(?<![0-9a-z])403(?![0-9a-z])|permission_denied|insufficient_permissions"
                       r"|does not have .*privilege|forbidden")
# The host does not answer at all: a name that does not resolve, or nothing listening.
_NO_HOST = ("name or service not known", "nodename nor servname", "temporary failure in name "
            "resolution", "getaddrinfo failed", "no address associated", "connection refused",
            "failed to resolve", "newconnectionerror")
_TLS = ("certificate_verify_failed", "certificate verify failed", "sslcertverificationerror",
        "wrong_version_number", "ssl: ")
# Error classes only: Spark's TABLE_OR_VIEW_NOT_FOUND text also mentions "catalog".
_NO_CATALOG = re.compile(r"no_such_catalog|catalog_not_found", re.IGNORECASE)

_TRANSIENT_HTTP = {429, 502, 503, 504}
# The connector is configured never to sleep itself (connector.py); when it would have
# retried, it raises with this text instead, so such a failure is one it judged retryable.
_CONNECTOR_WANTED_RETRY = "would exceed retry policy max retry duration"
_MAX_MESSAGE = 400


class UnauthorizedError(RuntimeError):
    """The warehouse answered 401: refresh the token and reconnect once."""


class TransientWarehouseError(RuntimeError):
    """A failure that goes away on its own (throttled, starting, connection dropped)."""


class TableValidationError(Exception):
    """The stored table cannot take this stream (missing key column, incompatible type)."""


class ConnectFailed(RuntimeError):
    """Opening a session failed: the host, path, TLS or credentials are wrong, or it is busy."""


def _http_code(exc: BaseException) -> int | None:
    context = getattr(exc, "context", None)
    if isinstance(context, dict):
        code = context.get("http-code")
        return int(code) if isinstance(code, int) else None
    return None


def message_of(exc: BaseException) -> str:
    """``str(exc)``, also for the connector's errors raised without a message (their ``__str__``
    then returns None, and ``str()`` itself raises): their context says what happened."""
    try:
        return str(exc)
    except TypeError:
        context = getattr(exc, "context", None)
        return f"(no message; {context})" if context else "(no message)"


def _text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {message_of(exc)}".lower()


def is_unauthorized(exc: BaseException) -> bool:
    if isinstance(exc, UnauthorizedError) or _http_code(exc) == 401:
        return True
    text = _text(exc)
    return any(marker in text for marker in _AUTH_MARKERS) or bool(_HTTP_401.search(text))


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, AuthenticationError) or is_unauthorized(exc):
        return False
    if isinstance(exc, TransientWarehouseError | ConnectionResetError | TimeoutError):
        return True
    if _http_code(exc) in _TRANSIENT_HTTP:
        return True
    text = _text(exc)
    if any(marker in text for marker in _NO_HOST):
        return False
    return _CONNECTOR_WANTED_RETRY in text or any(m in text for m in _TRANSIENT_MARKERS)


def first_line(exc: BaseException) -> str:
    """The error's gist: Spark appends a JVM stack trace to its messages."""
    text = message_of(exc).strip().splitlines()
    message = text[0] if text else type(exc).__name__
    return message[:_MAX_MESSAGE]


def classify(error: BaseException, settings: DatabricksSettings) -> Verdict:
    """The delivery contract's verdict on an error raised while loading a batch."""
    text = _text(error)
    message = first_line(error)
    if isinstance(error, RecordRefused):
        return Verdict(Kind.DATA, error.reason)
    if isinstance(error, AuthenticationError):
        # Its message already names the setting (auth.py, connector.py).
        return Verdict(Kind.SYSTEMIC, message, error.fix or auth_fix(settings))
    if is_unauthorized(error):
        return Verdict(Kind.SYSTEMIC, f"the warehouse refused the credentials: {message}", auth_fix(settings))
    if isinstance(error, TableValidationError):
        return Verdict(Kind.SYSTEMIC, message,
                       "migrate or drop that table (or load the stream into another schema with "
                       "the default_target_schema setting), then run again")
    if any(marker in text for marker in _TLS):
        return Verdict(Kind.SYSTEMIC, f"TLS to server_hostname {settings.server_hostname!r} failed: {message}",
                       "set ca_bundle to the PEM bundle of the certificate authority that signed "
                       "the warehouse's certificate (or unset it to use the system's trust store)")
    if any(marker in text for marker in _NO_HOST):
        return Verdict(Kind.SYSTEMIC, f"cannot reach the warehouse at server_hostname "
                       f"{settings.server_hostname!r}: {message}", HOST_FIX)
    if isinstance(error, ConnectFailed) and (_http_code(error) == 404 or _HTTP_404.search(text)):
        return Verdict(Kind.SYSTEMIC, path_not_found(settings), PATH_FIX)
    if _NO_CATALOG.search(text):
        return Verdict(Kind.SYSTEMIC, f"the catalog {settings.catalog!r} does not exist: {message}",
                       "set catalog to an existing Unity Catalog catalog the principal may use")
    if _HTTP_403.search(text):
        return Verdict(Kind.SYSTEMIC, f"the warehouse refused permission: {message}", GRANT_FIX)
    if is_transient(error):
        return Verdict(Kind.TRANSIENT, message,
                       fix="check that the SQL warehouse at server_hostname/http_path is running "
                       "and reachable (or raise max_retries), then run again; nothing after the "
                       "last delivered batch was marked done")
    if isinstance(error, ConnectFailed):
        # Nothing was sent, so no record can be at fault.
        return Verdict(Kind.SYSTEMIC, f"cannot open a session on the warehouse: {message}",
                       "check server_hostname, http_path, ca_bundle and the credentials")
    return Verdict(Kind.REFUSED, message)


HOST_FIX = ("set server_hostname to the workspace host of the SQL warehouse (its Connection "
            "details), with :port only for a non-standard port")
PATH_FIX = "set http_path to the HTTP path in the warehouse's Connection details (/sql/1.0/warehouses/<id>)"
GRANT_FIX = ("grant the principal USE CATALOG, USE SCHEMA, CREATE TABLE and MODIFY on the target "
             "catalog and schema (or set catalog/default_target_schema to ones it may write)")


def auth_fix(settings: DatabricksSettings) -> str:
    if settings.uses_oauth:
        return ("set client_secret to a current OAuth secret of the service principal client_id "
                "(workspace: Settings > Identity and access > Service principals > Secrets)")
    return ("set access_token to a valid personal access token (or client_id and client_secret "
            "of a service principal that may use the workspace)")


def path_not_found(settings: DatabricksSettings) -> str:
    return (f"the workspace at server_hostname {settings.server_hostname!r} has no SQL warehouse "
            f"at http_path {settings.http_path!r} (HTTP 404: not found)")
