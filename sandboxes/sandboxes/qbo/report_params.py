"""Report query parameters as Intuit documents them for the reports this sandbox serves.

Every documented parameter is either honoured or refused with a 400 Fault naming it: a client must
never get a 200 whose shape silently ignored what it asked for. Undocumented parameters are ignored,
as Intuit ignores them. Date macros follow Intuit's list (the company's fiscal year is the calendar
year here). Cash basis is computed for ProfitAndLoss and refused, not faked, for the other reports.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from .errors import QBOFault

DATE_PARAMS = ("start_date", "end_date", "date_macro", "accounting_method")
# Documented per report (developer.intuit.com, Reports API: ProfitAndLoss, BalanceSheet,
# AgedReceivables, AgedPayables, GeneralLedger).
HONOURED = {
    "ProfitAndLoss": {*DATE_PARAMS, "summarize_column_by"},
    "BalanceSheet": {*DATE_PARAMS, "summarize_column_by"},
    "GeneralLedger": {*DATE_PARAMS, "columns"},
    "AgedReceivables": {"report_date", "aging_period", "num_periods", "accounting_method", "date_macro"},
    "AgedPayables": {"report_date", "aging_period", "num_periods", "accounting_method", "date_macro"},
}
NOT_SERVED = {
    "ProfitAndLoss": {"customer", "vendor", "employee", "item", "class", "department", "qzurl",
                      "sort_order", "adjusted_gain_loss"},
    "BalanceSheet": {"customer", "vendor", "employee", "item", "class", "department", "qzurl",
                     "sort_order", "adjusted_gain_loss"},
    "GeneralLedger": {"customer", "vendor", "employee", "item", "class", "department", "account", "account_type",
                      "source_account", "source_account_type", "sort_by", "sort_order", "start_moddate",
                      "end_moddate", "start_duedate", "end_duedate", "qzurl", "journal_code"},
    "AgedReceivables": {"customer", "term", "shipvia", "aging_method", "past_due", "qzurl", "columns",
                        "start_duedate", "end_duedate", "sort_order", "report_date_macro"},
    "AgedPayables": {"vendor", "term", "aging_method", "past_due", "qzurl", "columns",
                     "start_duedate", "end_duedate", "sort_order"},
}
SUMMARIZE_BY_TIME = ("Total", "Days", "Week", "Month", "Quarter", "Year")
SUMMARIZE_BY_DIMENSION = ("Customers", "Vendors", "Employees", "Classes", "Departments", "ProductsAndServices")
GENERAL_LEDGER_COLUMNS = ("tx_date", "txn_type", "doc_num", "name", "memo", "subt_nat_amount", "rbal_nat_amount")


def invalid_parameter(name: str, value: str, why: str) -> QBOFault:
    return QBOFault(400, "2050", "Invalid report parameter", f"{name}={value}: {why}", element=name)


def check(report: str, params: Mapping[str, str]) -> None:
    for name in sorted(NOT_SERVED.get(report, set()) & set(params)):
        if params[name] != "":
            raise invalid_parameter(name, params[name], f"this sandbox does not filter {report} by {name}; "
                                    "leave it out or test against an Intuit sandbox company")
    method = params.get("accounting_method", "Accrual")
    if method == "Cash" and report != "ProfitAndLoss":
        raise invalid_parameter("accounting_method", method, f"this sandbox computes {report} on Accrual basis "
                                "only (ProfitAndLoss on both); set accounting_method=Accrual")
    if method not in ("Accrual", "Cash"):
        raise invalid_parameter("accounting_method", method, "use Cash or Accrual")
    by = params.get("summarize_column_by")
    if by is not None:
        if "summarize_column_by" not in HONOURED[report]:
            raise invalid_parameter("summarize_column_by", by, f"{report} takes no summarize_column_by")
        if by in SUMMARIZE_BY_DIMENSION:
            raise invalid_parameter("summarize_column_by", by, "this sandbox summarizes columns by time only "
                                    f"({', '.join(SUMMARIZE_BY_TIME)})")
        if by not in SUMMARIZE_BY_TIME:
            raise invalid_parameter("summarize_column_by", by,
                                    f"use one of {', '.join(SUMMARIZE_BY_TIME + SUMMARIZE_BY_DIMENSION)}")
        if report == "BalanceSheet" and by != "Total":
            raise invalid_parameter("summarize_column_by", by, "this sandbox serves BalanceSheet with a Total column only")


def parse_date(params: Mapping[str, str], key: str) -> date | None:
    text = params.get(key)
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise QBOFault(400, "2020", "Invalid date", f"{key}={text} is not a date (YYYY-MM-DD)", element=key) from None


def _quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def date_macro(macro: str, today: date) -> tuple[date, date]:
    """Intuit's date_macro values (case-insensitive) as a [start, end] range."""
    week = today - timedelta(days=(today.weekday() + 1) % 7)  # weeks start on Sunday in QuickBooks
    month = today.replace(day=1)
    quarter = _quarter_start(today)
    year = date(today.year, 1, 1)
    ranges = {
        "today": (today, today),
        "yesterday": (today - timedelta(days=1), today - timedelta(days=1)),
        "this week": (week, week + timedelta(days=6)),
        "last week": (week - timedelta(days=7), week - timedelta(days=1)),
        "this week-to-date": (week, today),
        "last week-to-date": (week - timedelta(days=7), today - timedelta(days=7)),
        "next week": (week + timedelta(days=7), week + timedelta(days=13)),
        "this month": (month, _add_months(month, 1) - timedelta(days=1)),
        "last month": (_add_months(month, -1), month - timedelta(days=1)),
        "this month-to-date": (month, today),
        "last month-to-date": (_add_months(month, -1),
                               min(_add_months(month, -1) + (today - month), month - timedelta(days=1))),
        "next month": (_add_months(month, 1), _add_months(month, 2) - timedelta(days=1)),
        "this fiscal quarter": (quarter, _add_months(quarter, 3) - timedelta(days=1)),
        "last fiscal quarter": (_add_months(quarter, -3), quarter - timedelta(days=1)),
        "this fiscal quarter-to-date": (quarter, today),
        "next fiscal quarter": (_add_months(quarter, 3), _add_months(quarter, 6) - timedelta(days=1)),
        "this fiscal year": (year, date(today.year, 12, 31)),
        "last fiscal year": (date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)),
        "this fiscal year-to-date": (year, today),
        "last fiscal year-to-date": (date(today.year - 1, 1, 1), _same_day_last_year(today)),
        "next fiscal year": (date(today.year + 1, 1, 1), date(today.year + 1, 12, 31)),
        "this calendar year": (year, date(today.year, 12, 31)),
        "last calendar year": (date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)),
        "this calendar year-to-date": (year, today),
        "this year": (year, date(today.year, 12, 31)),
        "last year": (date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)),
        "this year-to-date": (year, today),
        "last year-to-date": (date(today.year - 1, 1, 1), _same_day_last_year(today)),
        "this quarter": (quarter, _add_months(quarter, 3) - timedelta(days=1)),
        "last quarter": (_add_months(quarter, -3), quarter - timedelta(days=1)),
    }
    found = ranges.get(macro.strip().lower())
    if found is None:
        raise invalid_parameter("date_macro", macro, "not one of Intuit's date macros (e.g. 'This Month', "
                                "'Last Fiscal Year', 'This Year-to-date')")
    return found


