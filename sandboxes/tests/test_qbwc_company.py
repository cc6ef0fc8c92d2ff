"""The QuickBooks company simulator: qbXML 13.0 in, XSD-valid qbXML out, as QuickBooks answers."""

# The sandbox fixtures are imported below and requested by name, which F811 misreads.
# ruff: noqa: F811

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime
from functools import lru_cache

import pytest
from lxml import etree
from sandboxes.qbwc import QBXMLParseError, QuickBooksCompany
from sandboxes.qbwc.company_kinds import MOD_REQUESTS, QUERY_REQUESTS
from sandboxes.qbwc.fixtures import qb_company, qb_company_factory  # noqa: F401
from sandboxes.qbwc.qbxml_schema import reference_dir

XSD = str(reference_dir() / "qbxml" / "xsd" / "qbxmlops130.xsd")
SAFE = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
OFFSET_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}-05:00$")


@lru_cache(maxsize=1)
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(XSD, SAFE))


def qbxml(body: str, on_error: str = "continueOnError", version: str = "13.0") -> str:
    return (f'<?xml version="1.0" encoding="utf-8"?><?qbxml version="{version}"?>'
            f'<QBXML><QBXMLMsgsRq onError="{on_error}">{body}</QBXMLMsgsRq></QBXML>')


def ask(company: QuickBooksCompany, body: str, session=None, **kw) -> list[etree._Element]:
    text = company.answer(qbxml(body, **kw), session)
    doc = etree.fromstring(text.encode(), SAFE)
    assert schema().validate(doc), schema().error_log
    return list(doc.find("QBXMLMsgsRs"))


def status(rs: etree._Element) -> tuple[int, str, str]:
    return int(rs.get("statusCode")), rs.get("statusSeverity"), rs.get("statusMessage")


# -- shape and validity ------------------------------------------------------------------------

@pytest.mark.parametrize("request_type", sorted(QUERY_REQUESTS))
def test_every_query_type_answers_xsd_valid_with_lines(qb_company, request_type):
    body = "<ActiveStatus>All</ActiveStatus>" if QUERY_REQUESTS[request_type][0] in (
        "Account", "Customer", "Vendor", "Employee", "Class", "Item", "StandardTerms") else "<IncludeLineItems>true</IncludeLineItems>"
    [rs] = ask(qb_company, f"<{request_type}>{body}</{request_type}>")
    assert rs.tag == request_type[:-2] + "Rs"
    assert status(rs)[0] == 0 and len(rs) > 0


def test_host_company_preferences_answers_are_valid(qb_company):
    host, company, prefs = ask(qb_company, "<HostQueryRq/><CompanyQueryRq/><PreferencesQueryRq/>")
    assert host.findtext("HostRet/Country") == "US"
    assert [v.text for v in host.iter("SupportedQBXMLVersion")][-1] == "13.0"
    assert company.findtext("CompanyRet/CompanyName") == "Sandbox Company 42"
    assert prefs.find("PreferencesRet/AccountingPreferences") is not None


def test_deleted_and_mod_answers_are_valid(qb_company):
    control = qb_company.control
    customer = control.ids("Customer", limit=1)[0]
    invoice, bill = control.ids("Invoice", limit=1)[0], control.ids("Bill", limit=1)[0]
    control.delete("Invoice", invoice)
    control.delete("Bill", bill)
    vendor = control.ids("Vendor", limit=1)[0]
    control.delete("Vendor", vendor)
    txn, lst = ask(qb_company, "<TxnDeletedQueryRq><TxnDelType>Invoice</TxnDelType><TxnDelType>Bill</TxnDelType></TxnDeletedQueryRq>"
                               "<ListDeletedQueryRq><ListDelType>Vendor</ListDelType></ListDeletedQueryRq>")
    assert {r.findtext("TxnID") for r in txn} == {invoice, bill}
    assert [r.findtext("ListID") for r in lst] == [vendor]
    seq = control.get("Customer", customer)["edit_sequence"]
    [rs] = ask(qb_company, f"<CustomerModRq><CustomerMod><ListID>{customer}</ListID><EditSequence>{seq}</EditSequence>"
                           "<CompanyName>Renamed Inc</CompanyName></CustomerMod></CustomerModRq>")
    assert status(rs)[0] == 0 and rs.findtext("CustomerRet/CompanyName") == "Renamed Inc"


