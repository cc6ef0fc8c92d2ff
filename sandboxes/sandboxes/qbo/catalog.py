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

# Intuit's ChangeDataCapture reference: "This operation is supported for all objects except
# JournalCode, TimeActivity, TaxAgency, TaxCode, and TaxRate." (The older page also listed
# TimeActivity and TaxAgency as supported; the current one, followed here, does not.)
CDC_REFUSED = frozenset({"JournalCode", "TimeActivity", "TaxAgency", "TaxCode", "TaxRate"})
CDC_ENTITIES = frozenset(set(ALL_ENTITIES) - CDC_REFUSED)

# List entities have an Active flag; inactive ones are hidden from queries unless asked for.
ACTIVE_FLAG_ENTITIES = frozenset({
    "Account", "Class", "CompanyCurrency", "Customer", "CustomerType", "Department", "Employee",
    "Item", "PaymentMethod", "TaxCode", "TaxRate", "Term", "Vendor", "Budget",
})

BY_URL_NAME = {name.lower(): name for name in ALL_ENTITIES}

MIN_MINOR_VERSION = 75
