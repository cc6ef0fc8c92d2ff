"""The shared `check` runner, the unknown-setting warning and the quiet-log summaries."""

from __future__ import annotations

import io
import logging

from qbc_plugin_kit import quiet_logs
from qbc_plugin_kit.checks import failed, passed, run_checks, secret_values
from qbc_plugin_kit.failures import SystemicFailure
from qbc_plugin_kit.settings_check import unknown_settings
from singer_sdk import metrics

SCHEMA = {"properties": {
    "client_secret": {"type": "string", "secret": True},
    "lookback_seconds": {"type": "integer"},
    "realms": {"type": "array", "items": {"properties": {"realm_id": {"type": "string"},
                                                           "refresh_token": {"type": "string", "secret": True}}}},
}}


def test_every_aspect_is_one_line_and_the_verdict_names_the_first_failure():
    out = io.StringIO()

    def raises() -> None:
        raise SystemicFailure("the warehouse is stopped", "start it")

    code = run_checks("plugin-x", [("a", lambda: passed("a", "fine")),
                                   ("b", lambda: [failed("b1", "no rights", "grant them"), passed("b2")]),
                                   ("c", raises)], out=out)
    lines = out.getvalue().splitlines()
    assert code == 1
    assert lines == ["ok    a: fine", "FAIL  b1: no rights. Fix: grant them", "ok    b2",
                     "FAIL  c: the warehouse is stopped. Fix: start it",
                     "plugin-x check: 2 of 4 aspects failed; first: b1: no rights. Fix: grant them"]


def test_an_unexpected_error_in_a_check_is_a_failed_line_not_a_traceback():
    out = io.StringIO()
    code = run_checks("plugin-x", [("boom", lambda: 1 / 0)], out=out)  # type: ignore[arg-type, return-value]
    assert code == 1
    assert out.getvalue().splitlines()[0].startswith("FAIL  boom: unexpected ZeroDivisionError")


def test_secret_values_never_reach_the_output_even_inside_lists():
    config = {"client_secret": "s3cr3t-value", "realms": [{"realm_id": "1", "refresh_token": "RT-abcdef"}]}
    secrets = secret_values(config, SCHEMA)
    out = io.StringIO()
    run_checks("p", [("x", lambda: failed("x", "sent s3cr3t-value and RT-abcdef", "fix"))], secrets=secrets, out=out)
    assert "s3cr3t-value" not in out.getvalue() and "RT-abcdef" not in out.getvalue()
    assert "[redacted]" in out.getvalue()


def test_misspelled_settings_are_named_with_the_closest_known_name_at_any_depth():
    problems = unknown_settings({"lookbak_seconds": 1, "realms": [{"realm_idd": "1"}], "stream_maps": {}}, SCHEMA)
    assert problems == ["unknown setting 'lookbak_seconds' is ignored; did you mean 'lookback_seconds'?",
                        "unknown setting 'realms[0].realm_idd' is ignored; did you mean 'realm_id'?"]


def test_metric_points_become_progress_and_one_summary_line(caplog):
    logger = logging.getLogger("plugin-x")
    summaries = quiet_logs.StreamSummaries(logger, show_metrics=False)
    tags = {metrics.Tag.STREAM: "invoices"}

    def point(metric: metrics.Metric, value: float) -> logging.LogRecord:
        kind = "timer" if metric == metrics.Metric.SYNC_DURATION else "counter"
        return logging.LogRecord("singer_sdk.metrics", logging.INFO, "", 0, "METRIC: %s",
                                 (metrics.Point(kind, metric, value, dict(tags)),), None)

    with caplog.at_level(logging.INFO, logger="plugin-x"):
        shown = [summaries.filter(point(metrics.Metric.RECORD_COUNT, 3000)),   # the 30 s count
                 summaries.filter(point(metrics.Metric.SYNC_DURATION, 41.5)),  # timer closes first
                 summaries.filter(point(metrics.Metric.RECORD_COUNT, 500))]    # then the last count
    assert shown == [False, False, False]  # no METRIC line unless asked for
    messages = [r.getMessage() for r in caplog.records]
    assert messages[0].startswith("stream invoices: 3000 records so far (")
    assert messages[1] == "stream invoices: 3500 records in 41.5 s"
