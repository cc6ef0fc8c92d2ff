from __future__ import annotations

import logging

import pytest
from qbc_plugin_kit.retry import RetryPolicy, TransientError, call_with_retries

LOGGER = logging.getLogger("test-retry")


class Flaky:
    def __init__(self, failures: list[Exception]) -> None:
        self.failures = failures
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return "ok"


def test_transient_failures_are_retried_until_success() -> None:
    waits: list[float] = []
    operation = Flaky([TransientError("503"), TransientError("429", retry_after=7)])
    result = call_with_retries(operation, RetryPolicy(max_attempts=3, base_seconds=2), "push", LOGGER, waits.append)
    assert result == "ok"
    assert operation.calls == 3
    assert 1.0 <= waits[0] <= 2.0  # full jitter in [ceiling/2, ceiling] for the first retry
    assert waits[1] == 7  # the server's Retry-After wins over the backoff


def test_gives_up_after_max_attempts_with_the_last_error() -> None:
    waits: list[float] = []
    operation = Flaky([TransientError(f"503 #{i}") for i in range(5)])
    with pytest.raises(TransientError, match="503 #2"):
        call_with_retries(operation, RetryPolicy(max_attempts=3), "push", LOGGER, waits.append)
    assert operation.calls == 3
    assert len(waits) == 2


def test_other_errors_are_not_retried() -> None:
    operation = Flaky([ValueError("400 bad request")])
    with pytest.raises(ValueError):
        call_with_retries(operation, RetryPolicy(), "push", LOGGER, lambda _: pytest.fail("slept"))
    assert operation.calls == 1


def test_delay_is_capped_and_grows_exponentially() -> None:
    policy = RetryPolicy(base_seconds=1, max_seconds=10, max_retry_after_seconds=30)
    assert 4.0 <= policy.delay(4, None) <= 8.0
    assert 5.0 <= policy.delay(20, None) <= 10.0
    assert policy.delay(1, 3600) == 30
    assert policy.delay(1, -5) == 0.0
