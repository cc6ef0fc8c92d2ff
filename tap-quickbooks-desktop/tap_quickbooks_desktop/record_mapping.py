"""qbXML `*Ret` elements to records of the shared record model (docs/record-model.md)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from lxml.etree import _Element

from .query_catalog import DELETED_TAG, STREAM_FOR_DEL_TYPE

EDITION = "qbd"
Record = dict[str, Any]
# A `*Ret` element as nested dicts: leaf children map tag -> text, parents -> Node; "_items"
# keeps every child in document order (lines, applied-to lists), "_tag" the element name.
Node = dict[str, Any]

LINE_FIELDS = (
    "line_id", "line_num", "detail_type", "description", "amount", "item_id", "item_name",
    "account_id", "account_name", "class_id", "quantity", "unit_price", "posting_type",
    "entity_id", "billable_customer_id",
)

ACCOUNT_CLASSIFICATION = {
    "Bank": "Asset", "AccountsReceivable": "Asset", "OtherCurrentAsset": "Asset",
    "FixedAsset": "Asset", "OtherAsset": "Asset",
    "AccountsPayable": "Liability", "CreditCard": "Liability",
    "OtherCurrentLiability": "Liability", "LongTermLiability": "Liability",
    "Equity": "Equity", "Income": "Revenue", "OtherIncome": "Revenue",
    "CostOfGoodsSold": "Expense", "Expense": "Expense", "OtherExpense": "Expense",
}


def to_node(element: _Element) -> Node:
    """Walk the element once; mapping then reads dicts instead of re-searching XML."""
    items: list[tuple[str, Any]] = []
    node: Node = {"_tag": element.tag, "_items": items}
    for child in element:
        tag = child.tag
        if not isinstance(tag, str):
            continue
        value: Any = to_node(child) if len(child) else (child.text or "")
        node.setdefault(tag, value)
        items.append((tag, value))
    return node


@lru_cache(maxsize=512)
def _split(path: str) -> tuple[str, ...]:
    return tuple(path.split("/"))


def text(el: Node, path: str) -> str | None:
    value: Any = el
    for part in _split(path):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value if isinstance(value, str) and value != "" else None


def children(el: Node, tag: str) -> list[Node]:
    return [value for child_tag, value in el["_items"] if child_tag == tag and isinstance(value, dict)]


def money(el: Node, path: str) -> Decimal | None:
    value = text(el, path)
    if value is None:
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        return None


def flag(el: Node, path: str) -> bool | None:
    value = text(el, path)
    return None if value is None else value.strip().lower() == "true"


def first(*values: Any) -> Any:
    """First value that is present; unlike `or`, keeps a legitimate zero."""
    return next((v for v in values if v is not None), None)


def _sum(*values: Decimal | None) -> Decimal | None:
    present = [v for v in values if v is not None]
    return sum(present, Decimal(0)) if present else None


def _common(company: str, ret: Node) -> Record:
    return {
        "company_id": company,
        "edition": EDITION,
        "id": text(ret, "TxnID") or text(ret, "ListID"),
        "created_at": text(ret, "TimeCreated"),
        "updated_at": text(ret, "TimeModified"),
        "sync_token": None,
        "edit_sequence": text(ret, "EditSequence"),
        "_sdc_deleted_at": None,
    }


def _address(el: Node, tag: str) -> dict[str, str | None] | None:
    addr = el.get(tag)
    if not isinstance(addr, dict):
        return None
    return {
        "line1": text(addr, "Addr1"), "line2": text(addr, "Addr2"), "city": text(addr, "City"),
        "region": text(addr, "State"), "postal_code": text(addr, "PostalCode"),
        "country": text(addr, "Country"),
    }


# --- lists ---------------------------------------------------------------------------

def account(company: str, ret: Node) -> Record:
    account_type = text(ret, "AccountType")
    return {
        **_common(company, ret),
        "name": text(ret, "Name"), "fully_qualified_name": text(ret, "FullName"),
        "account_number": text(ret, "AccountNumber"), "account_type": account_type,
        "account_sub_type": text(ret, "SpecialAccountType"),
        "classification": ACCOUNT_CLASSIFICATION.get(account_type or ""),
        "parent_id": text(ret, "ParentRef/ListID"), "description": text(ret, "Desc"),
        "currency": text(ret, "CurrencyRef/FullName"), "current_balance": money(ret, "Balance"),
        "active": flag(ret, "IsActive"),
    }


def customer(company: str, ret: Node) -> Record:
    return {
        **_common(company, ret),
        "display_name": text(ret, "FullName") or text(ret, "Name"),
        "fully_qualified_name": text(ret, "FullName") or text(ret, "Name"),
        "company_name": text(ret, "CompanyName"), "given_name": text(ret, "FirstName"),
        "family_name": text(ret, "LastName"), "email": text(ret, "Email"),
        "phone": text(ret, "Phone"), "parent_id": text(ret, "ParentRef/ListID"),
        "terms_id": text(ret, "TermsRef/ListID"), "terms_name": text(ret, "TermsRef/FullName"),
        "currency": text(ret, "CurrencyRef/FullName"), "balance": money(ret, "Balance"),
        "billing_address": _address(ret, "BillAddress"), "active": flag(ret, "IsActive"),
    }


def vendor(company: str, ret: Node) -> Record:
    return {
        **_common(company, ret),
        "display_name": text(ret, "Name"), "company_name": text(ret, "CompanyName"),
        # VendorRet has no FullName or ParentRef: vendors are a flat list in QuickBooks Desktop.
        "fully_qualified_name": text(ret, "Name"), "parent_id": None,
        "given_name": text(ret, "FirstName"), "family_name": text(ret, "LastName"),
        "email": text(ret, "Email"), "phone": text(ret, "Phone"),
        "account_number": text(ret, "AccountNumber"),
        "currency": text(ret, "CurrencyRef/FullName"), "balance": money(ret, "Balance"),
        "billing_address": _address(ret, "VendorAddress"),
        "vendor_1099": flag(ret, "IsVendorEligibleFor1099"),
        "terms_id": text(ret, "TermsRef/ListID"), "terms_name": text(ret, "TermsRef/FullName"),
        "active": flag(ret, "IsActive"),
    }


def employee(company: str, ret: Node) -> Record:
    return {
        **_common(company, ret),
        "display_name": text(ret, "Name"), "given_name": text(ret, "FirstName"),
        "family_name": text(ret, "LastName"), "email": text(ret, "Email"),
        "phone": text(ret, "Phone"), "hired_date": text(ret, "HiredDate"),
        "released_date": text(ret, "ReleasedDate"), "active": flag(ret, "IsActive"),
    }


def item(company: str, ret: Node) -> Record:
    tag = str(ret["_tag"])
    item_type = tag.removeprefix("Item").removesuffix("Ret")
    return {
        **_common(company, ret),
        "name": text(ret, "Name"), "fully_qualified_name": text(ret, "FullName"),
        "sku": text(ret, "ManufacturerPartNumber"), "item_type": item_type,
        "description": first(text(ret, "SalesOrPurchase/Desc"), text(ret, "SalesAndPurchase/SalesDesc"),
                             text(ret, "SalesDesc"), text(ret, "ItemDesc")),
        "unit_price": first(money(ret, "SalesOrPurchase/Price"), money(ret, "SalesAndPurchase/SalesPrice"),
                            money(ret, "SalesPrice")),
        "purchase_cost": first(money(ret, "SalesAndPurchase/PurchaseCost"), money(ret, "PurchaseCost")),
        "income_account_id": first(text(ret, "SalesOrPurchase/AccountRef/ListID"),
                                   text(ret, "SalesAndPurchase/IncomeAccountRef/ListID"),
                                   text(ret, "IncomeAccountRef/ListID")),
        "expense_account_id": first(text(ret, "SalesAndPurchase/ExpenseAccountRef/ListID"),
                                    text(ret, "COGSAccountRef/ListID")),
        "asset_account_id": text(ret, "AssetAccountRef/ListID"),
        "quantity_on_hand": money(ret, "QuantityOnHand"), "active": flag(ret, "IsActive"),
    }


def qb_class(company: str, ret: Node) -> Record:
    return {
        **_common(company, ret),
        "name": text(ret, "Name"), "fully_qualified_name": text(ret, "FullName"),
        "parent_id": text(ret, "ParentRef/ListID"), "active": flag(ret, "IsActive"),
    }


# --- transaction lines ---------------------------------------------------------------

def _line(el: Node, line_num: int) -> Record:
    tag = str(el["_tag"]).removesuffix("Ret")
    posting = {"JournalDebitLine": "Debit", "JournalCreditLine": "Credit"}.get(tag)
    return {
        "line_id": text(el, "TxnLineID"),
        "line_num": line_num,
        "detail_type": tag,
        "description": first(text(el, "Desc"), text(el, "Memo")),
        "amount": money(el, "Amount"),
        "item_id": text(el, "ItemRef/ListID"),
        "item_name": text(el, "ItemRef/FullName"),
        "account_id": text(el, "AccountRef/ListID"),
        "account_name": text(el, "AccountRef/FullName"),
        "class_id": text(el, "ClassRef/ListID"),
        "quantity": money(el, "Quantity"),
        "unit_price": first(money(el, "Rate"), money(el, "Cost")),
        "posting_type": posting,
        "entity_id": text(el, "EntityRef/ListID") if posting else None,
        "billable_customer_id": None if posting else text(el, "CustomerRef/ListID"),
    }


def _lines(ret: Node, line_tags: tuple[str, ...]) -> list[Record]:
    """Lines in document order; a group line contributes the lines inside it."""
    found: list[Node] = []
    for tag, child in ret["_items"]:
        if not isinstance(child, dict):
            continue
        if tag in line_tags:
            found.append(child)
        elif tag.endswith("GroupRet"):
            found.extend(c for t, c in child["_items"] if t in line_tags and isinstance(c, dict))
    return [_line(el, index) for index, el in enumerate(found, start=1)]


def _txn(company: str, ret: Node, total: Decimal | None, line_tags: tuple[str, ...]) -> Record:
    return {
        **_common(company, ret),
        "doc_number": text(ret, "RefNumber"), "txn_date": text(ret, "TxnDate"),
        "currency": text(ret, "CurrencyRef/FullName"), "exchange_rate": money(ret, "ExchangeRate"),
        "total_amount": total, "private_note": text(ret, "Memo"), "voided": None,
        "lines": _lines(ret, line_tags),
    }


def _applied(ret: Node, amount_tag: str) -> list[Record]:
    return [
        {"txn_id": text(a, "TxnID"), "txn_type": text(a, "TxnType"), "amount": money(a, amount_tag)}
        for a in children(ret, "AppliedToTxnRet")
    ]


def invoice(company: str, ret: Node) -> Record:
    return {
        **_txn(company, ret, _sum(money(ret, "Subtotal"), money(ret, "SalesTaxTotal")), ("InvoiceLineRet",)),
        "customer_id": text(ret, "CustomerRef/ListID"), "customer_name": text(ret, "CustomerRef/FullName"),
        "due_date": text(ret, "DueDate"), "balance": money(ret, "BalanceRemaining"),
        "ar_account_id": text(ret, "ARAccountRef/ListID"), "department_id": None,
        "email_status": _queued(ret, "IsToBeEmailed"), "print_status": _queued(ret, "IsToBePrinted"),
    }


def _queued(ret: Node, path: str) -> str | None:
    """QuickBooks Desktop keeps only the to-be-sent queue, never that a copy went out: a
    document off the queue is "not_pending" (docs/record-model.md)."""
    queued = flag(ret, path)
    return None if queued is None else ("pending" if queued else "not_pending")


def bill(company: str, ret: Node) -> Record:
    return {
        **_txn(company, ret, money(ret, "AmountDue"), ("ExpenseLineRet", "ItemLineRet")),
        "vendor_id": text(ret, "VendorRef/ListID"), "vendor_name": text(ret, "VendorRef/FullName"),
        "due_date": text(ret, "DueDate"), "balance": money(ret, "OpenAmount"),
        "ap_account_id": text(ret, "APAccountRef/ListID"),
        # QuickBooks Desktop has no departments (docs/record-model.md): the column stays empty.
        "department_id": None,
    }


def purchase_order(company: str, ret: Node) -> Record:
    closed = flag(ret, "IsManuallyClosed") or flag(ret, "IsFullyReceived")
    return {
        **_txn(company, ret, money(ret, "TotalAmount"), ("PurchaseOrderLineRet",)),
        "vendor_id": text(ret, "VendorRef/ListID"), "vendor_name": text(ret, "VendorRef/FullName"),
        "due_date": text(ret, "DueDate"), "po_status": "Closed" if closed else "Open",
    }


def journal_entry(company: str, ret: Node) -> Record:
    record = _txn(company, ret, None, ("JournalDebitLine", "JournalCreditLine"))
    record["total_amount"] = _sum(*(
        line["amount"] for line in record["lines"] if line["posting_type"] == "Debit"
    ))
    record["adjustment"] = flag(ret, "IsAdjustment")
    return record


def payment(company: str, ret: Node) -> Record:
    return {
        **_txn(company, ret, money(ret, "TotalAmount"), ()),
        "customer_id": text(ret, "CustomerRef/ListID"), "customer_name": text(ret, "CustomerRef/FullName"),
        "deposit_account_id": text(ret, "DepositToAccountRef/ListID"),
        "unapplied_amount": money(ret, "UnusedPayment"),
        "applied": _applied(ret, "PaymentAmount"),
    }


def bill_payment(company: str, ret: Node) -> Record:
    by_card = ret["_tag"] == "BillPaymentCreditCardRet"
    return {
        **_txn(company, ret, money(ret, "Amount"), ()),
        "vendor_id": text(ret, "PayeeEntityRef/ListID"), "vendor_name": text(ret, "PayeeEntityRef/FullName"),
        "pay_type": "credit_card" if by_card else "check",
        "bank_account_id": text(ret, "CreditCardAccountRef/ListID" if by_card else "BankAccountRef/ListID"),
        "applied": _applied(ret, "Amount"),
    }


def credit_memo(company: str, ret: Node) -> Record:
    return {
        **_txn(company, ret, money(ret, "TotalAmount"), ("CreditMemoLineRet",)),
        "customer_id": text(ret, "CustomerRef/ListID"), "customer_name": text(ret, "CustomerRef/FullName"),
        "balance": money(ret, "CreditRemaining"),
    }


def check(company: str, ret: Node) -> Record:
    return {
        **_txn(company, ret, money(ret, "Amount"), ("ExpenseLineRet", "ItemLineRet")),
        "payee_id": text(ret, "PayeeEntityRef/ListID"), "payee_name": text(ret, "PayeeEntityRef/FullName"),
        "bank_account_id": text(ret, "AccountRef/ListID"),
    }


MAPPERS: dict[str, Callable[[str, Node], Record]] = {
    "accounts": account, "customers": customer, "vendors": vendor, "employees": employee,
    "items": item, "classes": qb_class, "invoices": invoice, "bills": bill,
    "purchase_orders": purchase_order, "journal_entries": journal_entry, "payments": payment,
    "bill_payments": bill_payment, "credit_memos": credit_memo, "checks": check,
}

# Line stream -> (header stream, header key column).
LINE_STREAMS: dict[str, tuple[str, str]] = {
    "invoice_lines": ("invoices", "invoice_id"),
    "bill_lines": ("bills", "bill_id"),
    "purchase_order_lines": ("purchase_orders", "purchase_order_id"),
    "journal_entry_lines": ("journal_entries", "journal_entry_id"),
    "credit_memo_lines": ("credit_memos", "credit_memo_id"),
    "check_lines": ("checks", "check_id"),
}


# Header stream -> (line stream, header key column): the inverse of LINE_STREAMS.
LINES_OF_HEADER: dict[str, tuple[str, str]] = {
    header: (lines, key) for lines, (header, key) in LINE_STREAMS.items()
}


def line_rows(header: Record, header_key: str) -> Iterator[Record]:
    """The denormalised `*_lines` rows of one header (none for a deleted header)."""
    if header.get("_sdc_deleted_at"):
        return
    repeated = {
        "company_id": header["company_id"], "edition": header["edition"], header_key: header["id"],
        "created_at": header.get("created_at"), "doc_number": header.get("doc_number"), "txn_date": header.get("txn_date"),
        "currency": header.get("currency"), "exchange_rate": header.get("exchange_rate"),
        "customer_id": header.get("customer_id"), "vendor_id": header.get("vendor_id"),
        "updated_at": header.get("updated_at"), "sync_token": header.get("sync_token"),
        "edit_sequence": header.get("edit_sequence"), "_sdc_deleted_at": None,
    }
    for line in header.get("lines") or []:
        if line.get("line_id"):
            yield {**repeated, **line}


# --- deletions -----------------------------------------------------------------------

def deleted_stream(ret: Node) -> str | None:
    return STREAM_FOR_DEL_TYPE.get(text(ret, "TxnDelType") or text(ret, "ListDelType") or "")


def deleted_header(company: str, ret: Node) -> Record:
    """A header/list row marking the object deleted; other fields stay null."""
    deleted_at = text(ret, "TimeDeleted")
    return {
        "company_id": company, "edition": EDITION,
        "id": text(ret, "TxnID") or text(ret, "ListID"),
        "created_at": text(ret, "TimeCreated"),
        # The deletion is the object's newest version: targets' guard compares updated_at.
        "updated_at": deleted_at, "sync_token": None, "edit_sequence": None,
        "_sdc_deleted_at": deleted_at,
    }


def deleted_record(company: str, ret: Node) -> Record | None:
    stream = deleted_stream(ret)
    if stream is None:
        return None
    deleted_at = text(ret, "TimeDeleted")
    return {
        "company_id": company, "edition": EDITION, "id": text(ret, "TxnID") or text(ret, "ListID"),
        "entity": text(ret, "TxnDelType") or text(ret, "ListDelType"), "stream": stream,
        "deleted_at": deleted_at, "updated_at": deleted_at,
    }


# --- one object, every stream it feeds -----------------------------------------------

DELETED_RECORDS_STREAM = "deleted_records"


def stream_records(company: str, tag: str, ret: Node) -> list[tuple[str, Record]]:
    """Every (stream, record) one buffered `*Ret` of an entry tagged `tag` produces.

    The one place that says which streams an entry feeds: a header gives its own row and
    then its lines (mapped once), a deletion gives the deleted row of its stream and a
    `deleted_records` row, a list object its one row. The QBWC server maps each response
    with it when the response arrives; a tap run maps with it only entries stored without
    records (by an older version, or one whose mapping differs from the running code's).
    """
    if tag == DELETED_TAG:
        stream = deleted_stream(ret)
        if stream is None:
            return []
        found = [(stream, deleted_header(company, ret))]
        record = deleted_record(company, ret)
        if record is not None:
            found.append((DELETED_RECORDS_STREAM, record))
        return found
    mapper = MAPPERS.get(tag)
    if mapper is None:
        return []
    header = mapper(company, ret)
    found = [(tag, header)]
    lines = LINES_OF_HEADER.get(tag)
    if lines is not None:
        line_stream, key = lines
        found.extend((line_stream, row) for row in line_rows(header, key))
    return found
