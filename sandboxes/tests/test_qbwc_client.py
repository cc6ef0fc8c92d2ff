"""The Web Connector client against a small reference QBWC server written here, from the WSDL.

Each test shows one part of QBWC's contract: the call order, each authenticate/clientVersion
reply, each fault mode, and the client's verdict on servers that break the contract.
"""

# The sandbox fixtures are imported below and requested by name, which F811 misreads.
# ruff: noqa: F811

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest
from lxml import etree
from sandboxes.qbwc import (
    Faults,
    PlainHttpRefused,
    QuickBooksCompany,
    QWCFile,
    WebConnector,
)
from sandboxes.qbwc.fixtures import qb_company, qb_company_factory, qbwc_factory  # noqa: F401
from sandboxes.qbwc.qbxml_schema import reference_dir

TNS = "http://developer.intuit.com/"
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
SAFE = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)

CUSTOMERS_RQ = (
    '<?xml version="1.0"?><?qbxml version="13.0"?><QBXML><QBXMLMsgsRq onError="continueOnError">'
    "<CustomerQueryRq><ActiveStatus>All</ActiveStatus></CustomerQueryRq></QBXMLMsgsRq></QBXML>"
)
INVOICES_RQ = (
    '<?xml version="1.0"?><?qbxml version="13.0"?><QBXML><QBXMLMsgsRq onError="stopOnError">'
    "<InvoiceQueryRq><MaxReturned>5</MaxReturned><IncludeLineItems>true</IncludeLineItems>"
    "</InvoiceQueryRq></QBXMLMsgsRq></QBXML>"
)


def soap_response(operation: str, inner: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{SOAP}"><soap:Body>'
        f'<{operation}Response xmlns="{TNS}">{inner}</{operation}Response></soap:Body></soap:Envelope>'
    ).encode()


def result(operation: str, value: str | int) -> bytes:
    return soap_response(operation, f"<{operation}Result>{escape(str(value))}</{operation}Result>")


class ReferenceServer:
    """A QBWC server of about fifty lines: a scripted list of qbXML requests per session.

    ``plan`` is the list of request messages, replayed from the start in every session; a
    callable last entry gets the session's previous response and returns the next request
    (or None: an empty sendRequestXML), which is how iterators are followed.
    ``override`` maps an operation to a function returning (status, content type, body),
    to play a server that breaks the contract.
    """

    def __init__(self, plan: list[Any], *, user: str = "qbwc", password: str = "secret",  # noqa: S107
                 auth_status: str = "", auth_extra: tuple[str, ...] = (), client_reply: str = "",
                 connection_error_reply: str = "done") -> None:
        self.plan, self.user, self.password = plan, user, password
        self.auth_status, self.auth_extra, self.client_reply = auth_status, auth_extra, client_reply
        self.connection_error_reply = connection_error_reply
        self.override: dict[str, Callable[[dict[str, str]], tuple[int, str, bytes]]] = {}
        self.calls: list[tuple[str, dict[str, str]]] = []
        self.responses: list[str] = []
        self.session_responses: list[str] = []
        self.step = 0
        self.pending: str | None = None
        self.last_error = ""

    def handle(self, operation: str, params: dict[str, str]) -> tuple[int, str, bytes]:
        self.calls.append((operation, params))
        if operation in self.override:
            return self.override[operation](params)
        xml = "text/xml; charset=utf-8"
        if operation == "serverVersion":
            return 200, xml, result(operation, "reference-1.0")
        if operation == "clientVersion":
            return 200, xml, result(operation, self.client_reply)
        if operation == "authenticate":
            ok = params.get("strUserName") == self.user and params.get("strPassword") == self.password
            values = ("ticket-1", self.auth_status) if ok else ("", "nvu")
            self.step, self.session_responses = 0, []
            strings = "".join(f"<string>{escape(v)}</string>" for v in (*values, *self.auth_extra))
            return 200, xml, soap_response(operation, f"<authenticateResult>{strings}</authenticateResult>")
        if operation == "sendRequestXML":
            self.pending = self._next_request()
            return 200, xml, result(operation, self.pending or "")
        if operation == "receiveResponseXML":
            if params.get("hresult"):
                self.last_error = f"{params['hresult']}: {params.get('message', '')}"
                return 200, xml, result(operation, -101)
            self.responses.append(params.get("response", ""))
            self.session_responses.append(params.get("response", ""))
            self.step += 1
            done = self.step >= len(self.plan) and not callable(self.plan[-1])
            return 200, xml, result(operation, 100 if done else min(99, 100 * self.step // (len(self.plan) + 1)))
        if operation == "getLastError":
            return 200, xml, result(operation, self.last_error or "No more requests")
        if operation == "connectionError":
            return 200, xml, result(operation, self.connection_error_reply)
        if operation == "closeConnection":
            return 200, xml, result(operation, "OK")
        return 500, xml, b"unknown operation"

    def _next_request(self) -> str | None:
        if self.step < len(self.plan) and not callable(self.plan[self.step]):
            return self.plan[self.step]
        follow = self.plan[-1] if self.plan and callable(self.plan[-1]) else None
        if follow is None:
            return None
        return follow(self.session_responses[-1] if self.session_responses else None)


@pytest.fixture
def serve() -> Iterator[Callable[..., tuple[ReferenceServer, str]]]:
    servers: list[ThreadingHTTPServer] = []

    def start(reference: ReferenceServer, *, tls: tuple[Path, Path] | None = None) -> tuple[ReferenceServer, str]:
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                envelope = etree.fromstring(body, SAFE)
                payload = envelope.find(f"{{{SOAP}}}Body")[0]
                operation = etree.QName(payload).localname
                assert self.headers["SOAPAction"] == f'"{TNS}{operation}"'
                params = {etree.QName(c).localname: c.text or "" for c in payload}
                status, ctype, out = reference.handle(operation, params)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(out)))
                    self.end_headers()
                    self.wfile.write(out)
                except OSError:
                    pass  # the client dropped the connection on purpose

            def log_message(self, *args: Any) -> None:
                pass

        httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        scheme = "http"
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(str(tls[0]), str(tls[1]))
            httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
            scheme = "https"
        threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(httpd)
        host = "localhost" if tls else "127.0.0.1"
        return reference, f"{scheme}://{host}:{httpd.server_address[1]}/qbwc"

    yield start
    for httpd in servers:
        httpd.shutdown()
        httpd.server_close()


