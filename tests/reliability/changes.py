"""Seeded random changes in a sandbox company, the kind a bookkeeper makes between two syncs:
creates, edits, voids, deletions, payments, deactivations. One ``random.Random`` drives them, so a
seed replays the same changes in the same order.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

CENT = Decimal("0.01")


@dataclass
class ChangeLog:
    counts: Counter[str] = field(default_factory=Counter)
    deleted: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _pick(rng: random.Random, ids: list[str]) -> str | None:
    return rng.choice(ids) if ids else None


class QBOChanges:
    """Changes through the QBO sandbox's control handle (QuickBooks' own side effects included:
    a payment lowers its invoice's Balance, voiding zeroes amounts, deleting a paid invoice frees
    its payments)."""

    OPERATIONS = (("edit_invoice_note", 3), ("edit_invoice_line", 2), ("create_invoice", 2),
                  ("void_invoice", 1), ("delete_invoice", 1), ("pay_invoice", 2), ("edit_bill_note", 2),
                  ("create_bill", 1), ("delete_bill", 1), ("edit_customer", 1), ("deactivate_customer", 1),
                  ("edit_vendor", 1), ("deactivate_vendor", 1))

    def __init__(self, realm: Any, rng: random.Random, log: ChangeLog) -> None:
        self.realm, self.rng, self.log = realm, rng, log
        self._voided: set[str] = set()

    def apply(self, n: int) -> None:
        names = [name for name, _ in self.OPERATIONS]
        weights = [w for _, w in self.OPERATIONS]
        for _ in range(n):
            name = self.rng.choices(names, weights)[0]
            if getattr(self, name)():
                self.log.counts[name] += 1

    def _open(self, entity: str) -> list[str]:
        return [i for i in self.realm.ids(entity) if i not in self._voided]

    def edit_invoice_note(self) -> bool:
        return self._note("Invoice")

    def edit_bill_note(self) -> bool:
        return self._note("Bill")

    def _note(self, entity: str) -> bool:
        obj_id = _pick(self.rng, self._open(entity))
        if obj_id is None:
            return False
        self.realm.update(entity, obj_id, {"PrivateNote": f"soak note {self.rng.randrange(10**6)}"})
        return True

    def edit_invoice_line(self) -> bool:
        obj_id = _pick(self.rng, self._open("Invoice"))
        if obj_id is None:
            return False
        invoice = self.realm.get("Invoice", obj_id)
        lines = [dict(line) for line in invoice["Line"]]
        detail = [line for line in lines if line.get("DetailType") == "SalesItemLineDetail"]
        if not detail:
            return False
        line = self.rng.choice(detail)
        line["Amount"] = (Decimal(str(line["Amount"])) + Decimal(self.rng.randrange(1, 50_000)) * CENT).quantize(CENT)
        line[line["DetailType"]] = {k: v for k, v in line[line["DetailType"]].items() if k not in ("UnitPrice", "Qty")}
        self.realm.update("Invoice", obj_id, {"Line": lines})
        return True

    def _clone(self, entity: str) -> dict[str, Any] | None:
        source_id = _pick(self.rng, self._open(entity))
        if source_id is None:
            return None
        body = {k: v for k, v in self.realm.get(entity, source_id).items()
                if k not in ("Id", "SyncToken", "MetaData", "Balance", "HomeBalance", "TotalAmt", "LinkedTxn",
                             "DocNumber", "TxnDate", "DueDate")}
        body["PrivateNote"] = f"soak copy of {entity} {source_id}"
        return body

    def create_invoice(self) -> bool:
        body = self._clone("Invoice")
        return body is not None and bool(self.realm.create("Invoice", body))

    def create_bill(self) -> bool:
        body = self._clone("Bill")
        return body is not None and bool(self.realm.create("Bill", body))

    def void_invoice(self) -> bool:
        obj_id = _pick(self.rng, self._open("Invoice"))
        if obj_id is None:
            return False
        self.realm.void("Invoice", obj_id)
        self._voided.add(obj_id)
        return True

    def delete_invoice(self) -> bool:
        return self._delete("Invoice", "invoices")

    def delete_bill(self) -> bool:
        return self._delete("Bill", "bills")

    def _delete(self, entity: str, stream: str) -> bool:
        obj_id = _pick(self.rng, self.realm.ids(entity))
        if obj_id is None:
            return False
        self.realm.delete(entity, obj_id)
        self.log.deleted[stream].add(obj_id)
        return True

    def pay_invoice(self) -> bool:
        unpaid = [i for i in self._open("Invoice") if Decimal(str(self.realm.get("Invoice", i).get("Balance") or 0)) > 0]
        obj_id = _pick(self.rng, unpaid)
        if obj_id is None:
            return False
        invoice = self.realm.get("Invoice", obj_id)
        balance = Decimal(str(invoice["Balance"]))
        amount = balance if self.rng.random() < 0.5 else (balance / 2).quantize(CENT)
        self.realm.create("Payment", {
            "CustomerRef": invoice["CustomerRef"], "TotalAmt": amount, "CurrencyRef": invoice.get("CurrencyRef"),
            "Line": [{"Amount": amount, "LinkedTxn": [{"TxnId": obj_id, "TxnType": "Invoice"}]}],
        })
        return True

    def edit_customer(self) -> bool:
        return self._rename("Customer")

    def edit_vendor(self) -> bool:
        return self._rename("Vendor")

    def _rename(self, entity: str) -> bool:
        obj_id = _pick(self.rng, self.realm.ids(entity))
        if obj_id is None:
            return False
        self.realm.update(entity, obj_id, {"CompanyName": f"Soak Co {self.rng.randrange(10**6)}"})
        return True

    def deactivate_customer(self) -> bool:
        return self._deactivate("Customer")

    def deactivate_vendor(self) -> bool:
        return self._deactivate("Vendor")

    def _deactivate(self, entity: str) -> bool:
        active = [i for i in self.realm.ids(entity) if self.realm.get(entity, i).get("Active", True)]
        # Keep most of the list active: a company with no customers left has nothing to change.
        if len(active) <= 2:
            return False
        self.realm.deactivate(entity, self.rng.choice(active))
        return True


class QBDChanges:
    """Changes through the QuickBooks Desktop company's control handle (what a bookkeeper does in
    QuickBooks between two Web Connector sessions)."""

    OPERATIONS = (("edit_invoice_memo", 3), ("create_invoice", 2), ("delete_invoice", 1), ("edit_bill_memo", 2),
                  ("delete_bill", 1), ("edit_customer", 1), ("deactivate_customer", 1), ("edit_vendor", 1))

    def __init__(self, company: Any, rng: random.Random, log: ChangeLog) -> None:
        self.control, self.rng, self.log = company.control, rng, log

    def apply(self, n: int) -> None:
        names = [name for name, _ in self.OPERATIONS]
        weights = [w for _, w in self.OPERATIONS]
        for _ in range(n):
            name = self.rng.choices(names, weights)[0]
            if getattr(self, name)():
                self.log.counts[name] += 1

    def _ids(self, kind: str, active: bool | None = None) -> list[str]:
        return list(self.control.ids(kind, limit=10**9, active=active))

    def edit_invoice_memo(self) -> bool:
        return self._memo("Invoice")

    def edit_bill_memo(self) -> bool:
        return self._memo("Bill")

    def _memo(self, kind: str) -> bool:
        obj_id = _pick(self.rng, self._ids(kind))
        if obj_id is None:
            return False
        self.control.modify(kind, obj_id, Memo=f"soak memo {self.rng.randrange(10**6)}")
        return True

    def create_invoice(self) -> bool:
        customer_id = _pick(self.rng, self._ids("Customer", active=True))
        if customer_id is None:
            return False
        customer = self.control.get("Customer", customer_id)
        amounts = [Decimal(self.rng.randrange(100, 500_000)) * CENT for _ in range(self.rng.randrange(1, 4))]
        total = sum(amounts, Decimal("0.00"))
        self.control.create(
            "Invoice", CustomerRef={"ListID": customer_id, "FullName": customer["name"]},
            Memo="soak invoice", Subtotal=str(total), SalesTaxTotal="0.00", BalanceRemaining=str(total),
            InvoiceLineRet=[{"TxnLineID": f"{n}-soak", "Desc": "soak line", "Amount": str(a)}
                            for n, a in enumerate(amounts, start=1)])
        return True

    def delete_invoice(self) -> bool:
        return self._delete("Invoice", "invoices")

    def delete_bill(self) -> bool:
        return self._delete("Bill", "bills")

    def _delete(self, kind: str, stream: str) -> bool:
        obj_id = _pick(self.rng, self._ids(kind))
        if obj_id is None:
            return False
        self.control.delete(kind, obj_id)
        self.log.deleted[stream].add(obj_id)
        return True

    def edit_customer(self) -> bool:
        return self._rename("Customer")

    def edit_vendor(self) -> bool:
        return self._rename("Vendor")

    def _rename(self, kind: str) -> bool:
        obj_id = _pick(self.rng, self._ids(kind))
        if obj_id is None:
            return False
        self.control.modify(kind, obj_id, CompanyName=f"Soak Co {self.rng.randrange(10**6)}")
        return True

    def deactivate_customer(self) -> bool:
        active = self._ids("Customer", active=True)
        if len(active) <= 2:
            return False
        self.control.deactivate("Customer", self.rng.choice(active))
        return True
