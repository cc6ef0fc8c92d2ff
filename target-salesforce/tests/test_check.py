"""``target-salesforce check`` against the Salesforce sandbox: the lines a user reads."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest
from target_salesforce.cli import main


def _check(config: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    config_file = tmp_path / "check-config.json"
    config_file.write_text(json.dumps(config))
    with pytest.raises(SystemExit) as ended:
        main(["check", "--config", str(config_file)])
    return int(ended.value.code or 0), capsys.readouterr().out.strip().splitlines()


def _line(lines: list[str], aspect: str) -> str:
    (found,) = [line for line in lines if line[6:].startswith(aspect + ":")]
    return found


def test_good_settings_pass_every_aspect_and_write_nothing(salesforce_sandbox, salesforce_config, tmp_path, capsys):
    status, lines = _check(salesforce_config, tmp_path, capsys)
    assert status == 0, "\n".join(lines)
    assert _line(lines, "settings") == f"ok    settings: org {salesforce_sandbox.url}, line detail order"
    assert _line(lines, "api version") == "ok    api version: 62.0 (the org serves up to 62.0)"
    for sobject in ("Account", "Opportunity", "Order", "OrderItem", "Product2", "PricebookEntry",
                    "QuickBooks_Account__c"):
        assert _line(lines, f"object {sobject}").startswith(f"ok    object {sobject}: ")
        assert _line(lines, f"object {sobject}").endswith("mapped fields present with compatible types; external id "
                                                          "QuickBooks_Id__c (unique)")
    assert _line(lines, "daily API budget").startswith("ok    daily API budget: ")
    assert lines[-1].startswith("target-salesforce check: all ") and lines[-1].endswith(" aspects ok")
    assert salesforce_sandbox.org.records["Account"] == {}


def test_wrong_secret_names_the_credentials_and_stops_there(salesforce_sandbox, salesforce_config, tmp_path, capsys):
    status, lines = _check({**salesforce_config, "client_secret": "not-the-secret"}, tmp_path, capsys)
    assert _line(lines, "token").startswith("FAIL  token: Salesforce refused the client credentials of connected app ")
    assert _line(lines, "token").endswith("Fix: check client_id and client_secret, and that the connected app enables "
                                          "the client credentials flow with a Run As user")
    assert _line(lines, "object Account") == ("FAIL  object Account: not tried: see the api version line. Fix: fix "
                                              "the api version first")
    assert lines[-1].startswith("target-salesforce check: ") and "first: token: Salesforce refused" in lines[-1]
    assert status == 1
    assert "not-the-secret" not in "\n".join(lines)


def test_a_mapped_field_the_org_lacks_is_named_with_its_setting(salesforce_sandbox, salesforce_config, tmp_path,
                                                                capsys):
    status, lines = _check({**salesforce_config, "account_active_field": "Is_Active__c"}, tmp_path, capsys)
    assert _line(lines, "object Account") == (
        "FAIL  object Account: field Is_Active__c does not exist on Account. Fix: set account_active_field to a "
        "field the org has, or create Is_Active__c on Account (README: Org setup)")
    assert _line(lines, "object Opportunity").startswith("ok    object Opportunity")
    assert status == 1


def test_an_opportunity_stage_the_org_lacks_is_named(salesforce_sandbox, salesforce_config, tmp_path, capsys):
    status, lines = _check({**salesforce_config, "opportunity_stage": "Booked"}, tmp_path, capsys)
    assert _line(lines, "opportunity stages").startswith(
        "FAIL  opportunity stages: opportunity_stage 'Booked' is not a stage of the org's Opportunity StageName. "
        "Fix: set opportunity_stage to one of: ")
    assert status == 1


def test_an_unreachable_org_is_told_apart_from_refused_credentials(salesforce_config, tmp_path, capsys):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    status, lines = _check({**salesforce_config, "login_url": f"https://127.0.0.1:{port}"}, tmp_path, capsys)
    assert _line(lines, "token").startswith(f"FAIL  token: cannot reach Salesforce at https://127.0.0.1:{port} (")
    assert _line(lines, "token").endswith("Fix: check domain (the My Domain prefix, e.g. acme.my) or login_url, and "
                                          "that this machine reaches the org (proxy, firewall)")
    assert status == 1


def test_a_spent_daily_api_budget_fails_against_api_budget_share(salesforce_sandbox, salesforce_config, tmp_path,
                                                                 capsys):
    salesforce_sandbox.daily_api_requests = 100
    salesforce_sandbox.api_requests_used = 60  # the org's other integrations, earlier today
    status, lines = _check({**salesforce_config, "api_budget_share": 0.5}, tmp_path, capsys)
    assert _line(lines, "daily API budget").startswith("FAIL  daily API budget: 3")
    assert _line(lines, "daily API budget").endswith("api_budget_share 0.5 leaves this target none. Fix: run once "
                                                     "the org's rolling 24-hour window frees requests, or raise "
                                                     "api_budget_share")
    assert status == 1


def test_an_api_version_the_org_does_not_serve_is_named(salesforce_sandbox, salesforce_config, tmp_path, capsys):
    status, lines = _check({**salesforce_config, "api_version": "99.0"}, tmp_path, capsys)
    assert _line(lines, "api version") == ("FAIL  api version: api_version 99.0 is not served by the org (it serves "
                                           "62.0). Fix: set api_version to 62.0")
    assert status == 1


def test_the_old_request_timeout_name_is_read_as_the_new_one_with_a_warning(caplog):
    import logging

    from qbc_plugin_kit.settings_check import renamed_settings
    from target_salesforce.target import TargetSalesforce

    with caplog.at_level(logging.WARNING):
        config = renamed_settings({"request_timeout_seconds": 7}, TargetSalesforce.RENAMED_SETTINGS,
                                  logging.getLogger("t"))
    assert config == {"request_timeout": 7}
    assert "Setting request_timeout_seconds is deprecated: read as request_timeout" in caplog.text
    assert "request_timeout_seconds" not in TargetSalesforce.config_jsonschema["properties"]
