"""The QuickBooks object types this company holds and how qbXML names them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Family:
    """One queryable object type: ``Customer`` (CustomerQueryRq -> CustomerRet), ``Item``..."""

    name: str
    kinds: tuple[str, ...]  # Ret stems stored under this family (Item has three)
    is_list: bool
    line_elements: tuple[str, ...] = ()  # Ret children that IncludeLineItems governs
    supports_paid_status: bool = False

    @property
    def id_element(self) -> str:
        return "ListID" if self.is_list else "TxnID"


FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        # Account, Employee and Class queries take no iterator in qbXML 13.0: the XSD refuses it.
        Family("Account", ("Account",), True),
        Family("Customer", ("Customer",), True),
        Family("Vendor", ("Vendor",), True),
        Family("Employee", ("Employee",), True),
        Family("Class", ("Class",), True),
        # The standard terms customers' and vendors' TermsRef name (no date-driven terms here).
        Family("StandardTerms", ("StandardTerms",), True),
        Family("Item", ("ItemService", "ItemNonInventory", "ItemInventory", "ItemSalesTax"), True),
        Family("Invoice", ("Invoice",), False, ("InvoiceLineRet",), supports_paid_status=True),
        Family("Bill", ("Bill",), False, ("ExpenseLineRet", "ItemLineRet"), supports_paid_status=True),
        Family("PurchaseOrder", ("PurchaseOrder",), False, ("PurchaseOrderLineRet",)),
        Family("JournalEntry", ("JournalEntry",), False, ("JournalDebitLine", "JournalCreditLine")),
        Family("ReceivePayment", ("ReceivePayment",), False),
        Family("CreditMemo", ("CreditMemo",), False, ("CreditMemoLineRet",)),
        Family("Check", ("Check",), False, ("ExpenseLineRet", "ItemLineRet")),
        Family("BillPaymentCheck", ("BillPaymentCheck",), False),
        Family("BillPaymentCreditCard", ("BillPaymentCreditCard",), False),
    )
}

KIND_TO_FAMILY: dict[str, str] = {kind: f.name for f in FAMILIES.values() for kind in f.kinds}

# Query request element -> (family, kinds it returns).
QUERY_REQUESTS: dict[str, tuple[str, tuple[str, ...]]] = {
    f"{name}QueryRq": (name, fam.kinds) for name, fam in FAMILIES.items()
}
QUERY_REQUESTS.update(
    {f"{kind}QueryRq": ("Item", (kind,)) for kind in FAMILIES["Item"].kinds}
)
# EntityQueryRq answers CustomerRet, EmployeeRet, VendorRet (and OtherNameRet: none here) with the
# same list filters as each of them.
QUERY_REQUESTS["EntityQueryRq"] = ("Customer", ("Customer", "Employee", "Vendor"))
# TermsQueryRq answers StandardTermsRet and DateDrivenTermsRet: this company holds standard terms only.
QUERY_REQUESTS["TermsQueryRq"] = ("StandardTerms", ("StandardTerms",))

# qbXML 13.0 queries for object types this company holds none of: QuickBooks answers them with
# status 1 ("did not find a matching object"), never 1030. Reports and subscriptions are not in
# this list and stay 1030, a limit of this sandbox.
EMPTY_QUERY_REQUESTS = frozenset(f"{name}QueryRq" for name in (
    "Lead", "OtherName", "DateDrivenTerms", "SalesRep", "CustomerType", "VendorType",
    "JobType", "CustomerMsg", "PaymentMethod", "ShipMethod", "ToDo", "ItemOtherCharge", "ItemInventoryAssembly",
    "ItemFixedAsset", "ItemSubtotal", "ItemDiscount", "ItemPayment", "ItemSalesTaxGroup", "ItemGroup",
    "PayrollItemWage", "PayrollItemNonWage", "PriceLevel", "BillingRate", "Vehicle", "UnitOfMeasureSet",
    "WorkersCompCode", "InventorySite", "Estimate", "SalesOrder", "SalesReceipt", "Charge", "ItemReceipt",
    "VendorCredit", "SalesTaxPaymentCheck", "InventoryAdjustment", "TimeTracking", "CreditCardCharge",
    "CreditCardCredit", "Deposit", "BuildAssembly", "ARRefundCreditCard", "VehicleMileage", "TransferInventory",
    "Transfer",
))

# Mod requests the company applies: element -> (family, Mod child, fields it may change).
MOD_REQUESTS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "CustomerModRq": ("Customer", "CustomerMod", (
        "Name", "IsActive", "CompanyName", "FirstName", "LastName", "Phone", "Email", "Notes",
        "AccountNumber",
    )),
    "VendorModRq": ("Vendor", "VendorMod", (
        "Name", "IsActive", "CompanyName", "FirstName", "LastName", "Phone", "Email", "Notes",
        "AccountNumber", "IsVendorEligibleFor1099",
    )),
    "InvoiceModRq": ("Invoice", "InvoiceMod", (
        "TxnDate", "RefNumber", "PONumber", "DueDate", "Memo", "IsToBePrinted", "IsToBeEmailed",
    )),
}

# Kinds whose ListDelType / TxnDelType value is the kind itself (all of ours).
LIST_DEL_TYPES = frozenset(k for f in FAMILIES.values() if f.is_list for k in f.kinds)
TXN_DEL_TYPES = frozenset(k for f in FAMILIES.values() if not f.is_list for k in f.kinds)


def family_of(kind_or_family: str) -> Family:
    name = KIND_TO_FAMILY.get(kind_or_family, kind_or_family)
    try:
        return FAMILIES[name]
    except KeyError:
        raise KeyError(f"unknown QuickBooks object type {kind_or_family!r}") from None
