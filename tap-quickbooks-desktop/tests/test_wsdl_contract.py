"""The served WSDL has Intuit's eight operations with the reference WSDL's parameter names."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from lxml import etree

REFERENCE = Path(__file__).resolve().parents[3] / "shared/reference/qbwc/QBWebConnectorSvc.consolibyte.wsdl"
XS = "{http://www.w3.org/2001/XMLSchema}"
OPERATIONS = {"serverVersion", "clientVersion", "authenticate", "sendRequestXML", "receiveResponseXML",
              "connectionError", "getLastError", "closeConnection"}


def _element_fields(wsdl: etree._Element) -> dict[str, list[str]]:
    """Top-level schema element -> names of its sequence children (inline or via its type)."""
    schema = wsdl.find(f".//{XS}schema")
    assert schema is not None
    types = {t.get("name"): t for t in schema.findall(f"{XS}complexType")}
    fields: dict[str, list[str]] = {}
    for element in schema.findall(f"{XS}element"):
        complex_type = element.find(f"{XS}complexType")
        if complex_type is None and element.get("type"):
            complex_type = types.get(element.get("type", "").split(":")[-1])
        if complex_type is not None:
            fields[element.get("name", "")] = [e.get("name", "") for e in complex_type.iter(f"{XS}element")]
    return fields


def test_served_wsdl_matches_the_reference_operations_and_parameters(settings, start_server):
    if not REFERENCE.exists():
        pytest.skip("reference WSDL not found beside the repository")
    server = start_server(settings)
    session = requests.Session()
    session.trust_env = False
    served = etree.fromstring(session.get(server.url + "?wsdl", timeout=30).content)
    reference = etree.fromstring(REFERENCE.read_bytes())

    ours, theirs = _element_fields(served), _element_fields(reference)

    for operation in OPERATIONS:
        assert ours[operation] == theirs[operation], operation
        assert ours[f"{operation}Response"] == theirs[f"{operation}Response"], operation
