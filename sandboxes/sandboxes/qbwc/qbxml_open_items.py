"""Queries for what is still open: ``BillToPayQueryRq`` (a vendor's unpaid bills) and
``ReceivePaymentToDepositQueryRq`` (payments waiting in Undeposited Funds), as qbxml130.xsd shapes
them. This company holds no deposits, so every received payment is still to deposit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lxml import etree

from .company_session import CompanySession
from .qbxml_render import fill
from .qbxml_statuses import RequestFailed, Status

if TYPE_CHECKING:
    from .company import QuickBooksCompany


class OpenItems:
    def __init__(self, company: QuickBooksCompany) -> None:
        self.company = company

    def bills_to_pay(self, request: etree._Element, response: etree._Element, session: CompanySession) -> Status:
        payee = request.find("PayeeEntityRef")
        assert payee is not None  # the XSD requires it
        store = self.company.store
        vendor_id = payee.findtext("ListID")
        if vendor_id is None:
            name = payee.findtext("FullName") or ""
            found = store.select("family='Vendor' AND deleted IS NULL AND name COLLATE NOCASE = ?", (name,), limit=1)
            if not found:
                raise RequestFailed(Status.of(3120, name))
            vendor_id = found[0].qb_id
        clauses = ["kind='Bill' AND deleted IS NULL AND entity_id=? AND json_extract(data, '$.IsPaid')=0"]
        params: list[object] = [vendor_id]
        due = request.findtext("DueDate")
        if due:
            clauses.append("json_extract(data, '$.DueDate') <= ?")
            params.append(due)
        warnings = [Status.of(530, tag) for tag in ("APAccountRef", "CurrencyFilter") if request.find(tag) is not None]
        bills = store.select(" AND ".join(clauses), params)
        for bill in bills:
            ret = etree.SubElement(response, "BillToPayRet")
            item = etree.SubElement(ret, "BillToPay")
            fill(item, "BillToPay", {
                "TxnID": bill.qb_id, "TxnType": "Bill", "APAccountRef": bill.data.get("APAccountRef"),
                "TxnDate": bill.txn_date, "RefNumber": bill.data.get("RefNumber"), "DueDate": bill.data.get("DueDate"),
                "AmountDue": bill.data.get("OpenAmount", bill.data.get("AmountDue")),
            })
        if not bills:
            return Status.of(1)
        return warnings[0] if warnings else Status.of(0)

    def payments_to_deposit(self, request: etree._Element, response: etree._Element,
                            session: CompanySession) -> Status:
        payments = self.company.store.select(
            "kind='ReceivePayment' AND deleted IS NULL AND "
            "json_extract(data, '$.DepositToAccountRef.FullName') = 'Undeposited Funds'", ())
        for payment in payments:
            ret = etree.SubElement(response, "ReceivePaymentToDepositRet")
            fill(ret, "ReceivePaymentToDepositRet", {
                "TxnID": payment.qb_id, "TxnType": "ReceivePayment", "CustomerRef": payment.data.get("CustomerRef"),
                "TxnDate": payment.txn_date, "RefNumber": payment.data.get("RefNumber"),
                "Amount": payment.data.get("TotalAmount"),
            })
        warnings = [Status.of(530, "CurrencyFilter")] if request.find("CurrencyFilter") is not None else []
        if not payments:
            return Status.of(1)
        return warnings[0] if warnings else Status.of(0)
