"""Intuit OAuth 2.0 behaviour: code exchange, rotating refresh tokens with grace, expiry, revocation."""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import requests
from sandboxes.loopback_http import loopback_session
from sandboxes.qbo import QBOSandbox, RealmSpec
from sandboxes.qbo.client import SandboxClient
from sandboxes.qbo.fixtures import qbo_sandbox_factory_fixture, qbo_sandbox_fixture  # noqa: F401

REALM = "9130350000000001"


def token_call(sb: QBOSandbox, data: dict[str, str], auth: tuple[str, str] | None = None) -> requests.Response:
    return loopback_session().post(sb.token_url, data=data, auth=auth or (sb.client_id, sb.client_secret),
                          headers={"Accept": "application/json"}, timeout=10)


def refresh(sb: QBOSandbox, token: str) -> requests.Response:
    return token_call(sb, {"grant_type": "refresh_token", "refresh_token": token})


def small(factory: Callable[..., QBOSandbox], **kwargs: object) -> QBOSandbox:
    return factory(realms=[RealmSpec(REALM, transactions=20)], **kwargs)


def test_authorization_code_flow_through_authorize_url(qbo_sandbox_factory: Callable[..., QBOSandbox]) -> None:
    sb = small(qbo_sandbox_factory)
    redirect = "http://localhost:8765/callback"
    response = loopback_session().get(sb.authorize_url, params={
        "client_id": sb.client_id, "response_type": "code", "scope": "com.intuit.quickbooks.accounting",
        "redirect_uri": redirect, "state": "xyz"}, allow_redirects=False, timeout=10)
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert f"{location.scheme}://{location.netloc}{location.path}" == redirect
    assert query["state"] == "xyz" and query["realmId"] == REALM
    tokens = token_call(sb, {"grant_type": "authorization_code", "code": query["code"], "redirect_uri": redirect})
    assert tokens.status_code == 200
    body = tokens.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    assert body["x_refresh_token_expires_in"] > 0 and body["refresh_token"] and body["access_token"]
    again = token_call(sb, {"grant_type": "authorization_code", "code": query["code"], "redirect_uri": redirect})
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_wrong_client_secret_is_invalid_client(qbo_sandbox_factory: Callable[..., QBOSandbox]) -> None:
    sb = small(qbo_sandbox_factory)
    tokens = sb.issue_tokens(REALM)
    response = token_call(sb, {"grant_type": "refresh_token", "refresh_token": str(tokens["refresh_token"])},
                          auth=(sb.client_id, "wrong"))
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"


def test_refresh_rotates_and_old_token_dies_without_grace(qbo_sandbox_factory: Callable[..., QBOSandbox]) -> None:
    sb = small(qbo_sandbox_factory, refresh_grace=0.0)
    first = str(sb.issue_tokens(REALM)["refresh_token"])
    time.sleep(0.01)
    rotated = refresh(sb, first)
    assert rotated.status_code == 200
    second = rotated.json()["refresh_token"]
    assert second != first
    time.sleep(0.01)
    stale = refresh(sb, first)
    assert stale.status_code == 400 and stale.json() == {"error": "invalid_grant"}
    assert refresh(sb, second).status_code == 200


def test_previous_refresh_token_works_during_grace(qbo_sandbox_factory: Callable[..., QBOSandbox]) -> None:
    sb = small(qbo_sandbox_factory, refresh_grace=1.5)
    first = str(sb.issue_tokens(REALM)["refresh_token"])
    assert refresh(sb, first).status_code == 200
    assert refresh(sb, first).status_code == 200
    time.sleep(1.7)
    assert refresh(sb, first).status_code == 400


def test_expired_access_token_gets_intuit_401_body(qbo_sandbox_factory: Callable[..., QBOSandbox]) -> None:
    sb = small(qbo_sandbox_factory, access_token_ttl=1.0)
    client = SandboxClient(sb)
    assert client.query("select * from Term").status_code == 200
    time.sleep(1.1)
    response = client.query("select * from Term")
    assert response.status_code == 401
    error = response.json()["fault"]["error"][0]
    assert response.json()["fault"]["type"] == "AUTHENTICATION"
    assert error["message"] == "message=AuthenticationFailed; errorCode=003200; statusCode=401"
    assert error["code"] == "3200" and error["detail"].startswith("Token expired")
    assert response.headers["intuit_tid"]


def test_expire_access_tokens_mid_run_then_refresh_recovers(qbo_sandbox_factory: Callable[..., QBOSandbox]) -> None:
    sb = small(qbo_sandbox_factory)
    client = SandboxClient(sb)
    assert client.query("select * from Term").status_code == 200
    sb.faults.expire_access_tokens()
    assert client.query("select * from Term").status_code == 401
    renewed = refresh(sb, str(client.tokens["refresh_token"])).json()
    assert client.query("select * from Term", token=renewed["access_token"]).status_code == 200


def test_revoked_refresh_token_is_invalid_grant(qbo_sandbox_factory: Callable[..., QBOSandbox]) -> None:
    sb = small(qbo_sandbox_factory)
    tokens = sb.issue_tokens(REALM)
    revoke = loopback_session().post(sb.revoke_url, json={"token": tokens["refresh_token"]},
                            auth=(sb.client_id, sb.client_secret), timeout=10)
    assert revoke.status_code == 200
    assert refresh(sb, str(tokens["refresh_token"])).json()["error"] == "invalid_grant"
    client = SandboxClient(sb)
    assert client.query("select * from Term", token=str(tokens["access_token"])).status_code == 401


def test_token_for_another_realm_is_forbidden(qbo_sandbox_factory: Callable[..., QBOSandbox]) -> None:
    sb = qbo_sandbox_factory(realms=[RealmSpec(REALM, transactions=10), RealmSpec("9130350000000002", transactions=10)])
    other = sb.issue_tokens("9130350000000002")
    client = SandboxClient(sb, REALM)
    response = client.query("select * from Term", token=str(other["access_token"]))
    assert response.status_code == 403
    assert response.json()["fault"]["type"] == "AUTHORIZATION"


def test_missing_bearer_is_401(qbo_sandbox: QBOSandbox) -> None:
    response = loopback_session().get(f"{qbo_sandbox.api_url(REALM)}/query", params={"query": "select * from Term"},
                             headers={"Accept": "application/json"}, timeout=10)
    assert response.status_code == 401
    assert qbo_sandbox.stats().by_status[401] == 1


def test_refresh_token_expires_after_its_lifetime(qbo_sandbox_factory: Callable[..., QBOSandbox]) -> None:
    sb = small(qbo_sandbox_factory, refresh_token_ttl=0.3)
    tokens = sb.issue_tokens(REALM)
    assert tokens["x_refresh_token_expires_in"] == 0
    time.sleep(0.4)
    assert refresh(sb, str(tokens["refresh_token"])).json()["error"] == "invalid_grant"


def test_discovery_document_points_intuit_libraries_at_the_sandbox(qbo_sandbox: QBOSandbox) -> None:
    document = loopback_session().get(qbo_sandbox.discovery_url, timeout=10).json()
    assert document["token_endpoint"] == qbo_sandbox.token_url
    assert document["revocation_endpoint"] == qbo_sandbox.revoke_url
    assert document["authorization_endpoint"] == qbo_sandbox.authorize_url
    assert "client_secret_basic" in document["token_endpoint_auth_methods_supported"]
