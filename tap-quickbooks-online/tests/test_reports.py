from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import jsonschema
from tap_quickbooks_online.config import QBOSettings
from tap_quickbooks_online.entity_stream import load_schema
from tap_quickbooks_online.reports import flatten_report, report_window

PNL = json.loads("""{
 "Header": {"Time": "2026-11-20T10:00:00-08:00", "ReportName": "ProfitAndLoss", "Currency": "USD",
            "StartPeriod": "2026-01-01", "EndPeriod": "2026-10-31"},
 "Columns": {"Column": [{"ColTitle": "", "ColType": "Account"}, {"ColTitle": "Total", "ColType": "Money"}]},
 "Rows": {"Row": [
   {"type": "Section", "group": "Income",
    "Header": {"ColData": [{"value": "Income"}, {"value": ""}]},
    "Rows": {"Row": [{"type": "Data", "ColData": [{"value": "Design income", "id": "82"}, {"value": "2250.10"}]},
                     {"type": "Data", "ColData": [{"value": "Landscaping", "id": "45"}, {"value": "-0.10"}]}]},
    "Summary": {"ColData": [{"value": "Total Income"}, {"value": "2250.00"}]}},
   {"type": "Section", "group": "NetIncome", "Summary": {"ColData": [{"value": "Net Income"}, {"value": "2250.00"}]}}
 ]}}""")


def test_report_tree_becomes_ordered_rows_with_section_paths():
    rows = list(flatten_report(PNL, company_id="1", start_date="2026-01-01", end_date="2026-10-31",
                               accounting_method="Accrual"))
    assert [(r["row_number"], r["row_type"], r["label"], r["section_path"]) for r in rows] == [
        (1, "Header", "Income", []),
        (2, "Data", "Design income", ["Income"]),
        (3, "Data", "Landscaping", ["Income"]),
        (4, "Summary", "Total Income", ["Income"]),
        (5, "Summary", "Net Income", ["NetIncome"]),
    ]
    assert rows[1]["row_id"] == "82"
    assert rows[1]["values"][1]["amount"] == Decimal("2250.10")
    assert rows[1]["values"][0]["amount"] is None  # an account name is not an amount
    schema = load_schema("report_rows")
    for row in rows:
        jsonschema.validate(row, schema)


def test_report_window_from_days_or_explicit_dates():
    today = dt.date(2026, 11, 20)
    assert report_window(QBOSettings(report_window_days=30), today) == ("2026-10-21", "2026-11-20")
    assert report_window(QBOSettings(report_start_date="2026-01-01", report_end_date="2026-06-30"), today) == (
        "2026-01-01", "2026-06-30")


def test_general_ledger_windows_cover_the_range_without_gaps_or_overlap():
    from tap_quickbooks_online.reports import date_chunks

    chunks = date_chunks("2026-01-01", "2026-03-15", 31)
    assert chunks == [("2026-01-01", "2026-01-31"), ("2026-02-01", "2026-03-03"), ("2026-03-04", "2026-03-15")]
    assert date_chunks("2026-01-01", "2026-12-31", 0) == [("2026-01-01", "2026-12-31")]
