"""A classifier's fix reaches the last line a user reads, for systemic and exhausted transient
failures alike."""

from __future__ import annotations

import logging

import pytest
from qbc_plugin_kit.delivery import deliver_batch
from qbc_plugin_kit.failures import Kind, SystemicFailure, Verdict
from qbc_plugin_kit.retry import RetryPolicy

LOGGER = logging.getLogger("test")


def _failing(error: Exception):
    def load(batch: list[dict]) -> None:
        raise error
    return load


def test_a_systemic_verdict_ends_with_the_classifiers_fix() -> None:
    def classify(error: BaseException) -> Verdict:
        return Verdict(Kind.SYSTEMIC, "the service refused the credentials", "set client_secret")

    with pytest.raises(SystemicFailure) as raised:
        deliver_batch([{"id": 1}], load=_failing(RuntimeError("401")), classify=classify,
                      set_aside=lambda r, why: None, policy=RetryPolicy(max_attempts=3),
                      logger=LOGGER, describe="invoices", sleep=lambda s: None)
    assert str(raised.value) == "the service refused the credentials. Fix: set client_secret"


def test_transient_errors_that_outlast_the_retries_end_with_the_classifiers_fix() -> None:
    calls = []

    def load(batch: list[dict]) -> None:
        calls.append(len(batch))
        raise ConnectionError("refused")

    def classify(error: BaseException) -> Verdict:
        return Verdict(Kind.TRANSIENT, "cannot reach the API", "check api_url", retry_after=0)

    with pytest.raises(SystemicFailure) as raised:
        deliver_batch([{"id": 1}, {"id": 2}], load=load, classify=classify,
                      set_aside=lambda r, why: None, policy=RetryPolicy(max_attempts=3),
                      logger=LOGGER, describe="invoices", sleep=lambda s: None)
    assert calls == [2, 2, 2]
    assert str(raised.value).endswith("Fix: check api_url")
    assert "cannot reach the API" in str(raised.value)

