"""Sessions, limits and server faults: what is retried, and what stops a run (systemic)."""

from __future__ import annotations

import json
import socket

import pytest
from target_salesforce.auth import SalesforceAuthError, login_base_url
from target_salesforce.target import TargetSalesforce

from .singer_io import console, customer, invoice, last_line, letters, run_target, schema

CUSTOMER_EXT = "qbo:9130:customer:1"
STATE = {"type": "STATE", "value": {"bookmarks": {"customers": {"replication_key_value": "2026-11-01"}}}}


def test_expired_session_mid_run_logs_in_again_and_repeats_the_call(salesforce_sandbox, salesforce_config):
    config = {**salesforce_config, "batch_size_rows": 1}
    salesforce_sandbox.inject_fault(r"/composite/sobjects/", method="PATCH", status=401, count=1,
                                    body=[{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}])
    run_target(config, [schema("customers"), customer("1", "Ada"), customer("2", "Bob")])
    assert len(salesforce_sandbox.org.records["Account"]) == 2
    assert salesforce_sandbox.token_requests == 2


def test_session_expired_by_the_org_is_renewed(salesforce_sandbox, salesforce_config):
    runtime = TargetSalesforce(config=salesforce_config).runtime
    writer = runtime.loader.writer
    assert writer.existing_versions("Account", "QuickBooks_Id__c", "QuickBooks_Version__c", ["x"]) == {}
    salesforce_sandbox.expire_sessions()
    assert writer.existing_versions("Account", "QuickBooks_Id__c", "QuickBooks_Version__c", ["x"]) == {}
    assert runtime.sessions.login_count == 2


def test_session_is_renewed_before_its_maximum_age(salesforce_sandbox, salesforce_config):
    runtime = TargetSalesforce(config={**salesforce_config, "session_max_age_seconds": 0}).runtime
    writer = runtime.loader.writer
    writer.existing_versions("Account", "QuickBooks_Id__c", "QuickBooks_Version__c", ["x"])
    writer.existing_versions("Account", "QuickBooks_Id__c", "QuickBooks_Version__c", ["x"])
    assert runtime.sessions.login_count == 3  # a session of its own for /limits and for each query
    assert not [r for r in salesforce_sandbox.request_log if r.status == 401]


def test_request_limit_exceeded_backs_off_and_retries(salesforce_sandbox, salesforce_config):
    salesforce_sandbox.inject_fault(r"/composite/sobjects/", method="PATCH", status=403, count=2,
                                    body=[{"message": "ConcurrentPerOrgLongTxn Limit exceeded.",
                                           "errorCode": "REQUEST_LIMIT_EXCEEDED"}])
    run = run_target(salesforce_config, [schema("customers"), customer("1", "Ada")])
    assert salesforce_sandbox.org.find("Account", "QuickBooks_Id__c", CUSTOMER_EXT) is not None
    statuses = [r.status for r in salesforce_sandbox.requests_to("PATCH", "/composite/sobjects/")]
    assert statuses == [403, 403, 200]
    assert not run.set_aside and letters(salesforce_config) == []


def test_503_and_dropped_connections_are_retried(salesforce_sandbox, salesforce_config):
    salesforce_sandbox.inject_fault(r"/query", method="GET", status=503, count=1, body=[
        {"errorCode": "SERVER_UNAVAILABLE", "message": "Service unavailable"}])
    salesforce_sandbox.inject_fault(r"/composite/sobjects/", method="PATCH", drop_connection=True, count=1)
    run_target(salesforce_config, [schema("customers"), customer("1", "Ada")])
    assert salesforce_sandbox.org.find("Account", "QuickBooks_Id__c", CUSTOMER_EXT) is not None


def test_token_endpoint_outage_is_retried(salesforce_sandbox, salesforce_config):
    salesforce_sandbox.inject_fault(r"/services/oauth2/token$", method="POST", status=503, count=2)
    run_target(salesforce_config, [schema("customers"), customer("1", "Ada")])
    assert salesforce_sandbox.org.find("Account", "QuickBooks_Id__c", CUSTOMER_EXT) is not None


