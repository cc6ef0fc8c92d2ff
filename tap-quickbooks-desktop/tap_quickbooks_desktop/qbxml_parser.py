"""Safe qbXML parsing: QuickBooks responses, the HostQuery answer and buffered entries.

Every parse goes through lxml iterparse with entity resolution, DTD loading and
network access off; documents that declare a DTD are refused outright, since a
QuickBooks response never carries one and a DTD is how XXE and entity bombs arrive.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from lxml import etree

_FORBIDDEN_MARKUP = (b"<!DOCTYPE", b"<!ENTITY", b"<!doctype")


class QbxmlError(ValueError):
    """A qbXML document that cannot be trusted or understood; nothing was stored."""


@dataclass
class ResponseSection:
    """One `*Rs` element of a QBXMLMsgsRs, with what the server needs to act on it."""

    tag: str
    request_id: str
    status_code: int
    status_severity: str
    status_message: str
    iterator_id: str | None
    iterator_remaining: int | None
    xml: bytes
    # (id, version) of each returned object, used to drop duplicates on append.
    versions: list[tuple[str, str]] = field(default_factory=list)
    max_modified: str | None = None

    @property
    def ret_count(self) -> int:
        return len(self.versions)


def _to_bytes(document: str | bytes) -> bytes:
    return document.encode("utf-8") if isinstance(document, str) else document


def _check_markup(data: bytes) -> None:
    if any(marker in data for marker in _FORBIDDEN_MARKUP):
        raise QbxmlError(
            "qbXML document declares a DTD or entities; refused (QuickBooks never sends one)"
        )


def safe_iterparse(data: bytes, events: tuple[str, ...] = ("start", "end")) -> Iterator[tuple[str, etree._Element]]:
    _check_markup(data)
    return etree.iterparse(  # type: ignore[no-any-return]
        io.BytesIO(data),
        events=events,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def parse_timestamp(value: str) -> datetime:
    """QuickBooks' TimeModified, comparable across offsets (naive ones read as UTC)."""
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def later_timestamp(current: str | None, candidate: str | None) -> str | None:
    if not candidate:
        return current
    if not current:
        return candidate
    try:
        return candidate if parse_timestamp(candidate) > parse_timestamp(current) else current
    except ValueError:
        return current


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None and value != "" else None
    except ValueError:
        return None


def _object_version(ret: etree._Element) -> tuple[str, str, str | None]:
    object_id = ret.findtext("TxnID") or ret.findtext("ListID") or ""
    deleted = ret.findtext("TimeDeleted")
    if deleted:
        return object_id, f"deleted:{deleted}", deleted
    modified = ret.findtext("TimeModified")
    return object_id, ret.findtext("EditSequence") or modified or "", modified


def parse_response_message(document: str | bytes) -> list[ResponseSection]:
    """Split a QBXML response into its `*Rs` sections, or raise QbxmlError.

    Each returned object is serialised and freed as soon as it has been read, so
    memory stays near one object rather than the whole (multi-megabyte) page tree.
    """
    data = _to_bytes(document)
    sections: list[ResponseSection] = []
    depth = 0
    builder: _SectionBuilder | None = None
    try:
        for event, elem in safe_iterparse(data):
            if event == "start":
                depth += 1
                if depth == 1 and elem.tag != "QBXML":
                    raise QbxmlError(f"not a qbXML response: root element is <{elem.tag}>")
                if depth == 2 and elem.tag != "QBXMLMsgsRs":
                    raise QbxmlError(f"not a qbXML response: expected <QBXMLMsgsRs>, got <{elem.tag}>")
                if depth == 3:
                    builder = _SectionBuilder(elem)
                continue
            if depth == 4 and builder is not None:
                builder.add(elem)
            elif depth == 3 and builder is not None:
                sections.append(builder.finish())
                builder = None
                elem.clear()
            depth -= 1
    except etree.XMLSyntaxError as exc:
        raise QbxmlError(f"malformed qbXML response: {exc}") from exc
    if depth != 0:
        raise QbxmlError("truncated qbXML response")
    return sections


class _SectionBuilder:
    """Accumulates one `*Rs` element's serialised children and object versions."""

    def __init__(self, rs: etree._Element) -> None:
        self.rs = rs
        self.parts: list[bytes] = []
        self.versions: list[tuple[str, str]] = []
        self.max_modified: str | None = None

    def add(self, child: etree._Element) -> None:
        if isinstance(child.tag, str) and child.tag.endswith("Ret"):
            object_id, version, stamp = _object_version(child)
            self.versions.append((object_id, version))
            self.max_modified = later_timestamp(self.max_modified, stamp)
        self.parts.append(etree.tostring(child, with_tail=False))
        child.clear()
        parent = child.getparent()
        while parent is not None and child.getprevious() is not None:
            del parent[0]

    def finish(self) -> ResponseSection:
        rs = self.rs
        # An empty copy of the element gives its start tag with attributes escaped.
        shell = etree.tostring(etree.Element(rs.tag, dict(rs.attrib)))
        xml = shell[:-2] + b">" + b"".join(self.parts) + f"</{rs.tag}>".encode()
        return ResponseSection(
            tag=str(rs.tag),
            request_id=rs.get("requestID", ""),
            status_code=_int(rs.get("statusCode")) or 0,
            status_severity=rs.get("statusSeverity", ""),
            status_message=rs.get("statusMessage", ""),
            iterator_id=rs.get("iteratorID"),
            iterator_remaining=_int(rs.get("iteratorRemainingCount")),
            xml=xml,
            versions=self.versions,
            max_modified=self.max_modified,
        )


def supported_versions(hcp_response: str | bytes | None) -> list[str]:
    """qbXML versions from the HostQuery answer QBWC passes in strHCPResponse."""
    if not hcp_response:
        return []
    versions: list[str] = []
    try:
        for _event, elem in safe_iterparse(_to_bytes(hcp_response), events=("end",)):
            if elem.tag == "SupportedQBXMLVersion" and elem.text:
                versions.append(elem.text.strip())
    except etree.XMLSyntaxError as exc:
        raise QbxmlError(f"malformed HostQuery response in strHCPResponse: {exc}") from exc
    return versions


def iter_rets(section_xml: bytes) -> Iterator[etree._Element]:
    """Yield each `*Ret` of one buffered `*Rs` section.

    A section is one page of a query (MaxReturned objects), so it is parsed whole: one C
    call instead of a Python step per element, with memory bounded by the page size.
    """
    _check_markup(section_xml)
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
        remove_comments=True, remove_pis=True,
    )
    try:
        root = etree.fromstring(section_xml, parser)
    except etree.XMLSyntaxError as exc:
        raise QbxmlError(f"buffered qbXML entry is malformed: {exc}") from exc
    for elem in root:
        if isinstance(elem.tag, str) and elem.tag.endswith("Ret"):
            yield elem
