"""Retry classification and backoff, OAuth token renewal, and the dead-letter store."""

from __future__ import annotations

import logging
import random
from decimal import Decimal

import pytest
from target_databricks.auth import AuthenticationError, ClientCredentialsToken
from target_databricks.cli import singer_messages
from target_databricks.dead_letters import DeadLetterStore
from target_databricks.retry import RetryPolicy, call_with_retry, is_transient, is_unauthorized

LOG = logging.getLogger("test")


@pytest.mark.parametrize(
    "message",
    [
        "RequestError: Error during request to server: 503 TEMPORARILY_UNAVAILABLE",
        "HTTP 429 Too Many Requests",
        "ConnectionResetError: [Errno 104] Connection reset by peer",
        "ServerOperationError: [DELTA_CONCURRENT_APPEND] ConcurrentAppendException",
    ],
)
def test_transient_failures_are_retried(message):
    assert is_transient(RuntimeError(message))


@pytest.mark.parametrize(
    "exc",
    [
        RuntimeError("[PARSE_SYNTAX_ERROR] Syntax error at or near 'MERGE'"),
        RuntimeError("HTTP 401 Unauthorized"),
        AuthenticationError("bad secret"),
    ],
)
def test_sql_and_auth_failures_fail_fast(exc):
    assert not is_transient(exc)


def test_a_401_inside_an_operation_id_is_not_an_auth_failure():
    # Spark quotes query ids in its errors; a missing table must not end the run as a 401.
    missing = RuntimeError("[TABLE_OR_VIEW_NOT_FOUND] The table `main`.`qb`.`payments` cannot be "
                           "found. SQLSTATE: 42P01; operation 3f1a4015-c401b-9e27-1429bb92ad43")
    assert not is_unauthorized(missing)
    assert is_unauthorized(RuntimeError("Error during request to server: 401 Unauthorized"))
    assert is_unauthorized(RuntimeError("HTTP Response with status code 401"))


def test_backoff_is_jittered_and_capped():
    policy = RetryPolicy(attempts=5, base_delay=1.0, max_delay=4.0)
    rng = random.Random(7)
    delays = [policy.delay(a, rng) for a in range(6) for _ in range(50)]
    assert max(delays) <= 4.0
    assert len({round(d, 6) for d in delays}) > 100


def test_retry_stops_after_the_allowed_attempts():
    calls = []

    def always_busy():
        calls.append(1)
        raise RuntimeError("503 warehouse starting")

    with pytest.raises(RuntimeError):
        call_with_retry(always_busy, RetryPolicy(attempts=3), what="x", logger=LOG,
                        sleep=lambda _: None)
    assert len(calls) == 3


def test_retry_returns_once_the_failure_clears():
    outcomes = iter([RuntimeError("Connection reset by peer"), "ok"])

    def flaky():
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    assert call_with_retry(flaky, RetryPolicy(), what="x", logger=LOG,
                           sleep=lambda _: None) == "ok"


def test_permanent_error_is_not_retried():
    calls = []

    def bad_sql():
        calls.append(1)
        raise RuntimeError("[UNRESOLVED_COLUMN] cannot resolve `x`")

    with pytest.raises(RuntimeError):
        call_with_retry(bad_sql, RetryPolicy(attempts=5), what="x", logger=LOG,
                        sleep=lambda _: None)
    assert len(calls) == 1


class _Response:
    def __init__(self, status, body):
        self.status_code, self._body = status, body

    def json(self):
        return self._body

    def raise_for_status(self):
        if self.status_code >= 400:
            raise RuntimeError(self.status_code)


class _TokenEndpoint:
    def __init__(self, status=200):
        self.status, self.posts = status, []

    def post(self, url, data, auth, verify, timeout):
        self.posts.append((url, data, auth, verify))
        return _Response(self.status, {"access_token": f"tok{len(self.posts)}",
                                       "expires_in": 3600})


def test_oauth_token_is_reused_then_renewed_before_its_hour_ends():
    now = [1000.0]
    endpoint = _TokenEndpoint()
    token = ClientCredentialsToken("https://h/oidc/v1/token", "sp", "secret",
                                   clock=lambda: now[0], session=endpoint, verify="/ca.pem")
    assert token.access_token() == "tok1"
    now[0] += 3000  # 50 minutes: still valid
    assert token.access_token() == "tok1"
    now[0] += 400  # 56 minutes: inside the renewal margin
    assert token.access_token() == "tok2"
    _url, data, auth, verify = endpoint.posts[0]
    assert data == {"grant_type": "client_credentials", "scope": "all-apis"}
    assert auth == ("sp", "secret") and verify == "/ca.pem"


def test_oauth_token_is_fetched_again_after_invalidation():
    endpoint = _TokenEndpoint()
    token = ClientCredentialsToken("https://h/t", "sp", "s", session=endpoint)
    token.access_token()
    token.invalidate()
    assert token.access_token() == "tok2"


def test_refused_client_credentials_raise_without_the_secret():
    token = ClientCredentialsToken("https://h/t", "sp", "s3cr3t", session=_TokenEndpoint(401))
    with pytest.raises(AuthenticationError) as info:
        token.access_token()
    assert "s3cr3t" not in str(info.value)
    assert "'sp'" in str(info.value)


def test_dead_letter_round_trips_money_and_rebuilds_singer_messages(tmp_path):
    store = DeadLetterStore(tmp_path / "dl")
    schema = {"properties": {"id": {"type": "string"}, "amount": {"type": "number"}}}
    path = store.write("invoices", schema, ["id"],
                       [{"id": "1", "amount": Decimal("0.1000000001"),
                         "_sdc_extracted_at": "2026-11-02T10:00:00+00:00",
                         "_sdc_received_at": "x"}],
                       "TableValidationError: column `amount` is DOUBLE")
    assert store.list() == [path]
    letter = store.read(path)
    assert letter.records[0]["amount"] == Decimal("0.1000000001")
    assert "DOUBLE" in letter.error
    lines = singer_messages(letter).splitlines()
    assert '"type":"SCHEMA"' in lines[0]
    assert '"amount":0.1000000001' in lines[1]
    assert "_sdc_received_at" not in lines[1]
    assert '"time_extracted":"2026-11-02T10:00:00+00:00"' in lines[1]
    assert not list((tmp_path / "dl").glob("*.tmp"))
