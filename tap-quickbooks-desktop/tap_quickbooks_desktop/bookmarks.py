"""Where each query of the next QBWC session starts, in QuickBooks' own clock."""

from __future__ import annotations

import math

from .qbxml_builder import qb_datetime, with_overlap
from .qbxml_parser import later_timestamp


def query_start(bookmark: str | None, start_date: str | None, overlap_seconds: int) -> str | None:
    """FromModifiedDate / FromDeletedDate for a query.

    The bookmark is the newest TimeModified (or TimeDeleted) QuickBooks returned,
    with its own UTC offset, so the workstation clock never enters the comparison.
    Stepping back by the overlap re-reads objects saved in the same second as the
    bookmark (or while a previous page was in flight); the buffer drops the
    duplicates by (id, EditSequence).
    """
    if bookmark:
        return with_overlap(bookmark, overlap_seconds)
    if start_date:
        return qb_datetime(start_date)
    return None


def advanced(bookmark: str | None, newest_seen: str | None, query_seconds: float = 0.0) -> str | None:
    """The bookmark after a completed query; it never moves backwards.

    An object saved while the query's iterator was running may have been read in
    its old version on an early page, while a later page showed another object
    saved after it. Stepping back from the newest TimeModified by the query's
    duration lands at or before the moment the query started, in QuickBooks' own
    clock (a duration needs no clock agreement), so such an object is read again.
    """
    if not newest_seen:
        return bookmark
    candidate = with_overlap(newest_seen, math.ceil(query_seconds)) if query_seconds > 0 else newest_seen
    return later_timestamp(bookmark, candidate)
