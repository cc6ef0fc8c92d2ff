"""Report streams: Intuit's report JSON flattened to one row per report row.

A report is a tree (sections with header, rows and summary). Each Data, Section header and
Summary row becomes a record carrying its position (row_number), depth and the labels of the
sections above it, so the tree can be rebuilt and totals are not double-counted by accident.
Reports have no change timestamps (FULL_TABLE). A report is re-read when its window or accounting
method moved (the default window ends today, so aging buckets move daily), when a change it depends
on arrived in the realm's change feed since it was last read, or when that read is older than CDC can
look back. Otherwise the rows the target already holds are still the report, and the run spends no
call on it.
"""

from __future__ import annotations

import datetime as dt
import re
import typing as t
from decimal import Decimal, InvalidOperation

from tap_quickbooks_online.cdc import CDC_UNSUPPORTED, Watch, within_cdc_window
from tap_quickbooks_online.config import QBOSettings
from tap_quickbooks_online.entity_stream import QBOStream
from tap_quickbooks_online.records import EDITION, Obj, parse_instant, text

if t.TYPE_CHECKING:
    from singer_sdk.helpers import types

_NUMBER = re.compile(r"^-?[\d,]*\.?\d+$")
AGING_REPORTS = frozenset({"AgedPayables", "AgedReceivables"})
# One row per posting: a year of a busy company is hundreds of MB of JSON in one answer, so this
# report is requested in date chunks (each chunk is a complete General Ledger for its dates).
CHUNKED_REPORTS = frozenset({"GeneralLedger"})
# What each report is computed from: a change to any of these moves its figures (or its names).
POSTING_ENTITIES = frozenset({
    "Account", "Bill", "BillPayment", "CreditMemo", "Deposit", "Invoice", "JournalEntry", "Payment",
    "Purchase", "RefundReceipt", "SalesReceipt", "Transfer", "VendorCredit", "Customer", "Vendor", "Employee", "Item",
})
DEPENDS_ON = {
    "ProfitAndLoss": POSTING_ENTITIES,
    "BalanceSheet": POSTING_ENTITIES,
    "GeneralLedger": POSTING_ENTITIES,
    "AgedReceivables": frozenset({"Invoice", "CreditMemo", "Payment", "RefundReceipt", "Customer", "Term"}),
    "AgedPayables": frozenset({"Bill", "VendorCredit", "BillPayment", "Vendor", "Term"}),
}


def date_chunks(start: str, end: str, days: int) -> list[tuple[str, str]]:
    """[start, end] cut into consecutive inclusive windows of at most ``days`` days."""
    first, last = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    if days <= 0 or first > last:
        return [(start, end)]
    chunks = []
    while first <= last:
        chunk_end = min(last, first + dt.timedelta(days=days - 1))
        chunks.append((first.isoformat(), chunk_end.isoformat()))
        first = chunk_end + dt.timedelta(days=1)
    return chunks


def report_window(settings: QBOSettings, today: dt.date | None = None) -> tuple[str, str]:
    end = dt.date.fromisoformat(settings.report_end_date[:10]) if settings.report_end_date else (
        today or dt.datetime.now(dt.UTC).date()
    )
    if settings.report_start_date:
        start = dt.date.fromisoformat(settings.report_start_date[:10])
    else:
        start = end - dt.timedelta(days=settings.report_window_days)
    return start.isoformat(), end.isoformat()


def _amount(value: str | None, column_type: str | None) -> Decimal | None:
    if column_type != "Money" or not value or not _NUMBER.match(value):
        return None
    try:
        return Decimal(value.replace(",", ""))
    except InvalidOperation:
        return None


