"""Looker Scheduled Plans after a load, against the sandbox that checks every body against the
Looker 4.0 OpenAPI file and create_scheduled_plan's documented rules."""

from __future__ import annotations

import json
import logging
import typing as t
from collections.abc import Iterator

import pytest
from sandboxes.looker import LookerSandbox
from singer_sdk.exceptions import ConfigValidationError
from target_looker_warehouse import looker_client
from target_looker_warehouse.looker_deploy import deploy_after_load
from target_looker_warehouse.scheduled_plans import ScheduledPlanError
from target_looker_warehouse.target import TargetLookerWarehouse

from tests.qb_records import QuickBooksData, singer_lines
from tests.target_runner import run_target

LOG = logging.getLogger("test")
GENERATED = (("quickbooks::ap_aging", "AP aging by vendor"), ("quickbooks::ar_aging", "AR aging"),
             ("quickbooks::cash", "Cash"))


@pytest.fixture(autouse=True)
def _no_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(looker_client.time, "sleep", lambda _: None)


@pytest.fixture
def looker() -> Iterator[LookerSandbox]:
    with LookerSandbox(dashboards=(*GENERATED, ("17", "Board pack")), looks=(("5", "Open bills"),)) as sandbox:
        yield sandbox


def _plans() -> list[dict[str, t.Any]]:
    return [
        {"name": "AP aging to finance", "lookml_dashboard": "ap_aging", "crontab": "0 6 * * 1-5",
         "timezone": "Europe/Paris",
         "destinations": [
             {"type": "email", "address": "ap@example.com"},
             {"type": "s3", "address": "s3://finance-drop/aging", "format": "csv_zip",
              "parameters": {"access_key_id": "AKIAEXAMPLE", "region": "eu-west-1"}, "secret": "finance_s3"},
         ]},
        {"name": "Board pack monthly", "dashboard_id": "17", "crontab": "0 7 1 * *",
         "destinations": [{"type": "sftp", "address": "sftp://files.example.com/board",
                           "parameters": {"username": "looker"}, "secret": "board_sftp"}]},
        {"name": "Open bills hook", "look_id": "5", "crontab": "*/30 * * * *",
         "destinations": [{"type": "webhook", "address": "https://hooks.example.com/looker"}]},
    ]


def _config(sandbox: LookerSandbox, plans: list[dict[str, t.Any]]) -> dict[str, t.Any]:
    return {"looker_api_enabled": True, "looker_base_url": sandbox.base_url, "looker_client_id": sandbox.client_id,
            "looker_client_secret": sandbox.client_secret, "looker_project_id": "quickbooks",
            "lookml_model": "quickbooks", "looker_scheduled_plans": plans,
            "looker_destination_secrets": json.dumps({"finance_s3": {"secret_access_key": "s3-secret-value"},
                                                      "board_sftp": {"password": "sftp-pw"}})}


def _by_name(sandbox: LookerSandbox) -> dict[str, dict[str, t.Any]]:
    return {p["name"]: p for p in sandbox.scheduled_plans.values()}


def test_a_load_creates_the_declared_plans_and_a_second_run_changes_nothing(
    looker: LookerSandbox, duckdb_config: dict[str, t.Any], caplog: pytest.LogCaptureFixture
) -> None:
    config = {**duckdb_config, **_config(looker, _plans())}
    records = singer_lines(QuickBooksData(invoices=2, bills=2).records)
    with caplog.at_level(logging.DEBUG):
        target, _ = run_target(config, records)
    assert target.after_load_report["looker"]["scheduled_plans"]["created"] == [p["name"] for p in _plans()]
    plans = _by_name(looker)
    ap = plans["AP aging to finance"]
    assert ap["lookml_dashboard_id"] == "quickbooks::ap_aging"
    assert (ap["crontab"], ap["timezone"], ap["enabled"]) == ("0 6 * * 1-5", "Europe/Paris", True)
    assert [(d["type"], d["address"], d["format"]) for d in ap["scheduled_plan_destination"]] == [
        ("email", "ap@example.com", "wysiwyg_pdf"), ("s3", "s3://finance-drop/aging", "csv_zip")]
    assert json.loads(ap["scheduled_plan_destination"][1]["parameters"])["region"] == "eu-west-1"
    assert json.loads(looker.plan_secrets[ap["id"]][1] or "{}") == {"secret_access_key": "s3-secret-value"}
    assert plans["Board pack monthly"]["dashboard_id"] == "17"
    assert plans["Open bills hook"]["look_id"] == "5"
    assert "s3-secret-value" not in caplog.text and "sftp-pw" not in caplog.text

    ids = {name: plan["id"] for name, plan in plans.items()}
    calls_before = len(looker.calls)
    again, _ = run_target(config, records)
    report = again.after_load_report["looker"]["scheduled_plans"]
    assert report["unchanged"] == list(ids) and not report["created"] and not report["updated"]
    later_ops = [c.operation for c in looker.calls[calls_before:]]
    assert "create_scheduled_plan" not in later_ops and "update_scheduled_plan" not in later_ops
    assert {name: plan["id"] for name, plan in _by_name(looker).items()} == ids
    assert looker.violations == []


