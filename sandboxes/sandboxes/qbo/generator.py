"""Deterministic, streaming generator of a realistic small business (seeded).

Transactions are produced in time order so Ids grow with CreateTime, payments settle the oldest
open invoices (so aging looks like a real ledger), and rows go to SQLite in batches: memory holds
the lists (customers, items, ...) and the open-document queues, never the transactions.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .generator_base import GenerationResult, Obj
from .list_generator import ListGenerator
from .store import RealmStore
from .transaction_generator import TransactionGenerator


class CompanyGenerator(ListGenerator, TransactionGenerator):
    def run(self) -> GenerationResult:
        list_time = self.start_s - 86400 * 3
        self.make_lists(list_time)
        self._ctx = self.ledger_context()
        self.make_opening_balance(list_time + 60)
        self.make_transactions()
        self.make_attachables()
        self.flush()
        self.finish_balances()
        self.store.set_next_ids(self.next_ids)
        self.store.checkpoint()
        return GenerationResult(counts=dict(self.counts))

    def make_attachables(self) -> None:
        rng = self.rng
        for index in range(max(2, self.n // 400)):
            entity = "Invoice" if index % 2 == 0 else "Bill"
            last = self.next_ids.get(entity, 1) - 1
            if last < 1:
                continue
            target = rng.randint(1, last)
            created = rng.randint(self.start_s, self.end_s)
            aid = self.new_id("Attachable")
            obj: Obj = {"Id": str(aid), "SyncToken": "0", "MetaData": self.meta(created),
                        "AttachableRef": [{"EntityRef": {"value": str(target), "type": entity}, "IncludeOnSend": False}],
                        "Note": f"Scanned {entity.lower()} {target}"}
            if index % 3 != 2:
                obj.update({"FileName": f"{entity.lower()}-{target}.pdf", "ContentType": "application/pdf",
                            "Size": Decimal(rng.randint(20_000, 900_000))})
            self.emit("Attachable", obj)

    # balances ------------------------------------------------------------------------------
    def finish_balances(self) -> None:
        """Write list balances that follow from the transactions (customer, vendor, account)."""
        updates = []
        for entity, parties in (("Customer", self.customer_objs), ("Vendor", self.vendor_objs)):
            for party in parties.values():
                if party.balance:
                    text = format(party.balance.quantize(Decimal("0.01")), "f")
                    updates.append((entity, party.id, text))
        with self.store.transaction() as conn:
            for entity, obj_id, text in updates:
                paths = "'$.Balance', json(?)" + (", '$.BalanceWithJobs', json(?)" if entity == "Customer" else "")
                params: list[Any] = [text, text] if entity == "Customer" else [text]
                conn.execute(f"UPDATE objects SET payload = json_set(payload, {paths}) WHERE entity = ? AND id = ?",  # noqa: S608
                             (*params, entity, obj_id))
        refresh_account_balances(self.store)



def refresh_account_balances(store: RealmStore, account_ids: set[int] | None = None) -> None:
    """Account.CurrentBalance for balance-sheet accounts, from the postings (home currency).

    `account_ids` limits the work to the accounts a mutation touched."""
    with store.transaction() as conn:
        rows = conn.execute("SELECT id, json_extract(payload, '$.Classification') FROM objects WHERE entity = 'Account'").fetchall()
        for account_id, classification in rows:
            if classification in ("Revenue", "Expense") or (account_ids is not None and account_id not in account_ids):
                continue
            total = conn.execute("SELECT coalesce(sum(cents), 0) FROM postings WHERE account_id = ?", (account_id,)).fetchone()[0]
            if classification in ("Liability", "Equity"):
                total = -total
            text = format((Decimal(total) / 100).quantize(Decimal("0.01")), "f")
            conn.execute(
                "UPDATE objects SET payload = json_set(payload, '$.CurrentBalance', json(?), "
                "'$.CurrentBalanceWithSubAccounts', json(?)) WHERE entity = 'Account' AND id = ?",
                (text, text, account_id),
            )

