"""The QBWC SOAP 1.1 contract, read from Intuit's WSDL: building requests, checking replies.

The WSDL's ``xsd:schema`` is extracted with lxml and every reply body is validated against
the element the WSDL names for that operation's output, so a server that drifts from the
contract (wrong element names, a missing ``receiveResponseXMLResult``, text where an int
belongs) is caught at the call that broke it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from xml.sax.saxutils import escape

from lxml import etree

from sandboxes import reference_path

from .qbxml_schema import SAFE_PARSER

TNS = "http://developer.intuit.com/"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
XSD_NS = "http://www.w3.org/2001/XMLSchema"
WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
WSDL_ENV = "QBWC_WSDL_PATH"
WSDL_FILE = "QBWebConnectorSvc.intuit-troubleshoot.wsdl"

OPERATIONS = ("serverVersion", "clientVersion", "authenticate", "sendRequestXML",
              "receiveResponseXML", "connectionError", "getLastError", "closeConnection")


class ServerContractError(Exception):
    """The QBWC server answered something the WSDL/QBWC contract does not allow."""

    def __init__(self, operation: str, problem: str) -> None:
        super().__init__(f"{operation}: {problem}")
        self.operation = operation
        self.problem = problem


class SoapFaultError(ServerContractError):
    """The server answered with a SOAP Fault instead of the operation's response."""

    def __init__(self, operation: str, faultcode: str, faultstring: str) -> None:
        super().__init__(operation, f"SOAP Fault {faultcode}: {faultstring}")
        self.faultcode = faultcode
        self.faultstring = faultstring


@lru_cache(maxsize=1)
def wsdl_schema() -> etree.XMLSchema:
    override = os.environ.get(WSDL_ENV)
    path = Path(override) if override else reference_path("qbwc", WSDL_FILE)
    wsdl = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False))
    schema = wsdl.find(f"{{{WSDL_NS}}}types/{{{XSD_NS}}}schema")
    if schema is None:
        raise RuntimeError(f"{path} holds no wsdl:types/xsd:schema")
    return etree.XMLSchema(etree.fromstring(etree.tostring(schema)))


def build_request(operation: str, params: list[tuple[str, str | int | None]]) -> bytes:
    """A document/literal SOAP 1.1 request as QBWC (.NET SoapHttpClientProtocol) sends it."""
    parts = []
    for name, value in params:
        if value is None:
            continue
        parts.append(f"<{name}>{escape(str(value))}</{name}>")
    body = f'<{operation} xmlns="{TNS}">{"".join(parts)}</{operation}>'
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<soap:Envelope xmlns:soap="{SOAP_ENV}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'xmlns:xsd="{XSD_NS}"><soap:Body>{body}</soap:Body></soap:Envelope>'
    ).encode()


@dataclass
class SoapReply:
    operation: str
    element: etree._Element  # the validated <operationResponse> element

    def text(self, child: str) -> str | None:
        node = self.element.find(f"{{{TNS}}}{child}")
        return None if node is None else (node.text or "")

    def strings(self, child: str) -> list[str]:
        node = self.element.find(f"{{{TNS}}}{child}")
        if node is None:
            return []
        return [s.text or "" for s in node.findall(f"{{{TNS}}}string")]


def parse_reply(operation: str, status: int, content_type: str, body: bytes) -> SoapReply:
    """Check one HTTP reply against the contract; raise ServerContractError on any breach."""
    if status not in (200, 500):
        raise ServerContractError(operation, f"HTTP {status} (a SOAP 1.1 service answers 200, or 500 with a Fault)")
    media = content_type.split(";")[0].strip().lower()
    if media != "text/xml":
        raise ServerContractError(operation, f"Content-Type {content_type!r}; SOAP 1.1 requires text/xml")
    try:
        root = etree.fromstring(body, SAFE_PARSER)
    except etree.XMLSyntaxError as exc:
        raise ServerContractError(operation, f"reply is not well-formed XML: {exc}") from None
    if root.getroottree().docinfo.doctype:
        raise ServerContractError(operation, "reply carries a DOCTYPE; SOAP messages must not (SOAP 1.1 section 3)")
    if root.tag != f"{{{SOAP_ENV}}}Envelope":
        raise ServerContractError(operation, f"root element is {root.tag}, not a SOAP 1.1 Envelope ({SOAP_ENV})")
    soap_body = root.find(f"{{{SOAP_ENV}}}Body")
    if soap_body is None:
        raise ServerContractError(operation, "SOAP Envelope has no Body")
    children = [c for c in soap_body if isinstance(c.tag, str)]
    if len(children) != 1:
        raise ServerContractError(operation, f"SOAP Body holds {len(children)} elements, expected exactly 1")
    payload = children[0]
    if payload.tag == f"{{{SOAP_ENV}}}Fault":
        raise SoapFaultError(operation, payload.findtext("faultcode") or "", payload.findtext("faultstring") or "")
    if status != 200:
        raise ServerContractError(operation, f"HTTP {status} without a SOAP Fault")
    expected = f"{{{TNS}}}{operation}Response"
    if payload.tag != expected:
        raise ServerContractError(operation, f"Body element is {payload.tag}, expected {expected}")
    schema = wsdl_schema()
    standalone = etree.fromstring(etree.tostring(payload))
    if not schema.validate(standalone):
        problems = "; ".join(e.message for e in schema.error_log)
        raise ServerContractError(operation, f"reply does not match the WSDL: {problems}")
    return SoapReply(operation, payload)
