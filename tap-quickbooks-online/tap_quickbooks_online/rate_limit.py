"""Per-realm request pacing: Intuit allows 500 requests per minute and 10 in flight per realm."""

from __future__ import annotations

import collections
import contextlib
import threading
import time
import typing as t


class RealmRateLimiter:
    """A sliding-window limit on request starts plus a cap on concurrent requests."""

    def __init__(
        self,
        *,
        requests_per_minute: int = 500,
        max_concurrency: int = 10,
        window_seconds: float = 60.0,
        clock: t.Callable[[], float] = time.monotonic,
        sleep: t.Callable[[float], None] = time.sleep,
    ) -> None:
        self._limit = max(1, requests_per_minute)
        self._window = window_seconds
        self._starts: collections.deque[float] = collections.deque()
        self._lock = threading.Lock()
        self._in_flight = threading.BoundedSemaphore(max(1, max_concurrency))
        self._clock = clock
        self._sleep = sleep
        self._paused_until = 0.0

    def pause(self, seconds: float) -> None:
        """Hold every request of this realm (a 429's Retry-After applies to the realm)."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)

    def _reserve_start(self) -> None:
        while True:
            with self._lock:
                now = self._clock()
                while self._starts and now - self._starts[0] >= self._window:
                    self._starts.popleft()
                wait = self._paused_until - now
                if wait <= 0 and len(self._starts) < self._limit:
                    self._starts.append(now)
                    return
                if wait <= 0:
                    wait = self._window - (now - self._starts[0])
            self._sleep(max(wait, 0.001))

    @contextlib.contextmanager
    def slot(self) -> t.Iterator[None]:
        with self._in_flight:
            self._reserve_start()
            yield
