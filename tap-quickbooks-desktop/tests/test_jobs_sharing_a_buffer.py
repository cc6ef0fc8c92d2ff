"""Two Meltano jobs draining one buffer_path (meltano.yml's qbd-to-warehouse and
qbd-to-salesforce share the dev tap's settings), each with its own state."""

from __future__ import annotations

import pytest

from .conftest import drain


def test_a_job_behind_another_on_the_same_buffer_still_receives_every_change(
    company, settings, start_server, web_connector,
):
    server = start_server(settings)
    web_connector(server, company).run_once()
    hourly = drain(settings)
    daily = drain(settings)
    first, later = company.control.ids("Invoice", limit=2)
    company.control.modify("Invoice", first, Memo="edited before the hourly job's next run")
    web_connector(server, company).run_once()
    hourly = drain(settings, state=hourly.state)
    company.control.modify("Invoice", later, Memo="edited before the daily job's next run")
    web_connector(server, company).run_once()
    drain(settings, state=hourly.state)  # prunes what the hourly job committed: the first edit

    daily = drain(settings, state=daily.state)

    assert sorted(r["id"] for r in daily.records("invoices")) == sorted([first, later])
