"""A full batch is written while the next one is read (issue 17).

A target whose destination does its share of a load in another process (PostgreSQL's COPY and
merge run in the server) spent that time waiting: the server's CPU and the target's never
overlapped. :class:`BackgroundLoads` runs one batch's delivery on a worker thread while the
target goes on reading; the worker mostly waits on the server, so the two share little of the
GIL.

The contract holds because every point that makes a batch's outcome visible waits for it:

* at most one batch is in flight: the next drain (any sink) waits for it first, so memory holds
  the batch being written and the one being read, never more, and batches land in order;
* STATE is written only after :meth:`wait` (``DeliveryTarget._write_state_message``), so no
  state is emitted past what was committed;
* the batch's failure (a systemic error, a record set aside) is raised from :meth:`wait`, in
  the reading thread, where it stops the run as it would have without the worker.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor


class BackgroundLoads:
    """One worker thread per target, at most one batch on it."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._executor: ThreadPoolExecutor | None = None
        self._in_flight: Future[None] | None = None
        # Parallel drains (the SDK's drain_all threads) submit and wait from several threads.
        self._lock = threading.Lock()

    def submit(self, job: Callable[[], None]) -> None:
        """Run ``job`` on the worker, after the batch before it (whose failure is raised here)."""
        with self._lock:
            self._wait_locked()
            if self._executor is None:
                self._executor = ThreadPoolExecutor(1, thread_name_prefix=f"{self._name}-load")
            self._in_flight = self._executor.submit(job)

    def wait(self) -> None:
        """Return once no batch is in flight; raise the failure of the one that was."""
        with self._lock:
            self._wait_locked()

    def _wait_locked(self) -> None:
        in_flight, self._in_flight = self._in_flight, None
        if in_flight is not None:
            in_flight.result()

    def close(self) -> None:
        """Wait for the batch in flight (its failure is raised) and stop the worker."""
        try:
            self.wait()
        finally:
            if self._executor is not None:
                self._executor.shutdown(wait=True)
                self._executor = None