def test_a_changed_plan_is_updated_in_place(looker: LookerSandbox) -> None:
    deploy_after_load(_config(looker, _plans()), LOG)
    first_id = _by_name(looker)["AP aging to finance"]["id"]
    changed = _plans()
    changed[0]["crontab"] = "0 5 * * *"
    changed[0]["destinations"] = changed[0]["destinations"][:1]
    report = deploy_after_load(_config(looker, changed), LOG)["scheduled_plans"]
    assert report["updated"] == ["AP aging to finance"]
    plan = _by_name(looker)["AP aging to finance"]
    assert (plan["id"], plan["crontab"], len(plan["scheduled_plan_destination"])) == (first_id, "0 5 * * *", 1)
    assert len(looker.scheduled_plans) == 3
    assert looker.violations == []


def test_a_plan_whose_dashboard_was_deleted_is_disabled_and_reported(
    looker: LookerSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    deploy_after_load(_config(looker, _plans()), LOG)
    del looker.dashboards["17"]
    plans = [*_plans(), {"name": "Never there", "dashboard_id": "404", "crontab": "0 1 * * *",
                         "destinations": [{"type": "email", "address": "x@example.com"}]}]
    with caplog.at_level(logging.WARNING):
        report = deploy_after_load(_config(looker, plans), LOG)["scheduled_plans"]
    assert report["missing_target"] == ["Board pack monthly", "Never there"]
    assert report["disabled"] == ["Board pack monthly"]
    assert _by_name(looker)["Board pack monthly"]["enabled"] is False
    assert "Never there" not in _by_name(looker)
    assert "dashboard 17 does not exist" in caplog.text
    assert caplog.records[-1].getMessage().endswith("or remove it.") or "remove it" in caplog.text
    assert looker.violations == []


def test_a_plan_looker_refuses_is_named_and_the_others_still_applied(looker: LookerSandbox) -> None:
    plans = _plans()
    plans[1]["crontab"] = "every monday"
    with pytest.raises(ScheduledPlanError) as failure:
        deploy_after_load(_config(looker, plans), LOG)
    message = str(failure.value)
    assert "'Board pack monthly'" in message and "five-field crontab" in message
    assert message.endswith("and run again")
    assert set(_by_name(looker)) == {"AP aging to finance", "Open bills hook"}


def test_sandbox_refuses_a_plan_without_destination_or_schedule(looker: LookerSandbox) -> None:
    status, body, _ = looker.handle("POST", "/api/4.0/scheduled_plans", {"Authorization": f"token {_token(looker)}"},
                                    json.dumps({"name": "x", "dashboard_id": "17"}).encode())
    assert status == 422
    fields = {e["field"] for e in body["errors"]}
    assert {"crontab", "scheduled_plan_destination"} <= fields
    status, body, _ = looker.handle("POST", "/api/4.0/scheduled_plans", {"Authorization": f"token {_token(looker)}"},
                                    json.dumps({"name": "x", "dashboard_id": "17", "id": "9", "crontab": "0 1 * * *",
                                                "scheduled_plan_destination": [{"type": "email"}]}).encode())
    assert status == 422 and any("readOnly" in e["message"] for e in body["errors"])


def _token(sandbox: LookerSandbox) -> str:
    status, body, _ = sandbox.handle(
        "POST", "/api/4.0/login", {},
        f"client_id={sandbox.client_id}&client_secret={sandbox.client_secret}".encode())
    assert status == 200
    return str(body["access_token"])


def test_a_destination_naming_an_unknown_secret_is_refused_before_any_load(
    looker: LookerSandbox, duckdb_config: dict[str, t.Any]
) -> None:
    config = {**duckdb_config, **_config(looker, _plans()), "looker_destination_secrets": '{"finance_s3": {}}'}
    with pytest.raises(ConfigValidationError, match="board_sftp") as failure:
        TargetLookerWarehouse(config=config, validate_config=True)
    assert str(failure.value).endswith("remove 'secret' from those destinations")
    assert looker.calls == []


def test_a_field_looker_fills_in_is_not_taken_for_a_change(looker: LookerSandbox) -> None:
    plans = _plans()
    del plans[0]["timezone"]
    deploy_after_load(_config(looker, plans), LOG)
    (plan,) = [p for p in looker.scheduled_plans.values() if p["name"] == "AP aging to finance"]
    plan["timezone"] = "America/Los_Angeles"  # as Looker stores the instance's default
    report = deploy_after_load(_config(looker, plans), LOG)["scheduled_plans"]
    assert "AP aging to finance" in report["unchanged"] and not report["updated"]
