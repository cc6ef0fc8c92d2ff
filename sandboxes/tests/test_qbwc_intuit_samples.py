"""Intuit's own sample requests (QBXML_SDK_Samples ``xmlfiles``) run unchanged against the company:
every request answered with status 0 and a response valid against the qbXML 13.0 schema."""

# The sandbox fixtures are imported below and requested by name, which F811 misreads.
# ruff: noqa: F811

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest
from lxml import etree
from sandboxes.qbwc import QuickBooksCompany
from sandboxes.qbwc.fixtures import qb_company, qb_company_factory  # noqa: F401
from sandboxes.qbwc.qbxml_schema import reference_dir

SAMPLES = reference_dir() / "qbxml" / "intuit-samples"
SAFE = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True)


@lru_cache(maxsize=1)
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(reference_dir() / "qbxml" / "xsd" / "qbxmlops130.xsd"), SAFE))


def sample_names() -> list[str]:
    return sorted(p.name for p in SAMPLES.glob("*.xml"))


def requests_in(path: Path) -> list[str]:
    root = etree.fromstring(path.read_bytes(), SAFE)
    return [str(el.tag) for el in root.find("QBXMLMsgsRq") if isinstance(el.tag, str)]


def test_the_samples_are_there() -> None:
    assert "QueryFilterRq.xml" in sample_names() and "MultiQueryRq.xml" in sample_names()


@pytest.mark.parametrize("name", sample_names())
def test_intuit_sample_is_answered_with_status_0_and_a_valid_response(qb_company: QuickBooksCompany, name: str) -> None:
    path = SAMPLES / name
    answer = qb_company.answer(path.read_text(encoding="utf-8"))
    doc = etree.fromstring(answer.encode(), SAFE)
    assert schema().validate(doc), schema().error_log
    responses = list(doc.find("QBXMLMsgsRs"))
    assert [r.tag for r in responses] == [tag[:-2] + "Rs" for tag in requests_in(path)]
    assert [(r.tag, r.get("statusCode"), r.get("statusMessage")) for r in responses if r.get("statusCode") != "0"] == []


def test_comments_and_processing_instructions_between_requests_are_not_requests(qb_company: QuickBooksCompany) -> None:
    text = ('<?xml version="1.0"?><?qbxml version="13.0"?><!-- header --><QBXML><QBXMLMsgsRq onError="stopOnError">'
            '<!-- first --><AccountQueryRq requestID="1"><!-- inside --><MaxReturned>2</MaxReturned></AccountQueryRq>'
            '<?vendor-note keep-going?>\n  <!-- second -->\n<VendorQueryRq requestID="2"/></QBXMLMsgsRq></QBXML>')
    doc = etree.fromstring(qb_company.answer(text).encode(), SAFE)
    responses = list(doc.find("QBXMLMsgsRs"))
    assert [(r.tag, r.get("statusCode")) for r in responses] == [("AccountQueryRs", "0"), ("VendorQueryRs", "0")]
    assert len(responses[0].findall("AccountRet")) == 2


def test_sales_tax_items_are_answered(qb_company: QuickBooksCompany) -> None:
    text = '<?qbxml version="13.0"?><QBXML><QBXMLMsgsRq onError="stopOnError"><ItemSalesTaxQueryRq/></QBXMLMsgsRq></QBXML>'
    doc = etree.fromstring(qb_company.answer(text).encode(), SAFE)
    [rs] = list(doc.find("QBXMLMsgsRs"))
    assert rs.get("statusCode") == "0"
    assert {ret.findtext("Name") for ret in rs.findall("ItemSalesTaxRet")} == {"State Sales Tax", "County Sales Tax"}


def test_entity_query_answers_customers_vendors_and_employees(qb_company: QuickBooksCompany) -> None:
    text = ('<?qbxml version="13.0"?><QBXML><QBXMLMsgsRq onError="stopOnError">'
            '<EntityQueryRq><ActiveStatus>All</ActiveStatus></EntityQueryRq></QBXMLMsgsRq></QBXML>')
    doc = etree.fromstring(qb_company.answer(text).encode(), SAFE)
    assert schema().validate(doc), schema().error_log
    [rs] = list(doc.find("QBXMLMsgsRs"))
    tags = [ret.tag for ret in rs]
    assert rs.get("statusCode") == "0"
    assert tags.count("CustomerRet") == qb_company.count("Customer")
    assert tags.count("VendorRet") == qb_company.count("Vendor")
    assert tags.count("EmployeeRet") == qb_company.count("Employee")


@pytest.mark.parametrize("request_type", ["EstimateQueryRq", "SalesReceiptQueryRq", "DateDrivenTermsQueryRq", "ItemGroupQueryRq",
                                          "VendorCreditQueryRq", "DepositQueryRq"])
def test_a_query_for_objects_the_company_holds_none_of_finds_nothing(qb_company: QuickBooksCompany, request_type: str) -> None:
    text = (f'<?qbxml version="13.0"?><QBXML><QBXMLMsgsRq onError="stopOnError"><{request_type}/></QBXMLMsgsRq></QBXML>')
    doc = etree.fromstring(qb_company.answer(text).encode(), SAFE)
    assert schema().validate(doc), schema().error_log
    [rs] = list(doc.find("QBXMLMsgsRs"))
    assert (rs.get("statusCode"), rs.get("statusSeverity"), len(rs)) == ("1", "Info", 0)