def test_login_and_test_hosts_are_refused_for_client_credentials():
    assert login_base_url("acme.my", None) == "https://acme.my.salesforce.com"
    with pytest.raises(SalesforceAuthError, match="My Domain"):
        login_base_url("login", None)


# -- systemic: the run stops, exit 1, no STATE, the last line names the cause and the fix -------


def _assert_stopped(run, *fragments: str) -> str:
    assert run.returncode == 1, run.stderr[-3000:]
    assert run.stdout.strip() == "", "no STATE may be emitted by a run that stopped"
    line = last_line(run.stderr)
    assert line.startswith("target-salesforce: ") and "Fix: " in line, line
    for fragment in fragments:
        assert fragment in line, line
    return line


def test_wrong_client_secret_stops_the_run_naming_the_settings_without_echoing_it(
        salesforce_sandbox, salesforce_config, tmp_path):
    config = {**salesforce_config, "client_secret": "wrong-secret-value"}
    run = console(config, tmp_path, messages=[schema("customers"), customer("1", "Ada"), STATE])
    _assert_stopped(run, "refused the client credentials", "client_id and client_secret")
    assert "wrong-secret-value" not in run.stderr
    assert salesforce_sandbox.token_requests == 1  # not retried: it cannot get better
    assert salesforce_sandbox.org.records["Account"] == {}


def test_unreachable_host_stops_the_run_after_the_retries(salesforce_config, tmp_path):
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    config = {**salesforce_config, "login_url": f"https://127.0.0.1:{port}", "max_retries": 2}
    run = console(config, tmp_path, messages=[schema("customers"), customer("1", "Ada"), STATE])
    _assert_stopped(run, f"127.0.0.1:{port}", "3 attempts", "max_retries")


def test_wrong_login_url_path_is_named(salesforce_sandbox, salesforce_config, tmp_path):
    config = {**salesforce_config, "login_url": salesforce_sandbox.url + "/not-salesforce"}
    run = console(config, tmp_path, messages=[schema("customers"), customer("1", "Ada"), STATE])
    _assert_stopped(run, "not a Salesforce token endpoint", "login_url")


def test_missing_ca_bundle_names_the_setting_and_the_file(salesforce_config, tmp_path):
    missing = str(tmp_path / "no-such-ca.pem")
    run = console({**salesforce_config, "ca_bundle": missing}, tmp_path,
                  messages=[schema("customers"), customer("1", "Ada"), STATE])
    _assert_stopped(run, "ca_bundle", missing)


def test_untrusted_certificate_names_ca_bundle(salesforce_config, tmp_path):
    config = {k: v for k, v in salesforce_config.items() if k != "ca_bundle"}
    run = console(config, tmp_path, messages=[schema("customers"), customer("1", "Ada"), STATE],
                  env={"REQUESTS_CA_BUNDLE": "", "CURL_CA_BUNDLE": ""})
    _assert_stopped(run, "not trusted", "ca_bundle")


def test_every_write_failing_stops_the_run_and_a_rerun_delivers(salesforce_sandbox, salesforce_config, tmp_path):
    config = {**salesforce_config, "max_retries": 1}
    salesforce_sandbox.inject_fault(r"/composite/sobjects/", method="PATCH", status=500, count=2)
    run = console(config, tmp_path, messages=[schema("customers"), customer("1", "Ada"), STATE])
    _assert_stopped(run, "2 attempts", "max_retries")
    assert letters(config) == []  # nothing was set aside: the batch was never the data's fault
    rerun = console(config, tmp_path, messages=[schema("customers"), customer("1", "Ada"), STATE])
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert json.loads(last_line(rerun.stdout)) == STATE["value"]
    assert salesforce_sandbox.org.find("Account", "QuickBooks_Id__c", CUSTOMER_EXT)["Name"] == "Ada"


