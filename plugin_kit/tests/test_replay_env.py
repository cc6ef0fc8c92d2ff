"""`<target> replay` reads its settings from the environment as Meltano passes them."""

from __future__ import annotations

import pytest


def test_replay_reads_number_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    from qbc_plugin_kit.plugin_cli import main

    from .toy_target import ToyTarget

    monkeypatch.setenv("TARGET_TOY_DEAD_LETTER_PATH", str(tmp_path))
    monkeypatch.setenv("TARGET_TOY_MAX_RETRIES", "2")
    # A number setting, as `meltano invoke target-toy:replay` passes it: text.
    schema = ToyTarget.config_jsonschema
    monkeypatch.setitem(schema["properties"], "backoff_seconds", {"type": ["number", "null"]})
    monkeypatch.setenv("TARGET_TOY_BACKOFF_SECONDS", "0.5")
    with pytest.raises(SystemExit) as exited:
        main(["replay", "--list"], "target-toy", ToyTarget)
    assert exited.value.code == 0
