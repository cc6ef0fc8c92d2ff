from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from qbc_plugin_kit.dead_letters import DeadLetter, DeadLetterStore
from qbc_plugin_kit.plugin_cli import (
    StillRefused,
    dispatch,
    env_config,
    load_config,
    print_pending,
    print_replay_summary,
    replay_config,
    replay_letters,
    replay_parser,
)

PROPERTIES: dict[str, dict[str, Any]] = {
    "client_id": {"type": "string"},
    "max_retries": {"type": ["integer", "null"]},
    "backoff_base_seconds": {"type": "number"},
    "hard_delete": {"type": ["boolean"]},
    "dimension_streams": {"type": ["array", "null"]},
    "not_set": {"type": "string"},
}


def test_env_config_types_values_by_the_settings_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TARGET_X_CLIENT_ID", "abc")
    monkeypatch.setenv("TARGET_X_MAX_RETRIES", "4")
    monkeypatch.setenv("TARGET_X_BACKOFF_BASE_SECONDS", "0.5")
    monkeypatch.setenv("TARGET_X_HARD_DELETE", "True")
    monkeypatch.setenv("TARGET_X_DIMENSION_STREAMS", "customers, vendors,")
    monkeypatch.setenv("TARGET_Y_CLIENT_ID", "someone else's")
    assert env_config("TARGET_X", PROPERTIES) == {
        "client_id": "abc", "max_retries": 4, "backoff_base_seconds": 0.5, "hard_delete": True,
        "dimension_streams": ["customers", "vendors"],
    }


def test_env_config_reads_json_arrays_and_false_booleans(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TARGET_X_DIMENSION_STREAMS", '["a,b", "c"]')
    monkeypatch.setenv("TARGET_X_HARD_DELETE", "no")
    assert env_config("TARGET_X", PROPERTIES) == {"dimension_streams": ["a,b", "c"], "hard_delete": False}


def test_config_files_merge_in_order_and_win_over_the_environment(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    first.write_text(json.dumps({"client_id": "file-a", "max_retries": 2}), encoding="utf-8")
    second.write_text(json.dumps({"client_id": "file-b"}), encoding="utf-8")
    assert load_config([first, second]) == {"client_id": "file-b", "max_retries": 2}

    monkeypatch.setenv("TARGET_X_CLIENT_ID", "env")
    monkeypatch.setenv("TARGET_X_BACKOFF_BASE_SECONDS", "3")
    args = replay_parser("target-x", "X", "TARGET_X").parse_args(["--config", str(first)])
    assert replay_config(args, "TARGET_X", PROPERTIES) == {
        "client_id": "file-a", "max_retries": 2, "backoff_base_seconds": 3.0}


def test_replay_parser_names_the_plugin_and_vendor(capsys: pytest.CaptureFixture[str]) -> None:
    parser = replay_parser("target-x", "Vendor X", "TARGET_X")
    args = parser.parse_args(["--stream", "invoices", "--list"])
    assert (args.stream, args.list, args.config) == ("invoices", True, [])
    with pytest.raises(SystemExit):
        parser.parse_args(["--help"])
    help_text = capsys.readouterr().out
    assert "target-x replay" in help_text
    assert "Vendor X" in help_text
    assert "TARGET_X_*" in help_text


def test_print_pending_and_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = DeadLetterStore(tmp_path)
    store.add("invoices", {}, ["id"], [{"id": "1"}, {"id": "2"}], "HTTP 500")
    print_pending(store.pending())
    store.close()
    assert print_replay_summary(3, 1) == 1
    assert print_replay_summary(2, 0) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[0]["stream"] == "invoices"
    assert (lines[0]["records"], lines[0]["attempts"], lines[0]["error"]) == (2, 1, "HTTP 500")
    assert lines[1:] == [{"replayed": 2, "failed": 1}, {"replayed": 2, "failed": 0}]


def test_dispatch_routes_replay_and_hands_the_rest_to_the_sdk() -> None:
    replayed: list[list[str]] = []
    sdk_calls: list[list[str]] = []

    def replay(argv: list[str]) -> int:
        replayed.append(argv)
        return 1

    def sdk_cli(*, args: list[str]) -> None:
        sdk_calls.append(args)

    with pytest.raises(SystemExit) as exit_info:
        dispatch(["replay", "--list"], replay, sdk_cli)
    assert exit_info.value.code == 1
    assert replayed == [["--list"]]

    dispatch(["--about", "--format=json"], replay, sdk_cli)
    assert sdk_calls == [["--about", "--format=json"]]
    assert replayed == [["--list"]]


def test_replay_letters_marks_sent_keeps_refused_records_and_counts_failures(tmp_path: Path) -> None:
    schema = {"type": "object", "properties": {"id": {"type": "string"}}}
    store = DeadLetterStore(tmp_path)
    sent = store.add("customers", schema, ["id"], [{"id": "a"}], "HTTP 503")
    partly = store.add("invoices", schema, ["id"], [{"id": "b"}, {"id": "c"}], "missing parent")
    down = store.add("vendors", schema, ["id"], [{"id": "d"}], "HTTP 503")

    def send(letter: DeadLetter) -> str:
        if letter.stream == "invoices":
            raise StillRefused([{"id": "c"}], "REQUIRED_FIELD_MISSING")
        if letter.stream == "vendors":
            raise ConnectionError("still down")
        return "1 record(s) written"

    failed = replay_letters(store.pending(), store, logging.getLogger("test"), send,
                            (ConnectionError,))
    left = {letter.id: letter for letter in store.pending()}
    store.close()
    assert failed == 2
    assert sent not in left
    assert left[partly].records == [{"id": "c"}] and left[partly].error == "REQUIRED_FIELD_MISSING"
    assert left[down].records == [{"id": "d"}] and left[down].error == "still down"
    assert left[down].attempts == 2
