"""A verdict's fix reaches the run's last line; a record sent again keeps its one letter."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest
from qbc_plugin_kit.dead_letters import DeadLetterStore
from qbc_plugin_kit.delivery import deliver_batch
from qbc_plugin_kit.failures import Kind, SystemicFailure, Verdict
from qbc_plugin_kit.retry import RetryPolicy

from .toy_target import ToyTarget

SCHEMA = {"type": "SCHEMA", "stream": "items", "key_properties": ["id"],
          "schema": {"type": "object", "properties": {"id": {"type": "string"}}}}


def test_a_systemic_verdict_stops_the_run_with_its_cause_and_fix(tmp_path: Path) -> None:
    target = ToyTarget(config={"systemic": True, "dead_letter_path": str(tmp_path)},
                       parse_env_config=False)
    lines = [json.dumps(SCHEMA), json.dumps({"type": "RECORD", "stream": "items", "record": {"id": "1"}})]
    with pytest.raises(SystemicFailure) as failure:
        target.listen(io.StringIO("\n".join(lines) + "\n"))
    assert str(failure.value) == "the toy refuses: permission denied. Fix: grant it"


def test_an_instant_before_year_one_in_utc_is_set_aside_not_a_crash(tmp_path: Path) -> None:
    schema = {**SCHEMA, "schema": {"type": "object", "properties": {
        "id": {"type": "string"}, "updated_at": {"type": "string", "format": "date-time"}}}}
    line = '{"type":"RECORD","stream":"items","record":{"id":"1","updated_at":"0001-01-01T00:00:00+01:00"}}'
    target = ToyTarget(config={"dead_letter_path": str(tmp_path), "on_data_failure": "warn"},
                       parse_env_config=False)
    target.listen(io.StringIO(json.dumps(schema) + "\n" + line + "\n"))
    (letter,) = target.delivery.store.letters()
    assert letter.line == line and "updated_at" in letter.reason


def test_a_refused_setting_is_named_on_the_one_line() -> None:
    with pytest.raises(SystemicFailure) as failure:
        ToyTarget(config={"on_data_failure": "ignore"}, parse_env_config=False)
    assert "on_data_failure" in failure.value.cause and "'ignore'" in failure.value.cause
    assert "meltano config target-toy set" in failure.value.fix


def test_a_transient_error_that_outlasts_the_retries_ends_on_the_targets_fix() -> None:
    attempts: list[int] = []

    def load(batch: list[dict]) -> None:
        attempts.append(len(batch))
        raise ConnectionResetError("reset by peer")

    with pytest.raises(SystemicFailure) as failure:
        deliver_batch([{"id": "1"}], load=load,
                      classify=lambda e: Verdict(Kind.TRANSIENT, str(e), fix="check the host setting"),
                      set_aside=lambda record, reason: None, policy=RetryPolicy(max_attempts=3),
                      logger=logging.getLogger("test"), describe="items", sleep=lambda _: None)
    assert attempts == [1, 1, 1]
    assert str(failure.value).endswith("reset by peer. Fix: check the host setting")


def test_a_line_sent_again_while_pending_keeps_its_one_letter(tmp_path: Path) -> None:
    store = DeadLetterStore(tmp_path)
    line = '{"type":"RECORD","stream":"items","record":{"id":"1","amount":NaN}}'
    first = store.add(stream="items", line=line, reason="NaN")
    again = store.add(stream="items", line=line, reason="NaN, still")
    other = store.add(stream="items", line=line.replace('"1"', '"2"'), reason="NaN")
    assert again == first and other != first
    letters = store.letters()
    assert [(letter.id, letter.reason, letter.line) for letter in letters] == [
        (first, "NaN, still", line), (other, "NaN", line.replace('"1"', '"2"'))]
    store.mark_replayed(first)
    # Once delivered, the same line failing in a later run is a new letter.
    assert store.add(stream="items", line=line, reason="NaN") not in (first, other)
    store.close()
