"""Webhook deliveries: both Intuit formats, intuit-signature, batching, duplicates, reorder, drops."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sandboxes.qbo import QBOSandbox, sign_webhook
from sandboxes.qbo.fixtures import qbo_sandbox_factory_fixture, qbo_sandbox_fixture  # noqa: F401


class Receiver:
    def __init__(self, status: int = 200) -> None:
        self.posts: list[tuple[dict[str, str], bytes]] = []
        self.status = status
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.posts.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(outer.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def make_changes(sb: QBOSandbox, n: int) -> list[str]:
    handle = sb.realm()
    return [handle.update("Customer", cid, {"Notes": f"note {i}"})["Id"] for i, cid in enumerate(handle.ids("Customer")[:n])]


def test_cloudevents_delivery_is_signed_with_verifier_token(qbo_sandbox: QBOSandbox, receiver: Receiver) -> None:
    ids = make_changes(qbo_sandbox, 3)
    results = qbo_sandbox.webhooks.deliver(receiver.url, fmt="cloudevents", batch=10)
    assert [status for status, _ in results] == [200]
    headers, body = receiver.posts[0]
    expected = base64.b64encode(hmac.new(qbo_sandbox.webhook_verifier_token.encode(), body, hashlib.sha256).digest()).decode()
    assert hmac.compare_digest(headers["intuit-signature"], expected)
    assert sign_webhook(qbo_sandbox.webhook_verifier_token, body) == expected
    events = json.loads(body)
    assert isinstance(events, list) and len(events) == 3
    first = events[0]
    assert first["specversion"] == "1.0" and first["type"] == "qbo.customer.updated.v1"
    assert first["intuitaccountid"] == "9130350000000001"
    assert sorted(e["intuitentityid"] for e in events) == sorted(ids)
    assert qbo_sandbox.webhooks.pending() == []


def test_legacy_delivery_shape(qbo_sandbox: QBOSandbox, receiver: Receiver) -> None:
    make_changes(qbo_sandbox, 2)
    invoice = qbo_sandbox.realm().ids("Invoice")[0]
    qbo_sandbox.realm().delete("Invoice", invoice)
    qbo_sandbox.webhooks.deliver(receiver.url, fmt="legacy", batch=10)
    body = json.loads(receiver.posts[0][1])
    notification = body["eventNotifications"][0]
    assert notification["realmId"] == "9130350000000001"
    entities = notification["dataChangeEvent"]["entities"]
    assert {"name": "Invoice", "id": invoice, "operation": "Delete"} == {k: entities[-1][k] for k in ("name", "id", "operation")}
    assert entities[0]["lastUpdated"][-5] in "+-"


def test_batching_duplicates_and_reordering(qbo_sandbox: QBOSandbox, receiver: Receiver) -> None:
    ids = make_changes(qbo_sandbox, 9)
    qbo_sandbox.webhooks.deliver(receiver.url, batch=3, duplicate=1, reorder=True)
    assert len(receiver.posts) == 4
    delivered = [e["intuitentityid"] for _, body in receiver.posts for e in json.loads(body)]
    assert len(delivered) == 12 and sorted(set(delivered)) == sorted(ids)
    assert delivered[:9] != ids or delivered[3:] != ids


def test_dropped_events_are_never_sent_so_cdc_must_catch_them(qbo_sandbox: QBOSandbox, receiver: Receiver) -> None:
    ids = make_changes(qbo_sandbox, 6)
    qbo_sandbox.webhooks.deliver(receiver.url, batch=10, drop=2)
    delivered = {e["intuitentityid"] for _, body in receiver.posts for e in json.loads(body)}
    assert len(delivered) == 4 and delivered < set(ids)
    assert qbo_sandbox.webhooks.pending() == []


def test_failed_delivery_stays_pending_for_retry(qbo_sandbox: QBOSandbox) -> None:
    failing = Receiver(status=500)
    try:
        make_changes(qbo_sandbox, 2)
        qbo_sandbox.webhooks.deliver(failing.url)
        assert len(qbo_sandbox.webhooks.pending()) == 2
        failing.status = 200
        qbo_sandbox.webhooks.deliver(failing.url)
        assert qbo_sandbox.webhooks.pending() == []
    finally:
        failing.close()


def test_forged_signature_can_be_sent_for_negative_tests(qbo_sandbox: QBOSandbox, receiver: Receiver) -> None:
    make_changes(qbo_sandbox, 1)
    qbo_sandbox.webhooks.deliver(receiver.url, signature="bm90LXZhbGlk")
    assert receiver.posts[0][0]["intuit-signature"] == "bm90LXZhbGlk"
