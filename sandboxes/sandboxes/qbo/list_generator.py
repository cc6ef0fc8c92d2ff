"""List records of the generated company: chart of accounts, terms, tax, items, people, budget."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from . import clock
from . import company_lists as cl
from .generator_base import GeneratorBase, Obj, Party, amount, ref
from .ledger import ItemAccounts


class ListGenerator(GeneratorBase):
    def list_meta(self, base_s: int) -> Obj:
        rng = self.rng
        updated = base_s
        if rng.random() < 0.3:
            updated = rng.randint(base_s, self.end_s)
        return self.meta(base_s, updated)

    def make_lists(self, t: int) -> None:
        currencies = ["USD"] + ([c for c, _, _ in cl.FOREIGN_CURRENCIES] if self.multicurrency else [])
        self.emit_company_info(t)
        self.emit_preferences(t)
        for code, name, _ in cl.FOREIGN_CURRENCIES if self.multicurrency else ():
            cid = self.new_id("CompanyCurrency")
            self.emit("CompanyCurrency", {"Id": str(cid), "SyncToken": "0", "MetaData": self.meta(t),
                                          "Code": code, "Name": name, "Active": True})
        for key, name, acct_type, sub_type, classification, number in cl.CHART:
            self.emit_account(t, key, name, acct_type, sub_type, classification, number, "USD", key not in cl.INACTIVE_ACCOUNTS)
        self.ar["USD"] = self.accounts["ar"]
        self.ap["USD"] = self.accounts["ap"]
        for code in currencies[1:]:
            self.ar[code] = self.emit_account(t, f"ar_{code}", f"Accounts Receivable (A/R) - {code}", "Accounts Receivable", "AccountsReceivable", "Asset", None, code, True)
            self.ap[code] = self.emit_account(t, f"ap_{code}", f"Accounts Payable (A/P) - {code}", "Accounts Payable", "AccountsPayable", "Liability", None, code, True)
        for name, days in cl.TERMS:
            tid = self.new_id("Term")
            self.terms[tid] = days
            self.emit("Term", {"Id": str(tid), "SyncToken": "0", "MetaData": self.meta(t), "Name": name,
                               "Active": True, "Type": "STANDARD", "DueDays": days})
        for name, kind in cl.PAYMENT_METHODS:
            pid = self.new_id("PaymentMethod")
            self.payment_methods.append((pid, name))
            self.emit("PaymentMethod", {"Id": str(pid), "SyncToken": "0", "MetaData": self.meta(t),
                                        "Name": name, "Active": True, "Type": kind})
        for index, name in enumerate(cl.CLASSES):
            cid = self.new_id("Class")
            active = index < len(cl.CLASSES) - 1
            if active:
                self.classes.append((cid, name))
            self.emit("Class", {"Id": str(cid), "SyncToken": "0", "MetaData": self.list_meta(t), "Name": name,
                                "SubClass": False, "FullyQualifiedName": name, "Active": active})
        for name in cl.DEPARTMENTS:
            did = self.new_id("Department")
            self.departments.append((did, name))
            self.emit("Department", {"Id": str(did), "SyncToken": "0", "MetaData": self.meta(t), "Name": name,
                                     "SubDepartment": False, "FullyQualifiedName": name, "Active": True})
        for name in cl.CUSTOMER_TYPES:
            ctid = self.new_id("CustomerType")
            self.emit("CustomerType", {"Id": str(ctid), "SyncToken": "0", "MetaData": self.meta(t), "Name": name, "Active": True})
        self.make_tax(t)
        self.make_items(t, max(6, min(2000, self.n // 60)))
        self.make_customers(t, max(5, min(20000, self.n // 15)), currencies)
        self.make_vendors(t, max(4, min(10000, self.n // 25)), currencies)
        self.make_employees(t, max(3, min(500, self.n // 300)))
        self.make_budget(t)

    def emit_company_info(self, t: int) -> None:
        city, region, postal = cl.CITIES[0]
        addr = {"Id": "1", "Line1": "2500 Garcia Ave", "City": city, "CountrySubDivisionCode": region, "PostalCode": postal, "Country": "US"}
        self.emit("CompanyInfo", {
            "Id": "1", "SyncToken": "0", "MetaData": self.meta(t), "CompanyName": self.company_name,
            "LegalName": self.company_name, "CompanyAddr": addr, "CustomerCommunicationAddr": addr,
            "LegalAddr": addr, "PrimaryPhone": {"FreeFormNumber": "(650) 555-0100"},
            "CompanyStartDate": self.date_of(t), "FiscalYearStartMonth": "January", "Country": "US",
            "Email": {"Address": "owner@example.com"}, "WebAddr": {"URI": "https://example.com"},
            "SupportedLanguages": "en", "NameValue": [{"Name": "SubscriptionStatus", "Value": "PAID"}],
        })

    def emit_preferences(self, t: int) -> None:
        self.emit("Preferences", {
            "Id": "1", "SyncToken": "0", "MetaData": self.meta(t),
            "AccountingInfoPrefs": {"TrackDepartments": True, "DepartmentTerminology": "Location",
                                    "ClassTrackingPerTxn": True, "CustomerTerminology": "Customers"},
            "SalesFormsPrefs": {"AllowDeposit": True, "AllowDiscount": True, "DefaultTerms": ref(3)},
            "CurrencyPrefs": {"MultiCurrencyEnabled": self.multicurrency, "HomeCurrency": ref("USD")},
            "TaxPrefs": {"UsingSalesTax": True},
        })

    def emit_account(self, t: int, key: str, name: str, acct_type: str, sub_type: str,
                     classification: str, number: str | None, currency: str, active: bool) -> int:
        aid = self.new_id("Account")
        self.accounts[key] = aid
        self.account_names[aid] = name
        obj: Obj = {
            "Id": str(aid), "SyncToken": "0", "MetaData": self.list_meta(t), "Name": name, "SubAccount": False,
            "FullyQualifiedName": name, "Active": active, "Classification": classification,
            "AccountType": acct_type, "AccountSubType": sub_type, "CurrentBalance": Decimal("0.00"),
            "CurrentBalanceWithSubAccounts": Decimal("0.00"), "CurrencyRef": ref(currency),
        }
        if number:
            obj["AcctNum"] = number
        self.emit("Account", obj)
        return aid

    def make_tax(self, t: int) -> None:
        agency = self.new_id("TaxAgency")
        self.emit("TaxAgency", {"Id": str(agency), "SyncToken": "0", "MetaData": self.meta(t),
                                "DisplayName": "California Department of Tax and Fee Administration",
                                "TaxTrackedOnSales": True, "TaxTrackedOnPurchases": False})
        rates = []
        for name, pct in (("California", "7.25"), ("San Mateo County", "0.25"), ("Mountain View", "1.75")):
            rid = self.new_id("TaxRate")
            rates.append((rid, name))
            self.emit("TaxRate", {"Id": str(rid), "SyncToken": "0", "MetaData": self.meta(t), "Name": name,
                                  "Description": f"{name} sales tax", "Active": True, "RateValue": Decimal(pct),
                                  "AgencyRef": ref(agency), "SpecialTaxType": "NONE", "DisplayType": "ReadOnly"})
        for name, taxable in (("California", True), ("Out of state", False)):
            tid = self.new_id("TaxCode")
            detail = {"TaxRateDetail": [{"TaxRateRef": ref(rid, rname), "TaxTypeApplicable": "TaxOnAmount", "TaxOrder": 0}
                                        for rid, rname in (rates if taxable else rates[:1])]}
            self.emit("TaxCode", {"Id": str(tid), "SyncToken": "0", "MetaData": self.meta(t), "Name": name,
                                  "Description": name, "Active": True, "Taxable": taxable, "TaxGroup": True,
                                  "SalesTaxRateList": detail, "PurchaseTaxRateList": {"TaxRateDetail": []}})

    def make_items(self, t: int, count: int) -> None:
        rng = self.rng
        for index in range(count):
            iid = self.new_id("Item")
            kind = ("Service", "Inventory", "NonInventory")[index % 3]
            base = (cl.SERVICE_ITEMS if kind == "Service" else cl.PRODUCT_ITEMS)[(index // 3) % 10]
            name = base if index < 30 else f"{base} {index}"
            price = amount(rng, 5, 400)
            cost = (price * Decimal("0.55")).quantize(Decimal("0.01"))
            income = self.accounts["services" if kind == "Service" else "sales"]
            obj: Obj = {
                "Id": str(iid), "SyncToken": "0", "MetaData": self.list_meta(t), "Name": name,
                "Description": f"{name} ({kind.lower()})", "Active": index % 25 != 24,
                "FullyQualifiedName": name, "Taxable": kind != "Service", "UnitPrice": price,
                "Type": kind, "IncomeAccountRef": ref(income, self.account_names[income]),
                "PurchaseCost": cost, "TrackQtyOnHand": kind == "Inventory", "Sku": f"SKU-{iid:05d}",
            }
            asset = None
            expense = self.accounts["cogs"]
            obj["ExpenseAccountRef"] = ref(expense, self.account_names[expense])
            if kind == "Inventory":
                asset = self.accounts["inventory"]
                obj["AssetAccountRef"] = ref(asset, self.account_names[asset])
                obj["QtyOnHand"] = Decimal(rng.randint(0, 500))
                obj["InvStartDate"] = self.date_of(t)
            self.item_accounts[iid] = ItemAccounts(income, expense, asset, cost if asset else Decimal(0))
            if obj["Active"]:
                self.items.append((iid, name, kind, price, cost))
            self.emit("Item", obj)

    def make_customers(self, t: int, count: int, currencies: list[str]) -> None:
        rng = self.rng
        term_ids = list(self.terms)
        for index in range(count):
            cid = self.new_id("Customer")
            given, family = self.person()
            company = f"{rng.choice(cl.COMPANY_WORDS)} {rng.choice(cl.COMPANY_SUFFIXES)}"
            display = f"{company} #{cid}" if index % 2 else f"{given} {family} #{cid}"
            currency = rng.choice(currencies[1:]) if len(currencies) > 1 and rng.random() < 0.1 else "USD"
            term = rng.choice(term_ids)
            active = index % 12 != 11
            obj: Obj = {
                "Id": str(cid), "SyncToken": str(rng.randint(0, 2)), "MetaData": self.list_meta(t),
                "GivenName": given, "FamilyName": family, "FullyQualifiedName": display,
                "CompanyName": company, "DisplayName": display, "PrintOnCheckName": display,
                "Active": active, "PrimaryPhone": {"FreeFormNumber": f"(555) {rng.randint(200, 999)}-{rng.randint(1000, 9999)}"},
                "PrimaryEmailAddr": {"Address": f"{given.lower()}.{family.lower()}{cid}@example.com"},
                "Taxable": rng.random() < 0.5, "BillAddr": {"Id": str(1000 + cid), **self.address()},
                "Job": False, "BillWithParent": False, "SalesTermRef": ref(term),
                "Balance": Decimal("0.00"), "BalanceWithJobs": Decimal("0.00"),
                "CurrencyRef": ref(currency), "PreferredDeliveryMethod": "Print",
                "CustomerTypeRef": ref(rng.randint(1, len(cl.CUSTOMER_TYPES))),
            }
            if index % 10 == 9 and self.customers:
                parent = self.customers[-1]
                if parent.currency == currency:
                    obj.update({"Job": True, "ParentRef": ref(parent.id), "Level": 1,
                                "FullyQualifiedName": f"{parent.name}:{display}"})
            self.emit("Customer", obj)
            party = Party(cid, display, currency, self.terms[term])
            if active:
                self.customers.append(party)
            self.customer_objs[cid] = party

    def make_vendors(self, t: int, count: int, currencies: list[str]) -> None:
        rng = self.rng
        term_ids = list(self.terms)
        for index in range(count):
            vid = self.new_id("Vendor")
            given, family = self.person()
            company = f"{rng.choice(cl.COMPANY_WORDS)} {rng.choice(cl.COMPANY_SUFFIXES)}"
            display = f"{company} #{vid}"
            currency = rng.choice(currencies[1:]) if len(currencies) > 1 and rng.random() < 0.1 else "USD"
            term = rng.choice(term_ids)
            active = index % 15 != 14
            obj: Obj = {
                "Id": str(vid), "SyncToken": str(rng.randint(0, 2)), "MetaData": self.list_meta(t),
                "GivenName": given, "FamilyName": family, "CompanyName": company, "DisplayName": display,
                "PrintOnCheckName": company, "Active": active, "Vendor1099": rng.random() < 0.2,
                "PrimaryPhone": {"FreeFormNumber": f"(555) {rng.randint(200, 999)}-{rng.randint(1000, 9999)}"},
                "PrimaryEmailAddr": {"Address": f"ap{vid}@example.net"}, "BillAddr": {"Id": str(5000 + vid), **self.address()},
                "TermRef": ref(term), "AcctNum": f"V-{vid:05d}", "Balance": Decimal("0.00"),
                "CurrencyRef": ref(currency),
            }
            self.emit("Vendor", obj)
            party = Party(vid, display, currency, self.terms[term])
            if active:
                self.vendors.append(party)
            self.vendor_objs[vid] = party

    def make_employees(self, t: int, count: int) -> None:
        rng = self.rng
        for index in range(count):
            eid = self.new_id("Employee")
            given, family = self.person()
            display = f"{given} {family}"
            active = index % 7 != 6
            obj: Obj = {
                "Id": str(eid), "SyncToken": "0", "MetaData": self.list_meta(t), "GivenName": given,
                "FamilyName": family, "DisplayName": display, "PrintOnCheckName": display, "Active": active,
                "PrimaryPhone": {"FreeFormNumber": f"(555) 010-{1000 + eid}"},
                "PrimaryEmailAddr": {"Address": f"{given.lower()}.{family.lower()}@example.com"},
                "PrimaryAddr": self.address(), "EmployeeNumber": f"E{eid:04d}", "BillableTime": rng.random() < 0.5,
                "HiredDate": self.date_of(t - rng.randint(30, 2000) * 86400),
            }
            if not active:
                obj["ReleasedDate"] = self.date_of(t)
            self.emit("Employee", obj)
            if active:
                self.employees.append((eid, display))

    def make_budget(self, t: int) -> None:
        year = clock.local_date(self.end_s, self.tz).year
        details = []
        for key in cl.EXPENSE_KEYS[:4]:
            aid = self.accounts[key]
            for month in range(1, 13):
                details.append({"BudgetDate": date(year, month, 1).isoformat(), "Amount": Decimal("1500.00"),
                                "AccountRef": ref(aid, self.account_names[aid])})
        bid = self.new_id("Budget")
        self.emit("Budget", {"Id": str(bid), "SyncToken": "0", "MetaData": self.meta(t), "Name": f"FY{year} Operating",
                             "StartDate": f"{year}-01-01", "EndDate": f"{year}-12-31", "BudgetType": "ProfitAndLoss",
                             "BudgetEntryType": "Monthly", "Active": True, "BudgetDetail": details})

    def make_opening_balance(self, t: int) -> None:
        je = self.new_id("JournalEntry")
        lines = [
            self.je_line(1, Decimal("50000.00"), "Debit", self.accounts["checking"], "Opening balance"),
            self.je_line(2, Decimal("50000.00"), "Credit", self.accounts["obe"], "Opening balance"),
        ]
        obj = {"Id": str(je), "SyncToken": "0", "MetaData": self.meta(t), "DocNumber": "OB-1",
               "TxnDate": self.date_of(t), "CurrencyRef": ref("USD", "United States Dollar"),
               "Line": lines, "Adjustment": False, "TotalAmt": Decimal("50000.00")}
        self.book("JournalEntry", obj)

