"""Which qbXML queries feed which stream (qbXML 13.0, qbxmlops130.xsd)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class QuerySpec:
    """One qbXML query a session runs for a stream."""

    stream: str
    request: str  # e.g. "InvoiceQueryRq"
    kind: str  # "list" (FromModifiedDate) or "txn" (ModifiedDateRangeFilter)
    # Account, Class and Employee queries take no iterator attribute in qbxmlops130.xsd,
    # and MaxReturned without an iterator would silently truncate them.
    iterator: bool = True
    line_items: bool = False

    @property
    def key(self) -> str:
        """Bookmark key: one bookmark per query, so a failed query never moves another."""
        return self.request.removesuffix("QueryRq")


QUERIES: tuple[QuerySpec, ...] = (
    QuerySpec("accounts", "AccountQueryRq", "list", iterator=False),
    QuerySpec("classes", "ClassQueryRq", "list", iterator=False),
    QuerySpec("employees", "EmployeeQueryRq", "list", iterator=False),
    QuerySpec("customers", "CustomerQueryRq", "list"),
    QuerySpec("vendors", "VendorQueryRq", "list"),
    QuerySpec("items", "ItemQueryRq", "list"),
    QuerySpec("invoices", "InvoiceQueryRq", "txn", line_items=True),
    QuerySpec("bills", "BillQueryRq", "txn", line_items=True),
    QuerySpec("purchase_orders", "PurchaseOrderQueryRq", "txn", line_items=True),
    QuerySpec("journal_entries", "JournalEntryQueryRq", "txn", line_items=True),
    QuerySpec("payments", "ReceivePaymentQueryRq", "txn", line_items=True),
    QuerySpec("bill_payments", "BillPaymentCheckQueryRq", "txn", line_items=True),
    QuerySpec("bill_payments", "BillPaymentCreditCardQueryRq", "txn", line_items=True),
    QuerySpec("credit_memos", "CreditMemoQueryRq", "txn", line_items=True),
    QuerySpec("checks", "CheckQueryRq", "txn", line_items=True),
)

# TxnDelType / ListDelType values (qbxmlops130 TxnDeletedQuery / ListDeletedQuery) per stream.
TXN_DEL_TYPES: dict[str, tuple[str, ...]] = {
    "invoices": ("Invoice",),
    "bills": ("Bill",),
    "purchase_orders": ("PurchaseOrder",),
    "journal_entries": ("JournalEntry",),
    "payments": ("ReceivePayment",),
    "bill_payments": ("BillPaymentCheck", "BillPaymentCreditCard"),
    "credit_memos": ("CreditMemo",),
    "checks": ("Check",),
}
ITEM_DEL_TYPES = (
    "ItemDiscount",
    "ItemFixedAsset",
    "ItemGroup",
    "ItemInventory",
    "ItemInventoryAssembly",
    "ItemNonInventory",
    "ItemOtherCharge",
    "ItemPayment",
    "ItemSalesTax",
    "ItemSalesTaxGroup",
    "ItemService",
    "ItemSubtotal",
)
LIST_DEL_TYPES: dict[str, tuple[str, ...]] = {
    "accounts": ("Account",),
    "classes": ("Class",),
    "customers": ("Customer",),
    "employees": ("Employee",),
    "vendors": ("Vendor",),
    "items": ITEM_DEL_TYPES,
}
STREAM_FOR_DEL_TYPE: dict[str, str] = {
    del_type: stream
    for mapping in (TXN_DEL_TYPES, LIST_DEL_TYPES)
    for stream, del_types in mapping.items()
    for del_type in del_types
}
SOURCE_STREAMS: tuple[str, ...] = tuple(dict.fromkeys(q.stream for q in QUERIES))
TXN_DELETED_KEY = "TxnDeleted"
LIST_DELETED_KEY = "ListDeleted"
DELETED_TAG = "deleted"
