"""What the sandbox knows about QBO entity types: names, URL spellings, and which ones CDC serves."""

from __future__ import annotations

LIST_ENTITIES = (
    "Account", "Class", "CompanyCurrency", "Customer", "CustomerType", "Department", "Employee",
    "Item", "PaymentMethod", "TaxAgency", "TaxCode", "TaxRate", "Term", "Vendor", "Budget",
)
TRANSACTION_ENTITIES = (
    "Bill", "BillPayment", "CreditMemo", "Deposit", "Estimate", "Invoice", "JournalEntry",
    "Payment", "Purchase", "PurchaseOrder", "RefundReceipt", "SalesReceipt", "TimeActivity",
    "Transfer", "VendorCredit",
)
SINGLETON_ENTITIES = ("CompanyInfo", "Preferences")
OTHER_ENTITIES = ("Attachable",)
ALL_ENTITIES = LIST_ENTITIES + TRANSACTION_ENTITIES + SINGLETON_ENTITIES + OTHER_ENTITIES

# Entities Intuit's Change Data Capture documents (developer.intuit.com, "Change data capture").
CDC_ENTITIES = frozenset({
    "Account", "Bill", "BillPayment", "Budget", "Class", "CreditMemo", "Customer", "Department",
    "Deposit", "Employee", "Estimate", "Invoice", "Item", "JournalCode", "JournalEntry",
    "Payment", "PaymentMethod", "Purchase", "PurchaseOrder", "RefundReceipt", "SalesReceipt",
    "TaxAgency", "Term", "TimeActivity", "Transfer", "Vendor", "VendorCredit",
})

# List entities have an Active flag; inactive ones are hidden from queries unless asked for.
ACTIVE_FLAG_ENTITIES = frozenset({
    "Account", "Class", "CompanyCurrency", "Customer", "CustomerType", "Department", "Employee",
    "Item", "PaymentMethod", "TaxCode", "TaxRate", "Term", "Vendor", "Budget",
})

BY_URL_NAME = {name.lower(): name for name in ALL_ENTITIES}

MIN_MINOR_VERSION = 75
