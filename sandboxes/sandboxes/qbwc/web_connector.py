"""A QuickBooks Web Connector (QBWC 2.x) that drives a QBWC server over real HTTP(S) SOAP.

Call order, as QBWC performs it for one scheduled update:
serverVersion -> clientVersion -> authenticate -> [connectionError when QuickBooks cannot be
opened] -> sendRequestXML / receiveResponseXML until 100 or a negative value ->
[getLastError] -> closeConnection.
"""

from __future__ import annotations

import http.client
import logging
import socket
import ssl
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from lxml import etree

from .company import QuickBooksCompany
from .company_session import CompanySession
from .qbxml_schema import parse_xml
from .qbxml_statuses import HRESULT_NOT_RUNNING, QBXMLParseError
from .qwc_file import QWCFile
from .soap_contract import (
    TNS,
    ServerContractError,
    SoapReply,
    build_request,
    parse_reply,
    wsdl_schema,
)

log = logging.getLogger(__name__)

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
USER_AGENT = "Mozilla/4.0 (compatible; MSIE 6.0; MS Web Services Client Protocol 4.0.30319.42000)"
HCP_REQUEST = (
    '<?xml version="1.0"?><?qbxml version="13.0"?><QBXML><QBXMLMsgsRq onError="continueOnError">'
    "<HostQueryRq/><CompanyQueryRq/><PreferencesQueryRq/></QBXMLMsgsRq></QBXML>"
)


class PlainHttpRefused(ValueError):
    """QBWC only talks plain HTTP to the local machine; every other AppURL must be https."""


class ConnectionDropped(Exception):
    pass


@dataclass
class Faults:
    quickbooks_closed: bool = False
    drop_connection_at_call: int | None = None
    slow_quickbooks_seconds: float = 0.0
    cut_after_requests: int | None = None


@dataclass
class CallRecord:
    operation: str
    sent: dict[str, Any]
    result: Any
    seconds: float


@dataclass
class SessionReport:
    outcome: str = "not_started"
    ticket: str | None = None
    calls: list[CallRecord] = field(default_factory=list)
    server_version: str | None = None
    client_version_reply: str | None = None
    warnings: list[str] = field(default_factory=list)
    auth_status: str | None = None
    postpone_seconds: int | None = None
    min_run_every_seconds: int | None = None
    company_file: str | None = None
    requests_answered: int = 0
    request_types: Counter[str] = field(default_factory=Counter)
    progress: list[int] = field(default_factory=list)
    last_error: str | None = None
    close_message: str | None = None
    connection_error_reply: str | None = None
    errors: list[str] = field(default_factory=list)
    statuses: list[tuple[str, int, str, str]] = field(default_factory=list)
    qbxml_requests: list[str] = field(default_factory=list)
    qbxml_responses: list[str] = field(default_factory=list)

    @property
    def operations(self) -> list[str]:
        return [c.operation for c in self.calls]


