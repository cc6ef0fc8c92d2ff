"""Tokens, service principals, the OAuth token endpoint's answers, armed faults and the cached
engine jar: everything of the Databricks sandbox that runs without a JVM."""

from __future__ import annotations

import base64
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from sandboxes.databricks import workspace_endpoints
from sandboxes.databricks.credentials import CredentialStore
from sandboxes.databricks.engine_jars import (
    EngineSetupError,
    _merge_for_relocation,
    find_jarjar,
    prepare_jars,
)
from sandboxes.databricks.faults import Faults


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def test_personal_token_is_accepted_until_expired() -> None:
    store = CredentialStore(["dapi-one"])
    assert store.is_valid("dapi-one") and not store.is_valid("dapi-two")
    store.expire_all()
    assert not store.is_valid("dapi-one")
    with pytest.raises(LookupError):
        _ = store.personal_token


def test_rotation_revokes_every_earlier_token() -> None:
    store = CredentialStore(["dapi-old"])
    issued = store.issue_oauth_token().access_token
    new = store.rotate_personal_token()
    assert store.is_valid(new)
    assert not store.is_valid("dapi-old") and not store.is_valid(issued)
    assert store.personal_token == new


def test_oauth_token_dies_when_its_lifetime_ends() -> None:
    store = CredentialStore()
    store.oauth_lifetime_s = 0
    assert not store.is_valid(store.issue_oauth_token().access_token)
    store.oauth_lifetime_s = 3600
    assert store.is_valid(store.issue_oauth_token().access_token)


def test_token_endpoint_issues_bearer_tokens_to_a_known_client() -> None:
    store = CredentialStore()
    client_id, secret = store.add_client()
    reply = workspace_endpoints.token(
        store, basic(client_id, secret), b"grant_type=client_credentials&scope=all-apis"
    )
    assert reply.status == 200
    assert reply.payload["token_type"] == "Bearer" and reply.payload["expires_in"] == 3600
    assert store.is_valid(str(reply.payload["access_token"]))


def test_token_endpoint_accepts_client_credentials_in_the_form() -> None:
    store = CredentialStore()
    client_id, secret = store.add_client()
    body = f"grant_type=client_credentials&client_id={client_id}&client_secret={secret}".encode()
    assert workspace_endpoints.token(store, "", body).status == 200


@pytest.mark.parametrize(
    ("authorization", "body", "status", "error"),
    [
        (None, b"grant_type=client_credentials", 401, "invalid_client"),
        ("wrong", b"grant_type=client_credentials", 401, "invalid_client"),
        ("good", b"grant_type=password", 400, "unsupported_grant_type"),
    ],
)
def test_token_endpoint_refuses_bad_requests(
    authorization: str | None, body: bytes, status: int, error: str
) -> None:
    store = CredentialStore()
    client_id, secret = store.add_client()
    header = {None: "", "wrong": basic(client_id, "nope"), "good": basic(client_id, secret)}[authorization]
    reply = workspace_endpoints.token(store, header, body)
    assert (reply.status, reply.payload["error"]) == (status, error)


def test_discovery_points_the_sdk_at_this_hosts_token_endpoint() -> None:
    reply = workspace_endpoints.discovery("https://127.0.0.1:9", "/oidc/.well-known/oauth-authorization-server")
    assert reply is not None
    assert reply.payload["token_endpoint"] == "https://127.0.0.1:9/oidc/v1/token"
    assert workspace_endpoints.discovery("https://127.0.0.1:9", "/elsewhere") is None


def test_faults_fire_exactly_n_times_and_only_where_aimed() -> None:
    faults = Faults(CredentialStore())
    faults.fail_next(2, http_status=429, retry_after=3, method="ExecuteStatement")
    assert faults.verdict("warehouse", "OpenSession") is None
    assert faults.verdict("token", "ExecuteStatement") is None
    first = faults.verdict("warehouse", "ExecuteStatement")
    assert first is not None and (first.http_status, first.retry_after) == (429, 3)
    assert faults.verdict("warehouse", "ExecuteStatement") is not None
    assert faults.verdict("warehouse", "ExecuteStatement") is None
    assert faults.count("faults.failed") == 2


def test_drop_faults_are_served_in_arming_order() -> None:
    faults = Faults(CredentialStore())
    faults.drop_next(1)
    faults.fail_next(1, http_status=503)
    first, second = faults.verdict("warehouse", "X"), faults.verdict("warehouse", "X")
    assert first is not None and first.drop
    assert second is not None and second.http_status == 503
    with pytest.raises(ValueError):
        faults.drop_next(0)


def test_multi_release_and_module_entries_are_left_out_before_relocation(tmp_path: Path) -> None:
    source = tmp_path / "in.jar"
    with zipfile.ZipFile(source, "w") as jar:
        jar.writestr("com/fasterxml/jackson/core/A.class", b"a")
        jar.writestr("META-INF/versions/11/com/fasterxml/jackson/core/A.class", b"a11")
        jar.writestr("META-INF/versions/9/module-info.class", b"m")
        jar.writestr("module-info.class", b"m")
    merged = tmp_path / "merged.jar"
    _merge_for_relocation([source, source], merged)
    with zipfile.ZipFile(merged) as jar:
        assert jar.namelist() == ["com/fasterxml/jackson/core/A.class"]


def test_prepared_jar_holds_jackson_under_icebergs_shaded_package(tmp_path: Path) -> None:
    try:
        find_jarjar()
    except EngineSetupError as exc:
        pytest.skip(str(exc))
    jars = prepare_jars(tmp_path)
    with zipfile.ZipFile(jars.shaded_jackson) as jar:
        names = jar.namelist()
    assert "org/apache/iceberg/shaded/com/fasterxml/jackson/databind/ObjectMapper.class" in names
    assert not [n for n in names if n.startswith("com/fasterxml/")]
    again = prepare_jars(tmp_path)
    assert again.shaded_jackson.stat().st_mtime_ns == jars.shaded_jackson.stat().st_mtime_ns


def test_cli_prepare_builds_the_jar_and_names_it(tmp_path: Path) -> None:
    try:
        find_jarjar()
    except EngineSetupError as exc:
        pytest.skip(str(exc))
    result = subprocess.run(
        [sys.executable, "-m", "sandboxes.databricks", "--prepare", "--cache-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert str(tmp_path) in result.stdout
    assert list(tmp_path.glob("iceberg-shaded-jackson-*.jar"))
