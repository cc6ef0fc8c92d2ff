"""The source's truth, read from the sandboxes' control handles (no HTTP, not counted, not faulted).

Deletions are known to the harness that made them: QuickBooks Online answers nothing for a deleted
transaction, so the caller passes the ids it deleted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from .books import SUBTOTAL, Book, Doc, cents, posting_account

QBO_ENTITIES = {"invoices": "Invoice", "bills": "Bill", "customers": "Customer", "vendors": "Vendor"}
QBD_KINDS = {"invoices": "Invoice", "bills": "Bill", "customers": "Customer", "vendors": "Vendor"}


def _money(value: Any) -> Decimal | None:
    return None if value is None or value == "" else cents(value)


def _ref(obj: Mapping[str, Any], name: str, key: str) -> str | None:
    ref = obj.get(name)
    return str(ref[key]) if isinstance(ref, dict) and ref.get(key) is not None else None


def qbo_book(realm: Any, deleted: Mapping[str, Iterable[str]], streams: Iterable[str],
             *, subtotal_lines: bool = True) -> Book:
    """``realm`` is the QBO sandbox's RealmHandle; ``deleted`` maps a stream to the ids deleted.
    ``subtotal_lines=False`` for a destination that leaves QBO's subtotal lines out (Salesforce)."""
    book = Book()
    for stream in streams:
        entity = QBO_ENTITIES[stream]
        docs = book.stream(stream)
        for obj_id in realm.ids(entity):
            obj = realm.get(entity, obj_id)
            if obj is not None:
                docs[obj_id] = _qbo_doc(stream, obj, subtotal_lines)
        for obj_id in deleted.get(stream, ()):
            if obj_id not in docs:
                docs[obj_id] = Doc(id=obj_id, version="", deleted=True)
    return book


def _qbo_doc(stream: str, obj: Mapping[str, Any], subtotal_lines: bool) -> Doc:
    version = str(obj["SyncToken"])
    if stream in ("customers", "vendors"):
        return Doc(id=str(obj["Id"]), version=version, active=bool(obj.get("Active", True)))
    total = _money(obj.get("TotalAmt"))
    note = str(obj.get("PrivateNote") or "")
    return Doc(
        id=str(obj["Id"]), version=version,
        voided=note.lower().startswith("voided") and not total,
        total=total, balance=_money(obj.get("Balance")),
        party=_ref(obj, "CustomerRef" if stream == "invoices" else "VendorRef", "value"),
        lines=tuple(sorted(cents(line.get("Amount")) for line in obj.get("Line") or []
                           if subtotal_lines or line.get("DetailType") != SUBTOTAL)),
        control=_ref(obj, "ARAccountRef" if stream == "invoices" else "APAccountRef", "value"),
        postings=tuple(sorted(_qbo_posting(line) for line in obj.get("Line") or []
                              if line.get("DetailType") != SUBTOTAL)),
    )


# Where Intuit puts a line's account, by detail type (the first one present).
_QBO_ACCOUNT_REFS = ("AccountRef", "ItemAccountRef", "DiscountAccountRef", "DepositToAccountRef")


def _qbo_posting(line: Mapping[str, Any]) -> tuple[str, Decimal]:
    detail = line.get(str(line.get("DetailType") or "")) or {}
    account = next((_ref(detail, name, "value") for name in _QBO_ACCOUNT_REFS if isinstance(detail.get(name), dict)),
                   None)
    return posting_account(account, _ref(detail, "ItemRef", "value")), cents(line.get("Amount"))


def qbd_book(company: Any, deleted: Mapping[str, Iterable[str]], streams: Iterable[str]) -> Book:
    """``company`` is the QBWC sandbox's QuickBooksCompany; ``deleted`` as for :func:`qbo_book`."""
    book = Book()
    control = company.control
    for stream in streams:
        kind = QBD_KINDS[stream]
        docs = book.stream(stream)
        for obj_id in control.ids(kind, limit=10**9):
            docs[obj_id] = _qbd_doc(stream, control.get(kind, obj_id))
        for obj_id in deleted.get(stream, ()):
            docs[obj_id] = Doc(id=obj_id, version="", deleted=True)
    return book


def _qbd_doc(stream: str, obj: Mapping[str, Any]) -> Doc:
    fields = obj["fields"]
    version = str(obj["edit_sequence"])
    if obj.get("deleted") is not None:
        return Doc(id=obj["id"], version=version, deleted=True)
    if stream in ("customers", "vendors"):
        return Doc(id=obj["id"], version=version, active=bool(obj.get("is_active", True)))
    if stream == "invoices":
        total = cents(fields.get("Subtotal")) + cents(fields.get("SalesTaxTotal"))
        balance = _money(fields.get("BalanceRemaining"))
        party = _ref(fields, "CustomerRef", "ListID")
        control = _ref(fields, "ARAccountRef", "ListID")
        lines = fields.get("InvoiceLineRet") or []
    else:
        total = cents(fields.get("AmountDue"))
        balance = _money(fields.get("OpenAmount"))
        party = _ref(fields, "VendorRef", "ListID")
        control = _ref(fields, "APAccountRef", "ListID")
        lines = [*(fields.get("ExpenseLineRet") or []), *(fields.get("ItemLineRet") or [])]
    lines = [line for line in lines if "Amount" in line]
    postings = [(posting_account(_ref(line, "AccountRef", "ListID"), _ref(line, "ItemRef", "ListID")),
                 cents(line.get("Amount"))) for line in lines]
    return Doc(id=obj["id"], version=version, total=total, balance=balance, party=party,
               lines=tuple(sorted(cents(line.get("Amount")) for line in lines)), control=control,
               postings=tuple(sorted(postings)))
