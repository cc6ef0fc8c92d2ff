"""Control API for tests: mutations as a QuickBooks user would make them (no HTTP, not counted).

Every mutation keeps the company consistent the way QuickBooks does: SyncToken and
LastUpdatedTime move, ledger postings follow, linked balances change, a change event is queued
for the webhook sender.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from . import clock, jsonfmt
from .catalog import ACTIVE_FLAG_ENTITIES, ALL_ENTITIES, TRANSACTION_ENTITIES
from .generator import refresh_account_balances
from .ledger import CENT, postings_for, to_home
from .realm import Realm
from .store import RealmStore


class RealmHandle:

    def __init__(self, realm: Realm) -> None:
        self._realm = realm
        self.realm_id = realm.realm_id

    @property
    def store(self) -> RealmStore:
        return self._realm.store

    def now(self) -> datetime:
        return datetime.now(self._realm.tz)

    def get(self, entity: str, obj_id: str | int) -> dict[str, Any] | None:
        return self.store.get(entity, int(obj_id))

    def count(self, entity: str) -> int:
        return self.store.count(entity)

    def ids(self, entity: str) -> list[str]:
        return [str(i) for i in self.store.ids(entity)]

    def query_count(self, entity: str, active_only: bool = True) -> int:
        sql = "SELECT count(*) FROM objects WHERE entity = ? AND deleted = 0"
        if active_only and entity in ACTIVE_FLAG_ENTITIES:
            sql += " AND active = 1"
        return int(self.store.execute(sql, (entity,))[0][0])

    # mutations ---------------------------------------------------------------------------------
    def _stamp(self, entity: str, obj: dict[str, Any], now_s: int, created: bool) -> None:
        meta = dict(obj.get("MetaData") or {})
        if created:
            meta["CreateTime"] = clock.format_timestamp(now_s, self._realm.tz)
            meta["_created_s"] = now_s
        else:
            meta["_created_s"] = self.store.execute(
                "SELECT created_s FROM objects WHERE entity = ? AND id = ?", (entity, int(obj["Id"]))
            )[0][0]
        meta["LastUpdatedTime"] = clock.format_timestamp(now_s, self._realm.tz)
        meta["_updated_s"] = now_s
        obj["MetaData"] = meta

    def _repost(self, entity: str, txn_id: int, postings: list[Any]) -> None:
        touched = {r[0] for r in self.store.execute(
            "SELECT DISTINCT account_id FROM postings WHERE entity = ? AND txn_id = ?", (entity, txn_id))}
        touched |= {p[3] for p in postings}
        self.store.replace_postings(entity, txn_id, postings)
        refresh_account_balances(self.store, touched)

    def _save(self, entity: str, obj: dict[str, Any], operation: str) -> dict[str, Any]:
        if entity in TRANSACTION_ENTITIES:
            _fill_totals(entity, obj)
            self._repost(entity, int(obj["Id"]), postings_for(entity, obj, self._realm.ledger_context()))
        self.store.put(entity, obj)
        self.store.add_event(entity, int(obj["Id"]), operation, obj["MetaData"]["_updated_s"])
        saved = self.get(entity, obj["Id"])
        assert saved is not None
        return saved

    def create(self, entity: str, body: dict[str, Any]) -> dict[str, Any]:
        if entity not in ALL_ENTITIES:
            raise ValueError(f"unknown QBO entity {entity!r}")
        obj = jsonfmt.loads(jsonfmt.dumps(body))
        obj["Id"] = str(self.store.next_id(entity))
        obj["SyncToken"] = "0"
        obj.setdefault("domain", "QBO")
        obj.setdefault("sparse", False)
        if entity in ACTIVE_FLAG_ENTITIES:
            obj.setdefault("Active", True)
        now_s = self._realm.now_s()
        if entity in TRANSACTION_ENTITIES:
            obj.setdefault("TxnDate", clock.local_date(now_s, self._realm.tz).isoformat())
        self._stamp(entity, obj, now_s, created=True)
        saved = self._save(entity, obj, "Create")
        self._apply_links(entity, saved, -1)
        return saved

    def _load(self, entity: str, obj_id: str | int) -> dict[str, Any]:
        obj = self.get(entity, obj_id)
        if obj is None:
            raise KeyError(f"{entity} {obj_id} does not exist (or was deleted)")
        return obj

    def update(self, entity: str, obj_id: str | int, changes: dict[str, Any], operation: str = "Update") -> dict[str, Any]:
        obj = self._load(entity, obj_id)
        if "SyncToken" in changes and str(changes["SyncToken"]) != obj["SyncToken"]:
            raise ValueError(f"stale SyncToken {changes['SyncToken']} for {entity} {obj_id} (current {obj['SyncToken']})")
        before_total = Decimal(str(obj.get("TotalAmt", 0)))
        before_balance = Decimal(str(obj.get("Balance", 0)))
        obj.update(jsonfmt.loads(jsonfmt.dumps({k: v for k, v in changes.items() if k not in ("Id", "SyncToken", "MetaData")})))
        if "Line" in changes and "Balance" in obj and "Balance" not in changes:
            _fill_totals(entity, obj)
            paid = before_total - before_balance
            obj["Balance"] = Decimal(str(obj["TotalAmt"])) - paid
        obj["SyncToken"] = str(int(obj["SyncToken"]) + 1)
        self._stamp(entity, obj, self._realm.now_s(), created=False)
        return self._save(entity, obj, operation)

    def delete(self, entity: str, obj_id: str | int) -> None:
        if entity not in TRANSACTION_ENTITIES:
            raise ValueError(f"{entity} is a list entity: QuickBooks never deletes those; use deactivate()")
        obj = self._load(entity, obj_id)
        self._apply_links(entity, obj, +1)
        if entity == "Invoice":
            self._unapply_payments_to(str(obj_id))
        now_s = self._realm.now_s()
        tomb = {"domain": "QBO", "status": "Deleted", "Id": str(obj_id),
                "MetaData": {"LastUpdatedTime": clock.format_timestamp(now_s, self._realm.tz)}}
        self.store.mark_deleted(entity, int(obj_id), now_s, jsonfmt.dumps(tomb))
        self._repost(entity, int(obj_id), [])
        self.store.add_event(entity, int(obj_id), "Delete", now_s)

    def void(self, entity: str, obj_id: str | int) -> dict[str, Any]:
        if entity not in TRANSACTION_ENTITIES:
            raise ValueError(f"{entity} cannot be voided")
        obj = self._load(entity, obj_id)
        self._apply_links(entity, obj, +1)
        zero = Decimal("0.00")
        lines = [{**line, "Amount": zero} for line in obj.get("Line", [])]
        changes: dict[str, Any] = {"Line": lines, "TotalAmt": zero, "PrivateNote": "Voided"}
        for key in ("Balance", "HomeBalance", "HomeTotalAmt", "UnappliedAmt"):
            if key in obj:
                changes[key] = zero
        return self.update(entity, obj_id, changes, operation="Void")

    def deactivate(self, entity: str, obj_id: str | int) -> dict[str, Any]:
        if entity not in ACTIVE_FLAG_ENTITIES:
            raise ValueError(f"{entity} has no Active flag")
        # Intuit reports a list record made inactive as a `Delete` change event.
        return self.update(entity, obj_id, {"Active": False}, operation="Delete")

    def merge(self, entity: str, from_id: str | int, to_id: str | int) -> dict[str, Any]:
        if entity not in ("Customer", "Vendor", "Account", "Item", "Class", "Employee"):
            raise ValueError(f"{entity} cannot be merged")
        source = self._load(entity, from_id)
        target = self._load(entity, to_id)
        ref_key = {"Customer": "CustomerRef", "Vendor": "VendorRef", "Item": "ItemRef"}.get(entity)
        if ref_key:
            rows = self.store.execute(
                # ref_key comes from a fixed table above, never from input.
                f"SELECT entity, id FROM objects WHERE deleted = 0 AND json_extract(payload, '$.{ref_key}.value') = ?",  # noqa: S608
                (str(from_id),),
            )
            name = target.get("DisplayName") or target.get("Name")
            for txn_entity, txn_id in rows:
                self.update(txn_entity, txn_id, {ref_key: {"value": str(to_id), "name": name}})
        changes: dict[str, Any] = {"Active": False}
        label = "DisplayName" if "DisplayName" in source else "Name"
        changes[label] = f"{source.get(label)} (deleted)"
        if "Balance" in source:
            moved = Decimal(str(source["Balance"]))
            changes["Balance"] = Decimal("0.00")
            self.update(entity, to_id, {"Balance": Decimal(str(target.get("Balance", 0))) + moved}, operation="Merge")
        else:
            self.update(entity, to_id, {}, operation="Merge")
        return self.update(entity, from_id, changes, operation="Update")

    def _unapply_payments_to(self, invoice_id: str) -> None:
        """Deleting a paid invoice leaves its payments as unapplied credit, as QuickBooks does."""
        needle = f'%"TxnId":"{invoice_id}","TxnType":"Invoice"%'
        rows = self.store.execute(
            "SELECT id FROM objects WHERE entity = 'Payment' AND deleted = 0 AND payload LIKE ?", (needle,))
        for (payment_id,) in rows:
            payment = self._load("Payment", payment_id)
            kept, freed = [], Decimal("0")
            for line in payment.get("Line", []):
                if any(link.get("TxnId") == invoice_id and link.get("TxnType") == "Invoice" for link in line.get("LinkedTxn", [])):
                    freed += Decimal(str(line.get("Amount", 0)))
                else:
                    kept.append(line)
            unapplied = Decimal(str(payment.get("UnappliedAmt", 0))) + freed
            self.update("Payment", payment_id, {"Line": kept, "UnappliedAmt": unapplied.quantize(CENT)})

    def _apply_links(self, entity: str, obj: dict[str, Any], sign: int) -> None:
        """Payments reduce what they pay (sign -1 on create); deleting/voiding them restores it."""
        if entity not in ("Payment", "BillPayment"):
            return
        for line in obj.get("Line", []):
            amount = Decimal(str(line.get("Amount", 0)))
            for link in line.get("LinkedTxn", []):
                target_entity = link.get("TxnType")
                if target_entity not in ("Invoice", "Bill"):
                    continue
                target = self.get(target_entity, link["TxnId"])
                if target is None:
                    continue
                balance = (Decimal(str(target.get("Balance", 0))) + sign * amount).quantize(CENT)
                changes: dict[str, Any] = {"Balance": balance}
                if "HomeBalance" in target:
                    changes["HomeBalance"] = to_home(balance, Decimal(str(target.get("ExchangeRate", 1))))
                self.update(target_entity, link["TxnId"], changes)


def _fill_totals(entity: str, obj: dict[str, Any]) -> None:
    """TotalAmt follows the lines (plus a payment's unapplied credit), as QuickBooks computes it."""
    if entity in ("JournalEntry", "Transfer", "TimeActivity") or "Line" not in obj:
        return
    detail = [line for line in obj["Line"] if line.get("DetailType") not in ("SubTotalLineDetail", "DescriptionOnly")]
    total = sum((Decimal(str(line.get("Amount", 0))) for line in detail), Decimal("0"))
    if entity == "Payment":
        total += Decimal(str(obj.get("UnappliedAmt", 0)))
    obj["TotalAmt"] = total.quantize(CENT)
    if entity in ("Invoice", "Bill", "CreditMemo", "VendorCredit") and "Balance" not in obj:
        obj["Balance"] = total.quantize(CENT)
