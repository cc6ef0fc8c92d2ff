"""The console script: SDK commands pass through; settings describe themselves."""

from __future__ import annotations

import json

import pytest
from target_databricks import cli
from target_databricks.target import TargetDatabricks


def test_about_passes_through_to_the_sdk_and_marks_secrets(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["--about", "--format=json"])
    assert info.value.code in (0, None)
    about = json.loads(capsys.readouterr().out)
    settings = about["settings"]["properties"]
    assert settings["access_token"]["secret"] is True
    assert settings["client_secret"]["secret"] is True
    assert all(prop.get("description") for prop in settings.values())
    assert set(about["settings"]["required"]) >= {"server_hostname", "http_path"}


def _config_file(tmp_path, **settings) -> str:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"server_hostname": "example.cloud.databricks.com",
                                  "http_path": "/sql/1.0/warehouses/x", "access_token": "t",
                                  "dead_letter_path": str(tmp_path / "none"), **settings}))
    return str(config)


def test_replay_with_an_empty_store_loads_nothing(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["replay", "--config", _config_file(tmp_path)])
    assert info.value.code == 0
    assert json.loads(capsys.readouterr().out) == {"replayed": 0, "still_pending": 0}


def test_settings_of_earlier_versions_are_mapped_with_a_warning(caplog):
    target = TargetDatabricks(config={
        "server_hostname": "h", "http_path": "/p", "access_token": "t", "retry_attempts": 3,
        "version_columns": ["updated_at"]}, parse_env_config=False)
    assert target.config["max_retries"] == 2  # retry_attempts counted the first attempt
    assert "retry_attempts" not in target.config and "version_columns" not in target.config
    warnings = " ".join(r.getMessage() for r in caplog.records if r.levelname == "WARNING")
    assert "retry_attempts is deprecated: use max_retries" in warnings
    assert "version_columns is no longer used" in warnings


def test_an_invalid_setting_ends_on_one_line_naming_it(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["--config", _config_file(tmp_path, on_data_failure="ignore"), "--input", "/dev/null"])
    assert info.value.code == 1
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert "on_data_failure" in last and "Fix:" in last


def test_check_reads_the_settings_meltano_passes_as_variables_old_names_included(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("TARGET_DATABRICKS_SERVER_HOSTNAME", "adb-1.azuredatabricks.net")
    monkeypatch.setenv("TARGET_DATABRICKS_HTTP_PATH", "/sql/1.0/warehouses/x")
    monkeypatch.setenv("TARGET_DATABRICKS_ACCESS_TOKEN", "dapi-secret-value-1")
    monkeypatch.setenv("TARGET_DATABRICKS_TLS_CA_FILE", str(tmp_path / "missing.pem"))
    with pytest.raises(SystemExit) as info:
        cli.main(["check"])
    assert info.value.code == 1
    out = capsys.readouterr()
    assert out.out.splitlines()[0] == (
        f"FAIL  settings: the file '{tmp_path / 'missing.pem'}' named by ca_bundle does not exist. "
        "Fix: set ca_bundle to an existing PEM file (or unset it)")
    assert "dapi-secret-value-1" not in out.out + out.err


def test_check_names_a_missing_client_secret_before_calling_anything(tmp_path, capsys):
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"server_hostname": "h", "http_path": "/p", "client_id": "sp"}))
    with pytest.raises(SystemExit) as info:
        cli.main(["check", "--config", str(config)])
    assert info.value.code == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == ("FAIL  settings: client_secret not set. Fix: set access_token (a personal access token), "
                        "or client_id and client_secret of a service principal (OAuth M2M)")
    assert lines[1] == "FAIL  warehouse host: not tried: settings failed. Fix: see the settings line"
