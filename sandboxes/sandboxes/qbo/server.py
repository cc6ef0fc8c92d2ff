"""The HTTP face of the sandbox: QBO v3 API, Intuit OAuth endpoints, on 127.0.0.1."""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import re
import socket
import ssl
import sys
import time
import traceback
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urlsplit

from . import jsonfmt
from .batch import BATCH_REQUESTS_PER_MINUTE, parse_items, run_batch
from .catalog import BY_URL_NAME, MIN_MINOR_VERSION
from .discovery import DISCOVERY_PATH, discovery_document
from .errors import QBOFault, gateway_fault
from .oauth import AccessDenied, OAuthError
from .reports import REPORTS
from .writes import apply_write, parse_body, write_kind

if TYPE_CHECKING:
    from .sandbox import QBOSandbox

API_PATH = re.compile(r"^/v3/company/(?P<realm>[^/]+)/(?P<rest>.+)$")
QUERY_ENTITY = re.compile(r"\bfrom\s+([A-Za-z]+)", re.IGNORECASE)


class DroppedConnection(Exception):
    """Raised to abandon a request without writing any response (injected fault)."""


class SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, sandbox: QBOSandbox, port: int = 0, tls_context: ssl.SSLContext | None = None) -> None:
        super().__init__(("127.0.0.1", port), Handler)
        self.sandbox = sandbox
        self.tls_context = tls_context

    def finish_request(self, request: Any, client_address: Any) -> None:
        if self.tls_context is None:
            super().finish_request(request, client_address)
            return
        # The handshake runs in the per-connection thread (as in https_server), so one stalled
        # client cannot block the accept loop.
        try:
            tls_socket = self.tls_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        super().finish_request(tls_socket, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Dropped connections and clients that hang up are expected in fault tests.
        return


class Handler(BaseHTTPRequestHandler):
    server: SandboxHTTPServer
    protocol_version = "HTTP/1.1"
    before_send: Callable[[int], None] | None = None
    write_label: str | None = None

    def log_message(self, format: str, *args: Any) -> None:
        # Request lines can carry authorization codes; the sandbox keeps no access log.
        return

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; without TCP_NODELAY every keep-alive
        # request waits ~40 ms on delayed ACKs.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    @property
    def sandbox(self) -> QBOSandbox:
        return self.server.sandbox

    # plumbing --------------------------------------------------------------------------------
    def send(self, status: int, body: bytes | str, content_type: str = "application/json;charset=UTF-8",
             headers: dict[str, str] | None = None) -> None:
        data = body.encode() if isinstance(body, str) else body
        # Book-keeping happens before the client can see the answer, so a test that reads the
        # counters right after a response (or fires its next request) never races the server.
        finish = getattr(self, "before_send", None)
        if finish is not None:
            self.before_send = None
            finish(status)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("intuit_tid", self.tid)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_GET(self) -> None:
        self.dispatch("GET")

    def do_POST(self) -> None:
        self.dispatch("POST")

    def dispatch(self, method: str) -> None:
        self.tid = str(uuid.uuid4())
        url = urlsplit(self.path)
        params = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        try:
            if url.path == "/oauth2/v1/tokens/bearer" and method == "POST":
                self.token_endpoint()
            elif url.path == "/v2/oauth2/tokens/revoke" and method == "POST":
                self.revoke_endpoint()
            elif url.path == "/connect/oauth2" and method == "GET":
                self.authorize_endpoint(params)
            elif url.path == DISCOVERY_PATH and method == "GET":
                self.send(200, json.dumps(discovery_document(self.sandbox)))
            elif (match := API_PATH.match(url.path)) is not None:
                self.api(method, match.group("realm"), match.group("rest"), params)
            else:
                self.send(404, json.dumps({"error": "not_found", "path": url.path}))
        except DroppedConnection:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)

    # OAuth -----------------------------------------------------------------------------------
    def client_credentials(self, form: dict[str, str]) -> tuple[str, str]:
        header = self.headers.get("Authorization", "")
        if header.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(header[6:].strip()).decode()
            except (binascii.Error, UnicodeDecodeError):
                return "", ""
            client_id, _, secret = decoded.partition(":")
            return client_id, secret
        return form.get("client_id", ""), form.get("client_secret", "")

    def token_endpoint(self) -> None:
        authority = self.sandbox.authority
        authority.stats.calls += 1
        raw = self.read_body().decode(errors="replace")
        form = {k: v[-1] for k, v in parse_qs(raw).items()}
        status = self.sandbox.faults.take_token_fail()
        if status is not None:
            authority.stats.failures += 1
            self.send(status, json.dumps({"error": "server_error"}))
            return
        if "application/x-www-form-urlencoded" not in (self.headers.get("Content-Type") or ""):
            self.send(400, json.dumps({"error": "invalid_request", "error_description": "form body required"}))
            return
        try:
            authority.check_client(*self.client_credentials(form))
            grant = form.get("grant_type")
            if grant == "authorization_code":
                tokens = authority.exchange_code(form.get("code", ""), form.get("redirect_uri", ""))
            elif grant == "refresh_token":
                tokens = authority.refresh(form.get("refresh_token", ""))
            else:
                raise OAuthError(400, "unsupported_grant_type")
        except OAuthError as exc:
            body: dict[str, str] = {"error": exc.error}
            if exc.description:
                body["error_description"] = exc.description
            self.send(exc.status, json.dumps(body), headers={"Cache-Control": "no-store"})
            return
        tokens = {k: v for k, v in tokens.items() if k not in ("realm_id", "id_token")}
        self.send(200, json.dumps(tokens), headers={"Cache-Control": "no-store"})

    def revoke_endpoint(self) -> None:
        authority = self.sandbox.authority
        raw = self.read_body()
        try:
            authority.check_client(*self.client_credentials({}))
        except OAuthError as exc:
            self.send(exc.status, json.dumps({"error": exc.error}))
            return
        try:
            token = json.loads(raw or b"{}").get("token", "")
        except json.JSONDecodeError:
            token = ""
        if not token:
            self.send(400, json.dumps({"error": "invalid_request"}))
            return
        authority.revoke(token)
        self.send(200, b"")

    def authorize_endpoint(self, params: dict[str, str]) -> None:
        sandbox = self.sandbox
        if params.get("client_id") != sandbox.client_id or params.get("response_type") != "code":
            self.send(400, json.dumps({"error": "invalid_request"}))
            return
        redirect_uri = params.get("redirect_uri", "")
        realm_id = params.get("realm_id") or sandbox.realm_ids[0]
        if realm_id not in sandbox.realms:
            self.send(400, json.dumps({"error": "invalid_request", "error_description": "unknown realm"}))
            return
        code = sandbox.authority.issue_code(realm_id, redirect_uri)
        query = urlencode({"code": code, "state": params.get("state", ""), "realmId": realm_id})
        separator = "&" if "?" in redirect_uri else "?"
        self.send(302, b"", headers={"Location": f"{redirect_uri}{separator}{query}"})

    # API -------------------------------------------------------------------------------------
    def api(self, method: str, realm_id: str, rest: str, params: dict[str, str]) -> None:
        sandbox = self.sandbox
        body = self.read_body() if method == "POST" else b""
        realm = sandbox.realms.get(realm_id)
        endpoint, entity = classify(rest)
        if endpoint == "query":
            # Counted per queried entity so benchmarks can report API calls per stream.
            named = QUERY_ENTITY.search(body.decode(errors="replace") if method == "POST" else params.get("query", ""))
            entity = BY_URL_NAME.get(named.group(1).lower(), named.group(1)) if named else None
        throttle = realm.throttle if realm else None
        admitted = False
        booked = False

        def book(status: int) -> None:
            nonlocal admitted, booked
            if admitted and throttle is not None:
                throttle.leave()
                admitted = False
            if realm is not None and not booked:
                booked = True
                label = self.write_label or endpoint
                realm.stats.record(method, self.path, label, entity, status)

        self.before_send = book
        self.write_label = None
        try:
            if sandbox.faults.take_drop(realm_id):
                book(0)
                raise DroppedConnection
            try:
                sandbox.authority.authorize(self.headers.get("Authorization"), realm_id)
            except AccessDenied as exc:
                if exc.status == 403:
                    self.send(403, json.dumps(gateway_fault(
                        "AuthorizationFailure", "3100", 403, exc.detail, "AUTHORIZATION")))
                else:
                    self.send(401, json.dumps(gateway_fault(
                        "AuthenticationFailed", "3200", 401, exc.detail, "AUTHENTICATION")),
                        headers={"WWW-Authenticate": 'Bearer realm="Intuit", error="invalid_token"'})
                return
            assert realm is not None and throttle is not None
            wait = throttle.enter(realm.stats)
            if wait is not None:
                realm.stats.throttled += 1
                self.send(429, json.dumps(gateway_fault(
                    "ThrottleExceeded", "3001", 429, "The request limit was reached.", "SERVICE")),
                    headers={"Retry-After": str(int(wait + 0.999))})
                return
            admitted = True
            delay = sandbox.faults.take_slow(realm_id)
            if delay:
                time.sleep(delay)
            injected = sandbox.faults.take_fail(realm_id)
            if injected is not None:
                fault = QBOFault(injected, "10000", "An application error has occurred while processing your request",
                                 "System Failure Error: injected by the sandbox", "SystemFault")
                self.send(injected, jsonfmt.dumps(fault.body(realm.server_time())))
                return
            accept = self.headers.get("Accept", "")
            if "json" not in accept:
                # Intuit answers XML unless the client asks for JSON; this sandbox only speaks JSON.
                self.send(406, json.dumps({"error": "This sandbox answers JSON only: send Accept: application/json"}))
                return
            minor = params.get("minorversion", "")
            realm.stats.minorversions[max(MIN_MINOR_VERSION, int(minor)) if minor.isdigit() else MIN_MINOR_VERSION] += 1
            payload = self.route(realm, method, endpoint, entity, rest, params, body)
            self.send(200, payload)
        except BatchThrottled as throttled:
            self.send(429, json.dumps(gateway_fault(
                "ThrottleExceeded", "3001", 429,
                f"The batch request limit ({BATCH_REQUESTS_PER_MINUTE} per minute per realm) was reached.", "SERVICE")),
                headers={"Retry-After": str(int(throttled.wait + 0.999))})
        except QBOFault as fault:
            time_text = realm.server_time() if realm else ""
            self.send(fault.status, jsonfmt.dumps(fault.body(time_text)))
        except (DroppedConnection, ConnectionError):
            raise
        except Exception as exc:
            # A sandbox bug must surface as a 500 the test sees, not as a silently dropped socket.
            traceback.print_exc(file=sys.stderr)
            bug = QBOFault(500, "10000", "An application error has occurred while processing your request",
                           f"System Failure Error: sandbox bug {type(exc).__name__}", "SystemFault")
            self.send(500, jsonfmt.dumps(bug.body(realm.server_time() if realm else "")))
        finally:
            self.before_send = None
            book(500)

    def route(self, realm: Any, method: str, endpoint: str, entity: str | None, rest: str,
              params: dict[str, str], body: bytes) -> str:
        if endpoint == "query":
            text = params.get("query", "")
            if method == "POST":
                text = body.decode()
            return str(realm.query(text))
        if endpoint == "cdc":
            return str(realm.cdc(params.get("entities", ""), params.get("changedSince", "")))
        if endpoint == "batch" and method == "POST":
            return self.batch(realm, body)
        if endpoint == "reports":
            name = rest.split("/", 1)[1]
            if name not in REPORTS:
                raise QBOFault(400, "2500", "Invalid report name", f"Report {name} is not supported by this sandbox")
            return str(realm.report(name, params))
        if endpoint == "read" and entity is not None and method == "POST" and "/" not in rest:
            request = parse_body(body)
            self.write_label = write_kind(params.get("operation"), request)
            return apply_write(self.sandbox.realm(realm.realm_id), entity, params.get("operation"),
                               request, realm.server_time())
        if endpoint == "read" and entity is not None and method == "GET":
            parts = rest.split("/")
            obj_id = parts[1] if len(parts) > 1 else "1"
            return str(realm.read(entity, obj_id))
        raise QBOFault(400, "4000", "Unsupported operation", f"{method} /{rest} is not supported")


    def batch(self, realm: Any, raw: bytes) -> str:
        items = parse_items(parse_body(raw))
        wait = realm.batch_throttle.admit()
        if wait is not None:
            realm.stats.throttled += 1
            raise BatchThrottled(wait)
        handle = self.sandbox.realm(realm.realm_id)
        time_text = realm.server_time()

        def write(entity: str, operation: str | None, body: dict[str, Any]) -> dict[str, Any]:
            return dict(jsonfmt.loads(apply_write(handle, entity, operation, body, time_text)))

        answers = run_batch(items, realm.query_response, write)
        return f'{{"BatchItemResponse":[{",".join(answers)}],"time":"{time_text}"}}'


class BatchThrottled(Exception):
    def __init__(self, wait: float) -> None:
        super().__init__(f"batch limit reached; retry in {wait:.0f}s")
        self.wait = wait


def classify(rest: str) -> tuple[str, str | None]:
    head = rest.split("/", 1)[0].lower()
    if head in ("query", "cdc", "reports", "batch"):
        return head, None
    entity = BY_URL_NAME.get(head)
    return ("read", entity) if entity else ("unknown", None)
