"""Changes saved in the same second as the previous session's bookmark are read again.

QuickBooks stamps TimeModified and TimeDeleted in whole seconds. Two things keep a change made
later in a bookmark's second: FromModifiedDate / FromDeletedDate select objects changed at or
after the given time (qbXML 13.0), and a completed query's bookmark steps back from the newest
time it saw by its own duration rounded up to whole seconds (bookmarks.advanced), so by at least
one second. The sandbox company's clock is frozen to put every change in one second, and the
overlap is off so nothing else widens the window.
"""

from __future__ import annotations

from datetime import UTC, datetime

from .conftest import base_settings, drain


def test_a_deletion_and_an_edit_in_the_second_of_the_last_bookmark_reach_the_next_run(
    company, tmp_path, start_server, web_connector,
):
    second = datetime.now(UTC).replace(microsecond=0)
    company.clock = lambda: second
    first_invoice, next_invoice = company.control.ids("Invoice", limit=2)
    first_vendor, next_vendor = company.control.ids("Vendor", limit=2, active=True)
    company.control.delete("Invoice", first_invoice)
    company.control.deactivate("Vendor", first_vendor)
    # No overlap: the next session starts exactly at the bookmarks this one leaves.
    settings = base_settings(tmp_path / "buffer.sqlite", overlap_seconds=0)
    server = start_server(settings)
    assert web_connector(server, company).run_once().outcome == "completed"
    first = drain(settings)
    assert [r["id"] for r in first.records("invoices") if r["_sdc_deleted_at"]] == [first_invoice]

    company.control.delete("Invoice", next_invoice)
    company.control.deactivate("Vendor", next_vendor)
    assert web_connector(server, company).run_once().outcome == "completed"
    later = drain(settings, state=first.state)

    assert [r["id"] for r in later.records("invoices") if r["_sdc_deleted_at"]] == [next_invoice]
    assert [r["id"] for r in later.records("vendors") if r["active"] is False] == [next_vendor]
