"""State and plumbing shared by the list and transaction generators (ids, timestamps, batching)."""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from . import clock
from . import company_lists as cl
from .ledger import ItemAccounts, LedgerContext, postings_for, to_home
from .store import Posting, RealmStore

Obj = dict[str, Any]
BATCH = 5000


def ref(value: int | str, name: str | None = None) -> Obj:
    out: Obj = {"value": str(value)}
    if name is not None:
        out["name"] = name
    return out


def home_amount(value: Decimal, rate: Decimal) -> Decimal:
    return to_home(value, rate)


def amount(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(rng.randint(low * 100, high * 100)) / 100


@dataclass
class Party:
    id: int
    name: str
    currency: str
    term_days: int = 30
    balance: Decimal = Decimal("0")


@dataclass
class OpenDoc:
    id: int
    party: Party
    total: Decimal
    balance: Decimal
    rate: Decimal
    currency: str
    settlements: int = 0
    updated_s: int = 0


@dataclass
class GenerationResult:
    counts: dict[str, int] = field(default_factory=dict)



class GeneratorBase:
    def __init__(
        self,
        store: RealmStore,
        *,
        realm_id: str,
        seed: int,
        transactions: int,
        tz: ZoneInfo,
        end: datetime,
        days: int,
        company_name: str,
        multicurrency: bool,
    ) -> None:
        self.store = store
        self.realm_id = realm_id
        self.rng = random.Random(seed)
        self.n = transactions
        self.tz = tz
        self.end_s = clock.to_epoch(end)
        self.start_s = self.end_s - days * 86400
        self.company_name = company_name
        self.multicurrency = multicurrency
        self.next_ids: dict[str, int] = {}
        self.rows: list[tuple[Any, ...]] = []
        self.postings: list[Posting] = []
        self.balance_updates: dict[tuple[str, int], tuple[Decimal, Decimal, int, int, list[int]]] = {}
        self.accounts: dict[str, int] = {}
        self.account_names: dict[int, str] = {}
        self.ar: dict[str, int] = {}
        self.ap: dict[str, int] = {}
        self.items: list[tuple[int, str, str, Decimal, Decimal]] = []
        self.item_accounts: dict[int, ItemAccounts] = {}
        self.customers: list[Party] = []
        self.vendors: list[Party] = []
        self.customer_objs: dict[int, Party] = {}
        self.vendor_objs: dict[int, Party] = {}
        self.employees: list[tuple[int, str]] = []
        self.classes: list[tuple[int, str]] = []
        self.departments: list[tuple[int, str]] = []
        self.terms: dict[int, int] = {}
        self.payment_methods: list[tuple[int, str]] = []
        self.open_invoices: deque[OpenDoc] = deque()
        self.open_bills: deque[OpenDoc] = deque()
        self.undeposited = Decimal("0")
        self.counts: dict[str, int] = {}
        self.doc_numbers: dict[str, int] = {}
        self._ctx: LedgerContext | None = None

    # plumbing ------------------------------------------------------------------------------
    def new_id(self, entity: str) -> int:
        value = self.next_ids.get(entity, 1)
        self.next_ids[entity] = value + 1
        return value

    def meta(self, created_s: int, updated_s: int | None = None) -> Obj:
        updated = created_s if updated_s is None else max(updated_s, created_s)
        return {
            "CreateTime": clock.format_timestamp(created_s, self.tz),
            "LastUpdatedTime": clock.format_timestamp(updated, self.tz),
            "_created_s": created_s,
            "_updated_s": updated,
        }

    def emit(self, entity: str, obj: Obj) -> None:
        obj.setdefault("domain", "QBO")
        obj.setdefault("sparse", False)
        self.rows.append(RealmStore.row_for(entity, obj))
        self.counts[entity] = self.counts.get(entity, 0) + 1
        if len(self.rows) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            self.store.put_many(self.rows)
            self.rows = []
        if self.postings:
            self.store.add_postings(self.postings)
            self.postings = []
        if self.balance_updates:
            self.apply_balance_updates()

    def apply_balance_updates(self) -> None:
        with self.store.transaction() as conn:
            for (entity, obj_id), (bal, home, sync, upd, links) in self.balance_updates.items():
                link_type = "Payment" if entity == "Invoice" else "BillPayment"
                for link in links:
                    conn.execute(
                        "UPDATE objects SET payload = json_insert(payload, '$.LinkedTxn[#]', json(?)) "
                        "WHERE entity = ? AND id = ?",
                        (f'{{"TxnId":"{link}","TxnType":"{link_type}"}}', entity, obj_id),
                    )
                conn.execute(
                    "UPDATE objects SET payload = json_set(payload, '$.Balance', json(?), '$.HomeBalance', json(?),"
                    " '$.SyncToken', ?, '$.MetaData.LastUpdatedTime', ?), sync_token = ?, updated_s = ?"
                    " WHERE entity = ? AND id = ?",
                    (format(bal, "f"), format(home, "f"), str(sync), clock.format_timestamp(upd, self.tz),
                     sync, upd, entity, obj_id),
                )
        self.balance_updates = {}

    def ledger_context(self) -> LedgerContext:
        return LedgerContext(
            item_accounts=self.item_accounts.get,
            ar_account=lambda cur: self.ar.get(cur, self.ar["USD"]),
            ap_account=lambda cur: self.ap.get(cur, self.ap["USD"]),
            undeposited_funds=self.accounts["undeposited"],
            cogs=self.accounts["cogs"],
            inventory_asset=self.accounts["inventory"],
        )

    def date_of(self, seconds: int) -> str:
        return clock.local_date(seconds, self.tz).isoformat()

    def doc_number(self, entity: str) -> str:
        value = self.doc_numbers.get(entity, 1000) + 1
        self.doc_numbers[entity] = value
        return str(value)

    def rate_for(self, currency: str, seconds: int) -> Decimal:
        if currency == "USD":
            return Decimal("1")
        base = next(Decimal(r) for c, _, r in cl.FOREIGN_CURRENCIES if c == currency)
        wobble = Decimal((seconds // 86400) % 21 - 10) / 1000
        return (base * (1 + wobble)).quantize(Decimal("0.0001"))

    def book(self, entity: str, obj: Obj) -> None:
        assert self._ctx is not None, "ledger context is built once the chart of accounts exists"
        self.postings.extend(postings_for(entity, obj, self._ctx))
        self.emit(entity, obj)

    def je_line(self, num: int, value: Decimal, posting: str, account: int, description: str) -> Obj:
        return {"Id": str(num - 1), "LineNum": num, "Description": description, "Amount": value,
                "DetailType": "JournalEntryLineDetail",
                "JournalEntryLineDetail": {"PostingType": posting, "AccountRef": ref(account, self.account_names[account])}}

    def address(self) -> Obj:
        rng = self.rng
        city, region, postal = rng.choice(cl.CITIES)
        return {"Line1": f"{rng.randint(10, 9999)} {rng.choice(cl.STREETS)}", "City": city,
                "CountrySubDivisionCode": region, "PostalCode": postal, "Country": "USA"}

    def person(self) -> tuple[str, str]:
        return self.rng.choice(cl.FIRST_NAMES), self.rng.choice(cl.LAST_NAMES)