def operations(reference: ReferenceServer) -> list[str]:
    return [op for op, _ in reference.calls]


def test_full_session_calls_every_operation_in_qbwc_order(serve, qbwc_factory):
    reference, url = serve(ReferenceServer([CUSTOMERS_RQ, INVOICES_RQ]))
    report = qbwc_factory(url).run_once()
    assert report.outcome == "completed"
    assert operations(reference) == [
        "serverVersion", "clientVersion", "authenticate",
        "sendRequestXML", "receiveResponseXML", "sendRequestXML", "receiveResponseXML",
        "closeConnection",
    ]
    assert report.operations == operations(reference)
    assert report.progress[-1] == 100 and report.close_message == "OK"
    assert report.request_types == {"CustomerQueryRq": 1, "InvoiceQueryRq": 1}


def test_first_send_request_carries_hcp_response_and_int_versions(serve, qbwc_factory, qb_company):
    reference, url = serve(ReferenceServer([CUSTOMERS_RQ, INVOICES_RQ]))
    qbwc_factory(url).run_once()
    sends = [p for op, p in reference.calls if op == "sendRequestXML"]
    hcp = etree.fromstring(sends[0]["strHCPResponse"].encode(), SAFE)
    assert [e.tag for e in hcp.find("QBXMLMsgsRs")] == ["HostQueryRs", "CompanyQueryRs", "PreferencesQueryRs"]
    assert "13.0" in [v.text for v in hcp.iter("SupportedQBXMLVersion")]
    assert sends[1]["strHCPResponse"] == ""
    assert sends[0]["qbXMLMajorVers"] == "13" and sends[0]["qbXMLMinorVers"] == "0"
    assert sends[0]["qbXMLCountry"] == "US"
    assert sends[0]["strCompanyFileName"] == qb_company.company_file
    assert sends[0]["ticket"] == "ticket-1"


def test_receive_response_carries_quickbooks_answer(serve, qbwc_factory, qb_company):
    reference, url = serve(ReferenceServer([CUSTOMERS_RQ]))
    qbwc_factory(url).run_once()
    answer = etree.fromstring(reference.responses[0].encode(), SAFE)
    rets = answer.findall("QBXMLMsgsRs/CustomerQueryRs/CustomerRet")
    assert len(rets) == qb_company.count("Customer")


