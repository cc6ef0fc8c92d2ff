"""The console script: SDK commands pass through; settings describe themselves."""

from __future__ import annotations

import json

import pytest
from target_databricks import cli


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


def test_replay_with_an_empty_store_loads_nothing(tmp_path, capsys):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"server_hostname": "example.cloud.databricks.com",
                                  "http_path": "/sql/1.0/warehouses/x", "access_token": "t",
                                  "dead_letter_path": str(tmp_path / "none")}))
    with pytest.raises(SystemExit) as info:
        cli.main(["replay", "--config", str(config)])
    assert info.value.code == 0
    assert "replayed 0 batch(es)" in capsys.readouterr().err
