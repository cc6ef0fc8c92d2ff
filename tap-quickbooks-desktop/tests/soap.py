"""Hand-written SOAP 1.1 calls, so hostile envelopes can be sent as-is."""

from __future__ import annotations

from xml.sax.saxutils import escape

import requests
from lxml import etree

TNS = "http://developer.intuit.com/"


def envelope(operation: str, **params: object) -> bytes:
    body = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in params.items())
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
        f'<{operation} xmlns="{TNS}">{body}</{operation}></soap:Body></soap:Envelope>'
    ).encode()


def post(url: str, operation: str, payload: bytes) -> requests.Response:
    session = requests.Session()
    session.trust_env = False
    return session.post(
        url, data=payload, timeout=30,
        headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{TNS}{operation}"'},
    )


def call(url: str, operation: str, **params: object) -> str | list[str]:
    """The result element's text (or the <string> items of an ArrayOfString)."""
    response = post(url, operation, envelope(operation, **params))
    assert response.status_code == 200, response.text
    root = etree.fromstring(response.content)
    result = root.find(f".//{{{TNS}}}{operation}Result")
    assert result is not None, response.text
    items = result.findall(f"{{{TNS}}}string")
    if items:
        return [i.text or "" for i in items]
    return result.text or ""