def test_mod_request_types_are_all_served(qb_company):
    for request_type, (family, mod, _fields) in MOD_REQUESTS.items():
        obj = qb_company.control.get(family, qb_company.control.ids(family, limit=1)[0])
        id_tag = "ListID" if family in ("Customer", "Vendor") else "TxnID"
        [rs] = ask(qb_company, f"<{request_type}><{mod}><{id_tag}>{obj['id']}</{id_tag}>"
                               f"<EditSequence>{obj['edit_sequence']}</EditSequence></{mod}></{request_type}>")
        assert status(rs)[0] == 0, (request_type, status(rs))


def test_times_carry_company_offset_and_edit_sequence(qb_company):
    [rs] = ask(qb_company, "<InvoiceQueryRq><MaxReturned>20</MaxReturned></InvoiceQueryRq>")
    for ret in rs:
        assert OFFSET_TIME.match(ret.findtext("TimeCreated")) and OFFSET_TIME.match(ret.findtext("TimeModified"))
        assert ret.findtext("TimeModified") >= ret.findtext("TimeCreated")
        assert ret.findtext("EditSequence").isdigit()


def test_other_offset_companies_stamp_their_own_offset(qb_company_factory):
    company = qb_company_factory(seed=3, transactions=20, tz="+05:30")
    [rs] = ask(company, "<CustomerQueryRq><MaxReturned>1</MaxReturned></CustomerQueryRq>")
    assert rs[0].findtext("TimeModified").endswith("+05:30")


def test_same_seed_same_company_other_seed_differs(qb_company_factory):
    def snapshot(company: QuickBooksCompany) -> str:
        return company.answer(qbxml("<InvoiceQueryRq><IncludeLineItems>true</IncludeLineItems></InvoiceQueryRq>"))

    first, again, other = (qb_company_factory(seed=s, transactions=120) for s in (9, 9, 10))
    assert snapshot(first) == snapshot(again)
    assert snapshot(first) != snapshot(other)


def test_money_amounts_are_exact_two_decimal_strings(qb_company):
    [rs] = ask(qb_company, "<InvoiceQueryRq><IncludeLineItems>true</IncludeLineItems></InvoiceQueryRq>")
    from decimal import Decimal
    for ret in rs:
        lines = sum(Decimal(a.text) for a in ret.iterfind("InvoiceLineRet/Amount"))
        assert Decimal(ret.findtext("Subtotal")) == lines


# -- statuses ----------------------------------------------------------------------------------

def test_no_match_is_status_1_info(qb_company):
    [rs] = ask(qb_company, "<InvoiceQueryRq><ModifiedDateRangeFilter><FromModifiedDate>2030-01-01</FromModifiedDate>"
                           "</ModifiedDateRangeFilter></InvoiceQueryRq>")
    assert status(rs) == (1, "Info", "A query request did not find a matching object in QuickBooks")


def test_partly_found_ids_are_warning_500(qb_company):
    known = qb_company.control.ids("Customer", limit=1)[0]
    [rs] = ask(qb_company, f"<CustomerQueryRq><ListID>{known}</ListID><ListID>80FFFFFF-1700000000</ListID></CustomerQueryRq>")
    assert status(rs)[:2] == (500, "Warn") and '("80FFFFFF-1700000000")' in status(rs)[2]
    assert [r.findtext("ListID") for r in rs] == [known]


def test_malformed_id_is_error_3000(qb_company):
    [rs] = ask(qb_company, "<InvoiceQueryRq><TxnID>not-an-id</TxnID></InvoiceQueryRq>")
    assert status(rs) == (3000, "Error", 'The given object ID "not-an-id" in the field "txn id" is invalid.')


