"""Throttling, retries and fail-fast errors against the sandbox's limits and fault injection."""

from __future__ import annotations

import time

import pytest
from sandboxes.qbo import RealmSpec
from tap_quickbooks_online.errors import APIError, AuthError, RetriesExhausted
from tap_quickbooks_online.rate_limit import RealmRateLimiter
from tap_quickbooks_online.tap import TapQuickBooksOnline

from .conftest import REALM, make_config
from .singer_run import run_sync

pytestmark = pytest.mark.e2e


def _webhook_backlog(sandbox, tmp_path, config, count):
    """Journal `count` invoice events so the next webhook-mode run reads them concurrently."""
    from tap_quickbooks_online.webhooks.journal import Journal

    realm = sandbox.realm(REALM)
    ids = realm.ids("Invoice")[:count]
    Journal(config["webhook_journal_path"]).append(
        [{"realm_id": REALM, "entity": "Invoice", "id": i, "operation": "Update"} for i in ids])
    return ids


def test_client_never_exceeds_its_concurrency_cap(qbo_sandbox_factory, tmp_path):
    sandbox = qbo_sandbox_factory(realms=[RealmSpec(REALM, seed=42, transactions=200)])
    config = make_config(sandbox, tmp_path, sync_mode="webhook", max_concurrency=3)
    first = run_sync(config, streams=["invoices"])
    _webhook_backlog(sandbox, tmp_path, config, 30)
    sandbox.faults.slow(0.05, n=40)  # keep requests in flight long enough to overlap
    sandbox.reset_stats()

    run_sync(config, streams=["invoices"], state=first.state)

    stats = sandbox.stats(REALM)
    assert stats.by_endpoint["read"] == 30
    assert 2 <= stats.max_concurrent <= 3
    assert stats.throttled == 0


def test_429_is_waited_out_with_retry_after_and_the_run_completes(qbo_sandbox_factory, tmp_path):
    sandbox = qbo_sandbox_factory(realms=[RealmSpec(REALM, seed=42, transactions=200, max_concurrent=2)])
    config = make_config(sandbox, tmp_path, sync_mode="webhook", max_concurrency=6)
    first = run_sync(config, streams=["invoices"])
    ids = _webhook_backlog(sandbox, tmp_path, config, 12)
    sandbox.faults.slow(0.2, n=12)
    sandbox.reset_stats()

    second = run_sync(config, streams=["invoices"], state=first.state)

    assert sandbox.stats(REALM).throttled > 0
    assert set(ids) <= set(second.by_id("invoices"))


def test_rate_limiter_spreads_starts_over_the_window():
    now = [0.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    limiter = RealmRateLimiter(requests_per_minute=5, max_concurrency=10, clock=lambda: now[0], sleep=sleep)
    starts = []
    for _ in range(12):
        with limiter.slot():
            starts.append(now[0])
    # No 60-second window may hold more than 5 starts.
    assert all(sum(1 for s in starts if a <= s < a + 60) <= 5 for a in starts)
    assert starts[-1] >= 120


def test_transient_5xx_and_dropped_connections_are_retried(qbo_sandbox, tap_config):
    qbo_sandbox.faults.fail_next(2, status=503)
    qbo_sandbox.faults.drop_connections(1)

    result = run_sync(tap_config, streams=["customers"])

    assert len(result.by_id("customers")) == qbo_sandbox.realm(REALM).count("Customer")


def test_persistent_5xx_gives_up_after_max_retries_with_intuit_tid(qbo_sandbox, tap_config):
    qbo_sandbox.faults.fail_next(10, status=500)
    with pytest.raises(RetriesExhausted, match=r"failed 3 times.*HTTP 500 \(intuit_tid=\S+\)"):
        run_sync({**tap_config, "max_retries": 3}, streams=["customers"])


def test_bad_request_fails_at_once_with_the_fault_and_intuit_tid(qbo_sandbox, tap_config):
    tap = TapQuickBooksOnline(config=tap_config)
    client = tap.client(REALM)
    qbo_sandbox.reset_stats()
    with pytest.raises(APIError, match=r"(?s)HTTP 400 .*\(code 4000\).*intuit_tid=") as info:
        client.query("select from where")
    assert info.value.status == 400
    assert qbo_sandbox.stats(REALM).total == 1


def test_expired_access_token_is_refreshed_once_mid_run(qbo_sandbox, tap_config):
    tap = TapQuickBooksOnline(config=tap_config)
    client = tap.client(REALM)
    client.query("select * from Customer maxresults 1")
    refreshes = qbo_sandbox.token_stats.refreshes
    qbo_sandbox.faults.expire_access_tokens()

    body = client.query("select * from Customer maxresults 1")

    assert body["QueryResponse"]["Customer"]
    assert qbo_sandbox.token_stats.refreshes == refreshes + 1


def test_revoked_credentials_fail_fast_without_leaking_tokens(qbo_sandbox, tap_config, caplog):
    refresh_token = tap_config["realms"][0]["refresh_token"]
    qbo_sandbox.faults.revoke(refresh_token)
    started = time.monotonic()
    with pytest.raises(AuthError) as info:
        run_sync(tap_config, streams=["customers"])
    assert time.monotonic() - started < 5
    assert "invalid_grant" in str(info.value) and "auth" in str(info.value)
    assert refresh_token not in str(info.value) and refresh_token not in caplog.text


def test_failures_of_pages_fetched_ahead_are_retried_or_end_the_run(qbo_sandbox_factory, tmp_path, monkeypatch):
    # Several pages per stream: every query after the first is fetched ahead, on another thread,
    # while rows are written. Its transient failures are retried like any request, and a failure
    # that persists ends the run with the same error.
    import itertools

    from tap_quickbooks_online.client import QBOClient

    sandbox = qbo_sandbox_factory(realms=[RealmSpec(REALM, seed=3, transactions=6000)])
    config = make_config(sandbox, tmp_path)
    streams = ["invoices", "bills", "customers"]
    first = run_sync(config, streams=streams)
    assert sum(len(first.rows(s)) // 1000 + 1 for s in streams) > len(streams)

    query = QBOClient.query

    def fail_from_the_third_query(failures: int) -> None:
        calls = itertools.count(1)

        def failing(self: QBOClient, statement: str) -> dict:
            if next(calls) == 3:
                sandbox.faults.fail_next(failures, status=500)
                sandbox.faults.drop_connections(1)
            return query(self, statement)

        monkeypatch.setattr(QBOClient, "query", failing)

    fail_from_the_third_query(3)
    again = run_sync(config, streams=streams)  # no state: a full sync again
    for stream in streams:
        rows = again.rows(stream)
        assert len(rows) == len({r["id"] for r in rows}) == len(first.rows(stream)), stream

    fail_from_the_third_query(1000)
    with pytest.raises(RetriesExhausted, match=r"failed 2 times.*HTTP 500"):
        run_sync({**config, "max_retries": 2, "backoff_base_seconds": 0.01}, streams=streams)
    sandbox.faults.clear()
