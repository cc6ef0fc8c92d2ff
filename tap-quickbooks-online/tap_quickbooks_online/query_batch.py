"""The first page of every query-synced stream of a realm, fetched in one ``/batch`` call.

A no-change incremental run used to spend one query per stream that CDC does not cover (TaxCode,
TaxRate, ...). Intuit's batch operation carries up to 30 queries in one request, metered as one
call ("The maximum number of payloads in a single batch request is 30", Intuit developer blog,
2023-07-19), so those first pages cost one call together; a stream whose first page is full pages
on by itself with plain queries. Only streams resuming from a bookmark are batched: their pages are
small, while a first run's pages are full and would all sit in memory at once.
"""

from __future__ import annotations

import logging
import typing as t
from dataclasses import dataclass

from tap_quickbooks_online.client import QBOClient, fault_text
from tap_quickbooks_online.query_streams import PAGE_SIZE, build_query

LOGGER = logging.getLogger("tap_quickbooks_online.query_batch")

MAX_BATCH_ITEMS = 30


@dataclass(frozen=True)
class QueryPlan:
    """A stream's first query: ``since`` is its cursor (RFC 3339)."""

    stream_name: str
    entity: str
    since: str
    include_inactive: bool
    page_size: int = PAGE_SIZE  # must match the page size iter_query continues with

    def statement(self) -> str:
        return build_query(self.entity, since=self.since, include_inactive=self.include_inactive, start_position=1,
                           page_size=self.page_size)


def fetch_first_pages(client: QBOClient, plans: t.Sequence[QueryPlan]) -> dict[str, dict[str, t.Any]]:
    """Stream name -> a query answer (``QueryResponse`` and ``time``), as ``client.query`` returns it.

    A stream whose item came back as a Fault is left out: it queries alone, and a Fault that
    persists then stops the run with Intuit's full message.
    """
    pages: dict[str, dict[str, t.Any]] = {}
    for start in range(0, len(plans), MAX_BATCH_ITEMS):
        chunk = {plan.stream_name: plan for plan in plans[start:start + MAX_BATCH_ITEMS]}
        body = client.batch([{"bId": name, "Query": plan.statement()} for name, plan in chunk.items()])
        for answer in body.get("BatchItemResponse") or []:
            name = answer.get("bId")
            if name not in chunk:
                continue
            if isinstance(answer.get("QueryResponse"), dict):
                pages[name] = {"QueryResponse": answer["QueryResponse"], "time": body.get("time")}
            else:
                text, code = fault_text(answer)
                LOGGER.warning("Realm %s: batch item %s refused (%s, code %s); querying it on its own",
                               client.realm_id, name, text, code)
    return pages
