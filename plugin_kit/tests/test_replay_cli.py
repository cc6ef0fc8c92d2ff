"""`<target> replay`: settings from the environment as Meltano passes them; the dry-run hook."""

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


def test_replay_dry_run_asks_the_target_what_its_destination_cannot_hold(
        monkeypatch: pytest.MonkeyPatch, tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from qbc_plugin_kit.dead_letters import DeadLetterStore
    from qbc_plugin_kit.plugin_cli import main

    from .toy_target import ToyTarget

    store = DeadLetterStore(tmp_path)
    schema = json.dumps({"type": "SCHEMA", "stream": "s", "key_properties": ["id"],
                         "schema": {"type": "object", "properties": {"id": {"type": "string"}}}})
    store.add(stream="s", line='{"type": "RECORD", "stream": "s", "record": {"id": "too-long-for-the-toy"}}',
              reason="refused", key={"id": "too-long-for-the-toy"}, schema_message=schema)
    store.add(stream="s", line='{"type": "RECORD", "stream": "s", "record": {"id": "ok"}}',
              reason="refused", key={"id": "ok"}, schema_message=schema)
    store.close()

    def value_refusal(self, stream: str, schema_message: dict, record: dict) -> str | None:
        return "id longer than 5 characters" if len(record["id"]) > 5 else None

    monkeypatch.setattr(ToyTarget, "value_refusal", value_refusal, raising=False)
    monkeypatch.setenv("TARGET_TOY_DEAD_LETTER_PATH", str(tmp_path))
    with pytest.raises(SystemExit):
        main(["replay", "--dry-run"], "target-toy", ToyTarget)
    answers = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(a["would_pass"], a["reason"]) for a in answers] == [
        (False, "id longer than 5 characters"), (True, None)]


def test_help_lists_the_plugin_commands_under_the_sdk_options(capsys: pytest.CaptureFixture[str]) -> None:
    from qbc_plugin_kit.plugin_cli import main

    from .toy_target import ToyTarget

    def lookml(argv: list[str]) -> int:
        """Regenerate the LookML project."""
        return 0

    with pytest.raises(SystemExit) as ended:
        main(["--help"], "toy-target", ToyTarget, commands={"lookml": lookml})
    out = capsys.readouterr().out
    assert ended.value.code == 0
    assert "--config" in out  # the SDK's own help comes first
    assert "toy-target replay     Re-send the records kept in the dead-letter store" in out
    assert "toy-target lookml     Regenerate the LookML project." in out