def test_stale_edit_sequence_is_3200_and_fresh_one_saves(qb_company):
    control = qb_company.control
    customer = control.ids("Customer", limit=1)[0]
    old = control.get("Customer", customer)["edit_sequence"]
    control.modify("Customer", customer, Phone="555-000-1111")
    [rs] = ask(qb_company, f"<CustomerModRq><CustomerMod><ListID>{customer}</ListID><EditSequence>{old}</EditSequence>"
                           "<Phone>555-999-9999</Phone></CustomerMod></CustomerModRq>")
    assert status(rs) == (3200, "Error", f'The provided edit sequence "{old}" is out-of-date. ')
    assert control.get("Customer", customer)["fields"]["Phone"] == "555-000-1111"
    fresh = control.get("Customer", customer)["edit_sequence"]
    [rs] = ask(qb_company, f"<CustomerModRq><CustomerMod><ListID>{customer}</ListID><EditSequence>{fresh}</EditSequence>"
                           "<Phone>555-999-9999</Phone></CustomerMod></CustomerModRq>")
    assert status(rs)[0] == 0
    assert int(rs.findtext("CustomerRet/EditSequence")) > int(fresh)


def test_mod_of_missing_object_is_3120(qb_company):
    [rs] = ask(qb_company, "<InvoiceModRq><InvoiceMod><TxnID>FFFF-1700000000</TxnID><EditSequence>1</EditSequence>"
                           "</InvoiceMod></InvoiceModRq>")
    assert status(rs) == (3120, "Error", 'Object "FFFF-1700000000" specified in the request cannot be found.')


def test_stop_on_error_leaves_later_requests_unanswered(qb_company):
    body = "<InvoiceQueryRq><TxnID>bad</TxnID></InvoiceQueryRq><CustomerQueryRq><MaxReturned>1</MaxReturned></CustomerQueryRq>"
    assert [r.tag for r in ask(qb_company, body, on_error="stopOnError")] == ["InvoiceQueryRs"]
    assert [r.tag for r in ask(qb_company, body)] == ["InvoiceQueryRs", "CustomerQueryRs"]


def test_request_ids_are_echoed_per_request(qb_company):
    responses = ask(qb_company, '<CustomerQueryRq requestID="c1"><MaxReturned>1</MaxReturned></CustomerQueryRq>'
                                '<VendorQueryRq requestID="v2"><MaxReturned>1</MaxReturned></VendorQueryRq>')
    assert [r.get("requestID") for r in responses] == ["c1", "v2"]


def test_unsupported_request_type_is_an_error_status(qb_company):
    [rs] = ask(qb_company, "<GeneralSummaryReportQueryRq><GeneralSummaryReportType>ProfitAndLossStandard"
                           "</GeneralSummaryReportType></GeneralSummaryReportQueryRq>")
    assert status(rs)[:2] == (1030, "Error")


@pytest.mark.parametrize(
    ("text", "hresult"),
    [
        (qbxml("<InvoiceQueryRq><MaxReturned>lots</MaxReturned></InvoiceQueryRq>"), "0x80040400"),
        (qbxml("<CustomerQueryRq><Bogus/></CustomerQueryRq>"), "0x80040400"),
        (qbxml('<AccountQueryRq iterator="Start"/>'), "0x80040400"),  # AccountQuery has no iterators in 13.0
        ("<QBXML><QBXMLMsgsRq onError='stopOnError'><HostQueryRq/></QBXMLMsgsRq></QBXML>", "0x80040400"),
        (qbxml("<HostQueryRq/>", version="99.0"), "0x80040428"),
        ("<?qbxml version=\"13.0\"?><QBXML><unclosed></QBXML>", "0x80040400"),
    ],
)
def test_requests_quickbooks_would_reject_raise_its_hresult(qb_company, text, hresult):
    with pytest.raises(QBXMLParseError) as failure:
        qb_company.answer(text)
    assert failure.value.hresult == hresult


