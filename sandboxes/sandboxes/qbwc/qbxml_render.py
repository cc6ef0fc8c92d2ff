"""Stored records -> qbXML 13.0 Ret elements, children always in schema order."""

from __future__ import annotations

from datetime import timezone
from typing import Any

from lxml import etree

from .company_clock import format_local
from .company_kinds import family_of
from .company_store import StoredObject
from .qbxml_schema import child_order

_NO_ORDER: dict[str, int] = {}


def _order(element_name: str) -> dict[str, int]:
    try:
        return child_order(element_name)
    except KeyError:  # a locally declared element: the generator wrote it in order already
        return _NO_ORDER


def text_of(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def append_field(parent: etree._Element, name: str, value: Any) -> None:
    if value is None:
        return
    if isinstance(value, list):
        for item in value:
            append_field(parent, name, item)
        return
    child = etree.SubElement(parent, name)
    if isinstance(value, dict):
        fill(child, name, value)
    else:
        child.text = text_of(value)


def fill(element: etree._Element, name: str, fields: dict[str, Any]) -> None:
    order = _order(name)
    for key in sorted(fields, key=lambda k: order.get(k, len(order))):
        append_field(element, key, fields[key])


def render_object(
    obj: StoredObject,
    tz: timezone,
    *,
    include_lines: bool = False,
    include_elements: frozenset[str] | None = None,
) -> etree._Element:
    family = family_of(obj.kind)
    fields: dict[str, Any] = {
        family.id_element: obj.qb_id,
        "TimeCreated": format_local(obj.created, tz),
        "TimeModified": format_local(obj.modified, tz),
        "EditSequence": obj.edit_sequence,
    }
    fields.update(obj.data)
    if not include_lines:
        for line_element in family.line_elements:
            fields.pop(line_element, None)
    if include_elements:
        fields = {k: v for k, v in fields.items() if k in include_elements}
    ret = etree.Element(f"{obj.kind}Ret")
    fill(ret, ret.tag, fields)
    return ret


def render_deleted(obj: StoredObject, tz: timezone) -> etree._Element:
    family = family_of(obj.kind)
    if family.is_list:
        ret = etree.Element("ListDeletedRet")
        fields = {"ListDelType": obj.kind, "ListID": obj.qb_id,
                  "TimeCreated": format_local(obj.created, tz),
                  "TimeDeleted": format_local(obj.deleted or obj.modified, tz), "FullName": obj.name}
    else:
        ret = etree.Element("TxnDeletedRet")
        fields = {"TxnDelType": obj.kind, "TxnID": obj.qb_id,
                  "TimeCreated": format_local(obj.created, tz),
                  "TimeDeleted": format_local(obj.deleted or obj.modified, tz), "RefNumber": obj.name}
    fill(ret, ret.tag, fields)
    return ret
