"""The QBWC SOAP server: spyne behind cheroot (threaded, production WSGI, native TLS)."""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

from cheroot import wsgi
from cheroot.ssl.builtin import BuiltinSSLAdapter
from spyne.server.wsgi import WsgiApplication

from .config import ServerConfig, is_loopback
from .qbwc_handler import QbwcHandler
from .shutdown import SHUTDOWN_SECONDS, StopSignals, stop_within_deadline, wait_for_signal
from .soap_service import build_application
from .store import StateStore, open_store

logger = logging.getLogger(__name__)

# A QBWC message carries one qbXML response; 64 MiB is far above any MaxReturned page.
MAX_BODY_BYTES = 64 * 1024 * 1024
_FAULT = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
    "<soap:Fault><faultcode>soap:Client</faultcode><faultstring>{}</faultstring></soap:Fault>"
    "</soap:Body></soap:Envelope>"
)

StartResponse = Callable[..., Any]

# After stop, cheroot lets a worker read its request this long, then shuts the read side of
# the socket: a client that opened a connection and sent nothing (or half a request) would
# otherwise hold the shutdown for cheroot's default 5 s, most of SHUTDOWN_SECONDS. A request
# already read is not cut: its answer is computed, committed and sent.
REQUEST_GRACE_SECONDS = 2


class HostileRequestGuard:
    """Refuses oversized bodies and any SOAP envelope that declares a DTD.

    spyne's parser already has entities and network off; refusing DTDs up front
    gives the caller a clear fault instead of a half-parsed document.
    """

    def __init__(self, app: Callable[[dict[str, Any], StartResponse], Iterable[bytes]]) -> None:
        self._app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "POST":
            return self._app(environ, start_response)
        declared = environ.get("CONTENT_LENGTH")
        try:
            # Without Content-Length (chunked) read one byte past the cap to detect overflow.
            length = int(declared) if declared else MAX_BODY_BYTES + 1
        except ValueError:
            length = -1
        if length < 0 or (declared and length > MAX_BODY_BYTES):
            return self._fault(start_response, "413 Payload Too Large", "request body too large")
        body = environ["wsgi.input"].read(length) if length else b""
        if len(body) > MAX_BODY_BYTES:
            return self._fault(start_response, "413 Payload Too Large", "request body too large")
        environ["CONTENT_LENGTH"] = str(len(body))
        if b"<!DOCTYPE" in body or b"<!ENTITY" in body or b"<!doctype" in body:
            return self._fault(
                start_response, "400 Bad Request", "SOAP envelopes with a DTD are refused"
            )
        environ["wsgi.input"] = io.BytesIO(body)
        return self._app(environ, start_response)

    @staticmethod
    def _fault(start_response: StartResponse, status: str, text: str) -> Iterable[bytes]:
        payload = _FAULT.format(text).encode("utf-8")
        start_response(status, [("Content-Type", "text/xml; charset=utf-8"),
                                ("Content-Length", str(len(payload)))])
        return [payload]


def build_wsgi_app(handler: QbwcHandler) -> HostileRequestGuard:
    # spyne's own default cap is 2 MiB, less than one MaxReturned=500 page of invoices.
    return HostileRequestGuard(
        WsgiApplication(build_application(handler), max_content_length=MAX_BODY_BYTES)
    )


class QbwcServer:
    """Serves the QBWC endpoint at `/` (and its WSDL at `/?wsdl`)."""

    def __init__(self, config: ServerConfig, buffer: StateStore | None = None) -> None:
        if not config.uses_tls and not is_loopback(config.host):
            raise ValueError("plain HTTP is only allowed on localhost; configure TLS")
        self.config = config
        self.buffer = buffer or open_store(
            {"buffer_path": config.buffer_path, "state_database_url": config.state_database_url}
        )
        self.handler = QbwcHandler(config, self.buffer)
        self._server = wsgi.Server(
            (config.host, config.port),
            build_wsgi_app(self.handler),
            numthreads=8,
            server_name="tap-quickbooks-desktop",
            timeout=300,
            shutdown_timeout=REQUEST_GRACE_SECONDS,
        )
        if config.uses_tls:
            assert config.ssl_certfile and config.ssl_keyfile
            self._server.ssl_adapter = BuiltinSSLAdapter(config.ssl_certfile, config.ssl_keyfile)
        self._thread: threading.Thread | None = None
        self._serve_error: BaseException | None = None
        self._stop_step = "stopping the HTTP server"
        self._buffer_closed = False

    @property
    def port(self) -> int:
        return int(self._server.bind_addr[1])

    @property
    def url(self) -> str:
        scheme = "https" if self.config.uses_tls else "http"
        host = "localhost" if is_loopback(self.config.host) else self.config.host
        return f"{scheme}://{host}:{self.port}/"

    def start(self) -> QbwcServer:
        """Bind (port 0 picks a free port) and serve on a background thread."""
        self._server.prepare()
        self._thread = threading.Thread(target=self._serve, name="qbwc-server", daemon=True)
        self._thread.start()
        logger.info("QBWC server listening on %s", self.url)
        return self

    def _serve(self) -> None:
        try:
            self._server.serve()
        except BaseException as exc:  # cheroot re-raises a worker's fatal error here
            logger.error("the QBWC server stopped by itself: %r", exc, exc_info=exc)
            self._serve_error = exc

    def serve_forever(self) -> None:
        """Serve until SIGINT or SIGTERM, then stop within SHUTDOWN_SECONDS (see `shutdown`).

        The signal handler only counts; this (main) thread then stops the server: idle
        keep-alive connections closed, requests in flight finished, the buffer closed once.
        """
        with StopSignals() as signals:
            self.start()
            assert self._thread is not None
            wait_for_signal(signals, self._thread)
            logger.info("%s: stopping the QBWC server", signals.reason)
            stop_within_deadline(self._stop_and_close, signals, lambda: self._stop_step)
        logger.info("QBWC server stopped")
        if self._serve_error is not None:
            raise RuntimeError(f"the QBWC server stopped by itself: {self._serve_error!r}") from self._serve_error

    def stop(self) -> None:
        """Undo `start`: stop serving, then close the buffer."""
        self._stop_and_close()

    def _stop_and_close(self) -> None:
        """Stop accepting, close idle keep-alive connections, join the workers (a read still
        waiting after REQUEST_GRACE_SECONDS is shut), then close the buffer, which checkpoints
        its WAL: after the workers, so no write of theirs is cut off."""
        self._stop_step = "stopping the HTTP server (cheroot joins its workers)"
        self._server.stop()
        if self._thread is not None:
            self._stop_step = "waiting for the server thread"
            self._thread.join(timeout=SHUTDOWN_SECONDS)
        self._stop_step = "closing the buffer"
        self._close_buffer_once()
        self._stop_step = "stopped"

    def _close_buffer_once(self) -> None:
        if not self._buffer_closed:
            self._buffer_closed = True
            self.buffer.close()

    def __enter__(self) -> QbwcServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()
