"""Incremental extraction with the QBO query language.

``select * from X where MetaData.LastUpdatedTime >= :cursor orderby MetaData.LastUpdatedTime``
paged with keyset cursors: each page restarts at the newest timestamp already seen and skips only
the rows sharing that exact timestamp (Intuit orders ties by Id). Plain ``startposition`` paging
would skip a row whenever an earlier row is edited mid-run and moves to the end; a keyset cursor
cannot. Rows repeated across pages are dropped by (Id, SyncToken).
"""

from __future__ import annotations

import concurrent.futures
import re
import typing as t

from tap_quickbooks_online.client import QBOClient
from tap_quickbooks_online.records import Obj, nested, parse_instant

PAGE_SIZE = 1000  # Intuit's maximum maxresults
_ENTITY = re.compile(r"^[A-Z][A-Za-z]+$")


def build_query(
    entity: str,
    *,
    since: str | None,
    include_inactive: bool,
    start_position: int,
    page_size: int = PAGE_SIZE,
) -> str:
    if not _ENTITY.match(entity):
        raise ValueError(f"not a QBO entity name: {entity!r}")
    conditions = []
    if since:
        parse_instant(since)  # only a timestamp may reach the query text
        conditions.append(f"MetaData.LastUpdatedTime >= '{since}'")
    if include_inactive:
        # Without this Intuit silently leaves inactive list records out.
        conditions.append("Active in (true, false)")
    where = f" where {' and '.join(conditions)}" if conditions else ""
    # QBO query language, not SQL; entity and timestamp were validated above.
    order = f"orderby MetaData.LastUpdatedTime startposition {start_position} maxresults {page_size}"
    return f"select * from {entity}{where} {order}"  # noqa: S608


def _updated(obj: Obj) -> str | None:
    value = nested(obj, "MetaData", "LastUpdatedTime")
    return str(value) if value else None


def iter_query(
    client: QBOClient,
    entity: str,
    *,
    since: str | None,
    include_inactive: bool,
    page_size: int = PAGE_SIZE,
    on_server_time: t.Callable[[str], None] | None = None,
    first_page: dict[str, t.Any] | None = None,
) -> t.Iterator[Obj]:
    """Rows changed at or after ``since``; ``on_server_time`` gets Intuit's clock at the first page
    (everything changed before it is in the result, so CDC may start there next time).
    ``first_page`` is the answer to the first statement when it was already fetched (in a batch).

    The next page's statement follows from the current page alone, so it is requested (on one
    thread of its own, through the realm's rate limiter like every call) while the current page's
    rows are mapped and written: at most one page ahead, and only the request that comes next anyway.
    """
    cursor = since
    skip = 0
    seen_at_cursor: set[tuple[str, str]] = set()
    statement: str | None = build_query(
        entity, since=cursor, include_inactive=include_inactive, start_position=1, page_size=page_size)
    ahead = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"qbo-{entity}-page")
    pending: concurrent.futures.Future[dict[str, t.Any]] | None = None
    try:
        while statement is not None:
            if first_page is not None:
                body, first_page = first_page, None
            elif pending is not None:
                body, pending = pending.result(), None
            else:
                body = client.query(statement)
            if on_server_time is not None and body.get("time"):
                on_server_time(str(body["time"]))
                on_server_time = None
            page = (body.get("QueryResponse") or {}).get(entity) or []
            rows = [obj for obj in page if (str(obj.get("Id")), str(obj.get("SyncToken"))) not in seen_at_cursor]
            statement = None
            if len(page) >= page_size:
                last = _updated(page[-1])
                if last is None:
                    # Without timestamps a keyset cursor is impossible; fall back to positions.
                    skip += len(page)
                else:
                    last_instant = parse_instant(last)
                    at_last = [o for o in page
                               if (_updated(o) and parse_instant(t.cast(str, _updated(o))) == last_instant)]
                    if cursor is not None and parse_instant(cursor) == last_instant:
                        skip += len(page)
                        seen_at_cursor.update((str(o.get("Id")), str(o.get("SyncToken"))) for o in at_last)
                    else:
                        cursor = last
                        skip = len(at_last)
                        seen_at_cursor = {(str(o.get("Id")), str(o.get("SyncToken"))) for o in at_last}
                statement = build_query(entity, since=cursor, include_inactive=include_inactive,
                                        start_position=skip + 1, page_size=page_size)
                pending = ahead.submit(client.query, statement)
            del page, body
            yield from rows
    finally:
        ahead.shutdown(wait=False, cancel_futures=True)
