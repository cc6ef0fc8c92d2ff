"""Deterministic QuickBooks-shaped Singer messages (docs/record-model.md), for tests and bench."""

from __future__ import annotations

import datetime as dt
import json
import random
import typing as t
from decimal import Decimal

STR = {"type": ["string", "null"]}
NUM = {"type": ["number", "null"]}
INT = {"type": ["integer", "null"]}
BOOL = {"type": ["boolean", "null"]}
DATE = {"type": ["string", "null"], "format": "date"}
TS = {"type": ["string", "null"], "format": "date-time"}
ADDRESS = {
    "type": ["object", "null"],
    "properties": {k: STR for k in ("line1", "line2", "city", "region", "postal_code", "country")},
}
APPLIED = {
    "type": ["array", "null"],
    "items": {"type": "object", "properties": {"txn_id": STR, "txn_type": STR, "amount": NUM}},
}

COMMON = {
    "company_id": {"type": "string"},
    "edition": STR,
    "id": {"type": "string"},
    "created_at": TS,
    "updated_at": TS,
    "sync_token": INT,
    "edit_sequence": STR,
    "_sdc_deleted_at": TS,
}
HEADER = {
    "doc_number": STR, "txn_date": DATE, "currency": STR, "exchange_rate": NUM,
    "total_amount": NUM, "private_note": STR, "voided": BOOL,
    "lines": {"type": ["array", "null"], "items": {"type": "object"}},
}
LINE = {
    "company_id": {"type": "string"}, "edition": STR, "doc_number": STR, "txn_date": DATE,
    "currency": STR, "exchange_rate": NUM, "customer_id": STR, "vendor_id": STR,
    "updated_at": TS, "sync_token": INT, "edit_sequence": STR, "_sdc_deleted_at": TS,
    "line_id": {"type": "string"}, "line_num": INT, "detail_type": STR, "description": STR,
    "amount": NUM, "item_id": STR, "item_name": STR, "account_id": STR, "account_name": STR,
    "class_id": STR, "quantity": NUM, "unit_price": NUM, "posting_type": STR, "entity_id": STR,
    "billable_customer_id": STR,
}


