"""qbXML 13.0 request messages, in the element order qbxmlops130.xsd requires."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from lxml import etree

from .qbxml_parser import parse_timestamp
from .query_catalog import QuerySpec


def qb_datetime(value: str | datetime) -> str:
    """A DATETIMETYPE value: ISO 8601 with a numeric offset (qbXML rejects a trailing Z)."""
    moment = parse_timestamp(value.replace("Z", "+00:00")) if isinstance(value, str) else value
    return moment.isoformat(timespec="seconds")


def with_overlap(bookmark: str, overlap_seconds: int) -> str:
    """Step back from a bookmark in QuickBooks' own clock, keeping its UTC offset."""
    return qb_datetime(parse_timestamp(bookmark) - timedelta(seconds=overlap_seconds))


def _text(parent: etree._Element, tag: str, value: str) -> etree._Element:
    child = etree.SubElement(parent, tag)
    child.text = value
    return child


def query_request(
    spec: QuerySpec,
    request_id: str,
    *,
    from_modified: str | None,
    max_returned: int,
    iterator: str | None = None,
    iterator_id: str | None = None,
) -> etree._Element:
    """An object query; `iterator` is "Start", "Continue" or None for iterator-less lists."""
    request = etree.Element(spec.request, requestID=request_id)
    if iterator:
        request.set("iterator", iterator)
        if iterator_id:
            request.set("iteratorID", iterator_id)
        _text(request, "MaxReturned", str(max_returned))
    if spec.kind == "list":
        # Inactive records must be synced too (they become active=false rows).
        _text(request, "ActiveStatus", "All")
        if from_modified:
            _text(request, "FromModifiedDate", qb_datetime(from_modified))
    else:
        if from_modified:
            date_filter = etree.SubElement(request, "ModifiedDateRangeFilter")
            _text(date_filter, "FromModifiedDate", qb_datetime(from_modified))
        if spec.line_items:
            _text(request, "IncludeLineItems", "true")
    return request


def deleted_request(
    kind: str, del_types: Sequence[str], request_id: str, *, from_deleted: str | None
) -> etree._Element:
    """TxnDeletedQueryRq (kind "Txn") or ListDeletedQueryRq (kind "List")."""
    request = etree.Element(f"{kind}DeletedQueryRq", requestID=request_id)
    for del_type in del_types:
        _text(request, f"{kind}DelType", del_type)
    if from_deleted:
        date_filter = etree.SubElement(request, "DeletedDateRangeFilter")
        _text(date_filter, "FromDeletedDate", qb_datetime(from_deleted))
    return request


def build_message(requests: Sequence[etree._Element], qbxml_version: str) -> str:
    """One QBXMLMsgsRq; continueOnError so one failing query does not stop the others."""
    root = etree.Element("QBXML")
    messages = etree.SubElement(root, "QBXMLMsgsRq", onError="continueOnError")
    messages.extend(requests)
    body = etree.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="utf-8"?>\n<?qbxml version="{qbxml_version}"?>\n{body}'
