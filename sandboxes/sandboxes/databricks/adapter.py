"""The TLS front door that makes Spark's Thrift Server look like a Databricks SQL warehouse.

It terminates TLS, checks ``Authorization: Bearer`` (Spark would try to Base64-decode it as
Basic and answer 500), strips it, applies armed faults, and hands thrift calls to the
:class:`ProtocolTranslator`. It also serves the workspace's OAuth endpoints.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import struct
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from ..server_thread import ServerThread
from ..tls import LoopbackCertificate
from . import thrift_messages, workspace_endpoints
from .backend_client import BackendClient, BackendError
from .credentials import CredentialStore
from .faults import TOKEN, WAREHOUSE, Faults
from .protocol_translator import ProtocolTranslator
from .volumes import URL_PREFIX, VolumeStore

logger = logging.getLogger(__name__)

_MAX_BODY_BYTES = 256 * 1024 * 1024
# The SQL gateway explains its own (non-thrift) errors in these headers; the connector puts
# them into the RequestError it raises.
_ERROR_HEADER = "x-databricks-error-or-redirect-message"
_REASON_HEADER = "x-databricks-reason-phrase"
_FAULT_MESSAGES = {
    429: ("REQUEST_LIMIT_EXCEEDED", "Too many requests. Please retry after some time."),
    500: ("INTERNAL_ERROR", "Internal error in the SQL gateway."),
    502: ("BAD_GATEWAY", "Bad gateway."),
    503: ("TEMPORARILY_UNAVAILABLE", "The SQL warehouse is starting. Please retry."),
    504: ("GATEWAY_TIMEOUT", "Gateway timeout."),
}


class _AdapterServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    adapter: WarehouseAdapter

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that drop mid-handshake or mid-request are normal in fault tests.
        logger.debug("adapter connection from %s ended with an error", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _AdapterServer
    _backend: BackendClient | None = None

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("adapter: " + format, *args)

    def setup(self) -> None:
        super().setup()
        # A reply's headers and body go out in two writes (_send). With Nagle's algorithm on,
        # the body waits for the client's ACK of the headers, which the client delays ~40 ms:
        # every thrift call (five per statement) paid 40 ms that no warehouse charges. The QBO
        # sandbox's server does the same.
        with contextlib.suppress(OSError):  # a client gone already fails at its first read
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()
        if self._backend is not None:
            self._backend.close()

    @property
    def adapter(self) -> WarehouseAdapter:
        return self.server.adapter

    def _path(self) -> str:
        return self.path.split("?", 1)[0]

    def _read_body(self) -> bytes | None:
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit() or int(length) > _MAX_BODY_BYTES:
            self._send_json(workspace_endpoints.error(411, "INVALID_PARAMETER_VALUE", "Content-Length required"))
            return None
        return self.rfile.read(int(length))

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _send_json(self, reply: workspace_endpoints.Reply) -> None:
        self._send(reply.status, reply.body(), "application/json", reply.headers)

    def _reset_connection(self) -> None:
        # SO_LINGER 0 makes close() send RST: the client sees "connection reset by peer".
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        with contextlib.suppress(OSError):
            socket.socket.close(self.connection)
        self.close_connection = True

    def _apply_fault(self, endpoint: str, method: str | None) -> bool:
        verdict = self.adapter.faults.verdict(endpoint, method)
        if verdict is None:
            return False
        if verdict.drop:
            self._reset_connection()
            return True
        code, message = _FAULT_MESSAGES.get(verdict.http_status, ("INJECTED_FAULT", "Injected fault."))
        reply = workspace_endpoints.error(verdict.http_status, code, message)
        if endpoint == WAREHOUSE:
            reply.headers[_ERROR_HEADER] = message
        if verdict.retry_after is not None:
            reply.headers["Retry-After"] = str(verdict.retry_after)
        self._send_json(reply)
        return True

    def _volume_file(self, method: str) -> bool:
        """Serve a presigned volume URL (volumes.py); False when the path is not one."""
        path = self._path()
        if not path.startswith(URL_PREFIX):
            return False
        self.adapter.faults.record("volume_files")
        body = None
        if method == "PUT":
            body = self._read_body()
            if body is None:
                return True
        status, payload = self.adapter.volumes.serve(method, path, body)
        self._send(status, payload, "application/octet-stream" if status == 200 else "text/plain")
        return True

    def do_PUT(self) -> None:
        if not self._volume_file("PUT"):
            self._send_json(
                workspace_endpoints.error(404, "ENDPOINT_NOT_FOUND", f"No API found for 'PUT {self._path()}'")
            )

    def do_DELETE(self) -> None:
        if not self._volume_file("DELETE"):
            self._send_json(
                workspace_endpoints.error(404, "ENDPOINT_NOT_FOUND", f"No API found for 'DELETE {self._path()}'")
            )

    def do_GET(self) -> None:
        if self._volume_file("GET"):
            return
        path = self._path()
        self.adapter.faults.record("http.get")
        reply = workspace_endpoints.discovery(self.adapter.base_url, path)
        if reply is None:
            reply = workspace_endpoints.error(404, "ENDPOINT_NOT_FOUND", f"No API found for 'GET {path}'")
        self._send_json(reply)

    def do_POST(self) -> None:
        path = self._path()
        body = self._read_body()
        if body is None:
            return
        if path == self.adapter.http_path:
            self._warehouse_call(body)
        elif path == workspace_endpoints.TOKEN_PATH:
            self.adapter.faults.record("oauth.token_requests")
            if not self._apply_fault(TOKEN, None):
                self._send_json(
                    workspace_endpoints.token(
                        self.adapter.credentials, self.headers.get("Authorization", ""), body
                    )
                )
        elif path in workspace_endpoints.TELEMETRY_PATHS:
            self.adapter.faults.record("telemetry")
            self._send_json(workspace_endpoints.Reply(200, {"errors": [], "numProtoSuccess": 0}))
        else:
            self._send_json(
                workspace_endpoints.error(404, "ENDPOINT_NOT_FOUND", f"No API found for 'POST {path}'")
            )

    def _warehouse_call(self, body: bytes) -> None:
        faults = self.adapter.faults
        try:
            method = thrift_messages.message_name(body)
        except Exception:
            faults.record("warehouse.bad_requests")
            self._send_json(workspace_endpoints.error(400, "BAD_REQUEST", "body is not a thrift message"))
            return
        faults.record("warehouse.requests", f"thrift.{method}")
        if self._apply_fault(WAREHOUSE, method):
            return
        if not self._authorised():
            faults.record("warehouse.unauthorised")
            refusal = workspace_endpoints.error(401, "UNAUTHENTICATED", "Invalid access token.")
            refusal.headers[_ERROR_HEADER] = "Unauthorized"
            refusal.headers[_REASON_HEADER] = "Invalid access token."
            self._send_json(refusal)
            return
        if self._backend is None:
            self._backend = BackendClient(
                self.adapter.backend_port, self.adapter.backend_path, faults=self.adapter.faults
            )
        try:
            reply = self.adapter.translator.handle(method, body, self._backend, self._denied())
        except BackendError as exc:
            self._send(exc.response.status, exc.response.body, exc.response.content_type)
            return
        except OSError:
            # Unreachable, or the answer was lost after Spark may have run the call
            # (BackendUnavailable): a gateway answers 502 either way and the client retries.
            logger.exception("no answer from the Spark thrift endpoint for %s", method)
            self._send_json(
                workspace_endpoints.error(502, "BAD_GATEWAY", "The SQL engine behind the sandbox did not answer.")
            )
            return
        self._send(200, reply, "application/x-thrift")

    def _denied(self) -> frozenset[str]:
        token = self.headers.get("Authorization", "").partition(" ")[2].strip()
        return self.adapter.credentials.denied_to(token)

    def _authorised(self) -> bool:
        scheme, _, token = self.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return False
        return self.adapter.credentials.is_valid(token.strip())


class WarehouseAdapter:
    """Listens on 127.0.0.1 (free port) and serves one warehouse at ``http_path``."""

    def __init__(
        self,
        *,
        backend_port: int,
        backend_path: str,
        http_path: str,
        certificate: LoopbackCertificate,
        credentials: CredentialStore,
        volumes_dir: Path,
        catalogs: tuple[str, ...] = ("main",),
    ) -> None:
        self.backend_port = backend_port
        self.backend_path = backend_path
        self.http_path = "/" + http_path.strip("/")
        self.certificate = certificate
        self.credentials = credentials
        self.faults = Faults(credentials)
        self.volumes = VolumeStore(volumes_dir)
        self.translator = ProtocolTranslator(self.volumes, catalogs)
        self._serving: ServerThread | None = None

    @property
    def port(self) -> int:
        if self._serving is None:
            raise RuntimeError("adapter not started")
        return self._serving.port

    @property
    def base_url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def start(self, port: int = 0) -> None:
        context = self.certificate.server_context()
        server = _AdapterServer(("127.0.0.1", port), _Handler)
        server.adapter = self
        # The handshake runs in each connection's own thread, on first read, so a client that
        # stalls in it cannot block the accept loop.
        server.socket = context.wrap_socket(
            server.socket, server_side=True, do_handshake_on_connect=False
        )
        self._serving = ServerThread.start(server, name="databricks-sandbox-adapter")
        self.volumes.base_url = self.base_url

    def stop(self) -> None:
        serving, self._serving = self._serving, None
        if serving is not None:
            serving.stop(join_timeout=10)
