"""The Looker sandbox behaves as Looker documents and checks bodies against the 4.0 spec."""

from __future__ import annotations

import typing as t

import pytest
import requests
from sandboxes.looker import LookerSandbox
from sandboxes.looker.fixtures import looker_sandbox  # noqa: F401


def _session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    return session


def _login(sandbox: LookerSandbox, http: requests.Session) -> dict[str, str]:
    response = http.post(
        f"{sandbox.base_url}/api/4.0/login",
        data={"client_id": sandbox.client_id, "client_secret": sandbox.client_secret},
        timeout=10,
    )
    assert response.status_code == 200
    body: dict[str, t.Any] = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == sandbox.token_ttl
    return {"Authorization": f"token {body['access_token']}"}


def test_login_with_wrong_secret_is_not_found(looker_sandbox: LookerSandbox) -> None:  # noqa: F811
    response = _session().post(
        f"{looker_sandbox.base_url}/api/4.0/login",
        data={"client_id": looker_sandbox.client_id, "client_secret": "wrong"},
        timeout=10,
    )
    assert response.status_code == 404
    assert set(response.json()) == {"message", "documentation_url"}


def test_calls_without_a_valid_token_get_401(looker_sandbox: LookerSandbox) -> None:  # noqa: F811
    http = _session()
    assert http.get(f"{looker_sandbox.base_url}/api/4.0/session", timeout=10).status_code == 401
    headers = _login(looker_sandbox, http)
    assert http.get(f"{looker_sandbox.base_url}/api/4.0/session", headers=headers, timeout=10).status_code == 200
    looker_sandbox.expire_tokens()
    assert http.get(f"{looker_sandbox.base_url}/api/4.0/session", headers=headers, timeout=10).status_code == 401


def test_body_that_breaks_the_spec_gets_422_and_is_recorded(looker_sandbox: LookerSandbox) -> None:  # noqa: F811
    http = _session()
    headers = _login(looker_sandbox, http)
    url = f"{looker_sandbox.base_url}/api/4.0/datagroups/1"
    wrong_type = http.patch(url, json={"stale_before": "yesterday"}, headers=headers, timeout=10)
    read_only = http.patch(url, json={"name": "renamed"}, headers=headers, timeout=10)
    assert (wrong_type.status_code, read_only.status_code) == (422, 422)
    assert "readOnly" in read_only.json()["errors"][0]["message"]
    assert len(looker_sandbox.violations) == 2


def test_query_parameters_the_spec_does_not_declare_or_type_so_get_400_and_are_recorded(
    looker_sandbox: LookerSandbox,  # noqa: F811
) -> None:
    http = _session()
    headers = _login(looker_sandbox, http)
    url = f"{looker_sandbox.base_url}/api/4.0/scheduled_plans"
    for params, problem in (({"owner": "me"}, "owner: is not a query parameter of all_scheduled_plans"),
                            ({"all_users": "yes"}, "all_users: 'yes' is not boolean")):
        refused = http.get(url, params=params, headers=headers, timeout=10)
        assert refused.status_code == 400 and problem in refused.json()["message"], params
    search = f"{url}/search"
    assert http.get(search, params={"limit": "ten"}, headers=headers, timeout=10).status_code == 400
    assert len(looker_sandbox.violations) == 3
    for params in ({"all_users": "true", "fields": "id,name"}, {}):
        assert http.get(url, params=params, headers=headers, timeout=10).status_code == 200, params
    assert http.get(search, params={"limit": "10", "name": "x"}, headers=headers, timeout=10).status_code == 200
    assert len(looker_sandbox.violations) == 3


def test_deploy_requires_dev_mode(looker_sandbox: LookerSandbox) -> None:  # noqa: F811
    http = _session()
    headers = _login(looker_sandbox, http)
    base = looker_sandbox.base_url
    assert http.post(f"{base}/api/4.0/projects/quickbooks/deploy_to_production", headers=headers, timeout=10).status_code == 422
    assert http.patch(f"{base}/api/4.0/session", json={"workspace_id": "dev"}, headers=headers, timeout=10).status_code == 200
    assert http.post(f"{base}/api/4.0/projects/quickbooks/deploy_to_production", headers=headers, timeout=10).status_code == 204
    assert looker_sandbox.projects["quickbooks"]["deployed"] == 1
    assert looker_sandbox.violations == []


def test_injected_rate_limit_carries_retry_after(looker_sandbox: LookerSandbox) -> None:  # noqa: F811
    http = _session()
    headers = _login(looker_sandbox, http)
    looker_sandbox.fail_next("all_datagroups", 429, retry_after=3)
    first = http.get(f"{looker_sandbox.base_url}/api/4.0/datagroups", headers=headers, timeout=10)
    second = http.get(f"{looker_sandbox.base_url}/api/4.0/datagroups", headers=headers, timeout=10)
    assert (first.status_code, first.headers["Retry-After"], second.status_code) == (429, "3", 200)
    assert second.json()[0]["name"] == "quickbooks_etl"