def test_customers_and_vendors_name_terms_the_company_holds(qb_company: QuickBooksCompany) -> None:
    # QuickBooks answers TermsRef with the terms' ListID and FullName; TermsQueryRq lists those terms.
    terms = {ret.findtext("ListID"): ret.findtext("Name") for ret in ask_one(qb_company, "<TermsQueryRq/>")}
    assert "Net 30" in terms.values()
    refs = [ret.find("TermsRef") for ret in ask_one(qb_company, "<EntityQueryRq><ActiveStatus>All</ActiveStatus>"
                                                                  "</EntityQueryRq>")
            if ret.tag in ("CustomerRet", "VendorRet")]
    named = [r for r in refs if r is not None]
    assert named and len(named) < len(refs)  # most name terms, some have none
    assert all(terms[r.findtext("ListID")] == r.findtext("FullName") for r in named)


def ask_one(company: QuickBooksCompany, body: str) -> etree._Element:
    text = f'<?qbxml version="13.0"?><QBXML><QBXMLMsgsRq onError="stopOnError">{body}</QBXMLMsgsRq></QBXML>'
    doc = etree.fromstring(company.answer(text).encode(), SAFE)
    assert schema().validate(doc), schema().error_log
    [rs] = list(doc.find("QBXMLMsgsRs"))
    return rs


def test_transaction_query_summarises_every_transaction_the_company_holds(qb_company: QuickBooksCompany) -> None:
    rs = ask_one(qb_company, "<TransactionQueryRq/>")
    assert rs.get("statusCode") == "0"
    by_type: dict[str, int] = {}
    for ret in rs.findall("TransactionRet"):
        by_type[ret.findtext("TxnType") or ""] = by_type.get(ret.findtext("TxnType") or "", 0) + 1
    assert by_type == {kind: qb_company.count(kind) for kind in by_type}
    assert {"Invoice", "Bill", "ReceivePayment", "JournalEntry", "Check"} <= set(by_type)


def test_transaction_query_filters_by_type_and_txn_date(qb_company: QuickBooksCompany) -> None:
    invoices = ask_one(qb_company, "<InvoiceQueryRq/>").findall("InvoiceRet")
    day = invoices[0].findtext("TxnDate")
    rs = ask_one(qb_company, "<TransactionQueryRq><TransactionDateRangeFilter><FromTxnDate>"
                             f"{day}</FromTxnDate><ToTxnDate>{day}</ToTxnDate></TransactionDateRangeFilter>"
                             "<TransactionTypeFilter><TxnTypeFilter>Invoice</TxnTypeFilter></TransactionTypeFilter>"
                             "</TransactionQueryRq>")
    expected = {ret.findtext("TxnID") for ret in invoices if ret.findtext("TxnDate") == day}
    assert {ret.findtext("TxnID") for ret in rs.findall("TransactionRet")} == expected
    amounts = {ret.findtext("TxnID"): ret.findtext("Amount") for ret in rs.findall("TransactionRet")}
    for ret in invoices:
        if ret.findtext("TxnID") in amounts:
            assert amounts[ret.findtext("TxnID")] == ret.findtext("Subtotal")


def test_transaction_query_pages_with_an_iterator(qb_company: QuickBooksCompany) -> None:
    session = qb_company.begin_session()
    try:
        text = ('<?qbxml version="13.0"?><QBXML><QBXMLMsgsRq onError="stopOnError"><TransactionQueryRq iterator="Start">'
                '<MaxReturned>50</MaxReturned></TransactionQueryRq></QBXMLMsgsRq></QBXML>')
        first = etree.fromstring(qb_company.answer(text, session).encode(), SAFE).find("QBXMLMsgsRs")[0]
        assert first.get("retCount") == "50" and int(first.get("iteratorRemainingCount")) > 0
    finally:
        qb_company.end_session(session)


def test_bills_to_pay_are_the_vendors_unpaid_bills(qb_company: QuickBooksCompany) -> None:
    unpaid = ask_one(qb_company, "<BillQueryRq><PaidStatus>NotPaidOnly</PaidStatus></BillQueryRq>").findall("BillRet")
    vendor = unpaid[0].find("VendorRef")
    rs = ask_one(qb_company, f"<BillToPayQueryRq><PayeeEntityRef><ListID>{vendor.findtext('ListID')}</ListID>"
                             "</PayeeEntityRef></BillToPayQueryRq>")
    expected = {b.findtext("TxnID") for b in unpaid if b.findtext("VendorRef/ListID") == vendor.findtext("ListID")}
    assert rs.get("statusCode") == "0"
    assert {r.findtext("BillToPay/TxnID") for r in rs.findall("BillToPayRet")} == expected


def test_payments_to_deposit_are_the_payments_in_undeposited_funds(qb_company: QuickBooksCompany) -> None:
    rs = ask_one(qb_company, "<ReceivePaymentToDepositQueryRq/>")
    assert rs.get("statusCode") == "0"
    assert len(rs.findall("ReceivePaymentToDepositRet")) == qb_company.count("ReceivePayment")
