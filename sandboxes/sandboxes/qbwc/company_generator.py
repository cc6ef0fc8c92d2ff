"""A deterministic QuickBooks company: the same seed and size always give the same file.

Lists: a chart of accounts, classes (one nested), service/non-inventory/inventory items,
customers, vendors, employees (a few inactive). Transactions, by share: invoices 30%, bills 15%,
received payments 20% (each settling an earlier paid invoice), checks 10%, purchase orders 8%,
journal entries 7%, credit memos 5%, bill payments 5% (by check, or one in five by card).
Records are stored as dicts keyed by qbXML 13.0 Ret element names; rendering adds the
ListCore/TxnCore fields and puts every child in schema order. Lists are created in the
company's first month; transactions are spread over two years ending at ``AS_OF`` and about a
third were edited after creation, so TimeModified differs from TimeCreated as in a real,
lived-in file.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, NamedTuple

from .company_kinds import family_of
from .company_store import CompanyStore, NewObject

AS_OF_LOCAL = datetime(2026, 1, 1, 0, 0, 0)
HISTORY_DAYS = 730
CENT = Decimal("0.01")

# (name, AccountType, number)
CHART_OF_ACCOUNTS = (
    ("Checking", "Bank", "1000"),
    ("Savings", "Bank", "1010"),
    ("Accounts Receivable", "AccountsReceivable", "1100"),
    ("Undeposited Funds", "OtherCurrentAsset", "1200"),
    ("Inventory Asset", "OtherCurrentAsset", "1300"),
    ("Accounts Payable", "AccountsPayable", "2000"),
    ("Company Visa", "CreditCard", "2100"),
    ("Sales Tax Payable", "OtherCurrentLiability", "2200"),
    ("Opening Balance Equity", "Equity", "3000"),
    ("Sales", "Income", "4000"),
    ("Services", "Income", "4100"),
    ("Cost of Goods Sold", "CostOfGoodsSold", "5000"),
    ("Rent Expense", "Expense", "6100"),
    ("Utilities", "Expense", "6200"),
    ("Office Supplies", "Expense", "6300"),
    ("Travel", "Expense", "6400"),
    ("Advertising", "Expense", "6500"),
    ("Insurance", "Expense", "6600"),
    ("Professional Fees", "Expense", "6700"),
    ("Other Expenses", "OtherExpense", "8000"),
)
# Records Intuit's sample requests (QBXML_SDK_Samples xmlfiles, e.g. QueryFilterRq.xml) expect in
# the company they run against; holding them lets those samples run unchanged.
SAMPLE_CUSTOMER, SAMPLE_JOB = "Joe Customer", "Equipment Installation"
SALES_TAX_ITEMS = (("State Sales Tax", "6.25"), ("County Sales Tax", "1.75"))
EXPENSE_ACCOUNTS = ("Rent Expense", "Utilities", "Office Supplies", "Travel", "Advertising",
                    "Insurance", "Professional Fees")
ADJECTIVES = ("Blue", "Granite", "Maple", "Summit", "Harbor", "Cedar", "Silver", "Prairie",
              "Golden", "Northern", "Copper", "Willow", "Redwood", "Lakeside", "Iron")
NOUNS = ("Bakery", "Builders", "Consulting", "Dental", "Design", "Farms", "Logistics",
         "Media", "Motors", "Outfitters", "Plumbing", "Printing", "Studio", "Supply", "Tech")
FIRST = ("Ana", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jon",
         "Kara", "Luis", "Mei", "Noah", "Olga", "Priya", "Quinn", "Ravi", "Sara", "Tom")
LAST = ("Alvarez", "Brown", "Chen", "Dubois", "Evans", "Fischer", "Garcia", "Haddad", "Ito",
        "Jensen", "Kowalski", "Lopez", "Murphy", "Nakamura", "Okafor", "Patel", "Rossi")
CITIES = (("Springfield", "IL", "62701"), ("Portland", "OR", "97201"), ("Austin", "TX", "73301"),
          ("Denver", "CO", "80202"), ("Madison", "WI", "53703"), ("Albany", "NY", "12207"))
SERVICES = ("Consulting Hour", "Installation", "Maintenance Visit", "Design Work", "Training")
GOODS = ("Widget", "Gadget", "Bracket", "Cable Kit", "Panel", "Sensor", "Valve", "Fitting")
CLASSES = ("Retail", "Wholesale", "Online", "Region", "Region:East", "Region:West")
# QuickBooks Desktop's standard terms of a new company: (name, due days, discount days, discount %).
STANDARD_TERMS = (("Due on receipt", 0, None, None), ("Net 15", 15, None, None), ("Net 30", 30, None, None),
                  ("1% 10 Net 30", 30, 10, "1.00"), ("Net 60", 60, None, None))


def money(value: Decimal) -> str:
    return str(value.quantize(CENT))


def ref(obj: NewObject) -> dict[str, str]:
    return {"ListID": obj.qb_id, "FullName": obj.name or ""}


class _Settled(NamedTuple):
    qb_id: str
    txn_date: str
    ref_number: str
    party_ref: dict[str, str]
    total: Decimal


class _Ids:
    """QuickBooks-shaped ids: ListIDs ``80000001-1704067200``, TxnIDs ``1A3F-1704067200``."""

    def __init__(self) -> None:
        self.list_counter = 0x80000000
        self.txn_counter = 0

    def list_id(self, epoch: int) -> str:
        self.list_counter += 1
        return f"{self.list_counter:08X}-{epoch}"

    def txn_id(self, epoch: int) -> str:
        self.txn_counter += 1
        return f"{self.txn_counter:X}-{epoch}"


class CompanyGenerator:
    def __init__(self, seed: int, transactions: int, tz: timezone) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.transactions = transactions
        self.tz = tz
        self.as_of = int(AS_OF_LOCAL.replace(tzinfo=tz).timestamp())
        self.start = self.as_of - HISTORY_DAYS * 86400
        self.ids = _Ids()
        self.accounts: dict[str, NewObject] = {}
        self.customers: list[NewObject] = []
        self.vendors: list[NewObject] = []
        self.items: list[NewObject] = []
        self.item_prices: dict[str, Decimal] = {}
        self.classes: list[NewObject] = []
        self.terms: list[NewObject] = []
        # Only what a later payment needs, not whole records: at a million transactions these
        # pools hold a hundred thousand entries.
        self.paid_invoices: list[_Settled] = []
        self.paid_bills: list[_Settled] = []
        self.ref_counter = 1000

    # -- helpers ----------------------------------------------------------------------------
    def _local_date(self, epoch: int) -> str:
        return datetime.fromtimestamp(epoch, self.tz).date().isoformat()

    def _new(self, kind: str, created: int, data: dict[str, Any], *, name: str | None,
             entity_id: str | None = None, active: bool = True) -> NewObject:
        fam = family_of(kind)
        modified = created
        if self.rng.random() < 0.3:
            modified = min(created + self.rng.randint(60, 20 * 86400), self.as_of - 1)
        qb_id = self.ids.list_id(created) if fam.is_list else self.ids.txn_id(created)
        txn_date = None if fam.is_list else self._local_date(created)
        if not fam.is_list:
            data = {"TxnDate": txn_date, **data}
        return NewObject(kind, fam.name, qb_id, name, entity_id, txn_date, active, created,
                         modified, str(modified), data)

    def _amount(self, low: int, high: int) -> Decimal:
        return Decimal(self.rng.randint(low * 100, high * 100)) / 100

    def _address(self, street_no: int) -> dict[str, str]:
        city, state, postal = self.rng.choice(CITIES)
        return {"Addr1": f"{street_no} {self.rng.choice(ADJECTIVES)} St", "City": city,
                "State": state, "PostalCode": postal, "Country": "US"}

    def _take(self, pool: list[_Settled]) -> _Settled:
        """Remove a random entry in O(1) (swap with the last), deterministically."""
        index = self.rng.randrange(len(pool))
        chosen = pool[index]
        pool[index] = pool[-1]
        pool.pop()
        return chosen

    def _line_id(self, epoch: int) -> str:
        return self.ids.txn_id(epoch)

    def _ref_number(self) -> str:
        self.ref_counter += 1
        return str(self.ref_counter)

    # -- lists ------------------------------------------------------------------------------
    def lists(self) -> Iterator[NewObject]:
        yield from self._standard_terms(self.start - 3600)
        t = self.start
        for name, acct_type, number in CHART_OF_ACCOUNTS:
            t += 60
            obj = self._new("Account", t, {
                "Name": name, "FullName": name, "IsActive": True, "Sublevel": "0",
                "AccountType": acct_type, "AccountNumber": number, "Desc": f"{name} ({number})",
                "Balance": "0.00", "TotalBalance": "0.00",
            }, name=name)
            self.accounts[name] = obj
            yield obj
        for index, full in enumerate(CLASSES):
            t += 60
            leaf = full.split(":")[-1]
            data: dict[str, Any] = {"Name": leaf, "FullName": full, "IsActive": True}
            if ":" in full:
                parent = next(c for c in self.classes if c.name == full.split(":")[0])
                data["ParentRef"] = ref(parent)
            data["Sublevel"] = str(full.count(":"))
            obj = self._new("Class", t, data, name=full, active=index != 2 or self.transactions < 50)
            obj.data["IsActive"] = obj.is_active
            self.classes.append(obj)
            yield obj
        yield from self._items(t)
        t += 3600
        n_customers = max(10, self.transactions // 20)
        for i in range(n_customers):
            t += 7
            first, last = self.rng.choice(FIRST), self.rng.choice(LAST)
            company = f"{self.rng.choice(ADJECTIVES)} {self.rng.choice(NOUNS)} {i + 1}"
            active = self.rng.random() > 0.05
            obj = self._new("Customer", t, {
                "Name": company, "FullName": company, "IsActive": active, "Sublevel": "0",
                "CompanyName": company, "FirstName": first, "LastName": last,
                "BillAddress": self._address(i + 1),
                "Phone": f"555-{self.rng.randint(100, 999)}-{self.rng.randint(1000, 9999)}",
                "Email": f"{first.lower()}.{last.lower()}{i + 1}@example.com",
                "Balance": "0.00", "TotalBalance": "0.00", "AccountNumber": f"C{i + 1:06d}",
                **self._terms_of(i),
            }, name=company, active=active)
            self.customers.append(obj)
            yield obj
        n_vendors = max(5, self.transactions // 50)
        for i in range(n_vendors):
            t += 7
            first, last = self.rng.choice(FIRST), self.rng.choice(LAST)
            company = f"{self.rng.choice(NOUNS)} Wholesale {i + 1}"
            active = self.rng.random() > 0.05
            obj = self._new("Vendor", t, {
                "Name": company, "IsActive": active, "CompanyName": company,
                "FirstName": first, "LastName": last, "VendorAddress": self._address(100 + i),
                "Phone": f"555-{self.rng.randint(100, 999)}-{self.rng.randint(1000, 9999)}",
                "Email": f"ap{i + 1}@vendor{i + 1}.example.com", "NameOnCheck": company,
                "AccountNumber": f"V{i + 1:06d}",
                "IsVendorEligibleFor1099": self.rng.random() < 0.3, "Balance": "0.00",
                **self._terms_of(i + 3),
            }, name=company, active=active)
            self.vendors.append(obj)
            yield obj
        yield from self._sample_records(t)
        yield from self._sales_tax_items(t + 3600)
        for i in range(min(200, max(3, self.transactions // 200))):
            t += 7
            first, last = self.rng.choice(FIRST), self.rng.choice(LAST)
            name = f"{first} {last} {i + 1}"
            active = self.rng.random() > 0.1
            data = {"Name": name, "IsActive": active, "FirstName": first, "LastName": last,
                    "Phone": f"555-{self.rng.randint(100, 999)}-{self.rng.randint(1000, 9999)}",
                    "Email": f"{first.lower()}{i + 1}@sandbox-company.example.com",
                    "HiredDate": self._local_date(self.start - self.rng.randint(30, 3000) * 86400)}
            if not active:
                data["ReleasedDate"] = self._local_date(self.start + self.rng.randint(30, 300) * 86400)
            yield self._new("Employee", t, data, name=name, active=active)

    def _standard_terms(self, t: int) -> Iterator[NewObject]:
        """The terms QuickBooks creates with the company, never edited since (no draw on the
        random generator: the rest of the company stays as it was generated before terms)."""
        for index, (name, due, discount_days, discount) in enumerate(STANDARD_TERMS):
            created = t + index
            data: dict[str, Any] = {"Name": name, "IsActive": True, "StdDueDays": str(due)}
            if discount_days is not None:
                data.update({"StdDiscountDays": str(discount_days), "DiscountPct": discount})
            obj = NewObject("StandardTerms", "StandardTerms", self.ids.list_id(created), name, None, None, True,
                            created, created, str(created), data)
            self.terms.append(obj)
            yield obj

    def _terms_of(self, index: int) -> dict[str, Any]:
        """Every seventh customer or vendor has no terms; the others cycle through the list."""
        if index % 7 == 6:
            return {}
        return {"TermsRef": ref(self.terms[index % len(self.terms)])}

    def _sample_records(self, t: int) -> Iterator[NewObject]:
        parent = self._new("Customer", t + 1, {
            "Name": SAMPLE_CUSTOMER, "FullName": SAMPLE_CUSTOMER, "IsActive": True, "Sublevel": "0",
            "FirstName": "Joe", "LastName": "Customer", "Balance": "0.00", "TotalBalance": "0.00",
        }, name=SAMPLE_CUSTOMER)
        yield parent
        job = f"{SAMPLE_CUSTOMER}:{SAMPLE_JOB}"
        yield self._new("Customer", t + 2, {
            "Name": SAMPLE_JOB, "FullName": job, "IsActive": True, "ParentRef": ref(parent), "Sublevel": "1",
            "Balance": "0.00", "TotalBalance": "0.00",
        }, name=job)

    def _sales_tax_items(self, t: int) -> Iterator[NewObject]:
        agency = self.vendors[0]
        for index, (name, rate) in enumerate(SALES_TAX_ITEMS):
            yield self._new("ItemSalesTax", t + index, {
                "Name": name, "IsActive": True, "ItemDesc": f"{name} ({rate}%)", "TaxRate": rate,
                "TaxVendorRef": ref(agency),
            }, name=name)

    def _items(self, t: int) -> Iterator[NewObject]:
        n_items = min(2000, max(10, self.transactions // 100))
        income = ref(self.accounts["Sales"])
        services = ref(self.accounts["Services"])
        for i in range(n_items):
            t += 30
            kind = ("ItemService", "ItemNonInventory", "ItemInventory")[i % 3]
            base = SERVICES[i % len(SERVICES)] if kind == "ItemService" else GOODS[i % len(GOODS)]
            name = f"{base} {i + 1}"
            price = self._amount(5, 400)
            cost = (price * Decimal("0.6")).quantize(CENT)
            data: dict[str, Any] = {"Name": name, "FullName": name, "IsActive": True, "Sublevel": "0"}
            if kind == "ItemService":
                data["SalesOrPurchase"] = {"Desc": name, "Price": money(price), "AccountRef": services}
            elif kind == "ItemNonInventory":
                data["SalesAndPurchase"] = {
                    "SalesDesc": name, "SalesPrice": money(price), "IncomeAccountRef": income,
                    "PurchaseDesc": name, "PurchaseCost": money(cost),
                    "ExpenseAccountRef": ref(self.accounts["Office Supplies"]),
                }
            else:
                data.update({
                    "SalesDesc": name, "SalesPrice": money(price), "IncomeAccountRef": income,
                    "PurchaseDesc": name, "PurchaseCost": money(cost),
                    "COGSAccountRef": ref(self.accounts["Cost of Goods Sold"]),
                    "AssetAccountRef": ref(self.accounts["Inventory Asset"]),
                    "QuantityOnHand": str(self.rng.randint(0, 500)), "AverageCost": money(cost),
                })
            obj = self._new(kind, t, data, name=name)
            self.item_prices[obj.qb_id] = price
            self.items.append(obj)
            yield obj

    # -- transactions -----------------------------------------------------------------------
    def transactions_iter(self) -> Iterator[NewObject]:
        first = self.start + 31 * 86400
        span = self.as_of - first - 86400
        makers = (
            (0.30, self._invoice), (0.15, self._bill), (0.08, self._purchase_order),
            (0.07, self._journal_entry), (0.20, self._payment), (0.05, self._credit_memo),
            (0.10, self._check), (0.05, self._bill_payment),
        )
        for i in range(self.transactions):
            created = first + (span * i) // max(1, self.transactions) + self.rng.randint(0, 59)
            pick = self.rng.random()
            chosen = makers[-1][1]
            for weight, maker in makers:
                if pick < weight:
                    chosen = maker
                    break
                pick -= weight
            yield chosen(created)

    def _item_lines(self, created: int, element: str, *, rate_field: str) -> tuple[list[dict[str, Any]], Decimal]:
        lines, total = [], Decimal(0)
        for _ in range(self.rng.randint(1, 4)):
            item = self.rng.choice(self.items)
            qty = self.rng.randint(1, 12)
            rate = self.item_prices[item.qb_id]
            amount = (rate * qty).quantize(CENT)
            total += amount
            line: dict[str, Any] = {"TxnLineID": self._line_id(created), "ItemRef": ref(item),
                                    "Desc": item.name, "Quantity": str(qty)}
            line[rate_field] = money(rate)
            if element != "ItemLineRet":
                line["ClassRef"] = ref(self.rng.choice(self.classes))
            line["Amount"] = money(amount)
            lines.append(line)
        return lines, total

    def _invoice(self, created: int) -> NewObject:
        customer = self.rng.choice(self.customers)
        lines, total = self._item_lines(created, "InvoiceLineRet", rate_field="Rate")
        paid = self.rng.random() < 0.6
        due = self._local_date(created + 30 * 86400)
        obj = self._new("Invoice", created, {
            "CustomerRef": ref(customer), "ARAccountRef": ref(self.accounts["Accounts Receivable"]),
            "RefNumber": self._ref_number(), "BillAddress": customer.data["BillAddress"],
            "IsPending": False, "DueDate": due, "Subtotal": money(total),
            "SalesTaxPercentage": "0.00", "SalesTaxTotal": "0.00",
            "AppliedAmount": money(-total if paid else Decimal(0)),
            "BalanceRemaining": money(Decimal(0) if paid else total),
            "Memo": f"Invoice for {customer.name}", "IsPaid": paid, "IsToBePrinted": False,
            "IsToBeEmailed": False, "InvoiceLineRet": lines,
        }, name=None, entity_id=customer.qb_id)
        obj.name = obj.data["RefNumber"]
        if paid:
            self.paid_invoices.append(_Settled(obj.qb_id, obj.txn_date or "", obj.data["RefNumber"],
                                               obj.data["CustomerRef"], total))
        return obj

    def _bill(self, created: int) -> NewObject:
        vendor = self.rng.choice(self.vendors)
        expense_lines, total = [], Decimal(0)
        for _ in range(self.rng.randint(1, 3)):
            amount = self._amount(20, 2000)
            total += amount
            expense_lines.append({
                "TxnLineID": self._line_id(created),
                "AccountRef": ref(self.accounts[self.rng.choice(EXPENSE_ACCOUNTS)]),
                "Amount": money(amount), "Memo": "Expense",
            })
        item_lines, item_total = self._item_lines(created, "ItemLineRet", rate_field="Cost")
        if self.rng.random() < 0.3:
            item_lines[0]["CustomerRef"] = ref(self.rng.choice(self.customers))
        total += item_total
        paid = self.rng.random() < 0.5
        obj = self._new("Bill", created, {
            "VendorRef": ref(vendor), "APAccountRef": ref(self.accounts["Accounts Payable"]),
            "DueDate": self._local_date(created + 30 * 86400), "AmountDue": money(total),
            "RefNumber": f"B{self._ref_number()}", "Memo": f"Bill from {vendor.name}",
            "IsPaid": paid, "ExpenseLineRet": expense_lines, "ItemLineRet": item_lines,
            "OpenAmount": money(Decimal(0) if paid else total),
        }, name=None, entity_id=vendor.qb_id)
        obj.name = obj.data["RefNumber"]
        if paid:
            self.paid_bills.append(_Settled(obj.qb_id, obj.txn_date or "", obj.data["RefNumber"],
                                            obj.data["VendorRef"], total))
        return obj

    def _purchase_order(self, created: int) -> NewObject:
        vendor = self.rng.choice(self.vendors)
        lines, total = self._item_lines(created, "PurchaseOrderLineRet", rate_field="Rate")
        received = self.rng.random() < 0.5
        for line in lines:
            line["ReceivedQuantity"] = line["Quantity"] if received else "0"
            line["IsManuallyClosed"] = False
        obj = self._new("PurchaseOrder", created, {
            "VendorRef": ref(vendor), "RefNumber": f"P{self._ref_number()}",
            "VendorAddress": vendor.data["VendorAddress"],
            "DueDate": self._local_date(created + 14 * 86400),
            "ExpectedDate": self._local_date(created + 10 * 86400), "TotalAmount": money(total),
            "IsManuallyClosed": False, "IsFullyReceived": received,
            "Memo": f"PO to {vendor.name}", "IsToBePrinted": False, "IsToBeEmailed": False,
            "PurchaseOrderLineRet": lines,
        }, name=None, entity_id=vendor.qb_id)
        obj.name = obj.data["RefNumber"]
        return obj

    def _journal_entry(self, created: int) -> NewObject:
        amount = self._amount(50, 5000)
        debit_account, credit_account = self.rng.sample(list(self.accounts.values()), 2)
        split = (amount * Decimal(self.rng.randint(20, 80)) / 100).quantize(CENT)
        debit = [{"TxnLineID": self._line_id(created), "AccountRef": ref(debit_account),
                  "Amount": money(amount), "Memo": "Adjustment debit"}]
        credit = [
            {"TxnLineID": self._line_id(created), "AccountRef": ref(credit_account),
             "Amount": money(split), "Memo": "Adjustment credit"},
            {"TxnLineID": self._line_id(created), "AccountRef": ref(self.accounts["Opening Balance Equity"]),
             "Amount": money(amount - split), "Memo": "Adjustment credit",
             "EntityRef": ref(self.rng.choice(self.customers))},
        ]
        obj = self._new("JournalEntry", created, {
            "RefNumber": f"J{self._ref_number()}", "Memo": "Month-end adjustment",
            "IsAdjustment": self.rng.random() < 0.2, "JournalDebitLine": debit,
            "JournalCreditLine": credit,
        }, name=None)
        obj.name = obj.data["RefNumber"]
        return obj

    def _payment(self, created: int) -> NewObject:
        applied: list[dict[str, Any]] = []
        if self.paid_invoices:
            invoice = self._take(self.paid_invoices)
            customer_ref, amount = invoice.party_ref, invoice.total
            applied.append({"TxnID": invoice.qb_id, "TxnType": "Invoice", "TxnDate": invoice.txn_date,
                            "RefNumber": invoice.ref_number, "BalanceRemaining": "0.00",
                            "Amount": money(amount)})
            unused = Decimal(0)
        else:
            customer_ref = ref(self.rng.choice(self.customers))
            amount = self._amount(10, 1000)
            unused = amount
        obj = self._new("ReceivePayment", created, {
            "CustomerRef": customer_ref, "ARAccountRef": ref(self.accounts["Accounts Receivable"]),
            "RefNumber": f"R{self._ref_number()}", "TotalAmount": money(amount),
            "Memo": "Payment received", "DepositToAccountRef": ref(self.accounts["Undeposited Funds"]),
            "UnusedPayment": money(unused), "UnusedCredits": "0.00", "AppliedToTxnRet": applied,
        }, name=None, entity_id=customer_ref["ListID"])
        obj.name = obj.data["RefNumber"]
        return obj

    def _credit_memo(self, created: int) -> NewObject:
        customer = self.rng.choice(self.customers)
        lines, total = self._item_lines(created, "CreditMemoLineRet", rate_field="Rate")
        obj = self._new("CreditMemo", created, {
            "CustomerRef": ref(customer), "ARAccountRef": ref(self.accounts["Accounts Receivable"]),
            "RefNumber": f"M{self._ref_number()}", "IsPending": False, "Subtotal": money(total),
            "SalesTaxPercentage": "0.00", "SalesTaxTotal": "0.00", "TotalAmount": money(total),
            "CreditRemaining": money(total), "Memo": "Returned goods",
            "CreditMemoLineRet": lines,
        }, name=None, entity_id=customer.qb_id)
        obj.name = obj.data["RefNumber"]
        return obj

    def _bill_payment(self, created: int) -> NewObject:
        """A paid bill's payment: by check from Checking, or (one in five) by company card."""
        by_card = self.rng.random() < 0.2
        applied: list[dict[str, Any]] = []
        if self.paid_bills:
            bill = self._take(self.paid_bills)
            vendor_ref, amount = bill.party_ref, bill.total
            applied.append({"TxnID": bill.qb_id, "TxnType": "Bill", "TxnDate": bill.txn_date,
                            "RefNumber": bill.ref_number, "BalanceRemaining": "0.00",
                            "Amount": money(amount)})
        else:
            vendor_ref = ref(self.rng.choice(self.vendors))
            amount = self._amount(20, 2000)
        kind = "BillPaymentCreditCard" if by_card else "BillPaymentCheck"
        data: dict[str, Any] = {
            "PayeeEntityRef": vendor_ref, "APAccountRef": ref(self.accounts["Accounts Payable"]),
            "Amount": money(amount), "RefNumber": self._ref_number(), "Memo": "Bill payment",
            "AppliedToTxnRet": applied,
        }
        if by_card:
            data["CreditCardAccountRef"] = ref(self.accounts["Company Visa"])
        else:
            data["BankAccountRef"] = ref(self.accounts["Checking"])
            data["IsToBePrinted"] = False
        obj = self._new(kind, created, data, name=None, entity_id=vendor_ref["ListID"])
        obj.name = obj.data["RefNumber"]
        return obj

    def _check(self, created: int) -> NewObject:
        vendor = self.rng.choice(self.vendors)
        amount = self._amount(20, 3000)
        obj = self._new("Check", created, {
            "AccountRef": ref(self.accounts["Checking"]), "PayeeEntityRef": ref(vendor),
            "RefNumber": self._ref_number(), "TxnDate": self._local_date(created),
            "Amount": money(amount), "Memo": f"Check to {vendor.name}", "IsToBePrinted": False,
            "ExpenseLineRet": [{
                "TxnLineID": self._line_id(created),
                "AccountRef": ref(self.accounts[self.rng.choice(EXPENSE_ACCOUNTS)]),
                "Amount": money(amount), "Memo": "Paid by check",
            }],
        }, name=None, entity_id=vendor.qb_id)
        obj.name = obj.data["RefNumber"]
        return obj


def populate(store: CompanyStore, seed: int, transactions: int, tz: timezone) -> None:
    gen = CompanyGenerator(seed, transactions, tz)
    store.insert_many(gen.lists())
    batch: list[NewObject] = []
    for obj in gen.transactions_iter():
        batch.append(obj)
        if len(batch) >= 5000:
            store.insert_many(batch)
            batch = []
    store.insert_many(batch)
    store.set_meta({
        "seed": str(seed), "transactions": str(transactions),
        "list_counter": str(gen.ids.list_counter), "txn_counter": str(gen.ids.txn_counter),
        "ref_counter": str(gen.ref_counter), "as_of": str(gen.as_of),
        "company_name": f"Sandbox Company {seed}",
    })
