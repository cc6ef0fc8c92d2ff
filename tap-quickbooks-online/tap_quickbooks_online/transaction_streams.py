"""Transaction entities, their nested lines, and the ``*_lines`` child streams."""

from __future__ import annotations

import typing as t

from tap_quickbooks_online.entity_stream import EntityStream, LinesStream, header_line_fields
from tap_quickbooks_online.records import (
    Obj,
    boolean,
    common_columns,
    date,
    integer,
    is_voided,
    money,
    nested,
    ref_id,
    ref_name,
    text,
)

# The detail object of a line is named after its DetailType; the account sits under a different
# name per detail type.
_ACCOUNT_REFS = ("AccountRef", "ItemAccountRef", "DiscountAccountRef", "DepositToAccountRef")


def map_line(line: Obj, position: int) -> Obj:
    detail_type = text(line.get("DetailType"))
    detail = line.get(detail_type) if detail_type else None
    detail = detail if isinstance(detail, dict) else {}
    account_field = next((f for f in _ACCOUNT_REFS if isinstance(detail.get(f), dict)), None)
    return {
        # Subtotal lines have no Id in QBO; the position keeps the key unique and stable.
        "line_id": text(line.get("Id")) or f"{detail_type or 'Line'}:{position}",
        "line_num": position,
        "detail_type": detail_type,
        "description": text(line.get("Description")),
        "amount": money(line.get("Amount")),
        "item_id": ref_id(detail, "ItemRef"),
        "item_name": ref_name(detail, "ItemRef"),
        "account_id": ref_id(detail, account_field) if account_field else None,
        "account_name": ref_name(detail, account_field) if account_field else None,
        "class_id": ref_id(detail, "ClassRef"),
        "quantity": money(detail.get("Qty")),
        "unit_price": money(detail.get("UnitPrice")),
        "posting_type": text(detail.get("PostingType")),
        "entity_id": text(nested(detail, "Entity", "EntityRef", "value")),
        "billable_customer_id": ref_id(detail, "CustomerRef"),
    }


def applied(obj: Obj) -> list[Obj]:
    """Payments' Line[].LinkedTxn: which invoices / bills a payment settled."""
    rows = []
    for line in obj.get("Line") or []:
        for linked in line.get("LinkedTxn") or []:
            rows.append(
                {"txn_id": text(linked.get("TxnId")), "txn_type": text(linked.get("TxnType")),
                 "amount": money(line.get("Amount"))}
            )
    return rows


class TransactionStream(EntityStream):
    def own_columns(self, obj: Obj) -> Obj:
        return {}

    def map_object(self, obj: Obj, company_id: str) -> Obj:
        row = common_columns(obj, company_id)
        row.update(
            doc_number=text(obj.get("DocNumber")),
            txn_date=date(obj.get("TxnDate")),
            currency=ref_id(obj, "CurrencyRef"),
            exchange_rate=money(obj.get("ExchangeRate")),
            total_amount=money(obj.get("TotalAmt")),
            private_note=text(obj.get("PrivateNote")),
            voided=is_voided(obj),
            lines=[map_line(line, i) for i, line in enumerate(obj.get("Line") or [], start=1)],
        )
        row.update(self.own_columns(obj))
        return row

    def line_rows(self, record: Obj) -> list[Obj]:
        if self.line_header_key is None or record.get("_sdc_deleted_at"):
            return []
        header = header_line_fields(record, self.line_header_key)
        return [{**header, **line} for line in record.get("lines") or []]


def _customer(obj: Obj) -> Obj:
    return {"customer_id": ref_id(obj, "CustomerRef"), "customer_name": ref_name(obj, "CustomerRef")}


def _vendor(obj: Obj) -> Obj:
    return {"vendor_id": ref_id(obj, "VendorRef"), "vendor_name": ref_name(obj, "VendorRef")}