def test_entity_expansion_is_not_performed(qb_company):
    evil = ('<?xml version="1.0"?><!DOCTYPE QBXML [<!ENTITY x "boom">]><?qbxml version="13.0"?>'
            '<QBXML><QBXMLMsgsRq onError="stopOnError"><CustomerQueryRq><FullName>&x;</FullName>'
            "</CustomerQueryRq></QBXMLMsgsRq></QBXML>")
    with pytest.raises(QBXMLParseError) as failure:
        qb_company.answer(evil)
    assert failure.value.hresult == "0x80040400" and "boom" not in str(failure.value)


# -- filters -----------------------------------------------------------------------------------

def test_active_status_defaults_to_active_only(qb_company):
    control = qb_company.control
    victim = control.ids("Customer", limit=1, active=True)[0]
    control.deactivate("Customer", victim)
    [default] = ask(qb_company, "<CustomerQueryRq/>")
    [everything] = ask(qb_company, "<CustomerQueryRq><ActiveStatus>All</ActiveStatus></CustomerQueryRq>")
    [inactive] = ask(qb_company, "<CustomerQueryRq><ActiveStatus>InactiveOnly</ActiveStatus></CustomerQueryRq>")
    assert victim not in [r.findtext("ListID") for r in default]
    assert len(default) + len(inactive) == len(everything) == qb_company.count("Customer")
    assert victim in [r.findtext("ListID") for r in inactive]
    assert {r.findtext("IsActive") for r in inactive} == {"false"}


