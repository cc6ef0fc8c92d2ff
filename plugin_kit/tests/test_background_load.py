"""BackgroundLoads: one batch in flight, its failure raised where the run can stop."""

from __future__ import annotations

import threading

import pytest
from qbc_plugin_kit.background_load import BackgroundLoads


def test_the_next_submit_waits_for_the_batch_in_flight() -> None:
    loads = BackgroundLoads("t")
    release, order = threading.Event(), []

    def first() -> None:
        release.wait(10)
        order.append("first")

    loads.submit(first)
    submitted = threading.Event()

    def submit_second() -> None:
        loads.submit(lambda: order.append("second"))
        submitted.set()

    threading.Thread(target=submit_second).start()
    # The second batch is not taken while the first is still loading.
    assert not submitted.wait(0.3)
    release.set()
    assert submitted.wait(10)
    loads.close()
    assert order == ["first", "second"]


def test_a_failed_batch_is_raised_by_the_next_wait_and_only_once() -> None:
    loads = BackgroundLoads("t")

    def fail() -> None:
        raise RuntimeError("the server went away")

    loads.submit(fail)
    with pytest.raises(RuntimeError, match="the server went away"):
        loads.wait()
    loads.wait()  # reported once: the run that caught it decides what happens next
    loads.close()


def test_a_failed_batch_stops_the_next_submit_before_its_job_runs() -> None:
    loads = BackgroundLoads("t")
    ran = []
    loads.submit(lambda: (_ for _ in ()).throw(ValueError("refused")))
    with pytest.raises(ValueError, match="refused"):
        loads.submit(lambda: ran.append(True))
    loads.close()
    assert ran == []


def test_close_raises_the_failure_of_the_batch_in_flight() -> None:
    loads = BackgroundLoads("t")
    loads.submit(lambda: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError, match="disk full"):
        loads.close()
