"""Sessions, limits, server faults, dead letters, replay and bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from qbc_plugin_kit.dead_letters import DeadLetterStore
from target_salesforce.cli import replay

from .singer_io import customer, invoice, line, record, run_target, schema

CUSTOMER_EXT = "qbo:9130:customer:1"


def _pending(config: dict) -> list:
    store = DeadLetterStore(Path(config["dead_letter_path"]))
    try:
        return store.pending()
    finally:
        store.close()


def _replay(config: dict, tmp_path: Path) -> int:
    path = tmp_path / "replay-config.json"
    path.write_text(json.dumps(config))
    return replay(["--config", str(path)])


def test_expired_session_mid_run_logs_in_again_and_repeats_the_call(salesforce_sandbox, salesforce_config):
    config = {**salesforce_config, "batch_size_rows": 1}
    salesforce_sandbox.inject_fault(r"/composite/sobjects/", method="PATCH", status=401, count=1,
                                    body=[{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}])
    run_target(config, [schema("customers"), customer("1", "Ada"), customer("2", "Bob")])
    assert len(salesforce_sandbox.org.records["Account"]) == 2
    assert salesforce_sandbox.token_requests == 2


def test_session_expired_by_the_org_is_renewed(salesforce_sandbox, salesforce_config):
    from target_salesforce.target import TargetSalesforce
    target = TargetSalesforce(config=salesforce_config)
    runtime = target.runtime
    try:
        writer = runtime.loader.writer
        assert writer.existing_versions("Account", "QuickBooks_Id__c", "QuickBooks_Version__c", ["x"]) == {}
        salesforce_sandbox.expire_sessions()
        assert writer.existing_versions("Account", "QuickBooks_Id__c", "QuickBooks_Version__c", ["x"]) == {}
        assert runtime.sessions.login_count == 2
    finally:
        runtime.close()


def test_session_is_renewed_before_its_maximum_age(salesforce_sandbox, salesforce_config):
    from target_salesforce.target import TargetSalesforce
    target = TargetSalesforce(config={**salesforce_config, "session_max_age_seconds": 0})
    runtime = target.runtime
    try:
        writer = runtime.loader.writer
        writer.existing_versions("Account", "QuickBooks_Id__c", "QuickBooks_Version__c", ["x"])
        writer.existing_versions("Account", "QuickBooks_Id__c", "QuickBooks_Version__c", ["x"])
        assert runtime.sessions.login_count == 2
        assert not [r for r in salesforce_sandbox.request_log if r.status == 401]
    finally:
        runtime.close()


def test_request_limit_exceeded_backs_off_and_retries(salesforce_sandbox, salesforce_config):
    salesforce_sandbox.inject_fault(r"/composite/sobjects/", method="PATCH", status=403, count=2,
                                    body=[{"message": "ConcurrentPerOrgLongTxn Limit exceeded.",
                                           "errorCode": "REQUEST_LIMIT_EXCEEDED"}])
    run_target(salesforce_config, [schema("customers"), customer("1", "Ada")])
    assert salesforce_sandbox.org.find("Account", "QuickBooks_Id__c", CUSTOMER_EXT) is not None
    statuses = [r.status for r in salesforce_sandbox.requests_to("PATCH", "/composite/sobjects/")]
    assert statuses == [403, 403, 200]


def test_503_and_dropped_connections_are_retried(salesforce_sandbox, salesforce_config):
    salesforce_sandbox.inject_fault(r"/query", method="GET", status=503, count=1, body=[
        {"errorCode": "SERVER_UNAVAILABLE", "message": "Service unavailable"}])
    salesforce_sandbox.inject_fault(r"/composite/sobjects/", method="PATCH", drop_connection=True, count=1)
    run_target(salesforce_config, [schema("customers"), customer("1", "Ada")])
    assert salesforce_sandbox.org.find("Account", "QuickBooks_Id__c", CUSTOMER_EXT) is not None


def test_exhausted_daily_api_allowance_dead_letters_then_replay_sends(salesforce_sandbox, salesforce_config, tmp_path):
    config = {**salesforce_config, "max_retries": 2}
    salesforce_sandbox.daily_api_requests = 0
    run_target(config, [schema("customers"), customer("1", "Ada")])
    (letter,) = _pending(config)
    assert "REQUEST_LIMIT_EXCEEDED" in letter.error and letter.records[0]["id"] == "1"
    salesforce_sandbox.daily_api_requests = 100_000
    assert _replay(config, tmp_path) == 0
    assert salesforce_sandbox.org.find("Account", "QuickBooks_Id__c", CUSTOMER_EXT)["Name"] == "Ada"
    assert _pending(config) == []


def test_line_of_a_missing_invoice_is_kept_and_replayed_once_the_invoice_exists(salesforce_sandbox, salesforce_config, tmp_path):
    run_target(salesforce_config, [schema("invoice_lines"), line("77", "1")])
    (letter,) = _pending(salesforce_config)
    assert "Foreign key external ID" in letter.error
    assert _replay(salesforce_config, tmp_path) == 1  # still no invoice: stays pending
    run_target(salesforce_config, [schema("customers"), schema("invoices"), customer("1", "Ada"), invoice("77")])
    assert _replay(salesforce_config, tmp_path) == 0
    assert len(salesforce_sandbox.org.records["QuickBooks_Invoice_Line__c"]) == 1


def test_field_rejected_by_salesforce_is_reported_per_record(salesforce_sandbox, salesforce_config, caplog):
    config = {**salesforce_config, "opportunity_stage": "Paid In Full"}
    run_target(config, [schema("customers"), schema("invoices"), customer("1", "Ada"), invoice("77")])
    (letter,) = _pending(config)
    assert letter.stream == "invoices" and "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST" in letter.error
    assert salesforce_sandbox.org.find("Account", "QuickBooks_Id__c", CUSTOMER_EXT) is not None
    assert any("not written to Salesforce" in m for m in caplog.messages)


def test_replay_skips_a_dead_lettered_version_older_than_salesforces(salesforce_sandbox, salesforce_config, tmp_path):
    config = {**salesforce_config, "max_retries": 1}
    salesforce_sandbox.inject_fault(r"/composite/sobjects/", method="PATCH", status=500, count=1)
    run_target(config, [schema("customers"), customer("1", "Old", "2026-11-01T09:00:00Z", 1)])
    run_target(config, [schema("customers"), customer("1", "New", "2026-11-03T09:00:00Z", 2)])
    assert _replay(config, tmp_path) == 0
    assert salesforce_sandbox.org.find("Account", "QuickBooks_Id__c", CUSTOMER_EXT)["Name"] == "New"


def test_invalid_record_is_kept_with_the_reason_while_the_rest_loads(salesforce_sandbox, salesforce_config):
    bad = record("customers", {"company_id": "9130", "edition": "qbo", "id": "2", "balance": "lots",
                               "updated_at": "2026-11-01T09:00:00Z"})
    run_target(salesforce_config, [schema("customers"), customer("1", "Ada"), bad])
    (letter,) = _pending(salesforce_config)
    assert letter.records[0]["id"] == "2" and "does not match the stream schema" in letter.error
    assert len(salesforce_sandbox.org.records["Account"]) == 1


def test_wrong_client_secret_fails_fast_without_echoing_it(salesforce_sandbox, salesforce_config):
    with pytest.raises(Exception, match="refused the client credentials") as raised:
        run_target({**salesforce_config, "client_secret": "wrong-secret-value"},
                   [schema("customers"), customer("1", "Ada")])
    assert "wrong-secret-value" not in str(raised.value)
    assert salesforce_sandbox.token_requests == 1


def test_login_and_test_hosts_are_refused_for_client_credentials():
    from target_salesforce.auth import SalesforceAuthError, login_base_url
    assert login_base_url("acme.my", None) == "https://acme.my.salesforce.com"
    with pytest.raises(SalesforceAuthError, match="My Domain"):
        login_base_url("login", None)


def test_replay_takes_settings_from_environment_variables_as_meltano_passes_them(
        salesforce_sandbox, salesforce_config, monkeypatch):
    config = {**salesforce_config, "max_retries": 1}
    settings = dict(config)  # the SDK fills defaults into the dict it is given
    salesforce_sandbox.inject_fault(r"/composite/sobjects/", method="PATCH", status=500, count=1)
    run_target(config, [schema("customers"), customer("1", "Ada")])
    assert len(_pending(settings)) == 1
    for name, value in settings.items():
        monkeypatch.setenv(f"TARGET_SALESFORCE_{name.upper()}", str(value))
    assert replay([]) == 0
    assert salesforce_sandbox.org.find("Account", "QuickBooks_Id__c", CUSTOMER_EXT)["Name"] == "Ada"


@pytest.mark.e2e
def test_console_script_loads_stdin_and_echoes_state(salesforce_sandbox, salesforce_config, tmp_path):
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(salesforce_config))
    state = {"type": "STATE", "value": {"bookmarks": {"customers": {"replication_key_value": "2026-11-01"}}}}
    stdin = "\n".join(json.dumps(m) for m in [schema("customers"), customer("1", "Ada"), state]) + "\n"
    run = subprocess.run([sys.executable, "-c", "from target_salesforce.cli import main; main()",
                          "--config", str(config_file)], input=stdin, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert json.loads(run.stdout.strip().splitlines()[-1]) == state["value"]
    assert salesforce_sandbox.org.find("Account", "QuickBooks_Id__c", CUSTOMER_EXT)["Name"] == "Ada"
    assert salesforce_config["client_secret"] not in run.stderr


def test_token_endpoint_outage_is_retried(salesforce_sandbox, salesforce_config):
    salesforce_sandbox.inject_fault(r"/services/oauth2/token$", method="POST", status=503, count=2)
    run_target(salesforce_config, [schema("customers"), customer("1", "Ada")])
    assert salesforce_sandbox.org.find("Account", "QuickBooks_Id__c", CUSTOMER_EXT) is not None