def test_future_stale_before_is_refused(looker_sandbox: LookerSandbox) -> None:  # noqa: F811
    import time

    http = _session()
    headers = _login(looker_sandbox, http)
    response = http.patch(f"{looker_sandbox.base_url}/api/4.0/datagroups/1",
                          json={"stale_before": int(time.time()) + 3600}, headers=headers, timeout=10)
    assert response.status_code == 422


@pytest.mark.parametrize("path", ["/api/4.0/nope", "/other"])
def test_unknown_paths_are_not_found(looker_sandbox: LookerSandbox, path: str) -> None:  # noqa: F811
    assert _session().get(f"{looker_sandbox.base_url}{path}", timeout=10).status_code == 404


def test_scheduled_plans_follow_the_documented_rules_and_hide_secret_parameters() -> None:
    with LookerSandbox(dashboards=(("7", "Board"),)) as sandbox:
        http = _session()
        headers = _login(sandbox, http)
        plan = {"name": "Board", "dashboard_id": "7", "crontab": "0 6 * * *",
                "scheduled_plan_destination": [{"type": "s3", "address": "s3://b/f", "format": "csv_zip",
                                                "parameters": '{"region": "eu-west-1"}',
                                                "secret_parameters": '{"secret_access_key": "k"}'}]}
        for broken, field in (({"dashboard_id": "8"}, "dashboard_id"), ({"crontab": None}, "crontab"),
                              ({"scheduled_plan_destination": []}, "scheduled_plan_destination")):
            refused = http.post(f"{sandbox.base_url}/api/4.0/scheduled_plans", json={**plan, **broken},
                                headers=headers, timeout=10)
            assert refused.status_code == 422 and field in {e["field"] for e in refused.json()["errors"]}, broken
        created = http.post(f"{sandbox.base_url}/api/4.0/scheduled_plans", json=plan, headers=headers, timeout=10)
        assert created.status_code == 200
        body = created.json()
        assert "secret_parameters" not in body["scheduled_plan_destination"][0]
        assert sandbox.plan_secrets[body["id"]] == ['{"secret_access_key": "k"}']
        del sandbox.dashboards["7"]
        # A plan whose dashboard is gone may be disabled, not re-enabled.
        plan_url = f"{sandbox.base_url}/api/4.0/scheduled_plans/{body['id']}"
        assert http.patch(plan_url, json={"enabled": False}, headers=headers, timeout=10).status_code == 200
        assert http.patch(plan_url, json={"enabled": True}, headers=headers, timeout=10).status_code == 422
        found = http.get(f"{sandbox.base_url}/api/4.0/scheduled_plans/search", params={"name": "Board"},
                         headers=headers, timeout=10)
        assert [p["enabled"] for p in found.json()] == [False]
        assert sandbox.violations == []


def test_deploying_a_project_publishes_the_lookml_dashboards_of_its_remote(tmp_path: t.Any) -> None:
    (tmp_path / "dashboards").mkdir()
    (tmp_path / "quickbooks.model.lkml").write_text('connection: "warehouse"\n')
    aging = tmp_path / "dashboards" / "ap_aging.dashboard.lookml"
    aging.write_text("- dashboard: ap_aging\n  title: AP aging\n  elements: []\n")
    (tmp_path / "dashboards" / "cash.dashboard.lookml").write_text("- dashboard: cash\n  title: Cash\n")
    with LookerSandbox(project_remotes={"quickbooks": tmp_path}) as sandbox:
        http = _session()
        headers = _login(sandbox, http)
        api = f"{sandbox.base_url}/api/4.0"

        def deploy() -> None:
            http.patch(f"{api}/session", json={"workspace_id": "dev"}, headers=headers, timeout=10)
            assert http.post(f"{api}/projects/quickbooks/deploy_to_production", headers=headers,
                             timeout=10).status_code == 204

        assert http.get(f"{api}/dashboards/quickbooks::ap_aging", headers=headers, timeout=10).status_code == 404
        deploy()
        shown = http.get(f"{api}/dashboards/quickbooks::ap_aging", headers=headers, timeout=10)
        assert shown.status_code == 200 and shown.json()["title"] == "AP aging"
        aging.unlink()
        deploy()
        assert http.get(f"{api}/dashboards/quickbooks::ap_aging", headers=headers, timeout=10).status_code == 404
        assert http.get(f"{api}/dashboards/quickbooks::cash", headers=headers, timeout=10).status_code == 200
        assert sandbox.violations == []
