"""Client-side pacing under Power BI's documented push limits, per dataset.

Waiting here is cheaper than a 429: Power BI counts rejected POSTs against the same window.
Limits (Microsoft, "Push semantic model limitations"): 120 POST rows requests a minute, 120 an
hour once a table holds 250,000 rows, 1,000,000 rows added an hour.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class PushLimits:
    max_rows_per_request: int = 10_000
    post_requests_per_minute: int = 120
    post_requests_per_hour_large_table: int = 120
    large_table_rows: int = 250_000
    rows_per_hour: int = 1_000_000


class PushPacer:
    def __init__(
        self,
        limits: PushLimits,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        logger: logging.Logger | None = None,
    ) -> None:
        self.limits = limits
        self._clock = clock
        self._sleep = sleep
        self._logger = logger or logging.getLogger(__name__)
        self._posts: deque[tuple[float, int]] = deque()
        self.waited_seconds = 0.0

    def before_post(self, row_count: int, largest_table_rows: int = 0) -> None:
        """Block until a POST of ``row_count`` rows stays inside every limit, then count it."""
        limits = self.limits
        if row_count > limits.rows_per_hour:
            raise ValueError(f"{row_count} rows exceed the hourly limit {limits.rows_per_hour}")
        while True:
            now = self._clock()
            while self._posts and now - self._posts[0][0] >= 3600:
                self._posts.popleft()
            wait = 0.0
            minute = [t for t, _ in self._posts if now - t < 60]
            if len(minute) >= limits.post_requests_per_minute:
                wait = max(wait, 60 - (now - minute[0]))
            if largest_table_rows >= limits.large_table_rows and len(self._posts) >= limits.post_requests_per_hour_large_table:
                wait = max(wait, 3600 - (now - self._posts[0][0]))
            rows_in_hour = sum(n for _, n in self._posts)
            if rows_in_hour + row_count > limits.rows_per_hour:
                needed = rows_in_hour + row_count - limits.rows_per_hour
                freed = 0
                for t, n in self._posts:
                    freed += n
                    if freed >= needed:
                        wait = max(wait, 3600 - (now - t))
                        break
            if wait <= 0:
                self._posts.append((now, row_count))
                return
            if wait > 1:
                self._logger.info("Pacing Power BI pushes under the documented limits: waiting %.1fs", wait)
            self.waited_seconds += wait
            self._sleep(wait)
