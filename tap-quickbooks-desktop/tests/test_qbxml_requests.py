"""Every request the session plan sends is valid qbXML 13.0 (qbxmlops130.xsd)."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree
from tap_quickbooks_desktop.bookmarks import query_start
from tap_quickbooks_desktop.qbxml_parser import parse_response_message
from tap_quickbooks_desktop.session_plan import SessionPlan

# shared/ sits beside the repository checkout, locally and in CI.
XSD = Path(__file__).resolve().parents[3] / "shared/reference/qbxml/xsd/qbxmlops130.xsd"


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    if not XSD.exists():
        pytest.skip("qbxmlops130.xsd not found beside the repository")
    return etree.XMLSchema(etree.parse(str(XSD)))


def _plan(**kwargs) -> SessionPlan:
    return SessionPlan.for_streams(
        None, kwargs.pop("bookmarks", {}), start_date=kwargs.pop("start_date", None),
        overlap_seconds=300, max_returned=50, queries_per_message=20,
    )


def test_schema_rejects_a_misordered_request(schema):
    bad = etree.fromstring(
        b'<QBXML><QBXMLMsgsRq onError="continueOnError"><InvoiceQueryRq>'
        b"<IncludeLineItems>true</IncludeLineItems><MaxReturned>5</MaxReturned>"
        b"</InvoiceQueryRq></QBXMLMsgsRq></QBXML>"
    )
    assert not schema.validate(bad)


def test_first_message_asks_for_every_stream_and_validates(schema):
    message = _plan(start_date="2025-01-01T00:00:00Z").next_message("13.0")
    assert message is not None and message.startswith('<?xml version="1.0" encoding="utf-8"?>\n<?qbxml version="13.0"?>')

    document = etree.fromstring(message.split("\n", 2)[2].encode())
    schema.assertValid(document)
    names = [child.tag for child in document[0]]
    assert "InvoiceQueryRq" in names and "TxnDeletedQueryRq" in names and "ListDeletedQueryRq" in names
    invoice = document[0][names.index("InvoiceQueryRq")]
    assert invoice.get("iterator") == "Start"
    assert invoice.findtext("ModifiedDateRangeFilter/FromModifiedDate") == "2025-01-01T00:00:00+00:00"
    assert invoice.findtext("IncludeLineItems") == "true"
    account = document[0][names.index("AccountQueryRq")]
    assert account.get("iterator") is None and account.findtext("ActiveStatus") == "All"


def test_continue_request_carries_the_iterator_id_and_validates(schema):
    plan = SessionPlan.for_streams(["customers"], {}, start_date=None, overlap_seconds=0,
                                   max_returned=2, queries_per_message=4)
    plan.next_message("13.0")
    response = (
        '<?xml version="1.0"?><QBXML><QBXMLMsgsRs><CustomerQueryRs requestID="0-0" statusCode="0" '
        'statusSeverity="Info" statusMessage="Status OK" iteratorRemainingCount="3" '
        'iteratorID="{abc-123}"><CustomerRet><ListID>1</ListID><TimeModified>2025-03-04T10:11:12-05:00'
        "</TimeModified><EditSequence>7</EditSequence></CustomerRet></CustomerQueryRs>"
        '<ListDeletedQueryRs requestID="1-0" statusCode="1" statusSeverity="Info" statusMessage="none"/>'
        "</QBXMLMsgsRs></QBXML>"
    )
    outcome = plan.apply(parse_response_message(response))
    message = plan.next_message("13.0")

    assert outcome.bookmarks == {}  # the iterator has not finished: the bookmark must not move
    document = etree.fromstring(message.split("\n", 2)[2].encode())
    schema.assertValid(document)
    customer = document[0][0]
    assert (customer.get("iterator"), customer.get("iteratorID")) == ("Continue", "{abc-123}")
    assert len(document[0]) == 1


def test_bookmark_overlap_keeps_quickbooks_offset():
    assert query_start("2025-03-04T10:11:12-05:00", None, 300) == "2025-03-04T10:06:12-05:00"
    assert query_start(None, "2024-06-01T00:00:00Z", 300) == "2024-06-01T00:00:00+00:00"
    assert query_start(None, None, 300) is None


def test_finished_query_moves_bookmark_to_newest_time_modified_seen():
    plan = SessionPlan.for_streams(["classes"], {"Class": "2025-01-01T00:00:00-05:00"}, start_date=None,
                                   overlap_seconds=0, max_returned=2, queries_per_message=4, clock=lambda: 50.0)
    plan.next_message("13.0")
    response = (
        '<QBXML><QBXMLMsgsRs><ClassQueryRs requestID="0-0" statusCode="0">'
        "<ClassRet><ListID>1</ListID><TimeModified>2025-02-01T09:00:00-05:00</TimeModified><EditSequence>2</EditSequence></ClassRet>"
        "<ClassRet><ListID>2</ListID><TimeModified>2025-02-01T15:30:00+01:00</TimeModified><EditSequence>3</EditSequence></ClassRet>"
        '</ClassQueryRs><ListDeletedQueryRs requestID="1-0" statusCode="1"/></QBXMLMsgsRs></QBXML>'
    )

    outcome = plan.apply(parse_response_message(response))

    # 15:30+01:00 is 14:30Z, later than 09:00-05:00 (14:00Z): compared as instants, kept as sent.
    assert outcome.bookmarks == {"Class": "2025-02-01T15:30:00+01:00"}
    assert plan.progress() == 100


def test_error_status_is_recorded_and_the_rest_of_the_session_continues():
    plan = SessionPlan.for_streams(["classes", "vendors"], {}, start_date=None,
                                   overlap_seconds=0, max_returned=2, queries_per_message=4)
    plan.next_message("13.0")
    response = (
        '<QBXML><QBXMLMsgsRs><ClassQueryRs requestID="0-0" statusCode="3020" statusSeverity="Error" '
        'statusMessage="bad date"/><VendorQueryRs requestID="1-0" statusCode="0" iteratorRemainingCount="0" '
        'iteratorID="x"><VendorRet><ListID>9</ListID><TimeModified>2025-02-01T09:00:00-05:00</TimeModified>'
        "<EditSequence>1</EditSequence></VendorRet></VendorQueryRs>"
        '<ListDeletedQueryRs requestID="2-0" statusCode="0"/></QBXMLMsgsRs></QBXML>'
    )

    outcome = plan.apply(parse_response_message(response))

    assert [(key, status) for key, status, _ in outcome.errors] == [("Class", 3020)]
    assert "Class" not in outcome.bookmarks and "Vendor" in outcome.bookmarks
    assert [s.tag for s in outcome.sections] == ["vendors"]
    assert plan.progress() == 100


def test_bookmark_steps_back_by_how_long_the_iterator_ran():
    now = [100.0]
    plan = SessionPlan.for_streams(["customers"], {}, start_date=None, overlap_seconds=0,
                                   max_returned=1, queries_per_message=1, clock=lambda: now[0])
    page = (
        '<QBXML><QBXMLMsgsRs><CustomerQueryRs requestID="0-{page}" statusCode="0" iteratorID="it" '
        'iteratorRemainingCount="{left}"><CustomerRet><ListID>{page}</ListID>'
        "<TimeModified>2025-02-01T09:00:0{page}-05:00</TimeModified><EditSequence>1</EditSequence>"
        "</CustomerRet></CustomerQueryRs></QBXMLMsgsRs></QBXML>"
    )
    plan.next_message("13.0")
    plan.apply(parse_response_message(page.format(page=0, left=1)))
    now[0] += 2.5  # an object saved now may have been read in its old version on page 0
    plan.next_message("13.0")
    outcome = plan.apply(parse_response_message(page.format(page=1, left=0)))

    assert outcome.bookmarks == {"Customer": "2025-02-01T08:59:58-05:00"}


def test_buffered_section_is_well_formed_even_with_awkward_attribute_text():
    from tap_quickbooks_desktop.qbxml_parser import iter_rets

    response = (
        "<QBXML><QBXMLMsgsRs><VendorQueryRs requestID=\"0-0\" statusCode=\"530\" statusSeverity=\"Warn\" "
        "statusMessage='Some of &amp; \"these\" &lt;ids&gt; / were not found'>"
        "<VendorRet><ListID>1</ListID><Name>A &amp; B</Name></VendorRet>"
        "<VendorRet><ListID>2</ListID><Name>C</Name></VendorRet></VendorQueryRs></QBXMLMsgsRs></QBXML>"
    )

    (section,) = parse_response_message(response)

    assert section.status_message == 'Some of & "these" <ids> / were not found'
    assert [ret.findtext("Name") for ret in iter_rets(section.xml)] == ["A & B", "C"]
    assert section.versions == [("1", ""), ("2", "")]


def test_warning_status_keeps_the_data_and_moves_the_bookmark():
    plan = SessionPlan.for_streams(["vendors"], {}, start_date=None, overlap_seconds=0,
                                   max_returned=5, queries_per_message=4, clock=lambda: 0.0)
    plan.next_message("13.0")
    response = (
        '<QBXML><QBXMLMsgsRs><VendorQueryRs requestID="0-0" statusCode="530" statusSeverity="Warn" '
        'statusMessage="partial" iteratorRemainingCount="0" iteratorID="i"><VendorRet><ListID>9</ListID>'
        "<TimeModified>2025-02-01T09:00:00-05:00</TimeModified><EditSequence>4</EditSequence></VendorRet>"
        '</VendorQueryRs><ListDeletedQueryRs requestID="1-0" statusCode="1"/></QBXMLMsgsRs></QBXML>'
    )

    outcome = plan.apply(parse_response_message(response))

    assert [s.versions for s in outcome.sections] == [[("9", "4")]]
    assert outcome.bookmarks == {"Vendor": "2025-02-01T09:00:00-05:00"}
    assert outcome.errors == []
