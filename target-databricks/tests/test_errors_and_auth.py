"""What the warehouse's errors mean (errors.classify), why a connection fails, and OAuth
token renewal; no warehouse needed."""

from __future__ import annotations

import socket

import pytest
from qbc_plugin_kit.failures import Kind, RecordRefused
from target_databricks.auth import AuthenticationError, ClientCredentialsToken
from target_databricks.config import DatabricksSettings
from target_databricks.connector import diagnose_connection
from target_databricks.errors import (
    ConnectFailed,
    TableValidationError,
    classify,
    is_transient,
    is_unauthorized,
)

CONFIG = DatabricksSettings(server_hostname="adb-1.azuredatabricks.net", http_path="/sql/1.0/warehouses/abc",
                            catalog="main")


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
    assert classify(RuntimeError(message), CONFIG).kind is Kind.TRANSIENT


def test_a_401_inside_an_operation_id_is_not_an_auth_failure():
    # Spark quotes query ids in its errors; a missing table must not end the run as a 401.
    missing = RuntimeError("[TABLE_OR_VIEW_NOT_FOUND] The table `main`.`qb`.`payments` cannot be "
                           "found. SQLSTATE: 42P01; operation 3f1a4015-c401b-9e27-1429bb92ad43")
    assert not is_unauthorized(missing)
    assert is_unauthorized(RuntimeError("Error during request to server: 401 Unauthorized"))
    assert is_unauthorized(RuntimeError("HTTP Response with status code 401"))


@pytest.mark.parametrize(
    ("error", "setting"),
    [
        (AuthenticationError("the warehouse rejected the access token (HTTP 401)"), "access_token"),
        (RuntimeError("HTTP 401 Unauthorized"), "access_token"),
        (ConnectFailed("RequestError: Error during request to server. 404"), "http_path"),
        (ConnectFailed("nothing accepts connections at h:443 (connection refused)"), "server_hostname"),
        (ConnectFailed("the name 'x' does not resolve: name or service not known"), "server_hostname"),
        (ConnectFailed("not trusted (self-signed certificate): certificate verify failed"), "ca_bundle"),
        (RuntimeError("[NO_SUCH_CATALOG_EXCEPTION] Catalog 'mian' was not found"), "catalog"),
        (RuntimeError("[INSUFFICIENT_PERMISSIONS] User does not have MODIFY on Table"), "catalog/default_target_schema"),
        (TableValidationError("table `t`: column `a` is DOUBLE"), "default_target_schema"),
    ],
)
def test_systemic_failures_name_the_setting_to_change(error, setting):
    verdict = classify(error, CONFIG)
    assert verdict.kind is Kind.SYSTEMIC
    assert setting in (verdict.fix or "")


def test_a_statement_the_warehouse_refuses_for_unknown_reasons_is_isolated_not_retried():
    error = RuntimeError("[CAST_INVALID_INPUT] The value 'x' of the type \"STRING\" cannot be "
                         "cast to \"DECIMAL(38,10)\"\n== SQL(line 1) ==\nat org.apache.spark...")
    verdict = classify(error, CONFIG)
    assert verdict.kind is Kind.REFUSED
    assert verdict.message.startswith("[CAST_INVALID_INPUT]") and "org.apache" not in verdict.message
    assert classify(RecordRefused("column `a`: too long"), CONFIG).kind is Kind.DATA
    table_gone = RuntimeError("[TABLE_OR_VIEW_NOT_FOUND] The table or view `main`.`qb`.`t` cannot be "
                              "found. Verify the spelling and correctness of the schema and catalog.")
    assert classify(table_gone, CONFIG).kind is Kind.REFUSED


def test_a_failed_connection_is_diagnosed_as_refused_when_nothing_listens():
    with socket.socket() as bound:
        bound.bind(("127.0.0.1", 0))
        # bound but not listening: the port refuses connections
        cause = diagnose_connection("127.0.0.1", bound.getsockname()[1], None)
    assert cause is not None and "connection refused" in cause
    assert classify(ConnectFailed(cause), CONFIG).kind is Kind.SYSTEMIC


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
