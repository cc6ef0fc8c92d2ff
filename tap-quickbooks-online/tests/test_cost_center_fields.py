"""Invoices and bills carry their cost center (docs/record-model.md): the document's location
(QBO DepartmentRef, on every Transaction per Intuit's Finance.xsd) and each line's class."""

from __future__ import annotations

import jsonschema
from tap_quickbooks_online.entity_stream import load_schema
from tap_quickbooks_online.transaction_streams import BillsStream, InvoicesStream

META = {"CreateTime": "2026-10-03T10:15:00-07:00", "LastUpdatedTime": "2026-11-02T09:15:02-08:00"}


def _map(stream_cls, obj):
    stream = stream_cls.__new__(stream_cls)  # mapping needs no tap
    return stream.map_object(obj, "9130350000000001")


def test_a_bill_keeps_its_department_and_each_line_its_class():
    bill = _map(BillsStream, {
        "Id": "88", "SyncToken": "0", "MetaData": META, "TotalAmt": 120, "Balance": 120,
        "VendorRef": {"value": "56", "name": "Acme Supply"}, "DepartmentRef": {"value": "3", "name": "North"},
        "Line": [{"Id": "1", "Amount": 120, "DetailType": "AccountBasedExpenseLineDetail",
                  "AccountBasedExpenseLineDetail": {"AccountRef": {"value": "7"}, "ClassRef": {"value": "5"}}}]})
    assert bill["department_id"] == "3"
    assert [line["class_id"] for line in bill["lines"]] == ["5"]
    jsonschema.validate(bill, load_schema("bills"))


def test_an_invoice_without_a_location_has_no_department():
    invoice = _map(InvoicesStream, {"Id": "130", "SyncToken": "0", "MetaData": META, "TotalAmt": 10, "Line": [],
                                    "CustomerRef": {"value": "3"}})
    assert invoice["department_id"] is None
    jsonschema.validate(invoice, load_schema("invoices"))
