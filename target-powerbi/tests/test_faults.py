"""Token lifecycle, throttling and server faults that a retry or a fresh token overcomes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from .singer_io import record_message, run_target, schema_message, singer_lines

INVOICE = {"company_id": "9130", "edition": "qbo", "id": "77", "doc_number": "1001",
           "updated_at": "2026-11-01T09:00:00Z", "sync_token": 0}


def _invoice(i: int) -> dict:
    return record_message("invoices", {**INVOICE, "id": str(i)})


def test_token_expired_mid_run_is_reacquired_and_the_request_repeated(powerbi_sandbox, powerbi_config):
    config = {**powerbi_config, "batch_size_rows": 2}
    run_target(config, [schema_message("invoices"), _invoice(1), _invoice(2)])
    powerbi_sandbox.expire_tokens()
    issued_before = powerbi_sandbox.issuer.issued_count
    run_target(config, [schema_message("invoices"), _invoice(3), _invoice(4)])
    assert len(powerbi_sandbox.store.rows("QuickBooks", "invoices")) == 4
    assert powerbi_sandbox.issuer.issued_count > issued_before


def test_403_token_expired_inside_one_run_triggers_one_fresh_token(powerbi_sandbox, powerbi_config):
    from target_powerbi.target import TargetPowerBI
    target = TargetPowerBI(config=powerbi_config)
    runtime = target.runtime
    try:
        assert runtime.client.find_dataset("QuickBooks") is None
        powerbi_sandbox.expire_tokens()
        assert runtime.client.find_dataset("QuickBooks") is None
        assert runtime.auth.acquired_count == 2
    finally:
        runtime.close()


def test_token_is_renewed_before_it_expires(powerbi_sandbox, powerbi_config):
    from target_powerbi.target import TargetPowerBI
    powerbi_sandbox.issuer.lifetime_seconds = 200  # inside the 300 s refresh margin
    target = TargetPowerBI(config=powerbi_config)
    runtime = target.runtime
    try:
        runtime.client.find_dataset("QuickBooks")
        runtime.client.find_dataset("QuickBooks")
        assert runtime.auth.acquired_count == 2
        assert not [r for r in powerbi_sandbox.request_log if r.status in (401, 403)]
    finally:
        runtime.close()

def test_429_with_retry_after_is_waited_out_and_retried(powerbi_sandbox, powerbi_config):
    powerbi_sandbox.inject_fault(r"/rows$", method="POST", status=429, count=2,
                                 headers={"Retry-After": "0"},
                                 body={"error": {"code": "TooManyRequests", "message": "slow down"}})
    run_target(powerbi_config, [schema_message("invoices"), _invoice(1)])
    assert len(powerbi_sandbox.store.rows("QuickBooks", "invoices")) == 1
    assert [r.status for r in powerbi_sandbox.requests_to("POST", r"/rows$")] == [429, 429, 200]


def test_sandbox_rate_limit_is_never_hit_when_pacing_matches_it(powerbi_sandbox, powerbi_config):
    powerbi_sandbox.store.limits.post_requests_per_minute = 3
    config = {**powerbi_config, "max_post_requests_per_minute": 3, "max_rows_per_request": 1}
    run_target(config, [schema_message("invoices"), _invoice(1), _invoice(2), _invoice(3)])
    assert len(powerbi_sandbox.store.rows("QuickBooks", "invoices")) == 3
    assert [r.status for r in powerbi_sandbox.requests_to("POST", r"/rows$")] == [200, 200, 200]

def test_5xx_and_dropped_connections_are_retried(powerbi_sandbox, powerbi_config):
    powerbi_sandbox.inject_fault(r"/rows$", method="POST", status=503, count=1)
    powerbi_sandbox.inject_fault(r"/rows$", method="POST", drop_connection=True, count=1)
    run_target(powerbi_config, [schema_message("invoices"), _invoice(1)])
    assert len(powerbi_sandbox.store.rows("QuickBooks", "invoices")) == 1


def test_cli_answers_about_and_replay_help():
    about = subprocess.run([sys.executable, "-c", "from target_powerbi.cli import main; main()",
                            "--about", "--format=json"], capture_output=True, text=True, check=True)
    settings = json.loads(about.stdout)["settings"]["properties"]
    assert settings["client_secret"]["secret"] is True
    assert all(prop.get("description") for prop in settings.values())
    help_text = subprocess.run([sys.executable, "-c", "from target_powerbi.cli import main; main()",
                                "replay", "--help"], capture_output=True, text=True, check=True).stdout
    assert "dead-letter" in help_text
@pytest.mark.e2e
def test_console_script_loads_stdin_and_echoes_state(powerbi_sandbox, powerbi_config, tmp_path):
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(powerbi_config))
    state = {"type": "STATE", "value": {"bookmarks": {"invoices": {"replication_key_value": "2026-11-01"}}}}
    stdin = singer_lines([schema_message("invoices"), _invoice(1), state])
    run = subprocess.run([sys.executable, "-c", "from target_powerbi.cli import main; main()",
                          "--config", str(config_file)], input=stdin, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert json.loads(run.stdout.strip().splitlines()[-1]) == state["value"]
    assert [r["id"] for r in powerbi_sandbox.store.rows("QuickBooks", "invoices")] == ["1"]
    assert powerbi_config["client_secret"] not in run.stderr

def test_azure_ad_outage_is_retried_until_a_token_comes(powerbi_sandbox, powerbi_config):
    powerbi_sandbox.inject_fault(r"/oauth2/v2.0/token$", method="POST", status=503, count=1, body="<html>busy</html>")
    # msal holds a 5xx back for 5 s; the backoff must outlast it.
    config = {**powerbi_config, "backoff_base_seconds": 2, "backoff_max_seconds": 4}
    run_target(config, [schema_message("invoices"), _invoice(1)])
    assert len(powerbi_sandbox.store.rows("QuickBooks", "invoices")) == 1
