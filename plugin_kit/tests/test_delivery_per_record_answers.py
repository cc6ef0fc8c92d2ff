"""deliver_batch with a destination that answers per record, a systemic verdict's fix, and
number settings from the environment for `replay`."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from qbc_plugin_kit.delivery import deliver_batch
from qbc_plugin_kit.failures import Kind, SystemicFailure, Verdict
from qbc_plugin_kit.plugin_cli import env_config
from qbc_plugin_kit.retry import RetryPolicy, TransientError

LOGGER = logging.getLogger("test")


def _deliver(records: list[dict[str, Any]], load: Any, classify: Any = None) -> tuple[list, list]:
    set_aside: list[tuple[int, str]] = []
    landed = deliver_batch(records, load=load, classify=classify or (lambda e: Verdict(Kind.REFUSED, str(e))),
                           set_aside=lambda r, reason: set_aside.append((r["id"], reason)),
                           policy=RetryPolicy(max_attempts=3, base_seconds=0, max_seconds=0),
                           logger=LOGGER, describe="s", sleep=lambda _s: None)
    return [r["id"] for r in landed], set_aside


def test_records_refused_one_by_one_are_set_aside_alone_without_splitting() -> None:
    calls: list[list[int]] = []

    def load(batch: list[dict[str, Any]]) -> list[tuple[dict[str, Any], str]]:
        calls.append([r["id"] for r in batch])
        return [(r, f"too long: {r['id']}") for r in batch if r["id"] in (2, 5)]

    landed, set_aside = _deliver([{"id": i} for i in range(1, 7)], load)
    assert landed == [1, 3, 4, 6]
    assert set_aside == [(2, "too long: 2"), (5, "too long: 5")]
    assert calls == [[1, 2, 3, 4, 5, 6]]


def test_only_the_answer_of_the_last_attempt_counts() -> None:
    answers = iter([TransientError("lock"), [(2, "refused")], []])

    def load(batch: list[dict[str, Any]]) -> list[tuple[dict[str, Any], str]]:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return [(r, reason) for r in batch for rid, reason in answer if r["id"] == rid]

    classify = lambda e: Verdict(Kind.TRANSIENT, str(e))  # noqa: E731
    assert _deliver([{"id": 1}, {"id": 2}], load, classify) == ([1], [(2, "refused")])


def test_a_systemic_verdict_stops_with_its_fix() -> None:
    def load(batch: list[dict[str, Any]]) -> None:
        raise PermissionError("no")

    with pytest.raises(SystemicFailure) as stopped:
        _deliver([{"id": 1}], load, lambda e: Verdict(Kind.SYSTEMIC, "the toy refuses", fix="grant it"))
    assert str(stopped.value) == "the toy refuses. Fix: grant it"


def test_replay_reads_number_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    schema = {"properties": {"ratio": {"type": ["number", "null"]}, "count": {"type": ["integer"]},
                             "name": {"type": ["string"]}}}
    monkeypatch.setenv("TARGET_TOY_RATIO", "0.25")
    monkeypatch.setenv("TARGET_TOY_COUNT", "3")
    monkeypatch.setenv("TARGET_TOY_NAME", "0.5")
    assert env_config("target-toy", schema) == {"ratio": 0.25, "count": 3, "name": "0.5"}
