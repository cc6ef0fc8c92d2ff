"""The delivery contract on a toy target: what lands, what is set aside, what stops the run."""

from __future__ import annotations

import contextlib
import io
import json
import pathlib
from typing import Any

import pytest
from qbc_plugin_kit.dead_letters import DeadLetterStore
from qbc_plugin_kit.failures import RecordsSetAside, SystemicFailure
from qbc_plugin_kit.plugin_cli import main

from tests.toy_target import REFUSE_VALUE, TABLES, ToyTarget

SCHEMA = {"type": "SCHEMA", "stream": "invoices", "key_properties": ["id"], "schema": {"properties": {
    "id": {"type": "string"}, "amount": {"type": ["number", "null"], "multipleOf": 0.01},
    "note": {"type": ["string", "null"]},
    "updated_at": {"type": ["string", "null"], "format": "date-time"},
    "_sdc_deleted_at": {"type": ["string", "null"], "format": "date-time"}}}}
STATE = '{"type": "STATE", "value": {"bookmark": 1}}'


def record(rid: str, body: str = '"amount": 1.25') -> str:
    return f'{{"type": "RECORD", "stream": "invoices", "record": {{"id": "{rid}", {body}}}}}'


def run(config: dict[str, Any], lines: list[str]) -> tuple[str, BaseException | None]:
    out = io.StringIO()
    error: BaseException | None = None
    with contextlib.redirect_stdout(out):
        try:
            ToyTarget(config=config).listen(io.StringIO("\n".join(lines) + "\n"))
        except (SystemicFailure, RecordsSetAside) as exc:
            error = exc
    return out.getvalue(), error


@pytest.fixture
def config(tmp_path: pathlib.Path) -> dict[str, Any]:
    TABLES.clear()
    return {"dead_letter_path": str(tmp_path / "letters")}


def letters(config: dict[str, Any]) -> list[Any]:
    return DeadLetterStore(config["dead_letter_path"]).letters()


def test_bad_records_are_set_aside_alone_and_exactly_as_sent(config: dict[str, Any]) -> None:
    bad = [record("2", '"amount": NaN'), record("3", '"amount": 1.001'), record("4", f'"note": "{REFUSE_VALUE}"'),
           "not json", '{"type": "RECORD", "stream": "bills", "record": {"id": "9"}}', record("5", '"amount": 1e400')]
    lines = [json.dumps(SCHEMA), record("1"), *bad, record("6"), '{"type": "RECORD", "stream": "invoices", "record": {}}',
             STATE]
    out, error = run(config, lines)
    assert isinstance(error, RecordsSetAside)
    assert '"bookmark": 1' in out, "everything else was delivered, so the state is emitted"
    assert sorted(TABLES["invoices"]) == [("1",), ("5",), ("6",)]
    kept = letters(config)
    assert sorted(letter.line for letter in kept) == sorted([*bad[:-1], lines[-2]])
    assert any("key property id" in letter.reason for letter in kept)


def test_on_data_failure_warn_exits_cleanly(config: dict[str, Any]) -> None:
    _, error = run({**config, "on_data_failure": "warn"}, [json.dumps(SCHEMA), record("2", '"amount": NaN')])
    assert error is None and len(letters(config)) == 1


def test_a_systemic_failure_stops_with_no_state_and_nothing_set_aside(config: dict[str, Any]) -> None:
    out, error = run({**config, "systemic": True}, [json.dumps(SCHEMA), record("1"), STATE])
    assert isinstance(error, SystemicFailure) and str(error).endswith("Fix: grant it")
    assert out == "" and letters(config) == []


def test_a_destination_refusing_a_whole_batch_with_one_error_is_systemic(config: dict[str, Any]) -> None:
    lines = [json.dumps(SCHEMA), *(record(str(i), f'"note": "{REFUSE_VALUE}"') for i in range(50)), STATE]
    out, error = run(config, lines)
    assert isinstance(error, SystemicFailure) and "refused the whole batch of 50" in str(error)
    assert out == "" and letters(config) == []


def test_letters_are_resent_first_by_the_next_run_and_replay_round_trips(
    config: dict[str, Any], tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    nan = record("2", '"amount": NaN')
    refused = record("4", f'"note": "{REFUSE_VALUE}"')
    run(config, [json.dumps(SCHEMA), record("1"), nan, refused])
    monkeypatch.setattr("tests.toy_target.REFUSE_VALUE", "nothing-refused-now")
    run(config, [json.dumps(SCHEMA)])
    assert ("4",) in TABLES["invoices"], "the pending letter was re-sent before the new input"
    (still,) = letters(config)
    assert still.line == nan and still.attempts == 2

    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(config))
    capsys.readouterr()
    with pytest.raises(SystemExit) as listed:
        main(["replay", "--list", "--config", str(config_file)], "target-toy", ToyTarget)
    assert listed.value.code == 0
    assert json.loads(capsys.readouterr().out)["line"] == nan
    with pytest.raises(SystemExit) as dry:
        main(["replay", "--dry-run", "--config", str(config_file)], "target-toy", ToyTarget)
    assert dry.value.code == 0 and json.loads(capsys.readouterr().out)["would_pass"] is False
    with pytest.raises(SystemExit) as replayed:
        main(["replay", "--config", str(config_file)], "target-toy", ToyTarget)
    assert replayed.value.code == 1
    assert ("2",) not in TABLES["invoices"], "a refused value is never changed into something loadable"
    with pytest.raises(SystemExit) as discarded:
        main(["replay", "--discard", "--id", str(still.id), "--config", str(config_file)], "target-toy", ToyTarget)
    assert discarded.value.code == 0 and letters(config) == []


def test_a_missing_config_file_is_named_on_the_last_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as ended:
        main(["replay", "--config", "nowhere.json"], "target-toy", ToyTarget)
    assert ended.value.code == 1
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith("target-toy: the config file 'nowhere.json'")
