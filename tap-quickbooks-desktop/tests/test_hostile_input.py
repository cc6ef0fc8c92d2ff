"""Hostile or broken input gets a clear error and leaves the buffer untouched."""

from __future__ import annotations

import pytest
from tap_quickbooks_desktop.buffer import Buffer
from tap_quickbooks_desktop.config import ConfigError, server_config

from .conftest import PASSWORD, USERNAME
from .soap import call, envelope, post

HCP = (
    '<?xml version="1.0"?><QBXML><QBXMLMsgsRs><HostQueryRs statusCode="0" statusSeverity="Info" '
    'statusMessage="Status OK"><HostRet><ProductName>QuickBooks Enterprise</ProductName>'
    "<SupportedQBXMLVersion>12.0</SupportedQBXMLVersion><SupportedQBXMLVersion>13.0</SupportedQBXMLVersion>"
    "</HostRet></HostQueryRs></QBXMLMsgsRs></QBXML>"
)
BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
    "<QBXML><QBXMLMsgsRs><CustomerQueryRs requestID=\"0-0\" statusCode=\"0\">"
    "<CustomerRet><ListID>1</ListID><Name>&lol3;</Name></CustomerRet></CustomerQueryRs></QBXMLMsgsRs></QBXML>"
)
XXE = (
    '<?xml version="1.0"?><!DOCTYPE q [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    "<QBXML><QBXMLMsgsRs><CustomerQueryRs requestID=\"0-0\" statusCode=\"0\">"
    "<CustomerRet><ListID>1</ListID><Name>&xxe;</Name></CustomerRet></CustomerQueryRs></QBXMLMsgsRs></QBXML>"
)
TRUNCATED = (
    '<?xml version="1.0"?><QBXML><QBXMLMsgsRs><CustomerQueryRs requestID="0-0" statusCode="0">'
    "<CustomerRet><ListID>1</ListID><Name>Acme"
)


@pytest.fixture
def session(settings, start_server):
    """A server and an open session whose first request has been sent."""
    server = start_server({**settings, "streams": ["customers"]})
    ticket, _company_file = call(server.url, "authenticate", strUserName=USERNAME, strPassword=PASSWORD)
    request = call(server.url, "sendRequestXML", ticket=ticket, strHCPResponse=HCP, strCompanyFileName="",
                   qbXMLCountry="US", qbXMLMajorVers=13, qbXMLMinorVers=0)
    assert "<CustomerQueryRq" in request
    return server, ticket


def _buffered(settings) -> int:
    buffer = Buffer(settings["buffer_path"])
    try:
        return buffer.count_entries()
    finally:
        buffer.close()


@pytest.mark.parametrize(
    ("document", "expected"),
    [(BILLION_LAUGHS, "DTD"), (XXE, "DTD"), (TRUNCATED, "malformed"), ("not xml at all", "malformed"),
     ("<Other/>", "not a qbXML response")],
    ids=["billion-laughs", "xxe", "truncated", "garbage", "wrong-root"],
)
def test_hostile_qbxml_response_is_refused_and_nothing_is_stored(session, settings, document, expected):
    server, ticket = session

    progress = call(server.url, "receiveResponseXML", ticket=ticket, response=document, hresult="", message="")

    assert progress == "-1"
    assert expected in call(server.url, "getLastError", ticket=ticket)
    assert _buffered(settings) == 0


def test_soap_envelope_with_external_entity_is_refused(settings, start_server):
    server = start_server(settings)
    payload = (
        b'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
        b'<authenticate xmlns="http://developer.intuit.com/"><strUserName>&x;</strUserName>'
        b"<strPassword>p</strPassword></authenticate></soap:Body></soap:Envelope>"
    )

    response = post(server.url, "authenticate", payload)

    assert response.status_code == 400
    assert b"DTD" in response.content and b"root:" not in response.content


def test_envelope_that_breaks_the_wsdl_gets_a_soap_fault(settings, start_server):
    server = start_server(settings)
    # qbXMLMajorVers is required (minOccurs=1, s:int).
    response = post(server.url, "sendRequestXML", envelope("sendRequestXML", ticket="x", qbXMLMajorVers="thirteen"))

    assert response.status_code == 500
    assert b"Fault" in response.content


def test_unknown_ticket_gets_a_clear_error_and_touches_nothing(settings, start_server):
    server = start_server(settings)

    request = call(server.url, "sendRequestXML", ticket="forged", strHCPResponse=HCP, strCompanyFileName="",
                   qbXMLCountry="US", qbXMLMajorVers=13, qbXMLMinorVers=0)
    progress = call(server.url, "receiveResponseXML", ticket="forged", response=TRUNCATED, hresult="", message="")

    assert request == ""
    assert progress == "-1"
    assert "Unknown or expired ticket" in call(server.url, "getLastError", ticket="forged")
    assert "Unknown or expired ticket" in call(server.url, "closeConnection", ticket="forged")
    assert _buffered(settings) == 0


def test_quickbooks_below_the_version_floor_is_told_why(settings, start_server):
    server = start_server({**settings, "qbxml_version": "13.0"})
    ticket, _ = call(server.url, "authenticate", strUserName=USERNAME, strPassword=PASSWORD)
    old_host = HCP.replace("<SupportedQBXMLVersion>13.0</SupportedQBXMLVersion>", "")

    request = call(server.url, "sendRequestXML", ticket=ticket, strHCPResponse=old_host, strCompanyFileName="",
                   qbXMLCountry="US", qbXMLMajorVers=12, qbXMLMinorVers=0)

    assert request == ""
    assert "qbxml_version" in call(server.url, "getLastError", ticket=ticket)


def test_hresult_from_quickbooks_ends_the_session_with_its_message(session, settings):
    server, ticket = session

    progress = call(server.url, "receiveResponseXML", ticket=ticket, response="",
                    hresult="0x80040400", message="QuickBooks found an error when parsing the provided XML text stream.")

    assert progress == "-1"
    assert "0x80040400" in call(server.url, "getLastError", ticket=ticket)
    assert _buffered(settings) == 0


@pytest.mark.parametrize("with_argument", [True, False])
def test_server_version_answers_with_or_without_str_version(settings, start_server, with_argument):
    server = start_server(settings)
    params = {"strVersion": "2.3.0.215"} if with_argument else {}

    assert call(server.url, "serverVersion", **params).startswith("tap-quickbooks-desktop")


def test_plain_http_is_refused_off_localhost(settings):
    with pytest.raises(ConfigError, match="plain HTTP is only allowed on localhost"):
        server_config({**settings, "host": "0.0.0.0"})  # noqa: S104


def test_chunked_request_without_content_length_is_read_whole(settings, start_server):
    server = start_server(settings)
    payload = envelope("authenticate", strUserName=USERNAME, strPassword=PASSWORD)

    import requests

    session = requests.Session()
    session.trust_env = False
    response = session.post(
        server.url, data=iter([payload[:50], payload[50:]]), timeout=30,
        headers={"Content-Type": "text/xml; charset=utf-8",
                 "SOAPAction": '"http://developer.intuit.com/authenticate"'},
    )

    assert response.status_code == 200
    assert b"authenticateResult" in response.content