def test_list_modified_window_is_inclusive_and_local_time(qb_company):
    [all_rs] = ask(qb_company, "<CustomerQueryRq><ActiveStatus>All</ActiveStatus></CustomerQueryRq>")
    stamps = sorted(r.findtext("TimeModified") for r in all_rs)
    pivot = stamps[len(stamps) // 2]
    local = pivot[:-6]  # the same instant written without offset means company-local time
    for value in (pivot, local):
        [rs] = ask(qb_company, f"<CustomerQueryRq><ActiveStatus>All</ActiveStatus><FromModifiedDate>{value}</FromModifiedDate></CustomerQueryRq>")
        assert sorted(r.findtext("TimeModified") for r in rs) == [s for s in stamps if s >= pivot]
    utc = datetime.fromisoformat(pivot).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    [rs] = ask(qb_company, f"<CustomerQueryRq><ActiveStatus>All</ActiveStatus><ToModifiedDate>{utc}</ToModifiedDate></CustomerQueryRq>")
    assert sorted(r.findtext("TimeModified") for r in rs) == [s for s in stamps if s <= pivot]


def test_transaction_modified_date_range_filter(qb_company):
    [all_rs] = ask(qb_company, "<BillQueryRq/>")
    stamps = sorted(r.findtext("TimeModified") for r in all_rs)
    low, high = stamps[len(stamps) // 4], stamps[3 * len(stamps) // 4]
    [rs] = ask(qb_company, f"<BillQueryRq><ModifiedDateRangeFilter><FromModifiedDate>{low}</FromModifiedDate>"
                           f"<ToModifiedDate>{high}</ToModifiedDate></ModifiedDateRangeFilter></BillQueryRq>")
    assert sorted(r.findtext("TimeModified") for r in rs) == [s for s in stamps if low <= s <= high]


def test_bad_filter_date_is_3020(qb_company):
    [rs] = ask(qb_company, "<CustomerQueryRq><FromModifiedDate>2025-13-45</FromModifiedDate></CustomerQueryRq>")
    assert status(rs)[:2] == (3020, "Error")


def test_max_returned_limits_a_plain_query(qb_company):
    [rs] = ask(qb_company, "<InvoiceQueryRq><MaxReturned>7</MaxReturned></InvoiceQueryRq>")
    assert len(rs) == 7 and rs.get("iteratorID") is None


def test_include_line_items_and_include_ret_element(qb_company):
    [bare] = ask(qb_company, "<BillQueryRq><MaxReturned>5</MaxReturned></BillQueryRq>")
    [full] = ask(qb_company, "<BillQueryRq><MaxReturned>5</MaxReturned><IncludeLineItems>true</IncludeLineItems></BillQueryRq>")
    assert bare.find("BillRet/ExpenseLineRet") is None and full.find("BillRet/ExpenseLineRet") is not None
    [slim] = ask(qb_company, "<BillQueryRq><MaxReturned>5</MaxReturned><IncludeRetElement>TxnID</IncludeRetElement>"
                             "<IncludeRetElement>EditSequence</IncludeRetElement></BillQueryRq>")
    assert {c.tag for ret in slim for c in ret} == {"TxnID", "EditSequence"}


def test_entity_and_paid_status_filters(qb_company):
    [invoices] = ask(qb_company, "<InvoiceQueryRq/>")
    customer = invoices[0].findtext("CustomerRef/ListID")
    expected = sorted(r.findtext("TxnID") for r in invoices if r.findtext("CustomerRef/ListID") == customer)
    [rs] = ask(qb_company, f"<InvoiceQueryRq><EntityFilter><ListID>{customer}</ListID></EntityFilter></InvoiceQueryRq>")
    assert sorted(r.findtext("TxnID") for r in rs) == expected
    [paid] = ask(qb_company, "<InvoiceQueryRq><PaidStatus>PaidOnly</PaidStatus></InvoiceQueryRq>")
    [unpaid] = ask(qb_company, "<InvoiceQueryRq><PaidStatus>NotPaidOnly</PaidStatus></InvoiceQueryRq>")
    assert {r.findtext("IsPaid") for r in paid} == {"true"} and {r.findtext("IsPaid") for r in unpaid} == {"false"}
    assert len(paid) + len(unpaid) == len(invoices)


def test_item_query_returns_every_item_kind(qb_company):
    [rs] = ask(qb_company, "<ItemQueryRq><ActiveStatus>All</ActiveStatus></ItemQueryRq>")
    assert {r.tag for r in rs} == {"ItemServiceRet", "ItemNonInventoryRet", "ItemInventoryRet", "ItemSalesTaxRet"}
    [services] = ask(qb_company, "<ItemServiceQueryRq/>")
    assert {r.tag for r in services} == {"ItemServiceRet"}


# -- iterators ---------------------------------------------------------------------------------

def test_iterator_pages_until_remaining_is_zero(qb_company):
    session = qb_company.begin_session()
    total = qb_company.count("Invoice")
    [rs] = ask(qb_company, '<InvoiceQueryRq iterator="Start"><MaxReturned>25</MaxReturned></InvoiceQueryRq>', session)
    seen = [r.findtext("TxnID") for r in rs]
    remaining = [int(rs.get("iteratorRemainingCount"))]
    iterator_id = rs.get("iteratorID")
    assert re.fullmatch(r"\{[0-9a-f-]{36}\}", iterator_id)
    while remaining[-1]:
        [rs] = ask(qb_company, f'<InvoiceQueryRq iterator="Continue" iteratorID="{iterator_id}"><MaxReturned>25</MaxReturned></InvoiceQueryRq>', session)
        assert rs.get("iteratorID") == iterator_id and int(rs.get("retCount")) == len(rs)
        seen += [r.findtext("TxnID") for r in rs]
        remaining.append(int(rs.get("iteratorRemainingCount")))
    assert len(seen) == len(set(seen)) == total
    assert remaining == [max(0, total - 25 * (i + 1)) for i in range(len(remaining))]
    [rs] = ask(qb_company, f'<InvoiceQueryRq iterator="Continue" iteratorID="{iterator_id}"/>', session)
    assert status(rs)[0] == 3391


def test_iterator_stop_and_session_end_invalidate_it(qb_company):
    session = qb_company.begin_session()
    [rs] = ask(qb_company, '<CustomerQueryRq iterator="Start"><MaxReturned>2</MaxReturned></CustomerQueryRq>', session)
    [stopped] = ask(qb_company, f'<CustomerQueryRq iterator="Stop" iteratorID="{rs.get("iteratorID")}"/>', session)
    assert status(stopped)[0] == 0
    [rs] = ask(qb_company, '<CustomerQueryRq iterator="Start"><MaxReturned>2</MaxReturned></CustomerQueryRq>', session)
    qb_company.end_session(session)
    [dead] = ask(qb_company, f'<CustomerQueryRq iterator="Continue" iteratorID="{rs.get("iteratorID")}"/>', qb_company.begin_session())
    assert status(dead) == (3391, "Error", f'The iteratorID "{rs.get("iteratorID")}" is not valid.')


def test_edit_between_pages_is_seen_with_newest_edit_sequence(qb_company):
    session = qb_company.begin_session()
    [first] = ask(qb_company, '<InvoiceQueryRq iterator="Start"><MaxReturned>10</MaxReturned></InvoiceQueryRq>', session)
    later = qb_company.control.ids("Invoice", limit=15)[12]
    edited = qb_company.control.modify("Invoice", later, Memo="edited mid-sync")
    [second] = ask(qb_company, f'<InvoiceQueryRq iterator="Continue" iteratorID="{first.get("iteratorID")}"><MaxReturned>10</MaxReturned></InvoiceQueryRq>', session)
    ret = next(r for r in second if r.findtext("TxnID") == later)
    assert ret.findtext("EditSequence") == edited["edit_sequence"] and ret.findtext("Memo") == "edited mid-sync"


# -- control handle ----------------------------------------------------------------------------

def test_control_modify_moves_edit_sequence_and_time_modified(qb_company):
    control = qb_company.control
    invoice = control.ids("Invoice", limit=1)[0]
    before = control.get("Invoice", invoice)
    after = control.modify("Invoice", invoice, Memo="changed")
    assert int(after["edit_sequence"]) > int(before["edit_sequence"])
    assert after["time_modified"] > before["time_modified"] and after["time_modified"].endswith("-05:00")
    again = control.modify("Invoice", invoice, Memo="changed twice")
    assert int(again["edit_sequence"]) > int(after["edit_sequence"])  # same second, new sequence


def test_created_record_appears_in_an_incremental_query(qb_company):
    qb_company.clock = lambda: datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)
    new_id = qb_company.control.create("Customer", Name="Race Co", CompanyName="Race Co")
    [rs] = ask(qb_company, "<CustomerQueryRq><FromModifiedDate>2026-06-01T07:00:00</FromModifiedDate></CustomerQueryRq>")
    assert [r.findtext("ListID") for r in rs] == [new_id]
    assert rs[0].findtext("TimeCreated") == "2026-06-01T07:00:00-05:00"


def test_deleted_date_range_filter(qb_company):
    control = qb_company.control
    first, second = control.ids("Check", limit=2)
    qb_company.clock = lambda: datetime(2026, 3, 1, 15, 0, 0, tzinfo=UTC)
    control.delete("Check", first)
    qb_company.clock = lambda: datetime(2026, 3, 5, 15, 0, 0, tzinfo=UTC)
    control.delete("Check", second)
    [rs] = ask(qb_company, "<TxnDeletedQueryRq><TxnDelType>Check</TxnDelType><DeletedDateRangeFilter>"
                           "<FromDeletedDate>2026-03-03</FromDeletedDate></DeletedDateRangeFilter></TxnDeletedQueryRq>")
    assert [(r.findtext("TxnID"), r.findtext("TimeDeleted")) for r in rs] == [(second, "2026-03-05T10:00:00-05:00")]
    [gone] = ask(qb_company, f"<CheckQueryRq><TxnID>{first}</TxnID></CheckQueryRq>")
    assert status(gone)[0] == 500


def test_concurrent_edits_while_paging_stay_consistent(qb_company):
    control = qb_company.control
    targets = control.ids("Invoice", limit=40)
    errors: list[BaseException] = []

    def editor(offset: int) -> None:
        try:
            for round_ in range(15):
                control.modify("Invoice", targets[(offset + round_) % len(targets)], Memo=f"edit {offset}-{round_}")
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=editor, args=(n,)) for n in range(3)]
    session = qb_company.begin_session()
    [rs] = ask(qb_company, '<InvoiceQueryRq iterator="Start"><MaxReturned>5</MaxReturned></InvoiceQueryRq>', session)
    for thread in threads:
        thread.start()
    while int(rs.get("iteratorRemainingCount")):
        [rs] = ask(qb_company, f'<InvoiceQueryRq iterator="Continue" iteratorID="{rs.get("iteratorID")}"><MaxReturned>5</MaxReturned></InvoiceQueryRq>', session)
    for thread in threads:
        thread.join(timeout=30)
    assert not errors
    [final] = ask(qb_company, "".join(f"<InvoiceQueryRq><TxnID>{t}</TxnID></InvoiceQueryRq>" for t in targets[:1]))
    assert final[0].findtext("EditSequence") == control.get("Invoice", targets[0])["edit_sequence"]


