"""Transactions of the generated company, in time order, settling the oldest open documents."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

from . import clock
from . import company_lists as cl
from .generator_base import GeneratorBase, Obj, OpenDoc, Party, amount, home_amount, ref

# Relative frequency of each transaction type in a generated company.
MIX = (
    ("Invoice", 24), ("Payment", 18), ("SalesReceipt", 5), ("CreditMemo", 2), ("RefundReceipt", 1),
    ("Estimate", 3), ("Bill", 18), ("BillPayment", 13), ("VendorCredit", 1), ("PurchaseOrder", 3),
    ("Purchase", 6), ("Deposit", 2), ("JournalEntry", 2), ("Transfer", 1), ("TimeActivity", 1),
)


class TransactionGenerator(GeneratorBase):

    def make_transactions(self) -> None:
        rng = self.rng
        kinds = [k for k, _ in MIX]
        weights = [w for _, w in MIX]
        span = self.end_s - self.start_s
        makers: dict[str, Callable[[int], bool]] = {
            "Invoice": self.invoice, "Payment": self.payment, "SalesReceipt": self.sales_receipt,
            "CreditMemo": self.credit_memo, "RefundReceipt": self.refund_receipt, "Estimate": self.estimate,
            "Bill": self.bill, "BillPayment": self.bill_payment, "VendorCredit": self.vendor_credit,
            "PurchaseOrder": self.purchase_order, "Purchase": self.purchase, "Deposit": self.deposit,
            "JournalEntry": self.journal_entry, "Transfer": self.transfer, "TimeActivity": self.time_activity,
        }
        for index in range(self.n):
            created = self.start_s + int((index + rng.random()) * span / max(self.n, 1))
            kind = rng.choices(kinds, weights)[0]
            if not makers[kind](created):
                # Nothing to settle yet (no open invoice/bill, no undeposited funds): sell instead.
                self.invoice(created) if rng.random() < 0.5 else self.bill(created)

    def touched(self, created: int) -> int:
        if self.rng.random() < 0.1:
            return min(self.end_s, created + self.rng.randint(60, 5 * 86400))
        return created

    def header(self, entity: str, created: int, currency: str) -> Obj:
        rate = self.rate_for(currency, created)
        obj: Obj = {
            "Id": str(self.new_id(entity)), "SyncToken": "0", "MetaData": self.meta(created, self.touched(created)),
            "DocNumber": self.doc_number(entity), "TxnDate": self.date_of(created),
            "CurrencyRef": ref(currency), "LinkedTxn": [],
        }
        if currency != "USD":
            obj["ExchangeRate"] = rate
        if self.departments and self.rng.random() < 0.3:
            did, dname = self.rng.choice(self.departments)
            obj["DepartmentRef"] = ref(did, dname)
        return obj

    def sales_lines(self, count: int) -> tuple[list[Obj], Decimal]:
        rng = self.rng
        lines: list[Obj] = []
        total = Decimal("0")
        for num in range(1, count + 1):
            iid, name, _, price, _ = rng.choice(self.items)
            qty = Decimal(rng.randint(1, 10))
            line_amount = (price * qty).quantize(Decimal("0.01"))
            total += line_amount
            detail: Obj = {"ItemRef": ref(iid, name), "UnitPrice": price, "Qty": qty, "TaxCodeRef": ref("NON")}
            if self.classes and rng.random() < 0.4:
                cid, cname = rng.choice(self.classes)
                detail["ClassRef"] = ref(cid, cname)
            lines.append({"Id": str(num), "LineNum": num, "Description": name, "Amount": line_amount,
                          "DetailType": "SalesItemLineDetail", "SalesItemLineDetail": detail})
        lines.append({"Amount": total, "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}})
        return lines, total

    def customer_doc(self, entity: str, created: int, party: Party | None = None) -> tuple[Obj, Party, Decimal, Decimal]:
        party = party or self.rng.choice(self.customers)
        obj = self.header(entity, created, party.currency)
        lines, total = self.sales_lines(self.rng.randint(1, 4))
        obj.update({"Line": lines, "CustomerRef": ref(party.id, party.name), "TotalAmt": total,
                    "TxnTaxDetail": {"TotalTax": Decimal("0.00")}})
        rate = obj.get("ExchangeRate", Decimal("1"))
        if party.currency != "USD":
            obj["HomeTotalAmt"] = home_amount(total, rate)
        return obj, party, total, rate

    def invoice(self, created: int) -> bool:
        obj, party, total, rate = self.customer_doc("Invoice", created)
        txn_date = clock.local_date(created, self.tz)
        obj.update({
            "DueDate": (txn_date + timedelta(days=party.term_days)).isoformat(),
            "Balance": total, "ARAccountRef": ref(self.ar.get(party.currency, self.ar["USD"])),
            "BillAddr": self.address(), "EmailStatus": "EmailSent", "PrintStatus": "NotSet",
            "BillEmail": {"Address": f"billing{party.id}@example.com"},
            "AllowOnlineCreditCardPayment": False, "AllowOnlineACHPayment": True,
        })
        if party.currency != "USD":
            obj["HomeBalance"] = obj["HomeTotalAmt"]
        self.book("Invoice", obj)
        party.balance += total
        self.open_invoices.append(OpenDoc(int(obj["Id"]), party, total, total, rate, party.currency,
                                          updated_s=obj["MetaData"]["_updated_s"]))
        return True

    def settle(self, queue: deque[OpenDoc]) -> tuple[OpenDoc, Decimal] | None:
        if not queue:
            return None
        index = self.rng.randrange(min(len(queue), 8))
        doc = queue[index]
        full = doc.currency != "USD" or self.rng.random() < 0.85
        paid = doc.balance if full else (doc.balance / 2).quantize(Decimal("0.01"))
        doc.balance -= paid
        if doc.balance == 0:
            del queue[index]
        return doc, paid

    def payment(self, created: int) -> bool:
        settled = self.settle(self.open_invoices)
        if settled is None:
            return False
        doc, paid = settled
        obj = self.header("Payment", created, doc.currency)
        obj.pop("DocNumber")
        if doc.currency != "USD":
            obj["ExchangeRate"] = doc.rate
        pm_id, pm_name = self.rng.choice(self.payment_methods)
        obj.update({
            "CustomerRef": ref(doc.party.id, doc.party.name), "TotalAmt": paid, "UnappliedAmt": Decimal("0.00"),
            "DepositToAccountRef": ref(self.accounts["undeposited"]), "PaymentMethodRef": ref(pm_id, pm_name),
            "PaymentRefNum": str(self.rng.randint(1000, 99999)), "ProcessPayment": False,
            "ARAccountRef": ref(self.ar.get(doc.currency, self.ar["USD"])),
            "Line": [{"Amount": paid, "LinkedTxn": [{"TxnId": str(doc.id), "TxnType": "Invoice"}]}],
        })
        self.book("Payment", obj)
        doc.party.balance -= paid
        self.undeposited += home_amount(paid, doc.rate)
        self.note_settlement("Invoice", doc, int(obj["Id"]), obj["MetaData"]["_updated_s"])
        return True

    def note_settlement(self, entity: str, doc: OpenDoc, link_id: int, when: int) -> None:
        """Applying a payment edits the document: Balance, LinkedTxn, SyncToken and time move."""
        doc.settlements += 1
        # A document edited after the payment keeps its later time: LastUpdatedTime never goes back.
        when = max(when, doc.updated_s)
        doc.updated_s = when
        key = (entity, doc.id)
        previous = self.balance_updates.get(key)
        links = (previous[4] if previous else []) + [link_id]
        home = home_amount(doc.balance, doc.rate)
        self.balance_updates[key] = (doc.balance, home, doc.settlements, when, links)

    def sales_receipt(self, created: int) -> bool:
        obj, _, total, rate = self.customer_doc("SalesReceipt", created)
        pm_id, pm_name = self.rng.choice(self.payment_methods)
        obj.update({"DepositToAccountRef": ref(self.accounts["undeposited"]), "PaymentMethodRef": ref(pm_id, pm_name),
                    "Balance": Decimal("0.00"), "PrintStatus": "NotSet", "EmailStatus": "NotSet"})
        self.book("SalesReceipt", obj)
        self.undeposited += home_amount(total, rate)
        return True

    def home_party(self, parties: list[Party]) -> Party:
        # Credits stay in home currency: aging reports them at Balance, which has no home twin.
        home = [p for p in parties[:50] if p.currency == "USD"]
        return self.rng.choice(home or parties)

    def credit_memo(self, created: int) -> bool:
        obj, party, total, _ = self.customer_doc("CreditMemo", created, self.home_party(self.customers))
        obj.update({"Balance": total, "RemainingCredit": total, "PrintStatus": "NotSet", "EmailStatus": "NotSet",
                    "ARAccountRef": ref(self.ar.get(party.currency, self.ar["USD"]))})
        obj.pop("LinkedTxn")
        self.book("CreditMemo", obj)
        party.balance -= total
        return True

    def refund_receipt(self, created: int) -> bool:
        obj, party, _, _ = self.customer_doc("RefundReceipt", created, self.rng.choice(self.customers))
        obj.update({"DepositToAccountRef": ref(self.accounts["checking"], "Checking"), "Balance": Decimal("0.00"),
                    "PrintStatus": "NotSet", "PaymentRefNum": "To Print"})
        if party.currency != "USD":
            obj.pop("ExchangeRate")
            obj.pop("HomeTotalAmt")
            obj["CurrencyRef"] = ref("USD")
        self.book("RefundReceipt", obj)
        return True

    def estimate(self, created: int) -> bool:
        obj, _, _, _ = self.customer_doc("Estimate", created)
        txn_date = clock.local_date(created, self.tz)
        obj.update({"TxnStatus": self.rng.choice(["Pending", "Accepted", "Closed", "Rejected"]),
                    "ExpirationDate": (txn_date + timedelta(days=30)).isoformat(), "PrintStatus": "NotSet",
                    "EmailStatus": "NotSet"})
        self.emit("Estimate", obj)
        return True

    def expense_lines(self, count: int, billable: bool) -> tuple[list[Obj], Decimal]:
        rng = self.rng
        lines: list[Obj] = []
        total = Decimal("0")
        for num in range(1, count + 1):
            if rng.random() < 0.3 and self.items:
                iid, name, _, _, cost = rng.choice(self.items)
                qty = Decimal(rng.randint(1, 20))
                line_amount = (cost * qty).quantize(Decimal("0.01"))
                detail: Obj = {"ItemRef": ref(iid, name), "UnitPrice": cost, "Qty": qty, "BillableStatus": "NotBillable",
                               "TaxCodeRef": ref("NON")}
                line: Obj = {"Id": str(num), "LineNum": num, "Description": name, "Amount": line_amount,
                             "DetailType": "ItemBasedExpenseLineDetail", "ItemBasedExpenseLineDetail": detail}
            else:
                key = rng.choice(cl.EXPENSE_KEYS)
                aid = self.accounts[key]
                line_amount = amount(rng, 10, 2500)
                detail = {"AccountRef": ref(aid, self.account_names[aid]), "BillableStatus": "NotBillable",
                          "TaxCodeRef": ref("NON")}
                if billable and self.customers and rng.random() < 0.2:
                    party = rng.choice(self.customers)
                    detail.update({"CustomerRef": ref(party.id, party.name), "BillableStatus": "Billable"})
                if self.classes and rng.random() < 0.3:
                    cid, cname = rng.choice(self.classes)
                    detail["ClassRef"] = ref(cid, cname)
                line = {"Id": str(num), "LineNum": num, "Description": self.account_names[aid], "Amount": line_amount,
                        "DetailType": "AccountBasedExpenseLineDetail", "AccountBasedExpenseLineDetail": detail}
            total += line_amount
            lines.append(line)
        return lines, total

    def vendor_doc(self, entity: str, created: int, party: Party | None = None) -> tuple[Obj, Party, Decimal, Decimal]:
        party = party or self.rng.choice(self.vendors)
        obj = self.header(entity, created, party.currency)
        lines, total = self.expense_lines(self.rng.randint(1, 3), entity != "VendorCredit")
        obj.update({"Line": lines, "VendorRef": ref(party.id, party.name), "TotalAmt": total})
        return obj, party, total, obj.get("ExchangeRate", Decimal("1"))

    def bill(self, created: int) -> bool:
        obj, party, total, rate = self.vendor_doc("Bill", created)
        txn_date = clock.local_date(created, self.tz)
        obj.update({"DueDate": (txn_date + timedelta(days=party.term_days)).isoformat(), "Balance": total,
                    "APAccountRef": ref(self.ap.get(party.currency, self.ap["USD"]))})
        if party.currency != "USD":
            obj["HomeBalance"] = home_amount(total, rate)
        self.book("Bill", obj)
        party.balance += total
        self.open_bills.append(OpenDoc(int(obj["Id"]), party, total, total, rate, party.currency,
                                       updated_s=obj["MetaData"]["_updated_s"]))
        return True

    def bill_payment(self, created: int) -> bool:
        settled = self.settle(self.open_bills)
        if settled is None:
            return False
        doc, paid = settled
        obj = self.header("BillPayment", created, doc.currency)
        if doc.currency != "USD":
            obj["ExchangeRate"] = doc.rate
        by_card = self.rng.random() < 0.25
        obj.update({"VendorRef": ref(doc.party.id, doc.party.name), "TotalAmt": paid,
                    "APAccountRef": ref(self.ap.get(doc.currency, self.ap["USD"])),
                    "PayType": "CreditCard" if by_card else "Check",
                    "Line": [{"Amount": paid, "LinkedTxn": [{"TxnId": str(doc.id), "TxnType": "Bill"}]}]})
        if by_card:
            obj["CreditCardPayment"] = {"CCAccountRef": ref(self.accounts["cc"], "Mastercard")}
        else:
            obj["CheckPayment"] = {"BankAccountRef": ref(self.accounts["checking"], "Checking"), "PrintStatus": "NotSet"}
        self.book("BillPayment", obj)
        doc.party.balance -= paid
        self.note_settlement("Bill", doc, int(obj["Id"]), obj["MetaData"]["_updated_s"])
        return True

    def vendor_credit(self, created: int) -> bool:
        obj, party, total, _ = self.vendor_doc("VendorCredit", created, self.home_party(self.vendors))
        obj.update({"Balance": total, "APAccountRef": ref(self.ap.get(party.currency, self.ap["USD"]))})
        obj.pop("LinkedTxn")
        self.book("VendorCredit", obj)
        party.balance -= total
        return True

    def purchase_order(self, created: int) -> bool:
        obj, party, _, _ = self.vendor_doc("PurchaseOrder", created)
        txn_date = clock.local_date(created, self.tz)
        obj.update({"POStatus": self.rng.choice(["Open", "Closed"]), "DueDate": (txn_date + timedelta(days=14)).isoformat(),
                    "APAccountRef": ref(self.ap.get(party.currency, self.ap["USD"])), "EmailStatus": "NotSet"})
        self.emit("PurchaseOrder", obj)
        return True

    def purchase(self, created: int) -> bool:
        party = self.rng.choice(self.vendors)
        obj = self.header("Purchase", created, "USD")
        lines, total = self.expense_lines(self.rng.randint(1, 3), True)
        kind = self.rng.choice(["Cash", "Check", "CreditCard"])
        account = self.accounts["cc"] if kind == "CreditCard" else self.accounts["checking"]
        obj.update({"PaymentType": kind, "AccountRef": ref(account, self.account_names[account]),
                    "EntityRef": {**ref(party.id, party.name), "type": "Vendor"}, "Line": lines, "TotalAmt": total,
                    "Credit": False})
        if party.currency != "USD":
            obj.pop("EntityRef")
        self.book("Purchase", obj)
        return True

    def deposit(self, created: int) -> bool:
        if self.undeposited <= Decimal("1.00"):
            return False
        take = min(self.undeposited, amount(self.rng, 100, 20000))
        obj = self.header("Deposit", created, "USD")
        obj.pop("DocNumber")
        obj.update({"DepositToAccountRef": ref(self.accounts["checking"], "Checking"), "TotalAmt": take,
                    "Line": [{"Id": "1", "LineNum": 1, "Amount": take, "DetailType": "DepositLineDetail",
                              "DepositLineDetail": {"AccountRef": ref(self.accounts["undeposited"], "Undeposited Funds")}}]})
        self.book("Deposit", obj)
        self.undeposited -= take
        return True

    def journal_entry(self, created: int) -> bool:
        rng = self.rng
        value = amount(rng, 50, 5000)
        debit = self.accounts[rng.choice(cl.EXPENSE_KEYS)]
        credit = self.accounts[rng.choice(["checking", "payroll", "loan"])]
        obj = self.header("JournalEntry", created, "USD")
        obj.pop("LinkedTxn")
        obj.update({"Adjustment": rng.random() < 0.1, "TotalAmt": value, "PrivateNote": "Month-end accrual",
                    "Line": [self.je_line(1, value, "Debit", debit, "Accrual"),
                             self.je_line(2, value, "Credit", credit, "Accrual")]})
        self.book("JournalEntry", obj)
        return True

    def transfer(self, created: int) -> bool:
        obj = self.header("Transfer", created, "USD")
        for key in ("DocNumber", "LinkedTxn"):
            obj.pop(key)
        value = amount(self.rng, 100, 3000)
        from_key, to_key = ("checking", "savings") if self.rng.random() < 0.6 else ("savings", "checking")
        obj.update({"FromAccountRef": ref(self.accounts[from_key], from_key.title()),
                    "ToAccountRef": ref(self.accounts[to_key], to_key.title()), "Amount": value})
        self.book("Transfer", obj)
        return True

    def time_activity(self, created: int) -> bool:
        rng = self.rng
        if not self.employees:
            return False
        eid, ename = rng.choice(self.employees)
        obj = self.header("TimeActivity", created, "USD")
        for key in ("DocNumber", "LinkedTxn", "CurrencyRef"):
            obj.pop(key)
        obj.pop("DepartmentRef", None)
        iid, iname, _, _, _ = rng.choice(self.items)
        party = rng.choice(self.customers)
        obj.update({"NameOf": "Employee", "EmployeeRef": ref(eid, ename), "CustomerRef": ref(party.id, party.name),
                    "ItemRef": ref(iid, iname), "BillableStatus": "NotBillable", "Taxable": False,
                    "HourlyRate": Decimal("0"), "Hours": rng.randint(1, 8), "Minutes": rng.choice([0, 15, 30, 45]),
                    "Description": "Site work"})
        self.emit("TimeActivity", obj)
        return True