class WebConnector:
    def __init__(
        self,
        qwc: QWCFile,
        password: str,
        company: QuickBooksCompany,
        *,
        ca_file: str | None = None,
        faults: Faults | None = None,
        client_version: str = "2.3.0.215",
        timeout: float = 30.0,
        keep_messages: bool = False,
        server_version_with_arg: bool = False,
        accept_version_warnings: bool = True,
        max_noop_waits: int = 3,
        noop_wait_seconds: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
        between_requests: Callable[[int], None] | None = None,
    ) -> None:
        # The server's every SOAP reply is checked against Intuit's WSDL: without it, refuse now.
        wsdl_schema()
        url = urlsplit(qwc.app_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError(f"AppURL {qwc.app_url!r} is not an http(s) URL")
        if url.scheme == "http" and url.hostname not in LOCAL_HOSTS:
            raise PlainHttpRefused(
                f"AppURL {qwc.app_url!r}: QuickBooks Web Connector requires https for any host "
                "other than localhost"
            )
        self.qwc = qwc
        self._password = password
        self.company = company
        self.faults = faults or Faults()
        self.client_version = client_version
        self.timeout = timeout
        self.keep_messages = keep_messages
        self.server_version_with_arg = server_version_with_arg
        self.accept_version_warnings = accept_version_warnings
        self.max_noop_waits = max_noop_waits
        self.noop_wait_seconds = noop_wait_seconds
        self.sleep = sleep
        # Called with the number of exchanges done after each receiveResponseXML that asks for
        # more: the deterministic place for a test to edit the company mid-session.
        self.between_requests = between_requests
        self._url = url
        self._ssl = ssl.create_default_context(cafile=ca_file) if url.scheme == "https" else None
        self._calls_in_session = 0

    # -- transport --------------------------------------------------------------------------
    def _post(self, operation: str, body: bytes) -> tuple[int, str, bytes]:
        url = self._url
        conn: http.client.HTTPConnection
        if self._ssl is not None:
            conn = http.client.HTTPSConnection(url.hostname or "", url.port, timeout=self.timeout, context=self._ssl)
        else:
            conn = http.client.HTTPConnection(url.hostname or "", url.port, timeout=self.timeout)
        path = (url.path or "/") + (f"?{url.query}" if url.query else "")
        headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{TNS}{operation}"',
                   "User-Agent": USER_AGENT}
        try:
            conn.request("POST", path, body=body, headers=headers)
            if self.faults.drop_connection_at_call == self._calls_in_session:
                # The network goes away after the request left: the server may have acted on
                # it, QBWC never learns the answer.
                if conn.sock is not None:
                    conn.sock.shutdown(socket.SHUT_RDWR)
                raise ConnectionDropped(f"connection dropped during {operation} (call {self._calls_in_session})")
            response = conn.getresponse()
            return response.status, response.getheader("Content-Type") or "", response.read()
        finally:
            conn.close()

    def _call(self, report: SessionReport, operation: str, params: list[tuple[str, str | int | None]]) -> SoapReply:
        self._calls_in_session += 1
        sent = {k: ("***" if k == "strPassword" else v) for k, v in params}
        started = time.monotonic()
        try:
            status, content_type, body = self._post(operation, build_request(operation, params))
            reply = parse_reply(operation, status, content_type, body)
        except Exception as exc:
            report.calls.append(CallRecord(operation, sent, exc, time.monotonic() - started))
            raise
        result: Any = reply.strings("authenticateResult") if operation == "authenticate" else reply.text(f"{operation}Result")
        report.calls.append(CallRecord(operation, sent, result, time.monotonic() - started))
        return reply

    # -- one scheduled update ---------------------------------------------------------------
    def run_once(self) -> SessionReport:
        report = SessionReport()
        self._calls_in_session = 0
        try:
            self._session(report)
        except ConnectionDropped as exc:
            report.outcome = "dropped"
            report.errors.append(str(exc))
        except ServerContractError as exc:
            report.outcome = "contract_error"
            report.errors.append(str(exc))
        except (OSError, http.client.HTTPException) as exc:
            report.outcome = "http_error"
            report.errors.append(f"{type(exc).__name__}: {exc}")
        log.info("QBWC session %s after %d calls", report.outcome, len(report.calls))
        return report

    def run_scheduled(self, every_minutes: float | None = None, max_runs: int = 1,
                      sleep: Callable[[float], None] | None = None) -> list[SessionReport]:
        """Run ``max_runs`` updates, waiting between them as QBWC's scheduler would."""
        pause = sleep or self.sleep
        if every_minutes is None:
            if self.qwc.run_every_n_minutes is not None:
                every_minutes = self.qwc.run_every_n_minutes
            elif self.qwc.run_every_n_seconds is not None:
                every_minutes = self.qwc.run_every_n_seconds / 60
        reports: list[SessionReport] = []
        for index in range(max_runs):
            report = self.run_once()
            reports.append(report)
            if index == max_runs - 1:
                break
            wait = (every_minutes or 0) * 60
            if report.min_run_every_seconds:
                wait = max(wait, report.min_run_every_seconds)
            if report.postpone_seconds:
                wait = max(wait, report.postpone_seconds)
            pause(wait)
        return reports

    def _session(self, report: SessionReport) -> None:
        params: list[tuple[str, str | int | None]] = (
            [("strVersion", self.client_version)] if self.server_version_with_arg else []
        )
        report.server_version = self._call(report, "serverVersion", params).text("serverVersionResult")

        reply = self._call(report, "clientVersion", [("strVersion", self.client_version)])
        answer = reply.text("clientVersionResult") or ""
        report.client_version_reply = answer
        if answer.startswith("E:"):
            report.outcome = "client_version_error"
            report.errors.append(f"server refused QBWC {self.client_version}: {answer[2:]}")
            return
        if answer.startswith("O:"):
            report.outcome = "client_version_error"
            report.errors.append(f"server requires QBWC version {answer[2:]} or later")
            return
        if answer.startswith("W:"):
            report.warnings.append(answer[2:])
            if not self.accept_version_warnings:
                report.outcome = "client_version_error"
                return

        auth = self._call(report, "authenticate", [("strUserName", self.qwc.user_name),
                                                    ("strPassword", self._password)])
        values = auth.strings("authenticateResult")
        if len(values) < 2:
            raise ServerContractError("authenticate", f"authenticateResult holds {len(values)} strings; QBWC needs [ticket, status]")
        ticket, status = values[0], values[1]
        report.ticket, report.auth_status = ticket, status
        report.postpone_seconds = _optional_int("authenticate", values, 2, "postpone seconds")
        report.min_run_every_seconds = _optional_int("authenticate", values, 3, "minimum run-every seconds")
        if status in ("nvu", "none", "busy"):
            report.outcome = status
            return
        if not ticket:
            raise ServerContractError("authenticate", "empty ticket with an accepted login")
        report.company_file = status or self.company.company_file

        if self.faults.quickbooks_closed and not self._connection_error(report, ticket):
            return

        session = self.company.begin_session()
        try:
            self._exchange(report, ticket, session)
        finally:
            self.company.end_session(session)

    def _connection_error(self, report: SessionReport, ticket: str) -> bool:
        """QuickBooks cannot be opened: tell the server; a company path means "try that one"."""
        for _attempt in range(2):
            hresult, message = HRESULT_NOT_RUNNING
            reply = self._call(report, "connectionError", [("ticket", ticket), ("hresult", hresult), ("message", message)])
            answer = reply.text("connectionErrorResult") or ""
            report.connection_error_reply = answer
            if answer.lower() == "done" or not answer:
                break
            report.company_file = answer  # QuickBooks stays closed in this fault mode
        report.outcome = "connection_error"
        report.errors.append(f"{hresult}: {message}")
        return False

    def _exchange(self, report: SessionReport, ticket: str, session: CompanySession) -> None:
        first = True
        noop_waits = 0
        while True:
            if self.faults.cut_after_requests is not None and report.requests_answered >= self.faults.cut_after_requests:
                report.outcome = "cut"
                return
            hcp = self.company.answer(HCP_REQUEST, session) if first else ""
            reply = self._call(report, "sendRequestXML", [
                ("ticket", ticket), ("strHCPResponse", hcp), ("strCompanyFileName", report.company_file),
                ("qbXMLCountry", "US"), ("qbXMLMajorVers", 13), ("qbXMLMinorVers", 0),
            ])
            first = False
            request_xml = reply.text("sendRequestXMLResult") or ""
            if not request_xml.strip():
                last = self._call(report, "getLastError", [("ticket", ticket)]).text("getLastErrorResult") or ""
                report.last_error = last
                if last == "NoOp" and noop_waits < self.max_noop_waits:
                    noop_waits += 1
                    self.sleep(self.noop_wait_seconds)
                    continue
                self._close(report, ticket)
                report.outcome = "server_error"
                return
            response, hresult, message = self._quickbooks(report, request_xml, session)
            reply = self._call(report, "receiveResponseXML", [
                ("ticket", ticket), ("response", response), ("hresult", hresult), ("message", message),
            ])
            progress = int(reply.text("receiveResponseXMLResult") or "0")
            if progress > 100:
                raise ServerContractError("receiveResponseXML", f"progress {progress} is above 100")
            report.progress.append(progress)
            if progress < 0:
                report.last_error = self._call(report, "getLastError", [("ticket", ticket)]).text("getLastErrorResult")
                self._close(report, ticket)
                report.outcome = "server_error"
                return
            if progress == 100:
                self._close(report, ticket)
                report.outcome = "completed"
                return
            if self.between_requests is not None:
                self.between_requests(report.requests_answered)

    def _quickbooks(self, report: SessionReport, request_xml: str, session: CompanySession) -> tuple[str, str, str]:
        """Hand the request to QuickBooks: (response, hresult, message) as QBWC forwards them."""
        report.requests_answered += 1
        _count_requests(report, request_xml)
        if self.keep_messages:
            report.qbxml_requests.append(request_xml)
        if self.faults.slow_quickbooks_seconds:
            self.sleep(self.faults.slow_quickbooks_seconds)
        try:
            response = self.company.answer(request_xml, session)
        except QBXMLParseError as exc:
            report.errors.append(str(exc))
            return "", exc.hresult, exc.message
        if self.keep_messages:
            report.qbxml_responses.append(response)
        for rs in parse_xml(response).iterfind("QBXMLMsgsRs/*"):
            report.statuses.append((str(rs.tag), int(rs.get("statusCode", "0")),
                                    rs.get("statusSeverity", ""), rs.get("statusMessage", "")))
        return response, "", ""

    def _close(self, report: SessionReport, ticket: str) -> None:
        report.close_message = self._call(report, "closeConnection", [("ticket", ticket)]).text("closeConnectionResult")


def _count_requests(report: SessionReport, request_xml: str) -> None:
    try:
        root = parse_xml(request_xml)
    except etree.XMLSyntaxError:
        return
    for rq in root.iterfind("QBXMLMsgsRq/*"):
        report.request_types[str(rq.tag)] += 1


def _optional_int(operation: str, values: list[str], index: int, meaning: str) -> int | None:
    if len(values) <= index or values[index] == "":
        return None
    try:
        return int(values[index])
    except ValueError:
        raise ServerContractError(operation, f"element {index + 1} ({meaning}) is {values[index]!r}, not an integer") from None