def test_bad_password_gets_nvu_and_no_further_calls(serve, qbwc_factory):
    reference, url = serve(ReferenceServer([CUSTOMERS_RQ]))
    report = qbwc_factory(url, password="wrong").run_once()
    assert report.outcome == "nvu"
    assert operations(reference) == ["serverVersion", "clientVersion", "authenticate"]
    assert reference.calls[-1][1]["strPassword"] == "wrong"
    assert report.calls[-1].sent["strPassword"] == "***"


@pytest.mark.parametrize("status", ["none", "busy"])
def test_nothing_to_do_or_busy_ends_the_session_quietly(serve, qbwc_factory, status):
    reference, url = serve(ReferenceServer([CUSTOMERS_RQ], auth_status=status, auth_extra=("30", "600")))
    report = qbwc_factory(url).run_once()
    assert report.outcome == status
    assert operations(reference)[-1] == "authenticate"
    assert report.postpone_seconds == 30 and report.min_run_every_seconds == 600


def test_company_path_from_authenticate_is_sent_back(serve, qbwc_factory):
    path = r"C:\Company Files\acme.qbw"
    reference, url = serve(ReferenceServer([CUSTOMERS_RQ], auth_status=path))
    report = qbwc_factory(url).run_once()
    assert report.company_file == path
    assert next(p for op, p in reference.calls if op == "sendRequestXML")["strCompanyFileName"] == path


def test_client_version_warning_continues_error_stops(serve, qbwc_factory):
    reference, url = serve(ReferenceServer([CUSTOMERS_RQ], client_reply="W:please upgrade"))
    report = qbwc_factory(url).run_once()
    assert report.outcome == "completed" and report.warnings == ["please upgrade"]
    reference, url = serve(ReferenceServer([CUSTOMERS_RQ], client_reply="E:too old"))
    report = qbwc_factory(url).run_once()
    assert report.outcome == "client_version_error"
    assert operations(reference) == ["serverVersion", "clientVersion"]
    assert "too old" in report.errors[0]
    reference, url = serve(ReferenceServer([CUSTOMERS_RQ], client_reply="O:2.3.0.200"))
    assert qbwc_factory(url).run_once().outcome == "client_version_error"


def test_client_sends_its_version(serve, qbwc_factory):
    reference, url = serve(ReferenceServer([CUSTOMERS_RQ]))
    qbwc_factory(url, client_version="2.2.0.80").run_once()
    assert reference.calls[1][1] == {"strVersion": "2.2.0.80"}
    assert reference.calls[0][1] == {}


def test_quickbooks_closed_calls_connection_error(serve, qbwc_factory):
    reference, url = serve(ReferenceServer([CUSTOMERS_RQ]))
    report = qbwc_factory(url, faults=Faults(quickbooks_closed=True)).run_once()
    assert report.outcome == "connection_error"
    assert operations(reference) == ["serverVersion", "clientVersion", "authenticate", "connectionError"]
    sent = reference.calls[-1][1]
    assert sent == {"ticket": "ticket-1", "hresult": "0x80040408", "message": "Could not start QuickBooks."}


def test_connection_error_company_path_is_retried_once(serve, qbwc_factory):
    reference, url = serve(ReferenceServer([CUSTOMERS_RQ], connection_error_reply=r"C:\other.qbw"))
    report = qbwc_factory(url, faults=Faults(quickbooks_closed=True)).run_once()
    assert operations(reference).count("connectionError") == 2
    assert report.outcome == "connection_error"


def test_quickbooks_parse_error_reaches_server_as_hresult_then_get_last_error(serve, qbwc_factory):
    broken = CUSTOMERS_RQ.replace("<ActiveStatus>All</ActiveStatus>", "<ActiveStatus>Some</ActiveStatus>")
    reference, url = serve(ReferenceServer([broken]))
    report = qbwc_factory(url).run_once()
    received = next(p for op, p in reference.calls if op == "receiveResponseXML")
    assert received["response"] == "" and received["hresult"] == "0x80040400"
    assert received["message"] == "QuickBooks found an error when parsing the provided XML text stream."
    assert operations(reference)[-2:] == ["getLastError", "closeConnection"]
    assert report.outcome == "server_error" and report.progress == [-101]
    assert report.last_error.startswith("0x80040400")


