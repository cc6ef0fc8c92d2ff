"""Fault injection and request counters for the sandbox warehouse.

Faults are armed by count ("the next n requests"), never by time, so a test that arms one
knows exactly which request it hits and nothing keeps failing after the test ends.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .credentials import CredentialStore

WAREHOUSE = "warehouse"
TOKEN = "token"
# The adapter's own connection to Spark, behind the warehouse endpoint.
SPARK_LINK = "spark-link"


@dataclass
class _Armed:
    remaining: int
    endpoint: str
    method: str | None
    http_status: int = 0
    retry_after: int | None = None


@dataclass(frozen=True)
class Verdict:
    """What the adapter must do with one request instead of serving it."""

    drop: bool = False
    http_status: int = 0
    retry_after: int | None = None


class Faults:
    """Armed faults plus counters; shared by every adapter thread."""

    def __init__(self, credentials: CredentialStore) -> None:
        self._credentials = credentials
        self._lock = threading.Lock()
        self._armed: list[_Armed] = []
        self.counts: Counter[str] = Counter()

    def fail_next(
        self,
        n: int = 1,
        http_status: int = 503,
        *,
        retry_after: int | None = None,
        method: str | None = None,
        endpoint: str = WAREHOUSE,
    ) -> None:
        """Answer the next ``n`` matching requests with ``http_status`` and a Databricks-style
        error body, without passing them to Spark (a 503 is a warehouse still starting).

        ``method`` narrows it to one thrift call (``"ExecuteStatement"``); ``endpoint="token"``
        aims it at the OAuth token endpoint instead of the warehouse.
        """
        self._arm(_Armed(n, endpoint, method, http_status=http_status, retry_after=retry_after))

    def drop_next(self, n: int = 1, *, method: str | None = None, endpoint: str = WAREHOUSE) -> None:
        """Reset the TCP connection (RST, no HTTP response) on the next ``n`` matching requests,
        before they reach Spark."""
        self._arm(_Armed(n, endpoint, method))

    def lose_answers_next(self, n: int = 1, *, method: str | None = None) -> None:
        """Let the next ``n`` matching thrift calls reach Spark and run, then lose Spark's
        answer on the way back (the adapter's link to Spark resets), as a network fault between
        a warehouse's gateway and its compute does."""
        self._arm(_Armed(n, SPARK_LINK, method))

    def answer_lost(self, method: str) -> bool:
        """Consume an armed ``lose_answers_next`` fault matching ``method``, if any."""
        with self._lock:
            for armed in self._armed:
                if armed.endpoint != SPARK_LINK or (armed.method and armed.method != method):
                    continue
                armed.remaining -= 1
                if armed.remaining == 0:
                    self._armed.remove(armed)
                self.counts["faults.answers_lost"] += 1
                return True
        return False

    def expire_tokens(self) -> None:
        """Refuse (401) every access token issued so far, personal or OAuth."""
        self._credentials.expire_all()

    def clear(self) -> None:
        with self._lock:
            self._armed.clear()

    def reset_counts(self) -> None:
        with self._lock:
            self.counts.clear()

    def count(self, key: str) -> int:
        with self._lock:
            return self.counts[key]

    def record(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self.counts[key] += 1

    def _arm(self, armed: _Armed) -> None:
        if armed.remaining < 1:
            raise ValueError("a fault must be armed for at least one request")
        with self._lock:
            self._armed.append(armed)

    def verdict(self, endpoint: str, method: str | None) -> Verdict | None:
        """Consume and return the first armed fault matching this request, if any."""
        with self._lock:
            for armed in self._armed:
                if armed.endpoint != endpoint or (armed.method and armed.method != method):
                    continue
                armed.remaining -= 1
                if armed.remaining == 0:
                    self._armed.remove(armed)
                if armed.http_status:
                    self.counts["faults.failed"] += 1
                    return Verdict(http_status=armed.http_status, retry_after=armed.retry_after)
                self.counts["faults.dropped"] += 1
                return Verdict(drop=True)
        return None
