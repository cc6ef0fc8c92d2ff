"""Several Meltano jobs draining one buffer (meltano.yml's qbd-to-warehouse and
qbd-to-salesforce share the dev tap's settings), each with its own state: each job is a
consumer of the buffer, and none loses a change another job's run pruned.

Every test runs on both stores: the SQLite file and a shared PostgreSQL database.
"""

from __future__ import annotations

import json
import logging
import uuid
from pathlib import Path
from typing import Any

import pytest
from sandboxes.postgres.fixtures import postgres_cluster, postgres_dsn  # noqa: F401
from tap_quickbooks_desktop.cli import main
from tap_quickbooks_desktop.streams import CONSUMER_KEY

from .conftest import base_settings, drain, drain_serving_one_session
from .test_check import run_check


@pytest.fixture(params=["sqlite", "postgres"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    settings = base_settings(tmp_path / "buffer.sqlite")
    if request.param == "postgres":
        import psycopg

        dsn = request.getfixturevalue("postgres_dsn")
        database = f"qbd_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {database}")
        settings["state_database_url"] = dsn.rsplit("/", 1)[0] + f"/{database}"
    return settings


def _consumer(state: dict[str, Any]) -> str:
    ids = {s.get(CONSUMER_KEY) for s in state["bookmarks"].values()}
    assert len(ids) == 1, ids
    return str(ids.pop())


def test_a_job_behind_another_on_the_same_buffer_still_receives_every_change(
    company, settings, start_server, web_connector,
):
    server = start_server(settings)
    web_connector(server, company).run_once()
    hourly = drain(settings)
    daily = drain(settings)
    assert _consumer(hourly.state) != _consumer(daily.state)  # each job's state is its own consumer
    first, later = company.control.ids("Invoice", limit=2)
    company.control.modify("Invoice", first, Memo="edited before the hourly job's next run")
    web_connector(server, company).run_once()
    hourly = drain(settings, state=hourly.state)
    company.control.modify("Invoice", later, Memo="edited before the daily job's next run")
    web_connector(server, company).run_once()
    drain(settings, state=hourly.state)  # prunes only what both jobs committed

    daily = drain(settings, state=daily.state)

    assert sorted(r["id"] for r in daily.records("invoices")) == sorted([first, later])


def test_a_state_from_before_consumers_becomes_one_with_its_positions(
    company, settings, start_server, web_connector,
):
    server = start_server(settings)
    web_connector(server, company).run_once()
    older = drain(settings).state
    for stream_state in older["bookmarks"].values():
        stream_state.pop(CONSUMER_KEY, None)  # what the previous version saved

    upgraded = drain(settings, state=older)
    assert _consumer(upgraded.state)  # a new id, written into every stream's state
    assert not upgraded.records("invoices")  # its positions were kept: nothing drained twice
    edited = company.control.ids("Invoice", limit=1)[0]
    company.control.modify("Invoice", edited, Memo="edited while the other job runs ahead")
    web_connector(server, company).run_once()
    other = drain(settings)
    drain(settings, state=other.state)  # prunes only what the upgraded job committed too

    assert [r["id"] for r in drain(settings, state=upgraded.state).records("invoices")] == [edited]


def test_a_job_added_later_gets_the_whole_company_after_the_next_session(
    company, settings, start_server, web_connector, caplog,
):
    server = start_server(settings)
    web_connector(server, company).run_once()
    hourly = drain(settings)
    everything = {r["id"] for r in hourly.records("invoices")}
    edited = company.control.ids("Invoice", limit=1)[0]
    company.control.modify("Invoice", edited, Memo="edited before the new job exists")
    web_connector(server, company).run_once()
    hourly = drain(settings, state=hourly.state)  # the first load is pruned: only the hourly job read it

    with caplog.at_level(logging.WARNING):
        added = drain(settings)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len([w for w in warnings if "re-reads it in full" in w]) == 1, warnings
    assert {r["id"] for r in added.records("invoices")} < everything  # what the buffer still held

    web_connector(server, company).run_once()  # re-reads the company in full
    later = drain(settings, state=added.state)

    received = {r["id"] for r in added.records("invoices")} | {r["id"] for r in later.records("invoices")}
    assert received == everything
    # The jobs already in step receive the re-read too: duplicates the targets' version guard ignores.
    assert {r["id"] for r in drain(settings, state=hourly.state).records("invoices")} == everything


def test_a_job_away_past_the_retention_window_fails_before_any_record(
    company, settings, start_server, web_connector, tmp_path, capsys,
):
    server = start_server(settings)
    web_connector(server, company).run_once()
    monthly = drain(settings)
    company.control.modify("Invoice", company.control.ids("Invoice", limit=1)[0], Memo="edited while it is away")
    web_connector(server, company).run_once()
    hourly = drain(settings)
    # Run with a window of 0 days, every other job counts as away: the edit is pruned.
    drain({**settings, "buffer_consumer_retention_days": 0}, state=hourly.state)

    (tmp_path / "config.json").write_text(json.dumps(settings))
    (tmp_path / "state.json").write_text(json.dumps(monthly.state))
    capsys.readouterr()
    with pytest.raises(SystemExit) as ended:
        main(["--config", str(tmp_path / "config.json"), "--state", str(tmp_path / "state.json")])
    out, err = capsys.readouterr()

    assert ended.value.code == 1
    assert not [line for line in out.splitlines() if '"RECORD"' in line]
    last = err.strip().splitlines()[-1]
    assert "buffer_consumer_retention_days" in last, last
    assert "meltano state clear" in last, last
    assert _consumer(monthly.state) in last, last


def test_check_lists_each_job_and_what_it_holds_back(
    company, settings, start_server, web_connector, tmp_path, capsys,
):
    server = start_server(settings)
    web_connector(server, company).run_once()
    ahead = drain(settings)
    behind = drain(settings)
    company.control.modify("Invoice", company.control.ids("Invoice", limit=1)[0], Memo="edited")
    web_connector(server, company).run_once()
    ahead = drain(settings, state=ahead.state)
    ahead = drain(settings, state=ahead.state)  # registers its new position

    _, lines = run_check(capsys, tmp_path, settings)

    mine = {c: next(line for line in lines if f"consumer {c}" in line)
            for c in (_consumer(ahead.state), _consumer(behind.state))}
    assert "holds back 0 buffered entries" in mine[_consumer(ahead.state)], lines
    held = mine[_consumer(behind.state)]
    assert "holds back" in held and "holds back 0 " not in held, lines


def test_a_job_added_later_that_waits_for_a_session_gets_the_whole_company_in_that_run(
    company, settings, start_server, web_connector, tmp_path, monkeypatch,
):
    """With run_server_wait_seconds (the tap serves the session itself), the job registers and
    has the company's bookmarks reset before that session: the same run re-reads it in full."""
    server = start_server(settings)
    web_connector(server, company).run_once()
    hourly = drain(settings)
    everything = {r["id"] for r in hourly.records("invoices")}
    edited = company.control.ids("Invoice", limit=1)[0]
    company.control.modify("Invoice", edited, Memo="edited before the new job exists")
    web_connector(server, company).run_once()
    drain(settings, state=hourly.state)  # the first load is pruned: only the hourly job read it
    server.stop()

    report, drained = drain_serving_one_session(
        {**settings, "run_server_wait_seconds": 60}, company, tmp_path, monkeypatch)

    assert report.outcome == "completed"
    assert {r["id"] for r in drained.records("invoices")} == everything