def test_empty_send_request_leads_to_get_last_error_and_close(serve, qbwc_factory):
    reference, url = serve(ReferenceServer([lambda previous: None]))
    report = qbwc_factory(url).run_once()
    assert operations(reference)[3:] == ["sendRequestXML", "getLastError", "closeConnection"]
    assert report.outcome == "server_error" and report.last_error == "No more requests"


def test_noop_from_get_last_error_waits_and_asks_again(serve, qbwc_factory):
    reference, url = serve(ReferenceServer([CUSTOMERS_RQ]))
    answers = iter(["", CUSTOMERS_RQ])
    reference.override["sendRequestXML"] = lambda p: (200, "text/xml", result("sendRequestXML", next(answers)))
    reference.override["getLastError"] = lambda p: (200, "text/xml", result("getLastError", "NoOp"))
    waits: list[float] = []
    report = qbwc_factory(url, sleep=waits.append).run_once()
    assert report.outcome == "completed" and waits == [5.0]


def test_drop_connection_mid_session(serve, qbwc_factory):
    reference, url = serve(ReferenceServer([CUSTOMERS_RQ, INVOICES_RQ]))
    report = qbwc_factory(url, faults=Faults(drop_connection_at_call=5)).run_once()
    assert report.outcome == "dropped"
    assert "receiveResponseXML" in report.errors[0]
    assert "closeConnection" not in operations(reference)


def test_session_cut_after_k_requests(serve, qbwc_factory):
    reference, url = serve(ReferenceServer([CUSTOMERS_RQ, INVOICES_RQ, CUSTOMERS_RQ]))
    report = qbwc_factory(url, faults=Faults(cut_after_requests=2)).run_once()
    assert report.outcome == "cut" and report.requests_answered == 2
    assert operations(reference).count("receiveResponseXML") == 2
    assert operations(reference)[-1] == "receiveResponseXML"


def test_slow_quickbooks_waits_per_request(serve, qbwc_factory):
    _reference, url = serve(ReferenceServer([CUSTOMERS_RQ, INVOICES_RQ]))
    waits: list[float] = []
    report = qbwc_factory(url, faults=Faults(slow_quickbooks_seconds=2.5), sleep=waits.append).run_once()
    assert report.outcome == "completed" and waits == [2.5, 2.5]


