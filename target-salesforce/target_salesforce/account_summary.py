"""What the sales team reads on every Account: open and paid documents, the open balance aged
(current, 1-30, 31-60, 61-90, over 90 days past due) and the last payment date.

Derived from the Opportunities already in Salesforce (invoices of a customer, bills of a
vendor), after a run delivered everything, for the Accounts the run touched and every Account
with an open document (aging moves with the calendar even when nothing changed). Written only
where a value differs, so a run without changes writes nothing. No I/O here but through the
writer given.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from target_salesforce.mapping import HEADER_STREAMS

BUCKETS = (  # (field, first day past due, last day past due)
    ("QuickBooks_Aging_Current__c", None, 0),
    ("QuickBooks_Aging_1_30__c", 1, 30),
    ("QuickBooks_Aging_31_60__c", 31, 60),
    ("QuickBooks_Aging_61_90__c", 61, 90),
    ("QuickBooks_Aging_Over_90__c", 91, None),
)
AS_OF, OPEN, PAID, LAST_PAYMENT = ("QuickBooks_Aging_As_Of__c", "QuickBooks_Open_Documents__c",
                                   "QuickBooks_Paid_Documents__c", "QuickBooks_Last_Payment_Date__c")
SUMMARY_FIELDS = (*(name for name, _, _ in BUCKETS), AS_OF, OPEN, PAID, LAST_PAYMENT)
DOCUMENT_TYPES = tuple(kind for _, kind, _, _ in HEADER_STREAMS.values())
OPPORTUNITY_FIELDS = ("AccountId", "QuickBooks_Balance__c", "QuickBooks_Due_Date__c", "CloseDate",
                      "QuickBooks_Deleted_At__c")
PAYMENT_STREAMS = {"payments": ("customer", "customer_id"), "bill_payments": ("vendor", "vendor_id")}


def bucket(days_past_due: int) -> str:
    for name, first, last in BUCKETS:
        if (first is None or days_past_due >= first) and (last is None or days_past_due <= last):
            return name
    raise AssertionError(days_past_due)  # the buckets cover every integer


@dataclass
class Summary:
    amounts: dict[str, decimal.Decimal] = field(default_factory=lambda: {n: decimal.Decimal(0) for n, _, _ in BUCKETS})
    open: int = 0
    paid: int = 0

    def add(self, opportunity: Mapping[str, Any], today: dt.date) -> None:
        if opportunity.get("QuickBooks_Deleted_At__c"):
            return
        balance = decimal.Decimal(str(opportunity.get("QuickBooks_Balance__c") or 0))
        if balance <= 0:
            self.paid += 1
            return
        self.open += 1
        due_text = opportunity.get("QuickBooks_Due_Date__c") or opportunity.get("CloseDate")
        due = dt.date.fromisoformat(str(due_text)[:10]) if due_text else today
        self.amounts[bucket((today - due).days)] += balance


def summary_values(summary: Summary, today: dt.date, with_paid: bool) -> dict[str, Any]:
    values: dict[str, Any] = dict(summary.amounts)
    values[AS_OF] = today.isoformat()
    values[OPEN] = summary.open
    if with_paid:
        values[PAID] = summary.paid
    return values


def nothing_to_show(summary: Summary, stored: Mapping[str, Any]) -> bool:
    """No document now and no summary stored before: writing zeros would only cost a request."""
    return summary.open == 0 and summary.paid == 0 and all(
        stored.get(name) in (None, 0) for name in SUMMARY_FIELDS if name != AS_OF)


def differs(stored: Mapping[str, Any], values: Mapping[str, Any]) -> bool:
    for name, value in values.items():
        old = stored.get(name)
        if isinstance(value, decimal.Decimal | int) and not isinstance(value, bool):
            if old is None or decimal.Decimal(str(old)) != decimal.Decimal(str(value)):
                return True
        elif (str(old)[:10] if old is not None else None) != value:
            return True
    return False


def later_date(stored: Any, new: str | None) -> str | None:
    """The later of the stored last payment date and this run's (a replayed old payment does not
    move it back)."""
    if new is None:
        return None
    return new if stored is None or str(stored)[:10] < new else None


def last_payments(records: Iterable[Mapping[str, Any]], stream: str,
                  external_id: Any) -> dict[str, str]:
    """Account external id -> latest payment date among ``records`` (deleted payments ignored)."""
    entity, column = PAYMENT_STREAMS[stream]
    latest: dict[str, str] = {}
    for record in records:
        if record.get("_sdc_deleted_at") or not record.get(column) or not record.get("txn_date"):
            continue
        ext = external_id(record, entity, column)
        day = str(record["txn_date"])[:10]
        if day > latest.get(ext, ""):
            latest[ext] = day
    return latest
