"""The record-model columns Salesforce mirrors read (docs/record-model.md): full names, parents,
terms and the to-be-sent queues, from qbXML Ret elements."""

from __future__ import annotations

from lxml import etree
from tap_quickbooks_desktop.record_mapping import customer, invoice, to_node, vendor

JOB = """<CustomerRet><ListID>80000012-1</ListID><TimeModified>2026-11-02T09:00:00-05:00</TimeModified>
<EditSequence>1730556000</EditSequence><Name>Kitchen</Name><FullName>Ada Corp:Kitchen</FullName>
<IsActive>true</IsActive><ParentRef><ListID>80000011-1</ListID><FullName>Ada Corp</FullName></ParentRef>
<Sublevel>1</Sublevel><TermsRef><ListID>80000003-1</ListID><FullName>Net 30</FullName></TermsRef>
</CustomerRet>"""
VENDOR = """<VendorRet><ListID>80000021-1</ListID><EditSequence>1</EditSequence><Name>Acme Supply</Name>
<IsActive>true</IsActive></VendorRet>"""


def _invoice(emailed: str, printed: str) -> str:
    return f"""<InvoiceRet><TxnID>1A-1</TxnID><EditSequence>1</EditSequence><RefNumber>7</RefNumber>
    <CustomerRef><ListID>80000012-1</ListID></CustomerRef><IsToBePrinted>{printed}</IsToBePrinted>
    <IsToBeEmailed>{emailed}</IsToBeEmailed></InvoiceRet>"""


def _node(xml: str):
    return to_node(etree.fromstring(xml))


def test_a_job_keeps_its_full_name_parent_and_terms():
    row = customer("c1", _node(JOB))
    assert row["fully_qualified_name"] == "Ada Corp:Kitchen"
    assert row["parent_id"] == "80000011-1" and row["terms_id"] == "80000003-1"
    assert row["terms_name"] == "Net 30"


def test_a_vendor_names_its_terms_and_none_without_terms():
    with_terms = VENDOR.replace("</VendorRet>", "<TermsRef><ListID>80000004-1</ListID>"
                                "<FullName>Due on receipt</FullName></TermsRef></VendorRet>")
    row = vendor("c1", _node(with_terms))
    assert (row["terms_id"], row["terms_name"]) == ("80000004-1", "Due on receipt")
    assert vendor("c1", _node(VENDOR))["terms_name"] is None


def test_a_vendor_has_its_name_as_full_name_and_no_parent():
    row = vendor("c1", _node(VENDOR))
    assert row["fully_qualified_name"] == "Acme Supply" and row["parent_id"] is None


def test_the_to_be_sent_queues_become_send_statuses():
    queued = invoice("c1", _node(_invoice("true", "false")))
    assert (queued["email_status"], queued["print_status"]) == ("pending", "not_pending")
    off = invoice("c1", _node(_invoice("false", "false")))
    assert (off["email_status"], off["print_status"]) == ("not_pending", "not_pending")
