"""Quiet by default: a summary line per stream instead of METRIC JSON, and no false alarms.

singer-sdk logs every counter and timer as a ``METRIC: {json}`` line (more than half the lines
of a small run) and, under ``--test``, logs "An unhandled error occurred while syncing" for
every stream it stops on purpose after one record. Here the metrics logger keeps working but
its points are turned into one line per stream at the end (records, seconds) and a progress
line at most every :data:`PROGRESS_SECONDS` on a long sync; the METRIC lines themselves are
printed only when asked for (the ``log_metrics`` setting, or the plugin's log level at DEBUG).
"""

from __future__ import annotations

import functools
import logging
import sys
import time
from collections.abc import Iterable
from typing import Any

from singer_sdk import metrics
from singer_sdk.exceptions import AbortedSyncExceptionBase, MaxRecordsLimitException

from qbc_plugin_kit.progress import PROGRESS_SECONDS

_DRY_RUN_SIGNALS = (MaxRecordsLimitException, AbortedSyncExceptionBase)


class StreamSummaries(logging.Filter):
    """Turns metric points into per-stream lines on ``logger``; lets METRIC lines through only
    when ``show_metrics``."""

    def __init__(self, logger: logging.Logger, *, show_metrics: bool) -> None:
        super().__init__()
        self.logger = logger
        self.show_metrics = show_metrics
        self._counts: dict[str, int] = {}
        self._started: dict[str, float] = {}
        self._durations: dict[str, float] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        point = record.args[0] if isinstance(record.args, tuple) and record.args else None
        if isinstance(point, metrics.Point):
            self._observe(point)
        return self.show_metrics

    def _observe(self, point: metrics.Point[Any]) -> None:
        stream = str(point.tags.get(metrics.Tag.STREAM) or "")
        if not stream:
            return
        now = time.monotonic()
        if point.metric == metrics.Metric.SYNC_DURATION:
            # The SDK closes the sync timer just before the record counter's last count.
            self._durations[stream] = float(point.value)
            return
        if point.metric != metrics.Metric.RECORD_COUNT:
            return
        self._started.setdefault(stream, now)
        self._counts[stream] = self._counts.get(stream, 0) + int(point.value)
        total = self._counts[stream]
        if stream in self._durations:
            seconds = self._durations.pop(stream)
            self.logger.info("stream %s: %d records in %.1f s", stream, total, seconds)
            self._counts.pop(stream, None)
            self._started.pop(stream, None)
            return
        if point.value:
            # Intermediate counts arrive every PROGRESS_SECONDS (see quiet_dry_run_aborts): the
            # first one that long after the stream began.
            elapsed = now - self._started[stream] + PROGRESS_SECONDS
            self.logger.info("stream %s: %d records so far (%.0f records/s)", stream, total, total / elapsed)


# The SDK's INFO lines at each stream's start and at set-up: two or three per stream, none of which
# says more than the stream's closing line. They show when the plugin's log level is DEBUG.
_ROUTINE_LINES = ("Beginning sync of ", "Starting incremental sync of ", "Added '%s' as child stream",
                  "Skipping parse of env var settings", "Parsing env var for settings config",
                  "Config validation failed")


class _RoutineLineFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.WARNING or not str(record.msg).startswith(_ROUTINE_LINES):
            return True
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)


_ROUTINE_FILTER = _RoutineLineFilter()


def _quiet_routine_lines(logger: logging.Logger) -> None:
    if _ROUTINE_FILTER not in logger.filters:
        logger.addFilter(_ROUTINE_FILTER)


class _MetricLines(logging.Filter):
    def __init__(self, *, show_metrics: bool) -> None:
        super().__init__()
        self.show_metrics = show_metrics

    def filter(self, record: logging.LogRecord) -> bool:
        return self.show_metrics


def quiet_sdk_logs(plugin: Any, *, log_metrics: bool, summaries: bool = True) -> None:
    """Install the per-stream summaries on the SDK's metrics logger (once per process).

    A target passes ``summaries=False``: its record counter has no sync timer to close a
    stream's line, so it only drops the METRIC lines and reports its own load lines."""
    _quiet_routine_lines(plugin.logger)
    metrics_logger = metrics.get_metrics_logger()
    for old in [f for f in metrics_logger.filters if isinstance(f, (StreamSummaries, _MetricLines))]:
        metrics_logger.removeFilter(old)
    show = log_metrics or plugin.logger.getEffectiveLevel() <= logging.DEBUG
    metrics_logger.addFilter(StreamSummaries(plugin.logger, show_metrics=show) if summaries
                             else _MetricLines(show_metrics=show))


def quiet_config_parsing(plugin_name: str | None = None) -> None:
    """singer-sdk logs one INFO line per setting read from a variable (a dozen or more under
    Meltano, which passes every setting that way); they say nothing a user acts on. With the
    plugin's name, its logger also drops the SDK's set-up lines and its "Config validation
    failed" warning: the plugin's own last line names the setting instead."""
    logging.getLogger("singer_sdk.configuration._dict_config").setLevel(logging.WARNING)
    if plugin_name:
        _quiet_routine_lines(logging.getLogger(plugin_name))


class _DryRunAbortFilter(logging.Filter):
    """Drops the SDK's 'unhandled error' line when the error is its own --test stop signal
    (the filter runs inside the SDK's ``except`` block, so the exception is the current one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        current = sys.exc_info()[1]
        return not (isinstance(current, _DRY_RUN_SIGNALS)
                    and str(record.msg).startswith("An unhandled error occurred while syncing"))


_DRY_RUN_FILTER = _DryRunAbortFilter()


def quiet_dry_run_aborts(streams: Iterable[Any]) -> None:
    """Attach the filter to each stream's logger, and count records in 30 s steps."""
    for stream in streams:
        if _DRY_RUN_FILTER not in stream.logger.filters:
            stream.logger.addFilter(_DRY_RUN_FILTER)
        _quiet_routine_lines(stream.logger)
        # The SDK's counter reports every 60 s; progress is promised at most every 30 s.
        stream.get_record_counter = functools.partial(
            type(stream).get_record_counter, stream, log_interval=PROGRESS_SECONDS)