def test_exhausted_daily_api_allowance_stops_the_run(salesforce_sandbox, salesforce_config, tmp_path):
    salesforce_sandbox.daily_api_requests = 0
    run = console({**salesforce_config, "max_retries": 1}, tmp_path,
                  messages=[schema("customers"), customer("1", "Ada"), STATE])
    _assert_stopped(run, "REQUEST_LIMIT_EXCEEDED")


def test_a_field_the_org_lacks_stops_the_run_naming_the_setting(salesforce_sandbox, salesforce_config, tmp_path):
    config = {**salesforce_config, "account_active_field": "Is_Active__c"}
    run = console(config, tmp_path, messages=[schema("customers"), customer("1", "Ada"), customer("2", "Bob"), STATE])
    _assert_stopped(run, "Is_Active__c", "account_active_field")
    assert letters(config) == []  # not the records' fault: nothing set aside
    assert salesforce_sandbox.org.records["Account"] == {}


def test_a_version_field_the_org_lacks_stops_the_run(salesforce_sandbox, salesforce_config, tmp_path):
    config = {**salesforce_config, "version_field": "QB_Version__c"}
    run = console(config, tmp_path, messages=[schema("customers"), customer("1", "Ada"), STATE])
    _assert_stopped(run, "QB_Version__c", "version_field")


def test_destination_refusing_every_request_stops_the_run(salesforce_sandbox, salesforce_config, tmp_path):
    salesforce_sandbox.inject_fault(r"/composite/sobjects/", method="PATCH", status=400, count=100, body=[
        {"errorCode": "JSON_PARSER_ERROR", "message": "Unexpected parameter encountered during deserialization"}])
    run = console(salesforce_config, tmp_path,
                  messages=[schema("customers"), *[customer(str(i), f"C{i}") for i in range(6)], STATE])
    _assert_stopped(run, "refused the whole batch of 6 records")
    assert letters(salesforce_config) == []


def test_invoices_refused_for_a_missing_customer_are_data_not_systemic(salesforce_sandbox, salesforce_config):
    run = run_target({**salesforce_config, "on_data_failure": "warn"},
                     [schema("invoices"), invoice("77", customer_id="404"), invoice("78", customer_id="404")])
    assert not run.set_aside
    assert [letter.key for letter in letters(salesforce_config)] == [
        {"company_id": "9130", "id": "77"}, {"company_id": "9130", "id": "78"}]


def test_a_host_name_that_does_not_resolve_stops_the_run_naming_domain():
    import requests
    from qbc_plugin_kit.failures import SystemicFailure
    from target_salesforce.failure_kinds import network_failure

    # What requests raises for an unknown host (no lookup is made here).
    error = requests.ConnectionError("HTTPSConnectionPool(host='acme.my.salesforce.com', port=443): Max retries "
                                     "exceeded (Caused by NameResolutionError(\"Failed to resolve 'acme.my'\"))")
    failure = network_failure(error, "https://acme.my.salesforce.com/services/oauth2/token")
    assert isinstance(failure, SystemicFailure)
    assert "acme.my.salesforce.com cannot be found" in str(failure) and "set domain" in str(failure)


@pytest.mark.parametrize(("code", "message", "kind"), [
    ("STRING_TOO_LONG", "Name: data value too large", "data"),
    ("INVALID_FIELD", "Foreign key external ID: qbo:9130:invoice:7 not found for field QuickBooks_Id__c", "data"),
    ("INVALID_FIELD", "No such column 'X__c' on sobject of type Account", "systemic"),
    ("INVALID_FIELD_FOR_INSERT_UPDATE", "Unable to create/update fields: Active__c", "systemic"),
    ("UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access to this record", "transient"),
])
def test_per_record_errors_are_sorted_by_what_can_fix_them(code, message, kind):
    from target_salesforce.failure_kinds import record_error
    assert record_error(code, message).value == kind