def test_unevaluated_filter_answers_with_530_warning(qb_company):
    [rs] = ask(qb_company, "<InvoiceQueryRq><MaxReturned>3</MaxReturned><AccountFilter><FullName>Accounts Receivable"
                           "</FullName></AccountFilter></InvoiceQueryRq>")
    assert status(rs) == (530, "Warn", 'The field "AccountFilter" is not supported by this implementation.')
    assert len(rs) == 3


def test_mod_to_a_name_in_use_is_3100(qb_company):
    control = qb_company.control
    first, second = control.ids("Vendor", limit=2)
    taken = control.get("Vendor", second)["name"]
    seq = control.get("Vendor", first)["edit_sequence"]
    [rs] = ask(qb_company, f"<VendorModRq><VendorMod><ListID>{first}</ListID><EditSequence>{seq}</EditSequence>"
                           f"<Name>{taken}</Name></VendorMod></VendorModRq>")
    assert status(rs) == (3100, "Error", f'The name "{taken}" of the list element is already in use.')
    assert control.get("Vendor", first)["edit_sequence"] == seq


def test_inverted_date_range_is_3030(qb_company):
    [rs] = ask(qb_company, "<InvoiceQueryRq><ModifiedDateRangeFilter><FromModifiedDate>2025-06-01</FromModifiedDate>"
                           "<ToModifiedDate>2025-01-01</ToModifiedDate></ModifiedDateRangeFilter></InvoiceQueryRq>")
    assert status(rs) == (3030, "Error", "Invalid date range: From date is greater than To date.")
    [rs] = ask(qb_company, "<ListDeletedQueryRq><ListDelType>Customer</ListDelType><DeletedDateRangeFilter>"
                           "<FromDeletedDate>2025-06-02</FromDeletedDate><ToDeletedDate>2025-06-01</ToDeletedDate>"
                           "</DeletedDateRangeFilter></ListDeletedQueryRq>")
    assert status(rs)[0] == 3030


def test_an_older_quickbooks_advertises_and_enforces_its_versions(qb_company):
    qb_company.qbxml_versions = ("1.0", "2.0", "7.0", "8.0")
    [host] = ask(qb_company, "<HostQueryRq/>", version="8.0")
    assert [v.text for v in host.iter("SupportedQBXMLVersion")] == ["1.0", "2.0", "7.0", "8.0"]
    with pytest.raises(QBXMLParseError) as failure:
        qb_company.answer(qbxml("<HostQueryRq/>"))
    assert failure.value.hresult == "0x80040428"


def test_control_rejects_fields_the_ret_does_not_have(qb_company):
    invoice = qb_company.control.ids("Invoice", limit=1)[0]
    with pytest.raises(ValueError, match="Memmo"):
        qb_company.control.modify("Invoice", invoice, Memmo="typo")
    with pytest.raises(ValueError, match="FullName"):
        qb_company.control.create("Vendor", Name="Acme Supply", FullName="Acme Supply")
