"""Intuit's qbXML 13.0 schema, loaded once from the reference copy, and the safe XML parser.

The schema is read from local files only: ``qbxmlops130.xsd`` includes its three siblings by
relative path, which lxml resolves on disk (``no_network=True`` forbids anything else).
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from pathlib import Path

from lxml import etree

from sandboxes import reference_path, require

XSD_DIR_ENV = "QBXML_XSD_DIR"
XS = "{http://www.w3.org/2001/XMLSchema}"

# Every document we read comes from a peer we do not trust: no entities, no DTD, no network.
# Comments and processing instructions are not requests: QuickBooks skips them wherever they sit
# (Intuit's own QueryFilterRq.xml puts comments between and inside its requests).
SAFE_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_blank_text=True,
    remove_comments=True, remove_pis=True,
)

_validate_lock = threading.Lock()


XSD_FILES = tuple(f"qbxml/xsd/{name}" for name in ("qbxml130.xsd", "qbxmlops130.xsd", "qbxmltypes130.xsd", "qbxmlso130.xsd"))


def reference_dir() -> Path:
    """The root holding the qbXML schemas (the cache, or ``../shared/reference``): see ``sandboxes``."""
    require(*XSD_FILES)
    return reference_path("qbxml", "xsd", "qbxmlops130.xsd").parents[2]


def xsd_dir() -> Path:
    override = os.environ.get(XSD_DIR_ENV)
    return Path(override) if override else reference_dir() / "qbxml" / "xsd"


def parse_xml(data: str | bytes) -> etree._Element:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return etree.fromstring(raw, SAFE_PARSER)


@lru_cache(maxsize=1)
def qbxml_schema() -> etree.XMLSchema:
    main = xsd_dir() / "qbxmlops130.xsd"
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.XMLSchema(etree.parse(str(main), parser))


def validation_errors(root: etree._Element) -> list[str]:
    """XSD errors of a QBXML document (empty when valid)."""
    schema = qbxml_schema()
    # An lxml XMLSchema object keeps its error log on itself: not safe to share across threads.
    with _validate_lock:
        if schema.validate(root.getroottree() if root.getparent() is None else etree.ElementTree(root)):
            return []
        return [f"line {e.line}: {e.message}" for e in schema.error_log]


@lru_cache(maxsize=1)
def _declarations() -> tuple[dict[str, etree._Element], dict[str, etree._Element], dict[str, etree._Element]]:
    elements: dict[str, etree._Element] = {}
    groups: dict[str, etree._Element] = {}
    types: dict[str, etree._Element] = {}
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    for name in ("qbxmltypes130.xsd", "qbxml130.xsd", "qbxmlops130.xsd"):
        root = etree.parse(str(xsd_dir() / name), parser).getroot()
        for node in root.findall(f"{XS}element"):
            elements[node.get("name")] = node
        for node in root.findall(f"{XS}group"):
            groups[node.get("name")] = node
        for node in root.findall(f"{XS}complexType"):
            types[node.get("name")] = node
    return elements, groups, types


@lru_cache(maxsize=256)
def child_order(element_name: str) -> dict[str, int]:
    """Position of every child element name in a global element's content model.

    The Ret elements are long sequences of optional children; storing records as ordered
    dicts and sorting their keys by this map keeps every emitted Ret in schema order, even
    after the control handle adds a field a record never had.
    """
    elements, groups, types = _declarations()
    order: dict[str, int] = {}

    def walk(node: etree._Element) -> None:
        for child in node:
            if not isinstance(child.tag, str):
                continue
            tag = etree.QName(child).localname
            if tag == "element":
                name = child.get("name") or child.get("ref")
                order.setdefault(name, len(order))
            elif tag == "group":
                walk(groups[child.get("ref")])
            elif tag in ("sequence", "choice", "complexType", "complexContent"):
                walk(child)
            elif tag == "extension":
                walk(types[child.get("base")])
                walk(child)

    decl = elements[element_name]
    if decl.get("type") in types:
        walk(types[decl.get("type")])
    walk(decl)
    return order
