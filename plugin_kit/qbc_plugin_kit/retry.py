"""Jittered exponential backoff for transient failures only (throttling, 5xx, network)."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


class TransientError(Exception):
    """A failure worth retrying; ``retry_after`` is the server's own wait hint in seconds."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    base_seconds: float = 1.0
    max_seconds: float = 60.0
    max_retry_after_seconds: float = 3600.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after_seconds)
        ceiling = min(self.max_seconds, self.base_seconds * (2 ** (attempt - 1)))
        # Full jitter keeps parallel jobs (one per company) from retrying in lock-step.
        return random.uniform(ceiling / 2, ceiling)


def call_with_retries(
    operation: Callable[[], T],
    policy: RetryPolicy,
    describe: str,
    logger: logging.Logger,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    attempt = 1
    while True:
        try:
            return operation()
        except TransientError as exc:
            if attempt >= policy.max_attempts:
                raise
            wait = policy.delay(attempt, exc.retry_after)
            logger.warning("%s failed (%s); retry %d/%d in %.2fs",
                           describe, exc, attempt, policy.max_attempts - 1, wait)
            sleep(wait)
            attempt += 1
