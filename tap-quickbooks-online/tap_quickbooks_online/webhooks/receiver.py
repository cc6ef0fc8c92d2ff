"""``tap-quickbooks-online webhooks serve``: verify, journal, answer.

Intuit expects an answer within a few seconds and retries otherwise, so the handler only checks
the signature, appends to the journal (fsync) and answers 200; fetching the changed objects is
the next tap run's job. Refused posts are logged with their size and peer, never their body.
"""

from __future__ import annotations

import json
import logging
import threading
import typing as t
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tap_quickbooks_online.webhooks.journal import Journal
from tap_quickbooks_online.webhooks.payloads import PayloadError, parse_events
from tap_quickbooks_online.webhooks.signature import is_valid

LOGGER = logging.getLogger("tap_quickbooks_online.webhooks")

MAX_BODY_BYTES = 1024 * 1024


class WebhookServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], *, verifier_token: str, journal: Journal) -> None:
        if not verifier_token:
            raise ValueError("webhook verifier_token is required: unsigned events are never accepted")
        self.verifier_token = verifier_token
        self.journal = journal
        self.accepted = 0
        self.refused = 0
        self._counter_lock = threading.Lock()
        super().__init__(address, _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}/"

    def count(self, accepted: bool) -> None:
        with self._counter_lock:
            if accepted:
                self.accepted += 1
            else:
                self.refused += 1


class _Handler(BaseHTTPRequestHandler):
    server: WebhookServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: t.Any) -> None:
        LOGGER.debug("%s %s", self.address_string(), format % args)

    def _answer(self, status: HTTPStatus, message: str = "") -> None:
        payload = json.dumps({"status": message or status.phrase}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self) -> None:
        if self.path.rstrip("/") in ("/health", "/healthz"):
            self._answer(HTTPStatus.OK, "ok")
        else:
            self._answer(HTTPStatus.NOT_FOUND)

    def do_POST(self) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY_BYTES:
            self.server.count(False)
            LOGGER.warning("Refused webhook from %s: bad Content-Length", self.client_address[0])
            self.close_connection = True
            self._answer(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
            return
        body = self.rfile.read(length)
        if not is_valid(self.server.verifier_token, body, self.headers.get("intuit-signature")):
            self.server.count(False)
            LOGGER.warning(
                "Refused webhook from %s: %s intuit-signature (%d-byte body not logged)",
                self.client_address[0],
                "missing" if not self.headers.get("intuit-signature") else "invalid",
                len(body),
            )
            self._answer(HTTPStatus.UNAUTHORIZED, "invalid signature")
            return
        try:
            events = parse_events(json.loads(body))
        except (ValueError, PayloadError) as ex:
            self.server.count(False)
            LOGGER.warning("Refused signed webhook from %s: %s", self.client_address[0], ex)
            self._answer(HTTPStatus.BAD_REQUEST, "unrecognised payload")
            return
        self.server.journal.append(events)
        self.server.count(True)
        self._answer(HTTPStatus.OK, "ok")


def serve(*, host: str, port: int, verifier_token: str, journal_path: str) -> None:
    server = WebhookServer((host, port), verifier_token=verifier_token, journal=Journal(journal_path))
    LOGGER.info("Listening for Intuit webhooks on %s, journal %s", server.url, journal_path)
    print(f"Listening for Intuit webhooks on {server.url} (journal: {journal_path})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
