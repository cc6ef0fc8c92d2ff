"""A keep-alive HTTP connection from the adapter to Spark's thrift endpoint."""

from __future__ import annotations

import base64
import http.client
import select
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import thrift_messages
from .thrift_messages import ttypes

if TYPE_CHECKING:
    from .faults import Faults

_SPARK_AUTHORIZATION = "Basic " + base64.b64encode(b"databricks-sandbox:unused").decode()
# Calls that change nothing on Spark: sending one twice is harmless.
_READ_ONLY_CALLS = frozenset({"GetOperationStatus", "GetResultSetMetadata", "GetInfo"})
# Calls whose second copy can only find the handle gone; that answer means the first copy did
# the work, so it is a success for the client.
_CLOSE_CALLS = frozenset({"CloseOperation", "CloseSession"})
_HANDLE_GONE = ("Invalid OperationHandle", "Operation does not exist", "Invalid SessionHandle",
                "Session does not exist")


@dataclass(frozen=True)
class BackendResponse:
    status: int
    body: bytes
    content_type: str


class BackendError(RuntimeError):
    def __init__(self, response: BackendResponse) -> None:
        super().__init__(f"Spark thrift endpoint answered HTTP {response.status}")
        self.response = response


class BackendUnavailable(ConnectionError):
    """The exchange with Spark failed after the request may have reached it."""


class _NotSent(Exception):
    """Sending failed before Spark had the whole request: it cannot have run it."""


class BackendClient:
    """Not thread-safe: each adapter connection owns one.

    A call is never run twice by accident. A kept-alive connection that Spark has closed is
    replaced before a request goes out on it; once a request is out, a failed exchange is
    repeated only for calls that are safe to repeat. Anything else fails with
    BackendUnavailable, as a warehouse's gateway answers 502: the request may or may not have
    run, and only the client can decide whether to try again (re-running an ExecuteStatement
    inserts the rows twice; re-running a FetchResults skips a page, which the connector
    reports as a DataError).
    """

    def __init__(
        self, port: int, path: str, timeout_s: float = 600.0, faults: Faults | None = None
    ) -> None:
        self._port = port
        self._path = "/" + path.strip("/")
        self._timeout_s = timeout_s
        self._faults = faults
        self._connection: http.client.HTTPConnection | None = None

    def post(self, body: bytes) -> BackendResponse:
        method = thrift_messages.message_name(body)
        first_may_have_run = False
        try:
            return self._post_once(body, method)
        except _NotSent:
            pass  # Spark never had the whole request: sending it again is safe
        except (OSError, http.client.HTTPException) as exc:
            if method not in _READ_ONLY_CALLS and method not in _CLOSE_CALLS:
                raise BackendUnavailable(f"Spark's answer to {method} was lost; it may have run") from exc
            first_may_have_run = True
        try:
            response = self._post_once(body, method)
        except _NotSent as exc:
            raise BackendUnavailable(f"could not send {method} to Spark") from exc.__cause__
        except (OSError, http.client.HTTPException) as exc:
            raise BackendUnavailable(f"Spark's answer to {method} was lost") from exc
        return _closed_already_is_success(method, response) if first_may_have_run else response

    def _post_once(self, body: bytes, method: str) -> BackendResponse:
        if self._connection is not None and _peer_closed(self._connection):
            # Jetty closes idle keep-alive connections; finding that out before sending is the
            # only moment a resend is known to be safe.
            self.close()
        if self._connection is None:
            self._connection = http.client.HTTPConnection(
                "127.0.0.1", self._port, timeout=self._timeout_s
            )
        connection = self._connection
        try:
            connection.request(
                "POST",
                self._path,
                body=body,
                headers={
                    "Content-Type": "application/x-thrift",
                    "Accept": "application/x-thrift",
                    # The bearer token stays in the adapter. HiveServer2's HTTP servlet wants a
                    # Basic header even without authentication (any user, any password); it
                    # names the session's user.
                    "Authorization": _SPARK_AUTHORIZATION,
                },
            )
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            raise _NotSent from exc
        try:
            response = connection.getresponse()
            payload = response.read()
            if self._faults is not None and self._faults.answer_lost(method):
                raise ConnectionResetError("injected fault: Spark's answer was lost")
        except BaseException:
            # A half-read exchange leaves http.client unable to send the next request
            # (CannotSendRequest), which would reset the client's connection too.
            self.close()
            raise
        if response.will_close:
            self.close()
        return BackendResponse(
            response.status, payload, response.getheader("Content-Type") or "application/x-thrift"
        )

    def call(self, name: str, request: Any) -> Any:
        """Make one TCLIService call and return its decoded ``success`` value."""
        response = self.post(thrift_messages.call(name, request))
        if response.status != 200:
            raise BackendError(response)
        reply = thrift_messages.decode_reply(response.body)
        if getattr(reply.body, "success", None) is None:
            raise RuntimeError(f"Spark answered {name} with {reply.body!r}")
        return reply.body.success

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def _peer_closed(connection: http.client.HTTPConnection) -> bool:
    """True when Spark has closed (or reset) this idle keep-alive connection."""
    sock = connection.sock
    if sock is None:
        return False
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    # Readable between requests means end of stream, a reset, or stray bytes that would be
    # taken for the next answer: none of them leaves the connection usable.
    return bool(readable)


def _closed_already_is_success(method: str, response: BackendResponse) -> BackendResponse:
    """The second copy of a close finds the handle gone when the first copy closed it."""
    if method not in _CLOSE_CALLS or response.status != 200:
        return response
    reply = thrift_messages.decode_reply(response.body)
    result = getattr(reply.body, "success", None)
    status = getattr(result, "status", None)
    if (
        result is None
        or status is None
        or status.statusCode != ttypes.TStatusCode.ERROR_STATUS
        or not (status.errorMessage or "").startswith(_HANDLE_GONE)
    ):
        return response
    result.status = ttypes.TStatus(statusCode=ttypes.TStatusCode.SUCCESS_STATUS)
    return BackendResponse(200, thrift_messages.encode(reply), response.content_type)