# Intuit's EmailStatusEnum / PrintStatusEnum in the record model's words (docs/record-model.md).
SEND_STATUS = {"NotSet": "not_set", "NeedToSend": "pending", "NeedToPrint": "pending",
               "EmailSent": "sent", "PrintComplete": "sent"}


class InvoicesStream(TransactionStream):
    name = "invoices"
    entity = "Invoice"
    line_header_key = "invoice_id"

    def own_columns(self, obj: Obj) -> Obj:
        return {**_customer(obj), "due_date": date(obj.get("DueDate")), "balance": money(obj.get("Balance")),
                "ar_account_id": ref_id(obj, "ARAccountRef"), "department_id": ref_id(obj, "DepartmentRef"),
                "email_status": SEND_STATUS.get(text(obj.get("EmailStatus")) or ""),
                "print_status": SEND_STATUS.get(text(obj.get("PrintStatus")) or "")}


class BillsStream(TransactionStream):
    name = "bills"
    entity = "Bill"
    line_header_key = "bill_id"

    def own_columns(self, obj: Obj) -> Obj:
        return {**_vendor(obj), "due_date": date(obj.get("DueDate")), "balance": money(obj.get("Balance")),
                "ap_account_id": ref_id(obj, "APAccountRef"), "department_id": ref_id(obj, "DepartmentRef")}


class PurchaseOrdersStream(TransactionStream):
    name = "purchase_orders"
    entity = "PurchaseOrder"
    line_header_key = "purchase_order_id"

    def own_columns(self, obj: Obj) -> Obj:
        return {**_vendor(obj), "due_date": date(obj.get("DueDate")), "po_status": text(obj.get("POStatus"))}


class JournalEntriesStream(TransactionStream):
    name = "journal_entries"
    entity = "JournalEntry"
    line_header_key = "journal_entry_id"

    def own_columns(self, obj: Obj) -> Obj:
        return {"adjustment": boolean(obj.get("Adjustment"))}


class PaymentsStream(TransactionStream):
    name = "payments"
    entity = "Payment"

    def own_columns(self, obj: Obj) -> Obj:
        return {**_customer(obj), "deposit_account_id": ref_id(obj, "DepositToAccountRef"),
                "unapplied_amount": money(obj.get("UnappliedAmt")), "applied": applied(obj)}


class BillPaymentsStream(TransactionStream):
    name = "bill_payments"
    entity = "BillPayment"

    def own_columns(self, obj: Obj) -> Obj:
        pay_type = text(obj.get("PayType"))
        bank = ref_id(obj.get("CheckPayment"), "BankAccountRef") or ref_id(obj.get("CreditCardPayment"), "CCAccountRef")
        return {
            **_vendor(obj),
            "pay_type": {"Check": "check", "CreditCard": "credit_card"}.get(pay_type or "", pay_type),
            "bank_account_id": bank,
            "applied": applied(obj),
        }


class CreditMemosStream(TransactionStream):
    name = "credit_memos"
    entity = "CreditMemo"
    line_header_key = "credit_memo_id"

    def own_columns(self, obj: Obj) -> Obj:
        return {**_customer(obj), "balance": money(obj.get("Balance"))}


class SalesReceiptsStream(TransactionStream):
    name = "sales_receipts"
    entity = "SalesReceipt"
    line_header_key = "sales_receipt_id"

    def own_columns(self, obj: Obj) -> Obj:
        return {**_customer(obj), "deposit_account_id": ref_id(obj, "DepositToAccountRef")}


class EstimatesStream(TransactionStream):
    name = "estimates"
    entity = "Estimate"

    def own_columns(self, obj: Obj) -> Obj:
        return {**_customer(obj), "expiration_date": date(obj.get("ExpirationDate")),
                "txn_status": text(obj.get("TxnStatus"))}


class DepositsStream(TransactionStream):
    name = "deposits"
    entity = "Deposit"

    def own_columns(self, obj: Obj) -> Obj:
        return {"deposit_account_id": ref_id(obj, "DepositToAccountRef")}


