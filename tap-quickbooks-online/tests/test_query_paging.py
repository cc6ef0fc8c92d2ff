"""Keyset paging over the sandbox's query endpoint."""

from __future__ import annotations

import pytest
from tap_quickbooks_online.query_batch import QueryPlan, fetch_first_pages
from tap_quickbooks_online.query_streams import build_query, iter_query
from tap_quickbooks_online.tap import TapQuickBooksOnline

from .conftest import REALM

pytestmark = pytest.mark.e2e


def test_no_row_is_skipped_when_earlier_rows_change_mid_run(qbo_sandbox, tap_config):
    client = TapQuickBooksOnline(config=tap_config).client(REALM)
    realm = qbo_sandbox.realm(REALM)
    expected = set(realm.ids("Invoice"))
    seen: list[str] = []

    for index, obj in enumerate(iter_query(client, "Invoice", since=None, include_inactive=False, page_size=7)):
        seen.append(obj["Id"])
        if index == 3:  # a user edits an invoice we already read: it moves to the end of the order
            realm.update("Invoice", seen[0], {"PrivateNote": "edited during the sync"})

    assert set(seen) == expected
    assert seen.count(seen[0]) == 2  # the edit is picked up in the same run
    assert len(seen) == len(expected) + 1


def test_rows_sharing_one_timestamp_span_pages_without_loss_or_repeat(qbo_sandbox, tap_config):
    client = TapQuickBooksOnline(config=tap_config).client(REALM)
    realm = qbo_sandbox.realm(REALM)
    # Many edits inside one second give many rows the same LastUpdatedTime.
    touched = realm.ids("Customer")[:9]
    for customer_id in touched:
        realm.update("Customer", customer_id, {"Notes": "bulk"})
    latest = realm.get("Customer", touched[-1])["MetaData"]["LastUpdatedTime"]

    rows = list(iter_query(client, "Customer", since=latest, include_inactive=True, page_size=2))

    ids = [row["Id"] for row in rows]
    assert len(ids) == len(set(ids))
    same_second = {cid for cid in touched if realm.get("Customer", cid)["MetaData"]["LastUpdatedTime"] == latest}
    assert same_second <= set(ids)


def test_query_text_asks_for_inactive_records_and_orders_by_change_time():
    text = build_query("Customer", since="2026-11-02T09:15:02-08:00", include_inactive=True, start_position=1)
    assert text == ("select * from Customer where MetaData.LastUpdatedTime >= '2026-11-02T09:15:02-08:00' "
                    "and Active in (true, false) orderby MetaData.LastUpdatedTime startposition 1 maxresults 1000")
    with pytest.raises(ValueError):
        build_query("Customer; drop", since=None, include_inactive=False, start_position=1)
    with pytest.raises(ValueError):
        build_query("Customer", since="' or 1=1", include_inactive=False, start_position=1)


def test_a_full_first_page_from_the_batch_pages_on_with_plain_queries(qbo_sandbox, tap_config):
    client = TapQuickBooksOnline(config=tap_config).client(REALM)
    realm = qbo_sandbox.realm(REALM)
    since = "2000-01-01T00:00:00+00:00"
    plan = QueryPlan("invoices", "Invoice", since, include_inactive=False, page_size=10)
    first = fetch_first_pages(client, [plan])["invoices"]
    assert len(first["QueryResponse"]["Invoice"]) == 10
    qbo_sandbox.reset_stats()

    rows = list(iter_query(client, "Invoice", since=since, include_inactive=False, page_size=10, first_page=first))

    assert sorted(row["Id"] for row in rows) == sorted(realm.ids("Invoice"))
    # The batch answered page one; only the pages beyond it cost plain queries.
    calls = qbo_sandbox.stats(REALM).by_endpoint
    assert calls.get("batch", 0) == 0 and calls["query"] >= (len(rows) - 10) // 10