def _same_day_last_year(today: date) -> date:
    try:
        return today.replace(year=today.year - 1)
    except ValueError:  # 29 February
        return today.replace(year=today.year - 1, day=28)


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    title: str


def periods(start: date, end: date, by: str) -> list[Period]:
    """The report's time columns for summarize_column_by (Total: none; the Total column is added anyway)."""
    if by == "Total" or start > end:
        return []
    out: list[Period] = []
    cursor = start
    while cursor <= end:
        if by == "Days":
            last = cursor
            title = f"{cursor:%b} {cursor.day}, {cursor.year}"
        elif by == "Week":
            last = cursor + timedelta(days=6 - (cursor.weekday() + 1) % 7)
            title = f"{cursor:%b} {cursor.day} - {min(last, end):%b} {min(last, end).day}, {min(last, end).year}"
        elif by == "Month":
            last = _add_months(cursor.replace(day=1), 1) - timedelta(days=1)
            title = f"{cursor:%b} {cursor.year}"
        elif by == "Quarter":
            last = _add_months(_quarter_start(cursor), 3) - timedelta(days=1)
            title = f"Q{(cursor.month - 1) // 3 + 1} {cursor.year}"
        else:  # Year
            last = date(cursor.year, 12, 31)
            title = str(cursor.year)
        last = min(last, end)
        out.append(Period(cursor, last, title))
        cursor = last + timedelta(days=1)
    return out


def positive_int(params: Mapping[str, str], key: str, default: int) -> int:
    text = params.get(key)
    if not text:
        return default
    if not text.isdigit() or int(text) < 1:
        raise invalid_parameter(key, text, "must be a positive whole number")
    return int(text)


def general_ledger_columns(params: Mapping[str, str]) -> list[int] | None:
    """Positions of the requested General Ledger columns, in the order asked; None: all of them."""
    text = params.get("columns")
    if not text:
        return None
    keep = []
    for name in (c.strip() for c in text.split(",")):
        if name not in GENERAL_LEDGER_COLUMNS:
            raise invalid_parameter("columns", text, f"this sandbox serves the General Ledger columns "
                                    f"{', '.join(GENERAL_LEDGER_COLUMNS)}; {name!r} is not one of them")
        keep.append(GENERAL_LEDGER_COLUMNS.index(name))
    return keep
