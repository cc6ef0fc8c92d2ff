"""QBO JSON to the shared record model (docs/record-model.md)."""

from __future__ import annotations

import json
from decimal import Decimal

import jsonschema
from tap_quickbooks_online.entity_stream import header_line_fields, load_schema
from tap_quickbooks_online.records import deleted_row, is_voided
from tap_quickbooks_online.transaction_streams import InvoicesStream, map_line

INVOICE = json.loads(
    """{"Id": "130", "SyncToken": "2", "DocNumber": "1037", "TxnDate": "2026-10-03",
    "DueDate": "2026-11-02", "CurrencyRef": {"value": "CAD", "name": "Canadian Dollar"},
    "ExchangeRate": 0.7312, "TotalAmt": 362.07, "Balance": 0.1, "PrivateNote": null,
    "CustomerRef": {"value": "3", "name": "Cool Cars"}, "ARAccountRef": {"value": "84"},
    "MetaData": {"CreateTime": "2026-10-03T10:15:00-07:00", "LastUpdatedTime": "2026-11-02T09:15:02-08:00"},
    "Line": [
      {"Id": "1", "LineNum": 1, "Description": "Rock", "Amount": 300.1, "DetailType": "SalesItemLineDetail",
       "SalesItemLineDetail": {"ItemRef": {"value": "5", "name": "Rock Fountain"}, "Qty": 1.5,
         "UnitPrice": 200.0666666667, "ClassRef": {"value": "9"}, "ItemAccountRef": {"value": "79", "name": "Sales"}}},
      {"Amount": 300.1, "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}}
    ]}""",
    parse_float=Decimal,
)


def _map(stream_cls, obj):
    stream = stream_cls.__new__(stream_cls)  # mapping needs no tap
    return stream.map_object(obj, "9130350000000001")


def test_invoice_maps_money_as_decimal_and_keeps_the_offset():
    row = _map(InvoicesStream, INVOICE)
    assert row["total_amount"] == Decimal("362.07") and isinstance(row["total_amount"], Decimal)
    assert row["exchange_rate"] == Decimal("0.7312")
    assert row["updated_at"] == "2026-11-02T09:15:02-08:00"
    assert (row["company_id"], row["id"], row["sync_token"], row["edition"]) == ("9130350000000001", "130", 2, "qbo")
    assert (row["customer_id"], row["customer_name"], row["currency"]) == ("3", "Cool Cars", "CAD")
    assert row["voided"] is False


def test_invoice_row_validates_against_its_schema():
    jsonschema.validate(_map(InvoicesStream, INVOICE), load_schema("invoices"))


def test_lines_keep_document_order_and_get_a_key_even_without_an_id():
    lines = [map_line(line, i) for i, line in enumerate(INVOICE["Line"], start=1)]
    assert [(ln["line_id"], ln["line_num"]) for ln in lines] == [("1", 1), ("SubTotalLineDetail:2", 2)]
    assert lines[0]["quantity"] == Decimal("1.5") and lines[0]["item_id"] == "5"
    assert (lines[0]["account_id"], lines[0]["class_id"]) == ("79", "9")


def test_line_rows_repeat_header_keys_and_validate():
    row = _map(InvoicesStream, INVOICE)
    line_rows = [{**header_line_fields(row, "invoice_id"), **line} for line in row["lines"]]
    schema = load_schema("invoice_lines")
    for line_row in line_rows:
        jsonschema.validate(line_row, schema)
        assert set(line_row) == set(schema["properties"])
    assert line_rows[0]["invoice_id"] == "130" and line_rows[0]["doc_number"] == "1037"


def test_voided_transaction_is_flagged():
    voided = {**INVOICE, "TotalAmt": Decimal("0"), "PrivateNote": "Voided"}
    assert is_voided(voided)
    assert _map(InvoicesStream, voided)["voided"] is True


def test_deleted_object_becomes_a_row_with_sdc_deleted_at():
    deleted = {"domain": "QBO", "status": "Deleted", "Id": "130",
               "MetaData": {"LastUpdatedTime": "2026-11-03T08:00:00-08:00"}}
    schema = load_schema("invoices")
    row = deleted_row(schema["properties"], "1", deleted)
    jsonschema.validate(row, schema)
    assert row["_sdc_deleted_at"] == "2026-11-03T08:00:00-08:00" and row["total_amount"] is None
