"""A long load says how far it got, at most every 30 s, and ends on one line per stream."""

from __future__ import annotations

import logging

import pytest
from qbc_plugin_kit.progress import PROGRESS_SECONDS, Progress


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_progress_lines_come_at_most_every_30_seconds_with_count_and_rate(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    logger = logging.getLogger("target-test")
    progress = Progress(logger, "invoices", clock=clock)
    with caplog.at_level(logging.INFO, logger="target-test"):
        for _ in range(10):  # 10 batches of 500, 5 s apart: 50 s in all
            clock.now += 5
            progress.add(500)
        progress.done()
    lines = [r.getMessage() for r in caplog.records]
    assert PROGRESS_SECONDS == 30
    assert lines == ["stream invoices: 3000 records so far (100 records/s)",
                     "stream invoices: 5000 records in 50.0 s"]


def test_a_short_load_logs_only_its_closing_line(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    progress = Progress(logging.getLogger("target-test"), "bills", clock=clock)
    with caplog.at_level(logging.INFO, logger="target-test"):
        clock.now += 2
        progress.add(40)
        progress.done()
    assert [r.getMessage() for r in caplog.records] == ["stream bills: 40 records in 2.0 s"]
