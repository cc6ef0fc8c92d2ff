"""`tap-quickbooks-online check` against the QBO sandbox: the lines a user reads, good and bad."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import typing as t
from pathlib import Path

import pytest
from tap_quickbooks_online.cli import main
from tap_quickbooks_online.tap import TapQuickBooksOnline

from tests.conftest import REALM, make_config


def run(capsys: pytest.CaptureFixture[str], tmp_path: t.Any, config: dict[str, t.Any],
        command: str = "check") -> tuple[int, list[str], str]:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    with pytest.raises(SystemExit) as ended:
        main([command, "--config", str(path)])
    out, err = capsys.readouterr()
    return int(ended.value.code or 0), out.splitlines(), err


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def single_realm(sandbox: t.Any, tmp_path: t.Any, realm_id: str, refresh_token: str, **overrides: t.Any) -> dict[str, t.Any]:
    config = make_config(sandbox, tmp_path, **overrides)
    del config["realms"]
    config.update(realm_id=realm_id, refresh_token=refresh_token)
    return config


def test_good_configuration_passes_every_aspect_and_prints_no_secret(qbo_sandbox, tap_config, tmp_path, capsys):
    code, lines, _ = run(capsys, tmp_path, tap_config)
    assert code == 0, lines
    text = "\n".join(lines)
    assert "ok    token endpoint:" in text
    assert f"ok    realm {REALM} refresh token: valid; expires on" in text
    assert f"ok    realm {REALM} company: reachable and authorised" in text
    assert f"ok    realm {REALM} minorversion: 75 accepted" in text
    assert lines[-1].startswith("tap-quickbooks-online check: all ")
    for secret in (tap_config["client_secret"], tap_config["realms"][0]["refresh_token"]):
        assert secret not in text


def test_wrong_client_secret_is_named_as_the_app_credentials(qbo_sandbox, tmp_path, capsys):
    config = make_config(qbo_sandbox, tmp_path, client_secret="not-the-secret")
    code, lines, _ = run(capsys, tmp_path, config)
    assert code == 1
    assert any(line.startswith("FAIL  token endpoint: Intuit refused client_id/client_secret") for line in lines)
    assert "Fix: set client_id and client_secret to the app's Keys & credentials" in lines[-1]
    assert "not-the-secret" not in "\n".join(lines)


def test_company_the_token_is_not_for_is_named_and_keeps_the_token(qbo_sandbox, tmp_path, capsys):
    token = qbo_sandbox.issue_tokens(REALM)["refresh_token"]
    wrong = single_realm(qbo_sandbox, tmp_path, "4620816365000000", token)
    code, lines, _ = run(capsys, tmp_path, wrong)
    assert code == 1
    assert "FAIL  realm 4620816365000000 company: the token is not authorised for company 4620816365000000" in "\n".join(lines)
    assert "Fix: check realm_id" in lines[-1]
    # The refresh before the 403 rotated the configured token: with realm_id corrected and the same
    # (now spent) configured token, the rotated one is found and no new authorisation is needed.
    store = TapQuickBooksOnline(config=wrong, validate_config=False, setup_mapper=False).token_store()
    assert store.realms() == []  # nothing filed under the wrong company
    fixed = single_realm(qbo_sandbox, tmp_path, REALM, token)
    code, lines, _ = run(capsys, tmp_path, fixed)
    assert code == 0, lines
    assert f"ok    realm {REALM} refresh token: valid; expires on" in "\n".join(lines)  # expiry read from the pending chain
    assert store.realms() == [REALM]


def test_revoked_refresh_token_asks_for_auth(qbo_sandbox, tmp_path, capsys):
    token = qbo_sandbox.issue_tokens(REALM)["refresh_token"]
    qbo_sandbox.authority.revoke(token)
    code, lines, _ = run(capsys, tmp_path, single_realm(qbo_sandbox, tmp_path, REALM, token))
    assert code == 1
    assert f"FAIL  realm {REALM} refresh token: Intuit refused the refresh token" in "\n".join(lines)
    assert "Fix: run `meltano invoke tap-quickbooks-online:auth`" in lines[-1]


def test_unreachable_token_endpoint_names_the_url(qbo_sandbox, tmp_path, capsys):
    url = closed_port_url()
    config = make_config(qbo_sandbox, tmp_path, token_url=f"{url}/oauth2/v1/tokens/bearer", base_url=url)
    code, lines, _ = run(capsys, tmp_path, config)
    assert code == 1
    assert f"FAIL  token endpoint: cannot reach {url}/oauth2/v1/tokens/bearer" in "\n".join(lines)
    assert "Fix: check token_url" in lines[-1]


def test_missing_client_id_and_misspelled_setting_are_named(qbo_sandbox, tmp_path, capsys):
    config = make_config(qbo_sandbox, tmp_path, lookbak_seconds=60)
    code, lines, _ = run(capsys, tmp_path, config)
    assert code == 1
    assert "unknown setting 'lookbak_seconds' is ignored; did you mean 'lookback_seconds'?" in "\n".join(lines)
    del config["client_id"]
    code, lines, _ = run(capsys, tmp_path, config)
    assert code == 1
    assert "FAIL  settings: client_id not set" in lines[0]


def test_auth_without_client_id_names_the_setting(qbo_sandbox, tmp_path, capsys):
    config = make_config(qbo_sandbox, tmp_path)
    del config["client_id"]
    code, _, err = run(capsys, tmp_path, config, command="auth")
    assert code == 1
    last = err.strip().splitlines()[-1]
    assert last.startswith("tap-quickbooks-online: the setting client_id is not set. Fix: meltano config")
    assert "Traceback" not in err


def test_help_lists_the_tap_own_commands(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for command in ("auth", "webhooks", "check"):
        assert f"tap-quickbooks-online {command}" in out
    assert "--discover" in out  # the SDK's own options are still listed


def test_schema_test_with_a_wrong_secret_fails(qbo_sandbox, tmp_path, capsys):
    config = make_config(qbo_sandbox, tmp_path, client_secret="not-the-secret")
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    with pytest.raises(SystemExit) as ended:
        main(["--config", str(path), "--test=schema"])
    assert ended.value.code == 1
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert "Intuit refused client_id/client_secret" in last and "Fix:" in last


def test_connection_test_logs_no_false_errors_and_no_metric_json(qbo_sandbox, tap_config, tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(tap_config))
    exe = Path(sys.executable).parent / "tap-quickbooks-online"
    done = subprocess.run([str(exe), "--config", str(path), "--test"], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "PYTHONWARNINGS": "default"}, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "An unhandled error occurred" not in done.stderr
    assert "METRIC" not in done.stderr
    assert "stream accounts: 1 records in" in done.stderr
    assert "Warning" not in done.stderr
    # The SDK's start-of-stream lines say nothing the closing line does not (shown at DEBUG).
    assert "Beginning sync of 'accounts'" not in done.stderr
    assert "Starting incremental sync of" not in done.stderr


def test_a_sync_intuit_keeps_failing_ends_on_one_line_with_the_fix(qbo_sandbox, tmp_path, capsys):
    config = make_config(qbo_sandbox, tmp_path, max_retries=2, backoff_base_seconds=0.01, sync_mode="query")
    qbo_sandbox.faults.fail_next(50, status=503)
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    with pytest.raises(SystemExit) as ended:
        main(["--config", str(path)])
    assert ended.value.code == 1
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("tap-quickbooks-online: Realm ") and "failed 2 times" in last
    assert "QuickBooks Online (127.0.0.1:" in last and "answered HTTP 503" in last
    assert "Fix: Intuit or the network kept failing; run again later" in last


def test_under_meltano_structured_logs_the_last_error_record_is_the_cause_and_fix(qbo_sandbox, tmp_path):
    """Meltano (structured-logging) shows a plain stderr line at INFO, after the SDK's own
    'An unhandled error occurred while syncing' record: the cause and fix are the last error."""
    config = make_config(qbo_sandbox, tmp_path, max_retries=2, backoff_base_seconds=0.01)
    qbo_sandbox.faults.fail_next(50, status=503)
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    logging_config = tmp_path / "tap.singer_sdk_logging.json"  # as Meltano writes it
    logging_config.write_text(json.dumps({
        "version": 1, "disable_existing_loggers": False,
        "formatters": {"singer_formatter": {"()": "singer_sdk.logging.StructuredFormatter"}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "singer_formatter",
                                 "stream": "ext://sys.stderr"}},
        "root": {"handlers": ["console"], "level": "INFO"},
    }))
    exe = Path(sys.executable).parent / "tap-quickbooks-online"
    done = subprocess.run([str(exe), "--config", str(path)], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "SINGER_SDK_LOG_CONFIG": str(logging_config)}, check=False)
    assert done.returncode == 1
    records = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    errors = [r for r in records if r.get("level") == "error"]
    assert errors and errors[-1] is records[-1], done.stderr[-2000:]
    last = errors[-1]["message"]
    assert last.startswith("tap-quickbooks-online: Realm ") and "QuickBooks Online (127.0.0.1:" in last
    assert "answered HTTP 503" in last and "max_retries 2" in last and "Fix: " in last


def test_a_misspelled_setting_is_warned_when_the_tap_starts(tap_config, caplog):
    from tap_quickbooks_online.tap import TapQuickBooksOnline

    with caplog.at_level(logging.WARNING):
        TapQuickBooksOnline(config={**tap_config, "lookbak_seconds": 60}, validate_config=False, setup_mapper=False)
    assert "unknown setting 'lookbak_seconds' is ignored; did you mean 'lookback_seconds'?" in caplog.text


def test_check_reads_the_settings_meltano_passes_as_variables(qbo_sandbox, tmp_path, capsys, monkeypatch):
    config = single_realm(qbo_sandbox, tmp_path, REALM, qbo_sandbox.issue_tokens(REALM)["refresh_token"])
    for key, value in config.items():
        monkeypatch.setenv(f"TAP_QUICKBOOKS_ONLINE_{key.upper()}", str(value))
    with pytest.raises(SystemExit) as ended:
        main(["check"])  # `meltano invoke tap-quickbooks-online:check` passes no --config
    out = capsys.readouterr().out
    assert ended.value.code == 0, out
    assert f"ok    realm {REALM} company: reachable and authorised" in out


def test_a_first_sync_with_a_wrong_realm_id_spends_no_authorisation_and_files_nothing_under_it(
        qbo_sandbox, tmp_path, capsys):
    token = qbo_sandbox.issue_tokens(REALM)["refresh_token"]
    wrong_realm = "4620816365000000"
    path = tmp_path / "config.json"
    path.write_text(json.dumps(single_realm(qbo_sandbox, tmp_path, wrong_realm, token, sync_mode="query")))
    with pytest.raises(SystemExit) as ended:
        main(["--config", str(path)])
    assert ended.value.code == 1
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert wrong_realm in last and "realm_id" in last  # the last line names the setting to fix
    wrong_store = TapQuickBooksOnline(config=json.loads(path.read_text()), validate_config=False,
                                      setup_mapper=False).token_store()
    assert wrong_store.entries() and wrong_store.realms() == []  # rotated, kept, but under no company
    exchanges = qbo_sandbox.authority.stats.auth_code_exchanges

    fixed = single_realm(qbo_sandbox, tmp_path, REALM, token, sync_mode="query")
    path.write_text(json.dumps(fixed))
    with pytest.raises(SystemExit) as ended:
        main(["--config", str(path), "--test"])  # the same, now spent, configured token
    assert ended.value.code in (0, None), capsys.readouterr().err[-2000:]
    store = TapQuickBooksOnline(config=fixed, validate_config=False, setup_mapper=False).token_store()
    assert set(store.entries()) == {REALM}  # the rotated chain lives under the right company only
    assert store.load(REALM)["confirmed"]
    assert qbo_sandbox.authority.stats.auth_code_exchanges == exchanges  # no new authorisation