def test_iterator_followed_across_pages_by_the_server(serve, qbwc_factory, qb_company):
    def next_page(previous: str | None) -> str | None:
        attrs = 'iterator="Start"'
        if previous is not None:
            rs = etree.fromstring(previous.encode(), SAFE).find("QBXMLMsgsRs/InvoiceQueryRs")
            if rs.get("iteratorRemainingCount") == "0":
                return None
            attrs = f'iterator="Continue" iteratorID="{rs.get("iteratorID")}"'
        return ('<?xml version="1.0"?><?qbxml version="13.0"?><QBXML><QBXMLMsgsRq onError="stopOnError">'
                f"<InvoiceQueryRq {attrs}><MaxReturned>10</MaxReturned></InvoiceQueryRq></QBXMLMsgsRq></QBXML>")

    reference, url = serve(ReferenceServer([next_page]))
    report = qbwc_factory(url).run_once()
    ids = [t.text for r in reference.responses for t in etree.fromstring(r.encode(), SAFE).iter("TxnID")]
    total = qb_company.count("Invoice")
    assert len(ids) == total and len(set(ids)) == total
    assert report.requests_answered == -(-total // 10)
    assert report.outcome == "server_error"  # the scripted server ends with an empty sendRequestXML


def test_iterators_die_with_the_session(serve, qbwc_factory):
    captured: dict[str, str] = {}

    def start_then_remember(previous: str | None) -> str | None:
        if previous is not None:
            captured["id"] = etree.fromstring(previous.encode(), SAFE).find(
                "QBXMLMsgsRs/InvoiceQueryRs").get("iteratorID")
            return None
        return INVOICES_RQ.replace("<InvoiceQueryRq>", '<InvoiceQueryRq iterator="Start">')

    _reference, url = serve(ReferenceServer([start_then_remember]))
    qbwc_factory(url).run_once()
    continue_rq = INVOICES_RQ.replace("<InvoiceQueryRq>", f'<InvoiceQueryRq iterator="Continue" iteratorID="{captured["id"]}">')
    _reference, url = serve(ReferenceServer([continue_rq]))
    report = qbwc_factory(url).run_once()
    assert report.statuses == [("InvoiceQueryRs", 3391, "Error", f'The iteratorID "{captured["id"]}" is not valid.')]


def test_plain_http_refused_except_localhost(qb_company):
    qwc = QWCFile(app_url="http://example.com/qbwc", user_name="u", owner_id="{o}", file_id="{f}")
    with pytest.raises(PlainHttpRefused):
        WebConnector(qwc, "pw", qb_company)
    for host in ("localhost", "127.0.0.1", "[::1]"):
        WebConnector(QWCFile(app_url=f"http://{host}:8080/q", user_name="u", owner_id="{o}", file_id="{f}"), "pw", qb_company)
    WebConnector(QWCFile(app_url="https://example.com/qbwc", user_name="u", owner_id="{o}", file_id="{f}"), "pw", qb_company)


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def test_https_with_explicit_ca_file(serve, qbwc_factory, tmp_path):
    cert, key = _self_signed(tmp_path)
    _reference, url = serve(ReferenceServer([CUSTOMERS_RQ]), tls=(cert, key))
    assert qbwc_factory(url, ca_file=str(cert)).run_once().outcome == "completed"
    untrusted = qbwc_factory(url).run_once()
    assert untrusted.outcome == "http_error" and "CERTIFICATE_VERIFY_FAILED" in untrusted.errors[0]


# -- servers that break the contract ------------------------------------------------------------

@pytest.mark.parametrize(
    ("operation", "reply", "problem"),
    [
        ("receiveResponseXML", (200, "text/xml", result("receiveResponseXML", "lots")), "does not match the WSDL"),
        ("receiveResponseXML", (200, "text/xml", result("receiveResponseXML", 150)), "above 100"),
        ("serverVersion", (200, "application/json", b"{}"), "Content-Type"),
        ("clientVersion", (200, "text/xml", result("serverVersion", "")), "expected {http://developer.intuit.com/}clientVersionResponse"),
        ("authenticate", (200, "text/xml", soap_response("authenticate", "<authenticateResult><string>t</string></authenticateResult>")), "[ticket, status]"),
        ("authenticate", (200, "text/xml", soap_response("authenticate", "<authenticateResult><string>t</string><string></string><string>soon</string></authenticateResult>")), "not an integer"),
        ("sendRequestXML", (200, "text/xml", b"<html>oops</html>"), "not a SOAP 1.1 Envelope"),
        ("sendRequestXML", (404, "text/html", b"missing"), "HTTP 404"),
        ("sendRequestXML", (200, "text/xml", b'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                            + result("sendRequestXML", "&x;").split(b"?>", 1)[1]), "DOCTYPE"),
        ("closeConnection", (200, "text/xml", b"<soap:Envelope xmlns:soap='http://schemas.xmlsoap.org/soap/envelope/'><soap:Body/></soap:Envelope>"), "0 elements"),
    ],
)
def test_contract_breaches_are_reported_with_operation(serve, qbwc_factory, operation, reply, problem):
    reference, url = serve(ReferenceServer([CUSTOMERS_RQ]))
    reference.override[operation] = lambda params: reply
    report = qbwc_factory(url).run_once()
    assert report.outcome == "contract_error"
    assert report.errors[0].startswith(f"{operation}: ") and problem in report.errors[0]


def test_soap_fault_is_reported(serve, qbwc_factory):
    reference, url = serve(ReferenceServer([CUSTOMERS_RQ]))
    fault = (f"<soap:Envelope xmlns:soap='{SOAP}'><soap:Body><soap:Fault><faultcode>soap:Server</faultcode>"
             "<faultstring>ticket expired</faultstring></soap:Fault></soap:Body></soap:Envelope>").encode()
    reference.override["sendRequestXML"] = lambda params: (500, "text/xml; charset=utf-8", fault)
    report = qbwc_factory(url).run_once()
    assert report.outcome == "contract_error"
    assert report.errors == ["sendRequestXML: SOAP Fault soap:Server: ticket expired"]


def test_scheduled_runs_honour_interval_and_min_run_every(serve, qbwc_factory):
    _reference, url = serve(ReferenceServer([CUSTOMERS_RQ], auth_status="none", auth_extra=("", "900")))
    waits: list[float] = []
    reports = qbwc_factory(url).run_scheduled(every_minutes=1, max_runs=3, sleep=waits.append)
    assert [r.outcome for r in reports] == ["none"] * 3
    assert waits == [900, 900]


def test_qwc_file_round_trip_and_reference_samples(tmp_path):
    sample = QWCFile.load(reference_dir() / "qbwc" / "consolibyte-example.qwc")
    assert sample.user_name == "quickbooks" and sample.run_every_n_minutes == 1 and sample.qb_type == "QBFS"
    https = QWCFile.load(reference_dir() / "qbwc" / "intuit-WCWebService-HTTPS.qwc")
    assert https.app_url.startswith("https://") and https.owner_id.startswith("{")
    path = tmp_path / "app.qwc"
    path.write_text(sample.to_xml())
    assert QWCFile.load(path) == sample
    with pytest.raises(ValueError, match="AppURL"):
        QWCFile.parse("<QBWCXML><UserName>u</UserName></QBWCXML>")


def test_cli_runs_a_session_against_a_url(serve, tmp_path, capsys):
    from sandboxes.qbwc.__main__ import main

    reference, url = serve(ReferenceServer([CUSTOMERS_RQ]))
    qwc = tmp_path / "app.qwc"
    qwc.write_text(QWCFile(app_url=url, user_name="qbwc", owner_id="{o}", file_id="{f}").to_xml())
    code = main(["--qwc", str(qwc), "--password", "secret", "--company", "seed:7:50",
                 "--company-path", str(tmp_path / "c.sqlite"), "--once"])
    assert code == 0
    assert '"outcome": "completed"' in capsys.readouterr().out
    assert operations(reference)[-1] == "closeConnection"


def test_company_fixture_is_small_and_seeded(qb_company: QuickBooksCompany):
    assert qb_company.seed == 42 and 50 < qb_company.count("Invoice") < 150


def test_edit_between_requests_lands_before_the_next_page(serve, qbwc_factory, qb_company):
    invoice = qb_company.control.ids("Invoice", limit=1)[0]
    edits: list[str] = []

    def edit(done: int) -> None:
        edits.append(qb_company.control.modify("Invoice", invoice, Memo=f"after {done}")["edit_sequence"])

    lookup = INVOICES_RQ.replace("<MaxReturned>5</MaxReturned>", f"<TxnID>{invoice}</TxnID>")
    reference, url = serve(ReferenceServer([lookup, lookup]))
    report = qbwc_factory(url, between_requests=edit).run_once()
    assert report.outcome == "completed" and len(edits) == 1
    second = etree.fromstring(reference.responses[1].encode(), SAFE)
    assert second.findtext("QBXMLMsgsRs/InvoiceQueryRs/InvoiceRet/EditSequence") == edits[0]
    assert second.findtext("QBXMLMsgsRs/InvoiceQueryRs/InvoiceRet/Memo") == "after 1"


def test_schedule_defaults_to_the_qwc_interval(serve, qb_company):
    _reference, url = serve(ReferenceServer([CUSTOMERS_RQ], auth_status="none"))
    qwc = QWCFile(app_url=url, user_name="qbwc", owner_id="{o}", file_id="{f}", run_every_n_minutes=15)
    waits: list[float] = []
    reports = WebConnector(qwc, "secret", qb_company).run_scheduled(max_runs=2, sleep=waits.append)
    assert [r.outcome for r in reports] == ["none", "none"] and waits == [900]


def test_cli_every_runs_the_requested_number_of_sessions(serve, tmp_path, capsys, monkeypatch):
    from sandboxes.qbwc.__main__ import main

    reference, url = serve(ReferenceServer([CUSTOMERS_RQ]))
    qwc = tmp_path / "app.qwc"
    qwc.write_text(QWCFile(app_url=url, user_name="qbwc", owner_id="{o}", file_id="{f}").to_xml())
    monkeypatch.setenv("QBWC_TEST_PASSWORD", "secret")
    code = main(["--qwc", str(qwc), "--password-env", "QBWC_TEST_PASSWORD", "--company", "seed:7:30",
                 "--company-path", str(tmp_path / "c.sqlite"), "--every", "0", "--max-runs", "2"])
    assert code == 0
    assert capsys.readouterr().out.count('"outcome": "completed"') == 2
    assert operations(reference).count("authenticate") == 2
