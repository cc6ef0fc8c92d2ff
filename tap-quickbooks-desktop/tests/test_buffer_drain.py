"""Tap runs drain the buffer after their state's sequence and prune what was committed."""

from __future__ import annotations

import logging

from tap_quickbooks_desktop.buffer import Buffer

from .conftest import drain, drain_serving_one_session


def _entries(settings) -> int:
    buffer = Buffer(settings["buffer_path"])
    try:
        return buffer.count_entries()
    finally:
        buffer.close()


def test_state_carries_the_buffer_sequence_and_a_rerun_emits_nothing_new(company, settings, start_server, web_connector):
    server = start_server(settings)
    web_connector(server, company).run_once()
    first = drain(settings)
    sequence = first.state["bookmarks"]["invoices"]["buffer_sequence"]
    assert sequence > 0

    again = drain(settings, state=first.state)

    assert again.records("invoices") == [] and again.records("invoice_lines") == []
    assert again.state["bookmarks"]["invoices"]["buffer_sequence"] == sequence


def test_the_state_keeps_the_newest_updated_at_and_the_run_warns_nothing_about_resuming(
    company, settings, start_server, web_connector, caplog
):
    server = start_server(settings)
    web_connector(server, company).run_once()
    with caplog.at_level(logging.WARNING):
        first = drain(settings)

    invoices = first.records("invoices")
    bookmark = first.state["bookmarks"]["invoices"]
    assert len({r["updated_at"] for r in invoices}) > 1
    assert (bookmark["replication_key"], bookmark["replication_key_value"]) == (
        "updated_at", max(r["updated_at"] for r in invoices))
    assert "progress_markers" not in bookmark
    assert "not resumable" not in caplog.text, caplog.text


def test_a_run_without_state_replays_everything_not_yet_committed(company, settings, start_server, web_connector):
    server = start_server(settings)
    web_connector(server, company).run_once()
    first = drain(settings)

    replay = drain(settings)  # the target never confirmed: Meltano hands back no state

    assert len(replay.records("invoices")) == len(first.records("invoices")) > 0


def test_entries_at_or_below_the_incoming_state_are_pruned(company, settings, start_server, web_connector):
    server = start_server(settings)
    web_connector(server, company).run_once()
    before = _entries(settings)
    first = drain(settings)
    assert _entries(settings) == before  # nothing is pruned until the state comes back

    drain(settings, state=first.state)

    assert _entries(settings) == 0


def test_header_entries_wait_for_every_selected_stream_that_reads_them(company, settings, start_server, web_connector):
    server = start_server({**settings, "streams": ["invoices"]})
    web_connector(server, company).run_once()
    first = drain(settings)
    lagging = dict(first.state)
    lagging["bookmarks"] = {**first.state["bookmarks"], "invoice_lines": {"buffer_sequence": 0}}

    second = drain(settings, state=lagging)

    assert _entries(settings) > 0
    assert len(second.records("invoice_lines")) == len(first.records("invoice_lines"))


def test_tap_run_can_serve_one_qbwc_session_before_draining(company, settings, tmp_path, monkeypatch):
    run_settings = {**settings, "run_server_wait_seconds": 30, "streams": ["customers"]}
    report, drained = drain_serving_one_session(run_settings, company, tmp_path, monkeypatch)

    assert report.outcome == "completed"
    assert len(drained.records("customers")) == company.count("Customer")
