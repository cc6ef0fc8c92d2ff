"""Looker API 4.0 flow against the sandbox: login, validate, deploy, datagroup reset, faults."""

from __future__ import annotations

import datetime as dt
import logging
import typing as t

import pytest
from qbc_plugin_kit.failures import SystemicFailure
from sandboxes.looker import LookerSandbox
from sandboxes.looker.fixtures import looker_sandbox  # noqa: F401
from target_looker_warehouse import looker_client
from target_looker_warehouse.looker_deploy import LookMLValidationError, deploy_after_load

from tests.qb_records import QuickBooksData, singer_lines
from tests.target_runner import run_target

FLOW = ["login", "update_session", "reset_project_to_remote", "validate_project", "deploy_to_production",
        "update_session", "all_datagroups", "update_datagroup", "logout"]
LOG = logging.getLogger("test")


@pytest.fixture(autouse=True)
def _no_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    slept: list[float] = []
    monkeypatch.setattr(looker_client.time, "sleep", slept.append)
    return slept


def _config(sandbox: LookerSandbox) -> dict[str, t.Any]:
    return {
        "looker_api_enabled": True,
        "looker_base_url": sandbox.base_url,
        "looker_client_id": sandbox.client_id,
        "looker_client_secret": sandbox.client_secret,
        "looker_project_id": "quickbooks",
        "lookml_model": "quickbooks",
    }


def test_load_validates_deploys_and_resets_the_datagroup(
    looker_sandbox: LookerSandbox, duckdb_config: dict[str, t.Any]  # noqa: F811
) -> None:
    config = {**duckdb_config, **_config(looker_sandbox)}
    target, _ = run_target(config, singer_lines(QuickBooksData(invoices=3, bills=3, journals=1).records))
    # The run logs in (and out) once before loading: a wrong key stops it before any STATE.
    assert looker_sandbox.operations() == ["login", "logout", *FLOW]
    assert looker_sandbox.projects["quickbooks"] == {"reset": 1, "validated": 1, "deployed": 1}
    datagroup = looker_sandbox.datagroups["1"]
    assert datagroup["stale_before"] is not None
    assert abs(datagroup["stale_before"] - dt.datetime.now().timestamp()) < 60
    assert target.after_load_report["looker"]["datagroups_reset"] == ["quickbooks_etl"]
    assert looker_sandbox.violations == []


def test_expired_token_is_renewed_once_and_the_call_repeated(looker_sandbox: LookerSandbox) -> None:  # noqa: F811
    sdk = looker_client.build_sdk(_config(looker_sandbox))
    sdk.session()
    looker_sandbox.expire_tokens()
    assert sdk.session().workspace_id == "production"
    assert looker_sandbox.logins == 2
    assert [c.status for c in looker_sandbox.calls] == [200, 200, 401, 200, 200]
    assert looker_sandbox.violations == []


def test_token_is_renewed_before_the_hour_runs_out(looker_sandbox: LookerSandbox) -> None:  # noqa: F811
    sdk = looker_client.build_sdk(_config(looker_sandbox))
    sdk.session()
    remaining = (sdk.auth.token.expires_at - dt.datetime.now()).total_seconds()
    assert 3290 < remaining <= 3300
    sdk.auth.token.expires_at = dt.datetime.now() - dt.timedelta(seconds=1)
    sdk.session()
    assert looker_sandbox.logins == 2
    assert 401 not in [c.status for c in looker_sandbox.calls]


def test_rate_limit_and_server_errors_are_retried(looker_sandbox: LookerSandbox, _no_sleep: list[float]) -> None:  # noqa: F811
    looker_sandbox.fail_next("validate_project", 429, retry_after=7)
    looker_sandbox.fail_next("deploy_to_production", 503, times=2)
    report = deploy_after_load(_config(looker_sandbox), LOG)
    assert report["deployed"] is True
    assert looker_sandbox.projects["quickbooks"]["deployed"] == 1
    assert max(_no_sleep) >= 7, "Retry-After is honoured"
    assert len(_no_sleep) == 3
    assert looker_sandbox.violations == []


def test_persistent_server_error_fails_with_a_clear_message(looker_sandbox: LookerSandbox) -> None:  # noqa: F811
    looker_sandbox.fail_next("deploy_to_production", 500, times=10)
    with pytest.raises(RuntimeError, match="Looker API call failed"):
        deploy_after_load(_config(looker_sandbox), LOG)
    assert looker_sandbox.projects["quickbooks"]["deployed"] == 0


def test_lookml_errors_block_the_deploy(looker_sandbox: LookerSandbox) -> None:  # noqa: F811
    looker_sandbox.project_errors = [{"code": "e1", "severity": "error", "kind": "syntax",
                                      "message": "Unknown field", "file_path": "views/x.view.lkml",
                                      "line_number": 3}]
    with pytest.raises(LookMLValidationError, match=r"views/x\.view\.lkml:3 Unknown field"):
        deploy_after_load(_config(looker_sandbox), LOG)
    assert looker_sandbox.projects["quickbooks"]["deployed"] == 0


def test_wrong_credentials_fail_without_showing_the_secret(looker_sandbox: LookerSandbox) -> None:  # noqa: F811
    config = {**_config(looker_sandbox), "looker_client_secret": "not-the-secret-1234"}
    with pytest.raises(SystemicFailure) as failure:
        deploy_after_load(config, LOG)
    assert str(failure.value).startswith(
        "Looker refused the API credentials (looker_client_id/looker_client_secret)")
    assert "not-the-secret-1234" not in str(failure.value)
    assert "not-the-secret-1234" not in repr(looker_client.build_sdk(config).auth.settings)


def test_tls_sandbox_with_private_ca_bundle(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/nonexistent/ca.pem")
    with LookerSandbox(tls=True) as sandbox:
        config = {**_config(sandbox), "looker_ca_bundle": sandbox.ca_file}
        report = deploy_after_load(config, LOG)
        assert report["deployed"] is True
        assert sandbox.violations == []
