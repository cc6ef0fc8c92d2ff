"""How `serve` ends on SIGTERM or SIGINT: promptly, once, and never by hanging.

Python runs a signal handler on the main thread, between two bytecodes of whatever that
thread is doing. `serve` used to raise SystemExit from its handler, so the exception could
surface anywhere in cheroot's selector loop: also inside the list comprehension that checks
keep-alive connections for expiry, whose generator holds the selector's (non-reentrant) lock
and stays suspended while the traceback keeps the comprehension's frame alive. The shutdown
that followed asked for that lock and waited forever, a futex wait in the main thread.

So the handler only counts signals; the main thread notices, stops the server on a helper
thread and waits for it, bounded: still busy after SHUTDOWN_SECONDS, or a second signal
meanwhile, and the process ends with exit code 1 and one line naming what was busy.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

PROG = "tap-quickbooks-desktop"

# How long a shutdown may take before `serve` gives up on it. Service managers send SIGKILL
# after their own grace (docker stop: 10 s, systemd: 90 s); ending first, `serve` says what
# was still busy instead of vanishing. A request in flight (one page mapped and committed
# takes about a second) finishes well within it.
SHUTDOWN_SECONDS = 8.0
# How often the main thread looks at the signal count: the handler cannot wake it (waking
# takes a lock), so it polls, and a signal is acted on within this delay.
POLL_SECONDS = 0.2


class StopSignals:
    """Counts SIGINT and SIGTERM while in use; the previous handlers come back after."""

    def __init__(self) -> None:
        self.count = 0
        self.last: int | None = None
        self.first: int | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopSignals:
        for signum in (signal.SIGINT, signal.SIGTERM):
            self._previous[signum] = signal.signal(signum, self._record)
        return self

    def __exit__(self, *_exc: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    def _record(self, signum: int, _frame: FrameType | None) -> None:
        # Attribute writes only: no lock, no I/O, no exception (see the module docstring).
        self.first = self.first or signum
        self.last = signum
        self.count += 1

    @staticmethod
    def name(signum: int | None) -> str:
        return signal.Signals(signum).name if signum else "no signal"

    @property
    def reason(self) -> str:
        """Why the server stops: the first signal, or its own thread having ended."""
        return self.name(self.first) if self.first else "the server thread ended by itself"


def wait_for_signal(signals: StopSignals, server_thread: threading.Thread) -> None:
    """Return once a signal came, or the server thread ended by itself."""
    while signals.count == 0 and server_thread.is_alive():
        server_thread.join(POLL_SECONDS)


class _Stopper(threading.Thread):
    """Runs the stop sequence off the main thread, so the main thread can bound it."""

    def __init__(self, stop: Callable[[], None]) -> None:
        super().__init__(name="qbwc-shutdown", daemon=True)
        self._stop_sequence = stop
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self._stop_sequence()
        except BaseException as exc:  # handed to the main thread, which raises it
            self.error = exc


def stop_within_deadline(stop: Callable[[], None], signals: StopSignals, step: Callable[[], str]) -> None:
    """Run `stop`, and wait for it and every non-daemon thread (which would hold the
    interpreter's exit) to end. Past SHUTDOWN_SECONDS, or on another signal, end the process
    now; `step` says which part of `stop` is running, for that last line."""
    # The signal that started the shutdown is not a second one; two at once are (a double Ctrl-C).
    seen = min(signals.count, 1)
    deadline = time.monotonic() + SHUTDOWN_SECONDS
    stopper = _Stopper(stop)
    stopper.start()
    while busy := _busy_threads(stopper):
        if signals.count > seen:
            _exit_busy(f"a second signal ({signals.name(signals.last)}) came during the shutdown",
                       busy, stopper, step())
        if time.monotonic() >= deadline:
            _exit_busy(f"{signals.reason}, then still busy after {SHUTDOWN_SECONDS:g} s",
                       busy, stopper, step())
        busy[0].join(POLL_SECONDS)
    if stopper.error is not None:
        raise stopper.error


def _busy_threads(stopper: threading.Thread) -> list[threading.Thread]:
    """The stopper, then the non-daemon threads still alive (cheroot's workers are)."""
    main = threading.main_thread()
    others = [t for t in threading.enumerate() if not t.daemon and t is not main and t.is_alive()]
    return ([stopper] if stopper.is_alive() else []) + others


def _describe(thread: threading.Thread, stopper: threading.Thread, step: str) -> str:
    """The stopper's step; another thread's name, innermost frame and (a cheroot worker's) client."""
    if thread is stopper:
        return step
    frame = sys._current_frames().get(thread.ident or -1)
    where = ""
    if frame is not None:
        where = f" in {frame.f_code.co_name} ({os.path.basename(frame.f_code.co_filename)}:{frame.f_lineno})"
    conn: Any = getattr(thread, "conn", None)
    peer = f" serving {conn.remote_addr}:{conn.remote_port}" if getattr(conn, "remote_addr", None) else ""
    return f"{thread.name}{where}{peer}"


def _exit_busy(cause: str, busy: list[threading.Thread], stopper: threading.Thread, step: str) -> None:
    """One line naming what was busy, then exit 1 without waiting for any thread."""
    details = "; ".join(_describe(t, stopper, step) for t in busy)
    _last_words(
        f"{PROG}: serve ended before its shutdown finished: {cause}: {details}. Nothing committed is lost "
        "(the buffer replays its write-ahead log when next opened; a request left unanswered is asked "
        "again in the Web Connector's next session). Fix: start serve again; if this repeats, report this line"
    )
    # os._exit: a normal exit would wait for the busy non-daemon threads named above.
    os._exit(1)


def _last_words(line: str) -> None:
    """Write to stderr past logging's locks (a stuck thread may hold one), and give up after
    a second on a pipe nobody reads."""

    def write() -> None:
        sys.stderr.flush()
        os.write(2, (line + "\n").encode("utf-8", "replace"))

    writer = threading.Thread(target=write, name="last-words", daemon=True)
    writer.start()
    writer.join(1.0)
