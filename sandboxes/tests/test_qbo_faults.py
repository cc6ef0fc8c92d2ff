"""Throttling, injected 5xx, slow answers, dropped connections, per-realm isolation, counters."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sandboxes.loopback_http import loopback_session
from sandboxes.qbo import QBOSandbox, RealmSpec
from sandboxes.qbo.client import SandboxClient
from sandboxes.qbo.fixtures import qbo_sandbox_factory_fixture, qbo_sandbox_fixture  # noqa: F401

REALM = "9130350000000001"
OTHER = "9130350000000002"


def test_every_response_has_a_distinct_intuit_tid(qbo_sandbox: QBOSandbox) -> None:
    client = SandboxClient(qbo_sandbox)
    tids = {client.query("select * from Term").headers["intuit_tid"] for _ in range(3)}
    tids.add(client.query("select * from Nope").headers["intuit_tid"])
    assert len(tids) == 4


def test_rate_limit_answers_429_throttle_fault_per_realm(qbo_sandbox_factory: Callable[..., QBOSandbox]) -> None:
    sb = qbo_sandbox_factory(realms=[RealmSpec(REALM, transactions=10, rate_limit_per_minute=5),
                                     RealmSpec(OTHER, transactions=10, rate_limit_per_minute=5)])
    client = SandboxClient(sb, REALM)
    statuses = [client.query("select * from Term").status_code for _ in range(7)]
    assert statuses == [200] * 5 + [429] * 2
    throttled = client.query("select * from Term")
    error = throttled.json()["fault"]["error"][0]
    assert error["message"] == "message=ThrottleExceeded; errorCode=003001; statusCode=429"
    assert error["code"] == "3001"
    assert 1 <= int(throttled.headers["Retry-After"]) <= 60
    assert SandboxClient(sb, OTHER).query("select * from Term").status_code == 200
    assert sb.stats(REALM).throttled == 3


def test_more_than_max_concurrent_in_flight_is_throttled(qbo_sandbox_factory: Callable[..., QBOSandbox]) -> None:
    sb = qbo_sandbox_factory(realms=[RealmSpec(REALM, transactions=10, max_concurrent=2)])
    sb.faults.slow(1.5, n=2)
    client_tokens = sb.issue_tokens(REALM)

    def call(_: int) -> int:
        s = loopback_session()
        return s.get(f"{sb.api_url(REALM)}/query", params={"query": "select * from Term"},
                     headers={"Authorization": f"Bearer {client_tokens['access_token']}", "Accept": "application/json"},
                     timeout=10).status_code

    with ThreadPoolExecutor(max_workers=2) as pool:
        slow_calls = [pool.submit(call, i) for i in range(2)]
        deadline = time.monotonic() + 5
        while sb.realms[REALM].throttle.in_flight < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        during = call(99)
        results = [f.result() for f in slow_calls]
    assert results == [200, 200]
    assert during == 429
    assert sb.stats(REALM).max_concurrent == 2


def test_fail_next_injects_5xx_then_recovers(qbo_sandbox: QBOSandbox) -> None:
    client = SandboxClient(qbo_sandbox)
    qbo_sandbox.faults.fail_next(2, status=503)
    first, second, third = (client.query("select * from Term") for _ in range(3))
    assert (first.status_code, second.status_code, third.status_code) == (503, 503, 200)
    assert first.json()["Fault"]["type"] == "SystemFault"


def test_slow_response_exceeds_client_timeout(qbo_sandbox: QBOSandbox) -> None:
    client = SandboxClient(qbo_sandbox)
    qbo_sandbox.faults.slow(1.0, n=1)
    with pytest.raises(requests.exceptions.ReadTimeout):
        client.query("select * from Term", timeout=0.3)
    assert client.query("select * from Term").status_code == 200


def test_dropped_connection_gives_no_response(qbo_sandbox: QBOSandbox) -> None:
    client = SandboxClient(qbo_sandbox)
    qbo_sandbox.faults.drop_connections(1)
    with pytest.raises(requests.exceptions.ConnectionError):
        client.query("select * from Term")
    assert client.query("select * from Term").status_code == 200


def test_token_endpoint_fault(qbo_sandbox: QBOSandbox) -> None:
    qbo_sandbox.faults.fail_token_endpoint(1, status=502)
    tokens = qbo_sandbox.issue_tokens(REALM)
    s = loopback_session()
    data = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    auth = (qbo_sandbox.client_id, qbo_sandbox.client_secret)
    assert s.post(qbo_sandbox.token_url, data=data, auth=auth, timeout=10).status_code == 502
    assert s.post(qbo_sandbox.token_url, data=data, auth=auth, timeout=10).status_code == 200
    assert qbo_sandbox.token_stats.refreshes == 1 and qbo_sandbox.token_stats.calls == 2


def test_stats_count_calls_per_endpoint_and_entity(qbo_sandbox: QBOSandbox) -> None:
    client = SandboxClient(qbo_sandbox)
    client.query("select * from Invoice")
    client.query("select * from Invoice startposition 101")
    client.get("customer/1")
    client.get("reports/ProfitAndLoss")
    stats = qbo_sandbox.stats()
    assert stats.total == 4
    assert stats.by_endpoint == {"query": 2, "read": 1, "reports": 1}
    assert stats.by_entity == {"Invoice": 2, "Customer": 1}
    assert [r[2] for r in stats.requests] == [200, 200, 200, 200]


def test_json_only_without_accept_header(qbo_sandbox: QBOSandbox) -> None:
    tokens = qbo_sandbox.issue_tokens(REALM)
    s = loopback_session()
    response = s.get(f"{qbo_sandbox.api_url(REALM)}/query", params={"query": "select * from Term"},
                     headers={"Authorization": f"Bearer {tokens['access_token']}", "Accept": "application/xml"}, timeout=10)
    assert response.status_code == 406


def test_default_fixture_is_one_small_realm(qbo_sandbox: QBOSandbox) -> None:
    assert qbo_sandbox.realm_ids == [REALM]
    assert qbo_sandbox.base_url.startswith("http://127.0.0.1:")
    handle = qbo_sandbox.realm()
    transactions = sum(handle.count(e) for e in ("Invoice", "Payment", "Bill", "BillPayment", "SalesReceipt",
                                                 "CreditMemo", "RefundReceipt", "Estimate", "VendorCredit",
                                                 "PurchaseOrder", "Purchase", "Deposit", "JournalEntry",
                                                 "Transfer", "TimeActivity"))
    assert transactions == 201  # 200 requested + the opening-balance journal entry