def flatten_report(body: Obj, *, company_id: str, start_date: str, end_date: str, accounting_method: str) -> t.Iterator[Obj]:
    header = body.get("Header") or {}
    columns = (body.get("Columns") or {}).get("Column") or []
    titles = [(text(c.get("ColTitle")) or text(c.get("ColType")), text(c.get("ColType"))) for c in columns]
    base = {
        "company_id": company_id,
        "edition": EDITION,
        "report_name": text(header.get("ReportName")),
        "start_date": start_date,
        "end_date": end_date,
        "accounting_method": accounting_method,
        "currency": text(header.get("Currency")),
        "generated_at": text(header.get("Time")),
    }
    counter = iter(range(1, 10**9))

    def row(col_data: list[Obj], row_type: str, depth: int, group: str | None, path: list[str]) -> Obj:
        values = []
        for index, cell in enumerate(col_data):
            title, col_type = titles[index] if index < len(titles) else (None, None)
            value = text(cell.get("value"))
            values.append({"column": title, "column_type": col_type, "value": value,
                           "id": text(cell.get("id")), "amount": _amount(value, col_type)})
        first = col_data[0] if col_data else {}
        return {**base, "row_number": next(counter), "row_type": row_type, "depth": depth,
                "group": group, "section_path": list(path), "label": text(first.get("value")),
                "row_id": text(first.get("id")), "values": values}

    def walk(rows: list[Obj], depth: int, path: list[str]) -> t.Iterator[Obj]:
        for item in rows:
            group = text(item.get("group"))
            if item.get("ColData") is not None:
                yield row(item["ColData"], "Data", depth, group, path)
                continue
            section_header = (item.get("Header") or {}).get("ColData") or []
            label = text(section_header[0].get("value")) if section_header else group
            if section_header:
                yield row(section_header, "Header", depth, group, path)
            inner = [*path, label] if label else path
            yield from walk((item.get("Rows") or {}).get("Row") or [], depth + 1, inner)
            summary = (item.get("Summary") or {}).get("ColData")
            if summary:
                yield row(summary, "Summary", depth, group, inner)

    yield from walk((body.get("Rows") or {}).get("Row") or [], 0, [])


class ReportStream(QBOStream):
    schema_name = "report_rows"
    replication_key = None
    is_sorted = False
    primary_keys: t.ClassVar[tuple[str, ...]] = ("company_id", "start_date", "end_date", "accounting_method", "row_number")
    report: t.ClassVar[str]

    def read_key(self) -> list[str]:
        """What this run would read: the window and the accounting method."""
        start, end = report_window(self.qbo.settings)
        return [start, end, self.qbo.settings.accounting_method]

    def watch(self, realm_id: str, now: dt.datetime) -> Watch | None:
        """Ask the change feed about this report's inputs, or None when it must be read anyway."""
        if not self.selected:
            return None
        last = self.partition_state(realm_id).get("last_read") or {}
        if last.get("key") != self.read_key() or not last.get("read_at"):
            return None
        # From the instant Intuit computed the report, without the entity streams' overlap: in a busy
        # company the overlap always holds changes the report already counted, and re-reading it for
        # them would make every run a full read. A change Intuit makes visible late is picked up
        # with the next dependent change or the next day's window at the latest. LastUpdatedTime has
        # whole seconds: a change in the second the report was computed counts as after it.
        since = parse_instant(str(last["read_at"])).replace(microsecond=0)
        depends_on = DEPENDS_ON[self.report]
        if depends_on & CDC_UNSUPPORTED or not within_cdc_window(since, now):
            return None
        return Watch(self.name, depends_on, since)

    def get_records(self, context: types.Context | None) -> t.Iterable[dict]:
        assert context is not None
        realm_id = str(context["company_id"])
        if self.qbo.change_feed(realm_id).changed_for(self.name) is False:
            self.logger.info("Realm %s: %s unchanged since it was last read; not re-read", realm_id, self.report)
            return
        start, end, method = self.read_key()
        windows = [(start, end)]
        if self.report in CHUNKED_REPORTS:
            windows = date_chunks(start, end, self.qbo.settings.report_chunk_days)
        read_at: str | None = None
        for window_start, window_end in windows:
            params = {"start_date": window_start, "end_date": window_end, "accounting_method": method}
            if self.report in AGING_REPORTS:
                params = {"report_date": window_end, "accounting_method": method}
            body = self.qbo.client(realm_id).report(self.report, params)
            # Intuit's clock when the first piece was computed: changes from then on re-read it.
            read_at = read_at or text((body.get("Header") or {}).get("Time"))
            yield from flatten_report(body, company_id=realm_id, start_date=window_start, end_date=window_end,
                                      accounting_method=method)
        self.partition_state(realm_id)["last_read"] = {"key": [start, end, method], "read_at": read_at}


def _report_stream(stream_name: str, report: str) -> type[ReportStream]:
    return t.cast(type[ReportStream], type(
        f"{report}ReportStream", (ReportStream,),
        {"name": stream_name, "report": report, "__doc__": f"Rows of the {report} report."},
    ))


REPORT_STREAMS: list[type[ReportStream]] = [
    _report_stream("report_profit_and_loss", "ProfitAndLoss"),
    _report_stream("report_balance_sheet", "BalanceSheet"),
    _report_stream("report_aged_payables", "AgedPayables"),
    _report_stream("report_aged_receivables", "AgedReceivables"),
    _report_stream("report_general_ledger", "GeneralLedger"),
]