class PurchasesStream(TransactionStream):
    name = "purchases"
    entity = "Purchase"

    def own_columns(self, obj: Obj) -> Obj:
        return {
            "payment_type": text(obj.get("PaymentType")),
            "account_id": ref_id(obj, "AccountRef"),
            "entity_id": ref_id(obj, "EntityRef"),
            "entity_type": text(nested(obj, "EntityRef", "type")),
        }


class RefundReceiptsStream(TransactionStream):
    name = "refund_receipts"
    entity = "RefundReceipt"

    def own_columns(self, obj: Obj) -> Obj:
        return {**_customer(obj), "deposit_account_id": ref_id(obj, "DepositToAccountRef"),
                "balance": money(obj.get("Balance"))}


class VendorCreditsStream(TransactionStream):
    name = "vendor_credits"
    entity = "VendorCredit"

    def own_columns(self, obj: Obj) -> Obj:
        return {**_vendor(obj), "ap_account_id": ref_id(obj, "APAccountRef"), "balance": money(obj.get("Balance"))}


class TransfersStream(TransactionStream):
    name = "transfers"
    entity = "Transfer"

    def map_object(self, obj: Obj, company_id: str) -> Obj:
        row = super().map_object(obj, company_id)
        # A transfer is one amount between two accounts; QBO gives it no lines.
        row.update(total_amount=money(obj.get("Amount")), lines=None,
                   from_account_id=ref_id(obj, "FromAccountRef"), to_account_id=ref_id(obj, "ToAccountRef"))
        return row


class TimeActivitiesStream(EntityStream):
    name = "time_activities"
    entity = "TimeActivity"

    def map_object(self, obj: Obj, company_id: str) -> Obj:
        row = common_columns(obj, company_id)
        row.update(
            txn_date=date(obj.get("TxnDate")),
            name_of=text(obj.get("NameOf")),
            employee_id=ref_id(obj, "EmployeeRef"),
            vendor_id=ref_id(obj, "VendorRef"),
            customer_id=ref_id(obj, "CustomerRef"),
            item_id=ref_id(obj, "ItemRef"),
            class_id=ref_id(obj, "ClassRef"),
            hourly_rate=money(obj.get("HourlyRate")),
            hours=integer(obj.get("Hours")),
            minutes=integer(obj.get("Minutes")),
            billable_status=text(obj.get("BillableStatus")),
            description=text(obj.get("Description")),
        )
        return row


def _lines_stream(stream_name: str, parent: type[TransactionStream], header_key: str) -> type[LinesStream]:
    return t.cast(
        type[LinesStream],
        type(
            f"{parent.__name__.removesuffix('Stream')}LinesStream",
            (LinesStream,),
            {
                "name": stream_name,
                "parent_stream_type": parent,
                "parent_name": vars(parent)["name"],
                "primary_keys": ("company_id", header_key, "line_id"),
                "__doc__": "One row per document line, the header's key fields repeated.",
            },
        ),
    )


HEADER_STREAMS: list[type[EntityStream]] = [
    InvoicesStream,
    BillsStream,
    PurchaseOrdersStream,
    JournalEntriesStream,
    PaymentsStream,
    BillPaymentsStream,
    CreditMemosStream,
    SalesReceiptsStream,
    EstimatesStream,
    DepositsStream,
    PurchasesStream,
    RefundReceiptsStream,
    VendorCreditsStream,
    TransfersStream,
    TimeActivitiesStream,
]

LINE_STREAMS: list[type[LinesStream]] = [
    _lines_stream("invoice_lines", InvoicesStream, "invoice_id"),
    _lines_stream("bill_lines", BillsStream, "bill_id"),
    _lines_stream("purchase_order_lines", PurchaseOrdersStream, "purchase_order_id"),
    _lines_stream("journal_entry_lines", JournalEntriesStream, "journal_entry_id"),
    _lines_stream("credit_memo_lines", CreditMemosStream, "credit_memo_id"),
    _lines_stream("sales_receipt_lines", SalesReceiptsStream, "sales_receipt_id"),
]
