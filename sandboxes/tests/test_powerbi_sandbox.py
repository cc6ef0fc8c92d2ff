"""The Power BI sandbox: Azure AD client credentials, swagger-validated push-dataset calls,
the documented push limits and token expiry."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
import requests
from sandboxes.loopback_http import loopback_session
from sandboxes.powerbi import PowerBISandbox, PushLimits, fixtures
from sandboxes.powerbi.azure_ad import POWERBI_SCOPE

TABLE = {"name": "invoices", "columns": [{"name": "id", "dataType": "String"},
                                         {"name": "total", "dataType": "Decimal"},
                                         {"name": "txn_date", "dataType": "DateTime"},
                                         {"name": "lines", "dataType": "Int64"}]}

powerbi_sandbox = fixtures.powerbi_sandbox


def _http(sandbox: PowerBISandbox) -> requests.Session:
    return loopback_session(sandbox.ca_file)


def _token(sandbox: PowerBISandbox, http: requests.Session, secret: str | None = None) -> requests.Response:
    return http.post(f"{sandbox.url}/{sandbox.tenant_id}/oauth2/v2.0/token", data={
        "grant_type": "client_credentials", "client_id": sandbox.client_id,
        "client_secret": secret or sandbox.client_secret, "scope": POWERBI_SCOPE}, timeout=10)


def _api(sandbox: PowerBISandbox) -> tuple[requests.Session, str]:
    http = _http(sandbox)
    http.headers["Authorization"] = "Bearer " + _token(sandbox, http).json()["access_token"]
    return http, f"{sandbox.url}/v1.0/myorg/groups/{sandbox.workspace_id}"


def _dataset(http: requests.Session, base: str, **query: str) -> str:
    response = http.post(f"{base}/datasets", params=query or None, timeout=10,
                         json={"name": "Q", "defaultMode": "Push", "tables": [TABLE]})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def test_openid_configuration_points_at_the_tenant_token_endpoint(powerbi_sandbox):
    body = _http(powerbi_sandbox).get(
        f"{powerbi_sandbox.url}/{powerbi_sandbox.tenant_id}/v2.0/.well-known/openid-configuration", timeout=10).json()
    assert body["token_endpoint"] == f"{powerbi_sandbox.url}/{powerbi_sandbox.tenant_id}/oauth2/v2.0/token"


def test_wrong_secret_is_refused_with_the_aadsts_code(powerbi_sandbox):
    response = _token(powerbi_sandbox, _http(powerbi_sandbox), secret="nope")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client" and 7000215 in response.json()["error_codes"]


def test_api_without_token_is_401_and_with_expired_token_403_token_expired(powerbi_sandbox):
    http, base = _api(powerbi_sandbox)
    assert _http(powerbi_sandbox).get(f"{base}/datasets", timeout=10).status_code == 401
    powerbi_sandbox.expire_tokens()
    response = http.get(f"{base}/datasets", timeout=10)
    assert response.status_code == 403 and response.json()["error"]["code"] == "TokenExpired"


def test_create_dataset_body_is_validated_against_the_swagger(powerbi_sandbox):
    http, base = _api(powerbi_sandbox)
    response = http.post(f"{base}/datasets", json={"name": "Q"}, timeout=10)
    assert response.status_code == 400 and "tables" in response.json()["error"]["message"]
    bad_type = {"name": "Q", "tables": [{"name": "t", "columns": [{"name": "a", "dataType": "Money"}]}]}
    assert http.post(f"{base}/datasets", json=bad_type, timeout=10).status_code == 400


def test_rows_are_type_checked_against_the_table_columns(powerbi_sandbox):
    http, base = _api(powerbi_sandbox)
    dataset = _dataset(http, base)
    ok = http.post(f"{base}/datasets/{dataset}/tables/invoices/rows", timeout=10, json={"rows": [
        {"id": "1", "total": 10.5, "txn_date": "2026-11-01T00:00:00-08:00", "lines": 2}]})
    assert ok.status_code == 200
    for bad in ({"lines": "two"}, {"txn_date": "yesterday"}, {"unknown": 1}, {"id": "x" * 4001}):
        response = http.post(f"{base}/datasets/{dataset}/tables/invoices/rows", json={"rows": [bad]}, timeout=10)
        assert response.status_code == 400, bad
    assert len(powerbi_sandbox.store.rows("Q", "invoices")) == 1


def test_more_than_10000_rows_in_one_post_is_rejected(powerbi_sandbox):
    http, base = _api(powerbi_sandbox)
    dataset = _dataset(http, base)
    response = http.post(f"{base}/datasets/{dataset}/tables/invoices/rows",
                         json={"rows": [{"id": str(i)} for i in range(10_001)]}, timeout=30)
    assert response.status_code == 400 and "10000" in response.json()["error"]["message"]


def test_post_rows_per_minute_limit_answers_429_with_retry_after(powerbi_sandbox):
    powerbi_sandbox.store.limits = PushLimits(post_requests_per_minute=2)
    http, base = _api(powerbi_sandbox)
    dataset = _dataset(http, base)
    statuses = [http.post(f"{base}/datasets/{dataset}/tables/invoices/rows", json={"rows": [{"id": "1"}]},
                          timeout=10) for _ in range(3)]
    assert [r.status_code for r in statuses] == [200, 200, 429]
    assert 1 <= int(statuses[2].headers["Retry-After"]) <= 60


def test_basic_fifo_keeps_only_the_newest_rows(powerbi_sandbox):
    powerbi_sandbox.store.limits = PushLimits(fifo_max_rows=3)
    http, base = _api(powerbi_sandbox)
    dataset = _dataset(http, base, defaultRetentionPolicy="basicFIFO")
    http.post(f"{base}/datasets/{dataset}/tables/invoices/rows", json={"rows": [{"id": str(i)} for i in range(5)]},
              timeout=10)
    assert [r["id"] for r in powerbi_sandbox.store.rows("Q", "invoices")] == ["2", "3", "4"]


def test_put_table_changes_columns_and_delete_rows_empties_the_table(powerbi_sandbox):
    http, base = _api(powerbi_sandbox)
    dataset = _dataset(http, base)
    http.post(f"{base}/datasets/{dataset}/tables/invoices/rows", json={"rows": [{"id": "1", "total": 2}]}, timeout=10)
    wider: dict[str, Any] = {"name": "invoices", "columns": [*TABLE["columns"], {"name": "memo", "dataType": "String"}]}
    assert http.put(f"{base}/datasets/{dataset}/tables/invoices", json=wider, timeout=10).status_code == 200
    columns = http.get(f"{base}/datasets/{dataset}/tables", timeout=10).json()["value"][0]["columns"]
    assert [c["name"] for c in columns][-1] == "memo"
    assert http.delete(f"{base}/datasets/{dataset}/tables/invoices/rows", timeout=10).status_code == 200
    assert powerbi_sandbox.store.rows("Q", "invoices") == []


def test_unknown_workspace_is_not_found(powerbi_sandbox):
    http, _ = _api(powerbi_sandbox)
    response = http.get(f"{powerbi_sandbox.url}/v1.0/myorg/groups/00000000-0000-0000-0000-000000000000/datasets",
                        timeout=10)
    assert response.status_code == 404


@pytest.mark.parametrize("fault", [{"status": 503}, {"status": 429, "headers": {"Retry-After": "7"}}])
def test_injected_faults_answer_once_then_clear(powerbi_sandbox, fault):
    http, base = _api(powerbi_sandbox)
    powerbi_sandbox.inject_fault(r"/datasets$", method="GET", **fault)
    first = http.get(f"{base}/datasets", timeout=10)
    assert first.status_code == fault["status"]
    assert first.headers.get("Retry-After") == fault.get("headers", {}).get("Retry-After")
    assert http.get(f"{base}/datasets", timeout=10).status_code == 200


def test_put_table_cannot_add_a_table_to_an_existing_dataset(powerbi_sandbox):
    http, base = _api(powerbi_sandbox)
    dataset = _dataset(http, base)
    new_table = {"name": "bills", "columns": [{"name": "id", "dataType": "String"}]}
    response = http.put(f"{base}/datasets/{dataset}/tables/bills", json=new_table, timeout=10)
    assert response.status_code == 404 and response.json()["error"]["code"] == "ItemNotFound"


def test_command_line_serves_with_the_given_identity_and_writes_its_ca(tmp_path):
    ca_copy = tmp_path / "ca.pem"
    proc = subprocess.Popen([sys.executable, "-m", "sandboxes.powerbi", "--workdir", str(tmp_path / "w"),
                             "--ca-out", str(ca_copy), "--workspace-id", "11111111-1111-4111-8111-111111111111",
                             "--tenant-id", "dev-tenant"], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        config = json.loads(proc.stdout.readline())
        http = loopback_session(ca_copy)
        response = http.get(f"{config['api_url']}/dev-tenant/v2.0/.well-known/openid-configuration", timeout=10)
        assert response.status_code == 200
        assert config["workspace_id"] == "11111111-1111-4111-8111-111111111111"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_decimal_values_are_stored_rounded_to_four_places_half_away_from_zero(powerbi_sandbox):
    http, base = _api(powerbi_sandbox)
    dataset = _dataset(http, base)
    response = http.post(f"{base}/datasets/{dataset}/tables/invoices/rows", timeout=10, data=json.dumps(
        {"rows": [{"id": "1", "total": 10.12345}, {"id": "2", "total": -2.00005}, {"id": "3", "total": 7}]}),
        headers={"Content-Type": "application/json"})
    assert response.status_code == 200
    stored = {r["id"]: str(r["total"]) for r in powerbi_sandbox.store.rows("Q", "invoices")}
    assert stored == {"1": "10.1235", "2": "-2.0001", "3": "7.0000"}


def test_relationships_must_join_existing_columns(powerbi_sandbox):
    http, base = _api(powerbi_sandbox)
    lines = {"name": "invoice_lines", "columns": [{"name": "invoice_id", "dataType": "String"}]}
    relationship = {"name": "lines to invoices", "fromTable": "invoice_lines", "fromColumn": "invoice_id",
                    "toTable": "invoices", "toColumn": "id"}
    ok = http.post(f"{base}/datasets", timeout=10,
                   json={"name": "R", "tables": [TABLE, lines], "relationships": [relationship]})
    assert ok.status_code == 201, ok.text
    (dataset,) = powerbi_sandbox.store.datasets_named("R")
    assert dataset.relationships == [relationship]
    wrong = {**relationship, "toColumn": "invoice_number"}
    refused = http.post(f"{base}/datasets", timeout=10,
                        json={"name": "R2", "tables": [TABLE, lines], "relationships": [wrong]})
    assert refused.status_code == 400 and "invoices.invoice_number does not exist" in refused.text


def test_the_workspace_lists_the_service_principal_by_the_object_id_its_token_names(powerbi_sandbox):
    import base64
    http, base = _api(powerbi_sandbox)
    token = http.headers["Authorization"].split()[1]
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["appid"] == powerbi_sandbox.client_id and claims["tid"] == powerbi_sandbox.tenant_id
    users = http.get(f"{base}/users", timeout=10).json()["value"]
    (app,) = [u for u in users if u["principalType"] == "App"]
    assert app["identifier"] == claims["oid"] and app["groupUserAccessRight"] == "Admin"


def test_groups_filtered_by_id_show_only_a_workspace_the_principal_belongs_to(powerbi_sandbox):
    http, _ = _api(powerbi_sandbox)
    groups = f"{powerbi_sandbox.url}/v1.0/myorg/groups"
    wanted = {"$filter": f"id eq '{powerbi_sandbox.workspace_id}'"}
    assert [g["id"] for g in http.get(groups, params=wanted, timeout=10).json()["value"]] == [powerbi_sandbox.workspace_id]
    other = {"$filter": "id eq '00000000-0000-4000-8000-000000000000'"}
    assert http.get(groups, params=other, timeout=10).json()["value"] == []
    powerbi_sandbox.set_principal_role(None)
    assert http.get(groups, params=wanted, timeout=10).json()["value"] == []
    assert http.get(f"{groups}/{powerbi_sandbox.workspace_id}/datasets", timeout=10).status_code == 404


def test_a_viewer_may_read_but_not_create_datasets_or_push(powerbi_sandbox):
    http, base = _api(powerbi_sandbox)
    dataset = _dataset(http, base)
    powerbi_sandbox.set_principal_role("Viewer")
    assert http.get(f"{base}/datasets", timeout=10).status_code == 200
    refused = http.post(f"{base}/datasets/{dataset}/tables/invoices/rows", json={"rows": [{"id": "1"}]}, timeout=10)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "PowerBINotAuthorizedException"
    assert http.post(f"{base}/datasets", json={"name": "Q2", "defaultMode": "Push", "tables": [TABLE]},
                     timeout=10).status_code == 401
    powerbi_sandbox.set_principal_role("Contributor")
    assert http.post(f"{base}/datasets/{dataset}/tables/invoices/rows", json={"rows": [{"id": "1"}]},
                     timeout=10).status_code == 200