def _obj(*parts: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    props: dict[str, t.Any] = {}
    for part in parts:
        props.update(part)
    return {"type": "object", "properties": props}


SCHEMAS: dict[str, dict[str, t.Any]] = {
    "accounts": _obj(COMMON, {k: STR for k in (
        "name", "fully_qualified_name", "account_number", "account_type", "account_sub_type",
        "classification", "parent_id", "description", "currency")}, {"current_balance": NUM, "active": BOOL}),
    "customers": _obj(COMMON, {k: STR for k in (
        "display_name", "company_name", "given_name", "family_name", "email", "phone", "parent_id", "currency")},
        {"balance": NUM, "billing_address": ADDRESS, "active": BOOL}),
    "vendors": _obj(COMMON, {k: STR for k in (
        "display_name", "company_name", "given_name", "family_name", "email", "phone", "account_number",
        "currency", "terms_id")}, {"balance": NUM, "billing_address": ADDRESS, "vendor_1099": BOOL, "active": BOOL}),
    "items": _obj(COMMON, {k: STR for k in (
        "name", "fully_qualified_name", "sku", "item_type", "description", "income_account_id",
        "expense_account_id", "asset_account_id")}, {"unit_price": NUM, "purchase_cost": NUM,
        "quantity_on_hand": NUM, "active": BOOL}),
    "invoices": _obj(COMMON, HEADER, {"customer_id": STR, "customer_name": STR, "due_date": DATE,
                                      "balance": NUM, "ar_account_id": STR, "department_id": STR}),
    "bills": _obj(COMMON, HEADER, {"vendor_id": STR, "vendor_name": STR, "due_date": DATE,
                                   "balance": NUM, "ap_account_id": STR, "department_id": STR}),
    "journal_entries": _obj(COMMON, HEADER, {"adjustment": BOOL}),
    "payments": _obj(COMMON, HEADER, {"customer_id": STR, "customer_name": STR, "deposit_account_id": STR,
                                      "unapplied_amount": NUM, "applied": APPLIED}),
    "bill_payments": _obj(COMMON, HEADER, {"vendor_id": STR, "vendor_name": STR, "pay_type": STR,
                                           "bank_account_id": STR, "applied": APPLIED}),
    **{s: _obj(COMMON, {k: STR for k in ("name", "fully_qualified_name", "parent_id")}, {"active": BOOL})
       for s in ("classes", "departments")},
    "invoice_lines": _obj(LINE, {"invoice_id": {"type": "string"}}),
    "bill_lines": _obj(LINE, {"bill_id": {"type": "string"}}),
    "journal_entry_lines": _obj(LINE, {"journal_entry_id": {"type": "string"}}),
}
KEYS = {
    **{s: ["company_id", "id"] for s in ("accounts", "customers", "vendors", "items", "invoices", "bills",
                                         "journal_entries", "payments", "bill_payments", "classes",
                                         "departments")},
    "invoice_lines": ["company_id", "invoice_id", "line_id"],
    "bill_lines": ["company_id", "bill_id", "line_id"],
    "journal_entry_lines": ["company_id", "journal_entry_id", "line_id"],
}


def _money(rng: random.Random, low: int = 1, high: int = 5000) -> Decimal:
    return Decimal(rng.randint(low * 100, high * 100)) / 100


class QuickBooksData:
    """A small company's books: records per stream, generated from ``seed``."""

    def __init__(self, *, seed: int = 7, edition: str = "qbo", company_id: str = "9130",
                 invoices: int = 40, bills: int = 30, journals: int = 10, as_of: dt.date = dt.date(2026, 11, 30)) -> None:
        self.rng = random.Random(seed)
        self.edition = edition
        self.company_id = company_id
        self.as_of = as_of
        self.records: dict[str, list[dict[str, t.Any]]] = {s: [] for s in SCHEMAS}
        self._accounts()
        self._parties()
        for n in range(invoices):
            self._document("invoices", "invoice_lines", "invoice_id", "customer", n)
        for n in range(bills):
            self._document("bills", "bill_lines", "bill_id", "vendor", n)
        for n in range(journals):
            self._journal(n)
        self._payments()

    def base(self, object_id: str, minutes: int = 0) -> dict[str, t.Any]:
        updated = dt.datetime(2026, 11, 2, 9, 15, 2, tzinfo=dt.timezone(dt.timedelta(hours=-8)))
        updated += dt.timedelta(minutes=minutes)
        return {
            "company_id": self.company_id, "edition": self.edition, "id": object_id,
            "created_at": "2026-01-05T08:00:00-08:00", "updated_at": updated.isoformat(),
            "sync_token": 0 if self.edition == "qbo" else None,
            "edit_sequence": None if self.edition == "qbo" else str(1700000000 + minutes),
            "_sdc_deleted_at": None,
        }

    def _accounts(self) -> None:
        chart = [
            ("1", "Assets", None, "Other Current Asset", "Asset"),
            ("10", "Checking", "1", "Bank", "Asset"),
            ("11", "Accounts Receivable (A/R)", "1", "Accounts Receivable", "Asset"),
            ("2", "Liabilities", None, "Other Current Liability", "Liability"),
            ("20", "Accounts Payable (A/P)", "2", "Accounts Payable", "Liability"),
            ("4", "Income", None, "Income", "Revenue"),
            ("40", "Services", "4", "Income", "Revenue"),
            ("41", "Consulting", "40", "Income", "Revenue"),
            ("6", "Expenses", None, "Expense", "Expense"),
            ("60", "Rent", "6", "Expense", "Expense"),
            ("61", "Software", "6", "Expense", "Expense"),
        ]
        names = {a[0]: a[1] for a in chart}
        for account_id, name, parent, account_type, classification in chart:
            fq = name if parent is None else f"{names[parent]}:{name}"
            self.records["accounts"].append({
                **self.base(account_id), "name": name, "fully_qualified_name": fq,
                "account_number": account_id * 2, "account_type": account_type, "account_sub_type": None,
                "classification": classification, "parent_id": parent, "description": None,
                "currency": "USD", "current_balance": _money(self.rng), "active": True,
            })
        self.records["items"].append({
            **self.base("100"), "name": "Consulting hour", "fully_qualified_name": "Consulting hour",
            "sku": "C-1", "item_type": "Service", "description": None, "income_account_id": "41",
            "expense_account_id": None, "asset_account_id": None, "unit_price": Decimal("150.00"),
            "purchase_cost": None, "quantity_on_hand": None, "active": True,
        })

    def _parties(self) -> None:
        for n in range(6):
            address = {"line1": f"{n} Main St", "line2": None, "city": ["Austin", "Oslo", "Lyon"][n % 3],
                       "region": "TX", "postal_code": "7870" + str(n), "country": "US"}
            self.records["customers"].append({
                **self.base(f"C{n}"), "display_name": f"Customer {n}", "company_name": f"Cust {n} LLC",
                "given_name": None, "family_name": None, "email": f"c{n}@example.com", "phone": None,
                "parent_id": None, "currency": "USD", "balance": Decimal(0), "billing_address": address,
                "active": n != 5,
            })
            self.records["vendors"].append({
                **self.base(f"V{n}"), "display_name": f"Vendor {n}", "company_name": f"Vend {n} Inc",
                "given_name": None, "family_name": None, "email": None, "phone": "555-010" + str(n),
                "account_number": None, "currency": "USD", "balance": Decimal(0), "billing_address": address,
                "vendor_1099": n % 2 == 0, "terms_id": None, "active": True,
            })

    def _document(self, header: str, lines: str, header_id: str, party: str, n: int) -> None:
        rng = self.rng
        doc_id = f"{header[0].upper()}{n}"
        txn_date = self.as_of - dt.timedelta(days=rng.randint(0, 150))
        due_date = txn_date + dt.timedelta(days=rng.choice([0, 15, 30]))
        foreign = n % 4 == 3
        rate = Decimal("1.0837") if foreign else None
        line_rows: list[dict[str, t.Any]] = []
        for line_num in range(1, rng.randint(1, 4) + 1):
            quantity = Decimal(rng.randint(1, 9))
            unit_price = _money(rng, 5, 400)
            amount = quantity * unit_price
            line_rows.append({
                "line_id": str(line_num), "line_num": line_num,
                "detail_type": "SalesItemLineDetail" if party == "customer" else "AccountBasedExpenseLineDetail",
                "description": f"line {line_num}", "amount": amount,
                "item_id": "100" if party == "customer" else None,
                "item_name": "Consulting hour" if party == "customer" else None,
                "account_id": None if party == "customer" else rng.choice(["60", "61"]),
                "account_name": None, "class_id": None, "quantity": quantity, "unit_price": unit_price,
                "posting_type": None, "entity_id": None,
                "billable_customer_id": None if party == "customer" else f"C{n % 6}",
            })
        total = sum((r["amount"] for r in line_rows), Decimal(0))
        subtotal = {**line_rows[0], "line_id": "ST", "line_num": len(line_rows) + 1,
                    "detail_type": "SubTotalLineDetail", "amount": total, "quantity": None, "unit_price": None}
        balance = rng.choice([Decimal(0), total, (total / 2).quantize(Decimal("0.01"))])
        record = {
            **self.base(doc_id, minutes=n), "doc_number": f"{1000 + n}", "txn_date": txn_date.isoformat(),
            "currency": "EUR" if foreign else "USD", "exchange_rate": rate, "total_amount": total,
            "private_note": None, "voided": False, f"{party}_id": f"{party[0].upper()}{n % 6}",
            f"{party}_name": f"{party.title()} {n % 6}", "due_date": due_date.isoformat(), "balance": balance,
            ("ar_account_id" if party == "customer" else "ap_account_id"): "11" if party == "customer" else "20",
            "lines": [{k: v for k, v in r.items()} for r in line_rows],
        }
        self.records[header].append(record)
        for row in [*line_rows, subtotal]:
            self.records[lines].append({
                "company_id": self.company_id, "edition": self.edition, header_id: doc_id,
                "doc_number": record["doc_number"], "txn_date": record["txn_date"], "currency": record["currency"],
                "exchange_rate": rate, "customer_id": record.get("customer_id"), "vendor_id": record.get("vendor_id"),
                "updated_at": record["updated_at"], "sync_token": record["sync_token"],
                "edit_sequence": record["edit_sequence"], "_sdc_deleted_at": None, **row,
            })

    def _journal(self, n: int) -> None:
        doc_id = f"J{n}"
        amount = _money(self.rng, 10, 900)
        txn_date = (self.as_of - dt.timedelta(days=n * 3)).isoformat()
        record = {**self.base(doc_id, minutes=n), "doc_number": f"JE{n}", "txn_date": txn_date, "currency": "USD",
                  "exchange_rate": None, "total_amount": amount, "private_note": None, "voided": False,
                  "adjustment": False, "lines": []}
        self.records["journal_entries"].append(record)
        for line_num, (side, account) in enumerate((("Debit", "60"), ("Credit", "10")), start=1):
            self.records["journal_entry_lines"].append({
                "company_id": self.company_id, "edition": self.edition, "journal_entry_id": doc_id,
                "doc_number": record["doc_number"], "txn_date": txn_date, "currency": "USD", "exchange_rate": None,
                "customer_id": None, "vendor_id": None, "updated_at": record["updated_at"],
                "sync_token": record["sync_token"], "edit_sequence": record["edit_sequence"], "_sdc_deleted_at": None,
                "line_id": str(line_num), "line_num": line_num, "detail_type": "JournalEntryLineDetail",
                "description": "accrual", "amount": amount, "item_id": None, "item_name": None,
                "account_id": account, "account_name": None, "class_id": None, "quantity": None,
                "unit_price": None, "posting_type": side, "entity_id": None, "billable_customer_id": None,
            })

    def _payments(self) -> None:
        for n, invoice in enumerate(self.records["invoices"][:5]):
            self.records["payments"].append({
                **self.base(f"P{n}", minutes=n), "doc_number": None, "txn_date": invoice["txn_date"],
                "currency": invoice["currency"], "exchange_rate": invoice["exchange_rate"],
                "total_amount": invoice["total_amount"], "private_note": None, "voided": False, "lines": [],
                "customer_id": invoice["customer_id"], "customer_name": invoice["customer_name"],
                "deposit_account_id": "10", "unapplied_amount": Decimal(0),
                "applied": [{"txn_id": invoice["id"], "txn_type": "Invoice", "amount": invoice["total_amount"]}],
            })
        for n, bill in enumerate(self.records["bills"][:3]):
            self.records["bill_payments"].append({
                **self.base(f"BP{n}", minutes=n), "doc_number": None, "txn_date": bill["txn_date"],
                "currency": bill["currency"], "exchange_rate": bill["exchange_rate"],
                "total_amount": bill["total_amount"], "private_note": None, "voided": False, "lines": [],
                "vendor_id": bill["vendor_id"], "vendor_name": bill["vendor_name"], "pay_type": "check",
                "bank_account_id": "10",
                "applied": [{"txn_id": bill["id"], "txn_type": "Bill", "amount": bill["total_amount"]}],
            })


def dumps(message: t.Mapping[str, t.Any]) -> str:
    """JSON with Decimals written as exact number literals (as the taps emit them)."""
    import simplejson

    return str(simplejson.dumps(message, use_decimal=True))


def schema_message(stream: str) -> str:
    return dumps({"type": "SCHEMA", "stream": stream, "schema": SCHEMAS[stream], "key_properties": KEYS[stream]})


def record_message(stream: str, record: t.Mapping[str, t.Any]) -> str:
    return dumps({"type": "RECORD", "stream": stream, "record": record,
                  "time_extracted": "2026-11-30T12:00:00+00:00"})


def singer_lines(streams: t.Mapping[str, t.Sequence[t.Mapping[str, t.Any]]], state: t.Any = None) -> str:
    lines: list[str] = []
    for stream, records in streams.items():
        lines.append(schema_message(stream))
        lines.extend(record_message(stream, r) for r in records)
    if state is not None:
        lines.append(json.dumps({"type": "STATE", "value": state}))
    return "\n".join(lines) + "\n"
