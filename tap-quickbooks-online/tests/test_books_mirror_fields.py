"""The record-model columns Salesforce mirrors read (docs/record-model.md): full names, parents,
terms and whether an invoice went out, from QBO JSON."""

from __future__ import annotations

import jsonschema
from tap_quickbooks_online.entity_stream import load_schema
from tap_quickbooks_online.list_streams import CustomersStream, VendorsStream
from tap_quickbooks_online.transaction_streams import InvoicesStream

META = {"CreateTime": "2026-10-03T10:15:00-07:00", "LastUpdatedTime": "2026-11-02T09:15:02-08:00"}


def _map(stream_cls, obj):
    stream = stream_cls.__new__(stream_cls)  # mapping needs no tap
    return stream.map_object(obj, "9130350000000001")


def test_a_sub_customer_keeps_its_fully_qualified_name_parent_and_sales_terms():
    row = _map(CustomersStream, {"Id": "12", "SyncToken": "0", "MetaData": META, "DisplayName": "Kitchen",
                                 "FullyQualifiedName": "Ada Corp:Kitchen", "ParentRef": {"value": "11"},
                                 "Job": True, "SalesTermRef": {"value": "3"}})
    assert row["fully_qualified_name"] == "Ada Corp:Kitchen"
    assert row["parent_id"] == "11" and row["terms_id"] == "3"
    jsonschema.validate(row, load_schema("customers"))


def test_a_vendor_without_a_fully_qualified_name_is_named_by_its_display_name():
    row = _map(VendorsStream, {"Id": "56", "SyncToken": "0", "MetaData": META, "DisplayName": "Acme Supply",
                               "TermRef": {"value": "2"}})
    assert row["fully_qualified_name"] == "Acme Supply" and row["parent_id"] is None
    jsonschema.validate(row, load_schema("vendors"))


def test_email_and_print_status_say_whether_the_invoice_went_out():
    base = {"Id": "130", "SyncToken": "2", "MetaData": META, "TotalAmt": 10, "Line": [],
            "CustomerRef": {"value": "3"}}
    sent = _map(InvoicesStream, {**base, "EmailStatus": "EmailSent", "PrintStatus": "NeedToPrint"})
    assert (sent["email_status"], sent["print_status"]) == ("sent", "pending")
    never = _map(InvoicesStream, {**base, "EmailStatus": "NotSet", "PrintStatus": "PrintComplete"})
    assert (never["email_status"], never["print_status"]) == ("not_set", "sent")
    jsonschema.validate(sent, load_schema("invoices"))
