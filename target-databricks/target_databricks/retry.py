"""Jittered exponential backoff, for the failures a retry can fix and no others."""

from __future__ import annotations

import logging
import random
import re
import time
import typing as t
from dataclasses import dataclass

from target_databricks.auth import AuthenticationError

T = t.TypeVar("T")

# Text the connector and the warehouse put in errors that go away on their own: throttling,
# a warehouse still starting, a dropped connection, and optimistic-concurrency conflicts
# between jobs writing the same table (Delta's Concurrent*Exception, Iceberg's
# CommitFailedException).
_TRANSIENT_MARKERS = (
    "429",
    "503",
    "502",
    "504",
    "too many requests",
    "temporarily unavailable",
    "temporarily_unavailable",
    "service unavailable",
    "starting",
    "connection reset",
    "connection aborted",
    "connection refused",
    "remotedisconnected",
    "broken pipe",
    "timed out",
    "timeout",
    "max retries exceeded",
    "concurrentappendexception",
    "concurrentdeletereadexception",
    "concurrenttransactionexception",
    "delta_concurrent",
    "commitfailedexception",
)
_AUTH_MARKERS = ("unauthorized", "unauthenticated", "invalid access token",
                 "invalid_token", "token is expired", "expired token")
# "401" only as a number of its own: Spark's error text carries query and operation ids whose
# hex digits contain "401" now and then, and a missing table must not read as a bad token.
_HTTP_401 = re.compile(r"(?<![0-9a-z])401(?![0-9a-z])")


_TRANSIENT_HTTP = {429, 502, 503, 504}
# The connector is configured never to sleep itself (connector.py); when it would have
# retried, it raises with this text instead, so such a failure is one it judged retryable.
_CONNECTOR_WANTED_RETRY = "would exceed retry policy max retry duration"


class UnauthorizedError(RuntimeError):
    """The warehouse answered 401: refresh the token and reconnect once."""


class TransientWarehouseError(RuntimeError):
    """A failure that goes away on its own (throttled, starting, connection dropped)."""


def _http_code(exc: BaseException) -> int | None:
    context = getattr(exc, "context", None)
    if isinstance(context, dict):
        code = context.get("http-code")
        return int(code) if isinstance(code, int) else None
    return None


def is_unauthorized(exc: BaseException) -> bool:
    if isinstance(exc, UnauthorizedError) or _http_code(exc) == 401:
        return True
    text = f"{type(exc).__name__}: {exc}".lower()
    return any(marker in text for marker in _AUTH_MARKERS) or bool(_HTTP_401.search(text))


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, AuthenticationError) or is_unauthorized(exc):
        return False
    if isinstance(exc, TransientWarehouseError | ConnectionError | TimeoutError):
        return True
    if _http_code(exc) in _TRANSIENT_HTTP:
        return True
    text = f"{type(exc).__name__}: {exc}".lower()
    return _CONNECTOR_WANTED_RETRY in text or any(m in text for m in _TRANSIENT_MARKERS)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    base_delay: float = 1.0
    max_delay: float = 30.0

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Full jitter: uniform in [0, min(max_delay, base * 2**attempt)] (AWS backoff note)."""
        ceiling = min(self.max_delay, self.base_delay * (2**attempt))
        return (rng or random).uniform(0, ceiling)


def call_with_retry(
    operation: t.Callable[[], T],
    policy: RetryPolicy,
    *,
    what: str,
    logger: logging.Logger,
    sleep: t.Callable[[float], None] = time.sleep,
    classify: t.Callable[[BaseException], bool] = is_transient,
) -> T:
    """Run ``operation``; retry it after transient failures, up to ``policy.attempts`` runs."""
    attempt = 0
    while True:
        try:
            return operation()
        except Exception as exc:
            attempt += 1
            if attempt >= policy.attempts or not classify(exc):
                raise
            pause = policy.delay(attempt - 1)
            logger.warning(
                "%s failed (attempt %d of %d): %s; retrying in %.1f s",
                what, attempt, policy.attempts, type(exc).__name__, pause,
            )
            sleep(pause)
