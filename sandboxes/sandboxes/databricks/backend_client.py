"""A keep-alive HTTP connection from the adapter to Spark's thrift endpoint."""

from __future__ import annotations

import base64
import http.client
from dataclasses import dataclass
from typing import Any

from . import thrift_messages

_SPARK_AUTHORIZATION = "Basic " + base64.b64encode(b"databricks-sandbox:unused").decode()
_STALE_CONNECTION_ERRORS = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)


@dataclass(frozen=True)
class BackendResponse:
    status: int
    body: bytes
    content_type: str


class BackendError(RuntimeError):
    def __init__(self, response: BackendResponse) -> None:
        super().__init__(f"Spark thrift endpoint answered HTTP {response.status}")
        self.response = response


class BackendClient:
    """Not thread-safe: each adapter connection owns one."""

    def __init__(self, port: int, path: str, timeout_s: float = 600.0) -> None:
        self._port = port
        self._path = "/" + path.strip("/")
        self._timeout_s = timeout_s
        self._connection: http.client.HTTPConnection | None = None

    def post(self, body: bytes) -> BackendResponse:
        reused = self._connection is not None
        try:
            return self._post_once(body)
        except _STALE_CONNECTION_ERRORS:
            self.close()
            # Jetty may close an idle keep-alive connection just as we reuse it; the request
            # never reached Spark then, so one retry on a fresh connection is safe.
            if not reused:
                raise
            return self._post_once(body)

    def _post_once(self, body: bytes) -> BackendResponse:
        if self._connection is None:
            self._connection = http.client.HTTPConnection(
                "127.0.0.1", self._port, timeout=self._timeout_s
            )
        self._connection.request(
            "POST",
            self._path,
            body=body,
            headers={
                "Content-Type": "application/x-thrift",
                "Accept": "application/x-thrift",
                # The bearer token stays in the adapter. HiveServer2's HTTP servlet wants a Basic
                # header even without authentication (any user, any password); it names the
                # session's user.
                "Authorization": _SPARK_AUTHORIZATION,
            },
        )
        response = self._connection.getresponse()
        payload = response.read()
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
