"""Progress of a long sync or load: "N records so far" at most every :data:`PROGRESS_SECONDS`.

The taps get theirs from the SDK's record counter (``quiet_logs``); a target, which has no such
counter, counts what it delivered with :class:`Progress` and logs the same two lines::

    target-x stream invoices: 120000 records so far (2400 records/s)
    target-x stream invoices: 150000 records in 61.3 s
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

PROGRESS_SECONDS = 30.0


class Progress:
    """Counts one stream's records; logs a progress line at most every ``every`` seconds."""

    def __init__(self, logger: logging.Logger, stream: str, *, every: float = PROGRESS_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.logger = logger
        self.stream = stream
        self.every = every
        self._clock = clock
        self._started = clock()
        self._last_line = self._started
        self.count = 0

    def add(self, records: int) -> None:
        self.count += records
        now = self._clock()
        if now - self._last_line >= self.every:
            self._last_line = now
            elapsed = max(now - self._started, 1e-9)
            self.logger.info("stream %s: %d records so far (%.0f records/s)", self.stream, self.count,
                             self.count / elapsed)

    def done(self) -> None:
        """The stream's one closing line."""
        self.logger.info("stream %s: %d records in %.1f s", self.stream, self.count, self._clock() - self._started)
