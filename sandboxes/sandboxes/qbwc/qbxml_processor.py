"""QuickBooks' request processor: one qbXML request message in, one response message out.

Validation first (qbxmlops130.xsd): a message QuickBooks' parser would refuse raises
QBXMLParseError with QuickBooks' HRESULT, and nothing in it runs. Then each request runs in
order; ``stopOnError`` (and ``rollbackOnError``, which has nothing to roll back for queries)
leaves the requests after the first Error unanswered, ``continueOnError`` answers all.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lxml import etree

from .company_clock import format_local
from .company_kinds import EMPTY_QUERY_REQUESTS, FAMILIES, MOD_REQUESTS, QUERY_REQUESTS, family_of
from .company_session import CompanySession
from .company_store import StoredObject
from .qbxml_open_items import OpenItems
from .qbxml_queries import QB_ID, QueryAnswerer
from .qbxml_render import fill, render_object
from .qbxml_schema import parse_xml, validation_errors
from .qbxml_statuses import (
    HRESULT_BAD_VERSION,
    HRESULT_PARSE_ERROR,
    QBXMLParseError,
    RequestFailed,
    Status,
)
from .qbxml_transactions import TransactionQuery

if TYPE_CHECKING:
    from .company import QuickBooksCompany

SUPPORTED_VERSIONS = ("1.0", "1.1", "2.0", "2.1", "3.0", "4.0", "4.1", "5.0", "6.0", "7.0",
                      "8.0", "9.0", "10.0", "11.0", "12.0", "13.0")
_PI = re.compile(r'version\s*=\s*"([^"]+)"')


class RequestProcessor:
    def __init__(self, company: QuickBooksCompany) -> None:
        self.company = company
        self.queries = QueryAnswerer(company)
        self.transactions = TransactionQuery(company)
        self.open_items = OpenItems(company)
        self.validate_responses = True

    # -- message level ----------------------------------------------------------------------
    def answer(self, request_text: str, session: CompanySession) -> str:
        version = self._qbxml_version(request_text)
        try:
            root = parse_xml(request_text)
        except etree.XMLSyntaxError as exc:
            raise QBXMLParseError(*HRESULT_PARSE_ERROR, detail=str(exc)) from None
        if root.getroottree().docinfo.doctype:
            # Entities are never expanded here; a DTD in a request is refused outright.
            raise QBXMLParseError(*HRESULT_PARSE_ERROR, detail="DOCTYPE declarations are not accepted")
        try:
            errors = validation_errors(root) if root.tag == "QBXML" else [f"root element {root.tag}"]
        except etree.XMLSchemaValidateError as exc:
            raise QBXMLParseError(*HRESULT_PARSE_ERROR, detail=str(exc)) from None
        msgs = root.find("QBXMLMsgsRq")
        if errors or msgs is None:
            raise QBXMLParseError(*HRESULT_PARSE_ERROR, detail="; ".join(errors[:3]) or "no QBXMLMsgsRq")
        if version not in self.company.qbxml_versions:
            raise QBXMLParseError(*HRESULT_BAD_VERSION, detail=version)
        stop_on_error = msgs.get("onError") != "continueOnError"
        out_root = etree.Element("QBXML")
        out = etree.SubElement(out_root, "QBXMLMsgsRs")
        with self.company.store.lock:
            for request in msgs:
                response = self._answer_one(request, session)
                out.append(response)
                if stop_on_error and response.get("statusSeverity") == "Error":
                    break
        if self.validate_responses:
            problems = validation_errors(out_root)
            if problems:  # our own bug, never the caller's: fail loudly
                raise AssertionError(f"sandbox emitted invalid qbXML: {problems[:3]}")
        body = etree.tostring(out_root, encoding="unicode")
        return f'<?xml version="1.0" ?>\n{body}'

    @staticmethod
    def _qbxml_version(text: str) -> str:
        start = text.find("<?qbxml")
        if start < 0:
            raise QBXMLParseError(*HRESULT_PARSE_ERROR, detail="missing <?qbxml version?> instruction")
        match = _PI.search(text[start:text.find("?>", start)])
        if not match:
            raise QBXMLParseError(*HRESULT_PARSE_ERROR, detail="qbxml instruction without version")
        return match.group(1)

    def _answer_one(self, request: etree._Element, session: CompanySession) -> etree._Element:
        tag = str(request.tag)
        response = etree.Element(tag[:-2] + "Rs")
        handler: Callable[[etree._Element, etree._Element, CompanySession], Status]
        if tag in QUERY_REQUESTS:
            handler = self.queries.query
        elif tag in ("TxnDeletedQueryRq", "ListDeletedQueryRq"):
            handler = self.queries.deleted_query
        elif tag in MOD_REQUESTS:
            handler = self._mod
        elif tag in ("HostQueryRq", "CompanyQueryRq", "PreferencesQueryRq"):
            handler = self._company_info
        elif tag in EMPTY_QUERY_REQUESTS:
            handler = self._nothing_held
        elif tag == "TransactionQueryRq":
            handler = self.transactions.answer
        elif tag == "BillToPayQueryRq":
            handler = self.open_items.bills_to_pay
        elif tag == "ReceivePaymentToDepositQueryRq":
            handler = self.open_items.payments_to_deposit
        else:
            handler = self._unsupported
        try:
            status = handler(request, response, session)
        except RequestFailed as failed:
            for child in list(response):
                response.remove(child)
            for attr in ("retCount", "iteratorRemainingCount", "iteratorID"):
                response.attrib.pop(attr, None)
            status = failed.status
        if request.get("requestID") is not None:
            response.set("requestID", request.get("requestID"))
        response.set("statusCode", str(status.code))
        response.set("statusSeverity", status.severity)
        response.set("statusMessage", status.message)
        # attributes in the order QuickBooks writes them
        ordered = {k: response.attrib[k] for k in ("requestID", "statusCode", "statusSeverity",
                                                   "statusMessage", "retCount",
                                                   "iteratorRemainingCount", "iteratorID")
                   if k in response.attrib}
        response.attrib.clear()
        response.attrib.update(ordered)
        self.company.record_status(tag, status)
        return response

    def _unsupported(self, request: etree._Element, response: etree._Element, session: CompanySession) -> Status:
        return Status.of(1030)

    def _nothing_held(self, request: etree._Element, response: etree._Element, session: CompanySession) -> Status:
        return Status.of(1)

    # -- modifications ----------------------------------------------------------------------
    def _mod(self, request: etree._Element, response: etree._Element, session: CompanySession) -> Status:
        family_name, mod_tag, allowed = MOD_REQUESTS[str(request.tag)]
        family = FAMILIES[family_name]
        mod = request.find(mod_tag)
        assert mod is not None  # the XSD requires it
        qb_id = mod.findtext(family.id_element) or ""
        edit_sequence = mod.findtext("EditSequence") or ""
        if not QB_ID.match(qb_id):
            raise RequestFailed(Status.of(3000, qb_id, "list id" if family.is_list else "txn id"))
        obj = self.company.store.get(qb_id)
        if obj is None or obj.deleted is not None or obj.family != family_name:
            raise RequestFailed(Status.of(3120, qb_id))
        if edit_sequence != obj.edit_sequence:
            raise RequestFailed(Status.of(3200, edit_sequence))
        changes: dict[str, Any] = {}
        ignored: list[str] = []
        for child in mod:
            if child.tag in (family.id_element, "EditSequence"):
                continue
            if child.tag in allowed and len(child) == 0:
                changes[str(child.tag)] = (child.text == "true") if child.tag.startswith("Is") else (child.text or "")
            else:
                ignored.append(str(child.tag))
        new_name = changes.get("Name")
        if family.is_list and new_name and new_name != obj.name and self.company.store.count(
            "family=? AND deleted IS NULL AND name=? COLLATE NOCASE AND qb_id<>?", (family_name, new_name, qb_id)
        ):
            raise RequestFailed(Status.of(3100, new_name))
        updated = self.company.control.apply_changes(obj, changes)
        include = frozenset(e.text or "" for e in request.findall("IncludeRetElement")) or None
        response.append(render_object(updated, self.company.tz, include_lines=True, include_elements=include))
        return Status.of(530, ignored[0]) if ignored else Status.of(0)

    # -- host / company / preferences (QBWC's first-call HCP response) -----------------------
    def _company_info(self, request: etree._Element, response: etree._Element, session: CompanySession) -> Status:
        company = self.company
        if request.tag == "HostQueryRq":
            ret = etree.SubElement(response, "HostRet")
            fill(ret, "HostRet", {
                "ProductName": "QuickBooks Enterprise Solutions: Accountant 23.0 (sandbox)",
                "MajorVersion": "33", "MinorVersion": "0", "Country": "US",
                "SupportedQBXMLVersion": list(company.qbxml_versions),
                "IsAutomaticLogin": True, "QBFileMode": "SingleUser",
            })
        elif request.tag == "CompanyQueryRq":
            ret = etree.SubElement(response, "CompanyRet")
            name = company.company_name
            fill(ret, "CompanyRet", {
                "IsSampleCompany": False, "CompanyName": name, "LegalCompanyName": f"{name} LLC",
                "Address": {"Addr1": "1 Ledger Way", "City": "Springfield", "State": "IL",
                            "PostalCode": "62701", "Country": "US"},
                "Phone": "555-010-0000", "Email": "books@sandbox-company.example.com",
                "FirstMonthFiscalYear": "January", "FirstMonthIncomeTaxYear": "January",
            })
        else:
            ret = etree.SubElement(response, "PreferencesRet")
            fill(ret, "PreferencesRet", {
                "AccountingPreferences": {
                    "IsUsingAccountNumbers": True, "IsRequiringAccounts": True,
                    "IsUsingClassTracking": True, "IsUsingAuditTrail": True,
                    "IsAssigningJournalEntryNumbers": True,
                },
                "MultiCurrencyPreferences": {"IsMultiCurrencyOn": False},
                "CurrentAppAccessRights": {"IsAutomaticLoginAllowed": True,
                                           "IsPersonalDataAccessAllowed": False},
            })
        include = frozenset(e.text or "" for e in request.findall("IncludeRetElement"))
        if include:
            for child in list(ret):
                if child.tag not in include:
                    ret.remove(child)
        return Status.of(0)


def describe(obj: StoredObject, company: QuickBooksCompany) -> dict[str, Any]:
    """A plain view of a record for tests and the control handle."""
    return {
        "id": obj.qb_id, "kind": obj.kind, "family": family_of(obj.kind).name, "name": obj.name,
        "is_active": obj.is_active, "edit_sequence": obj.edit_sequence,
        "time_created": format_local(obj.created, company.tz),
        "time_modified": format_local(obj.modified, company.tz),
        "deleted": format_local(obj.deleted, company.tz) if obj.deleted else None,
        "fields": dict(obj.data),
    }
