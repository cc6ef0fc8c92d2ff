"""A small threaded HTTPS server with scripted faults, the base of the SaaS sandboxes.

Subclasses implement :meth:`HttpsSandbox.route`. Faults (a status with optional
``Retry-After``, a delay, or a dropped connection) are queued per method and path pattern and
consumed in order, so a test states exactly which request fails and how often.
"""

from __future__ import annotations

import contextlib
import decimal
import json
import re
import socket
import ssl
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self

from sandboxes.server_thread import ServerThread
from sandboxes.tls import LoopbackCertificate, make_loopback_certificate

MAX_BODY_BYTES = 64 * 1024 * 1024


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: Message
    body: bytes

    def json(self, parse_float: Any = None) -> Any:
        if not self.body:
            return None
        return json.loads(self.body.decode("utf-8"), parse_float=parse_float)

    def form(self) -> dict[str, str]:
        return {k: v[-1] for k, v in urllib.parse.parse_qs(self.body.decode("utf-8")).items()}

    def query_value(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None


@dataclass
class Response:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json; charset=utf-8"

    def encoded(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode("utf-8")
        return json.dumps(self.body, default=_json_default).encode("utf-8")


def _json_default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


@dataclass
class Fault:
    method: str
    path_pattern: re.Pattern[str]
    remaining: int
    status: int = 503
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_seconds: float = 0.0
    drop_connection: bool = False

    def matches(self, method: str, path: str) -> bool:
        return (self.method in ("*", method)) and bool(self.path_pattern.search(path))


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    status: int
    at: float


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    sandbox: HttpsSandbox

    def finish_request(self, request: Any, client_address: Any) -> None:
        # The TLS handshake runs here, in the per-connection thread, so one stalled client
        # cannot block the accept loop.
        try:
            tls_socket = self.sandbox.tls_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        super().finish_request(tls_socket, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _handle(self) -> None:
        sandbox = self.server.sandbox
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self._send(Response(413, {"error": "request body too large"}))
            return
        body = self.rfile.read(length) if length else b""
        parsed = urllib.parse.urlsplit(self.path)
        request = Request(
            method=self.command,
            path=urllib.parse.unquote(parsed.path),
            query=urllib.parse.parse_qs(parsed.query, keep_blank_values=True),
            headers=self.headers,
            body=body,
        )
        fault = sandbox.take_fault(request.method, request.path)
        if fault is not None:
            if fault.delay_seconds:
                time.sleep(fault.delay_seconds)
            if fault.drop_connection:
                sandbox.log(request, 0)
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)
                return
            if fault.status:
                response = Response(fault.status, fault.body, dict(fault.headers))
                sandbox.log(request, response.status)
                self._send(response)
                return
        try:
            response = sandbox.route(request)
        except Exception as exc:  # a sandbox bug must surface as a 500, not a hung client
            response = Response(500, {"error": f"sandbox error: {type(exc).__name__}: {exc}"})
        sandbox.log(request, response.status)
        self._send(response)

    def _send(self, response: Response) -> None:
        payload = response.encoded()
        self.send_response(response.status)
        if payload or response.status not in (204, 304):
            self.send_header("Content-Type", response.content_type)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if payload:
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle


class HttpsSandbox:
    """Base class: TLS on 127.0.0.1, a free port, a request log, and scripted faults."""

    label = "sandbox"

    def __init__(self, workdir: Path | None = None) -> None:
        self._tmp = None if workdir else tempfile.TemporaryDirectory(prefix=f"{self.label}-")
        self.workdir = Path(workdir or self._tmp.name)  # type: ignore[union-attr]
        self.certificate: LoopbackCertificate = make_loopback_certificate(
            self.workdir / "tls", self.label
        )
        self.tls_context = self.certificate.server_context()
        self._lock = threading.RLock()
        self._faults: list[Fault] = []
        self.request_log: list[LoggedRequest] = []
        self._serving: ServerThread | None = None

    @property
    def ca_file(self) -> Path:
        return self.certificate.ca_file

    @property
    def port(self) -> int:
        if self._serving is None:
            raise RuntimeError(f"{self.label} sandbox is not started")
        return self._serving.port

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def start(self, port: int = 0) -> Self:
        """Listen on 127.0.0.1:``port`` (0: a free port)."""
        server = _Server(("127.0.0.1", port), _Handler)
        server.sandbox = self
        self._serving = ServerThread.start(server, name=f"{self.label}-sandbox", poll_interval=0.2)
        return self

    def stop(self) -> None:
        if self._serving is not None:
            self._serving.stop()
            self._serving = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def inject_fault(
        self,
        path_pattern: str,
        *,
        method: str = "*",
        status: int = 503,
        count: int = 1,
        body: Any = None,
        headers: dict[str, str] | None = None,
        delay_seconds: float = 0.0,
        drop_connection: bool = False,
    ) -> None:
        """Make the next ``count`` matching requests fail as described."""
        with self._lock:
            self._faults.append(
                Fault(
                    method=method.upper(), path_pattern=re.compile(path_pattern), remaining=count,
                    status=status, body=body, headers=dict(headers or {}),
                    delay_seconds=delay_seconds, drop_connection=drop_connection,
                )
            )

    def take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.remaining > 0 and fault.matches(method, path):
                    fault.remaining -= 1
                    return fault
            return None

    def log(self, request: Request, status: int) -> None:
        with self._lock:
            self.request_log.append(LoggedRequest(request.method, request.path, status, time.time()))

    def requests_to(self, method: str, path_pattern: str) -> list[LoggedRequest]:
        pattern = re.compile(path_pattern)
        with self._lock:
            return [r for r in self.request_log if r.method == method and pattern.search(r.path)]

    def route(self, request: Request) -> Response:
        raise NotImplementedError

    def target_config(self, **overrides: Any) -> dict[str, Any]:
        """Settings that point this sandbox's target plugin at it (the CLI prints them)."""
        raise NotImplementedError


def bearer_token(request: Request) -> str | None:
    value = request.headers.get("Authorization") or ""
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None
