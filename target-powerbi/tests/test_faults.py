"""Token lifecycle, throttling, server faults, dead letters, replay and bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from qbc_plugin_kit.dead_letters import DeadLetterStore
from target_powerbi.cli import replay

from .singer_io import customer, record_message, run_target, schema_message, singer_lines

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


def test_wrong_client_secret_fails_fast_with_a_clear_message(powerbi_sandbox, powerbi_config):
    with pytest.raises(Exception, match="refused the client credentials") as raised:
        run_target({**powerbi_config, "client_secret": "not-the-secret"},
                   [schema_message("invoices"), _invoice(1)])
    assert "not-the-secret" not in str(raised.value)
    assert len(powerbi_sandbox.requests_to("POST", "/oauth2/v2.0/token")) == 1


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


def test_persistent_failure_is_dead_lettered_then_replayed(powerbi_sandbox, powerbi_config, tmp_path):
    config = {**powerbi_config, "max_retries": 2}
    powerbi_sandbox.inject_fault(r"/rows$", method="POST", status=500, count=2)
    run_target(config, [schema_message("invoices"), _invoice(1), _invoice(2)])
    assert powerbi_sandbox.store.rows("QuickBooks", "invoices") == []
    store = DeadLetterStore(Path(config["dead_letter_path"]))
    (letter,) = store.pending()
    store.close()
    assert letter.stream == "invoices" and len(letter.records) == 2 and "500" in letter.error

    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(config))
    assert replay(["--config", str(config_file)]) == 0
    assert sorted(r["id"] for r in powerbi_sandbox.store.rows("QuickBooks", "invoices")) == ["1", "2"]
    store = DeadLetterStore(Path(config["dead_letter_path"]))
    assert store.pending() == []
    store.close()
    assert replay(["--config", str(config_file)]) == 0
    assert len(powerbi_sandbox.store.rows("QuickBooks", "invoices")) == 2


def test_replay_does_not_let_a_dead_lettered_old_version_overwrite_a_newer_one(powerbi_sandbox, powerbi_config, tmp_path):
    config = {**powerbi_config, "max_retries": 1}
    powerbi_sandbox.inject_fault(r"/tables/customers/rows$", method="POST", status=500, count=1)
    run_target(config, [schema_message("customers"),
                        record_message("customers", customer("1", "Old", "2026-11-01T09:00:00Z", 1))])
    run_target(config, [schema_message("customers"),
                        record_message("customers", customer("1", "New", "2026-11-03T09:00:00Z", 2))])
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(config))
    assert replay(["--config", str(config_file)]) == 0
    assert [r["display_name"] for r in powerbi_sandbox.store.rows("QuickBooks", "customers")] == ["New"]


def test_invalid_record_is_reported_and_kept_while_the_rest_loads(powerbi_sandbox, powerbi_config, caplog):
    bad = {**INVOICE, "id": "2", "sync_token": "not-a-number"}
    run_target(powerbi_config, [schema_message("invoices"), _invoice(1), record_message("invoices", bad)])
    assert [r["id"] for r in powerbi_sandbox.store.rows("QuickBooks", "invoices")] == ["1"]
    store = DeadLetterStore(Path(powerbi_config["dead_letter_path"]))
    (letter,) = store.pending()
    store.close()
    assert letter.records[0]["id"] == "2"
    assert "does not match the stream schema" in letter.error
    assert any("rejected record" in m and "'id': '2'" in m for m in caplog.messages)


def test_cli_answers_about_and_replay_help():
    about = subprocess.run([sys.executable, "-c", "from target_powerbi.cli import main; main()",
                            "--about", "--format=json"], capture_output=True, text=True, check=True)
    settings = json.loads(about.stdout)["settings"]["properties"]
    assert settings["client_secret"]["secret"] is True
    assert all(prop.get("description") for prop in settings.values())
    help_text = subprocess.run([sys.executable, "-c", "from target_powerbi.cli import main; main()",
                                "replay", "--help"], capture_output=True, text=True, check=True).stdout
    assert "dead-letter" in help_text


def test_malformed_json_line_stops_the_run_with_an_error(powerbi_config):
    text = singer_lines([schema_message("invoices")]) + '{"type": "RECORD", "stream": "invoices", "record": {\n'
    with pytest.raises(Exception):
        run_target(powerbi_config, text)


def test_unreadable_timestamp_is_kept_with_the_reason(powerbi_sandbox, powerbi_config):
    bad = {**INVOICE, "id": "2", "updated_at": "yesterday"}
    run_target(powerbi_config, [schema_message("invoices"), _invoice(1), record_message("invoices", bad)])
    assert [r["id"] for r in powerbi_sandbox.store.rows("QuickBooks", "invoices")] == ["1"]
    store = DeadLetterStore(Path(powerbi_config["dead_letter_path"]))
    (letter,) = store.pending()
    store.close()
    assert "yesterday" in letter.error and letter.records[0]["id"] == "2"


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


def test_replay_pushes_rows_left_in_the_mirror_by_an_interrupted_rebuild(powerbi_sandbox, powerbi_config, tmp_path):
    config = {**powerbi_config, "max_retries": 1}
    run_target(config, [schema_message("customers"),
                        record_message("customers", customer("1", "Ada", "2026-11-01T09:00:00Z", 0))])
    powerbi_sandbox.inject_fault(r"/tables/customers/rows$", method="POST", status=500, count=1)
    run_target(config, [schema_message("invoices"), _invoice(1)])
    assert powerbi_sandbox.store.rows("QuickBooks", "customers") == []
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(config))
    assert replay(["--config", str(config_file)]) == 0
    assert [r["id"] for r in powerbi_sandbox.store.rows("QuickBooks", "customers")] == ["1"]


def test_azure_ad_outage_is_retried_until_a_token_comes(powerbi_sandbox, powerbi_config):
    powerbi_sandbox.inject_fault(r"/oauth2/v2.0/token$", method="POST", status=503, count=1, body="<html>busy</html>")
    # msal holds a 5xx back for 5 s; the backoff must outlast it.
    config = {**powerbi_config, "backoff_base_seconds": 2, "backoff_max_seconds": 4}
    run_target(config, [schema_message("invoices"), _invoice(1)])
    assert len(powerbi_sandbox.store.rows("QuickBooks", "invoices")) == 1


def test_replay_takes_typed_settings_from_meltano_environment_variables(powerbi_sandbox, powerbi_config, monkeypatch):
    config = {**powerbi_config, "max_retries": 1}
    settings = dict(config)  # the SDK fills defaults into the dict it is given
    powerbi_sandbox.inject_fault(r"/rows$", method="POST", status=500, count=1)
    run_target(config, [schema_message("invoices"), _invoice(1)])
    for name, value in {**settings, "dimension_streams": ["customers"]}.items():
        monkeypatch.setenv(f"TARGET_POWERBI_{name.upper()}", json.dumps(value) if isinstance(value, list) else str(value))
    assert replay([]) == 0
    assert [r["id"] for r in powerbi_sandbox.store.rows("QuickBooks", "invoices")] == ["1"]
