"""The seeded company generator: deterministic, realistic, reconciled, streaming to SQLite."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from sandboxes.qbo import jsonfmt
from sandboxes.qbo.realm import Realm, RealmSpec

END = datetime(2026, 10, 1, 16, 0, tzinfo=UTC)


def generate(path: Path, seed: int, transactions: int = 300) -> Realm:
    realm = Realm(RealmSpec("1", seed=seed, transactions=transactions, end=END), path)
    realm.generate()
    return realm


def dump(realm: Realm) -> list[tuple[str, int, str]]:
    return [(r[0], r[1], r[2]) for r in realm.store.execute("SELECT entity, id, payload FROM objects ORDER BY entity, id")]


def test_same_seed_same_company(tmp_path: Path) -> None:
    a = generate(tmp_path / "a", 7)
    b = generate(tmp_path / "b", 7)
    c = generate(tmp_path / "c", 8)
    assert dump(a) == dump(b)
    assert dump(a) != dump(c)


def test_transaction_count_and_time_span(tmp_path: Path) -> None:
    realm = generate(tmp_path, 1, transactions=500)
    kinds = ("Invoice", "Payment", "Bill", "BillPayment", "SalesReceipt", "CreditMemo", "RefundReceipt", "Estimate",
             "VendorCredit", "PurchaseOrder", "Purchase", "Deposit", "JournalEntry", "Transfer", "TimeActivity")
    # The opening-balance journal entry is the one transaction on top of the requested count.
    assert sum(realm.store.count(k) for k in kinds) == 501
    newest = realm.store.max_updated()
    assert newest <= int(END.timestamp())


def test_money_round_trips_as_exact_decimal_text(tmp_path: Path) -> None:
    realm = generate(tmp_path, 2)
    text = realm.store.get_text("Invoice", 1)
    assert text is not None
    invoice = jsonfmt.loads(text)
    assert isinstance(invoice["TotalAmt"], Decimal)
    assert f'"TotalAmt":{invoice["TotalAmt"]}' in text
    assert jsonfmt.dumps({"a": Decimal("0.10"), "b": [Decimal("-12.345")]}) == '{"a":0.10,"b":[-12.345]}'


def test_ids_grow_with_create_time(tmp_path: Path) -> None:
    realm = generate(tmp_path, 3)
    rows = realm.store.execute("SELECT id, created_s FROM objects WHERE entity = 'Bill' ORDER BY id")
    created = [r[1] for r in rows]
    assert created == sorted(created)


def test_bill_balances_reconcile_with_bill_payments(tmp_path: Path) -> None:
    realm = generate(tmp_path, 4, transactions=800)
    paid: dict[str, Decimal] = {}
    for (payload,) in realm.store.execute("SELECT payload FROM objects WHERE entity = 'BillPayment'"):
        payment = jsonfmt.loads(payload)
        for line in payment["Line"]:
            for link in line["LinkedTxn"]:
                paid[link["TxnId"]] = paid.get(link["TxnId"], Decimal(0)) + line["Amount"]
    for (payload,) in realm.store.execute("SELECT payload FROM objects WHERE entity = 'Bill'"):
        bill = jsonfmt.loads(payload)
        assert bill["Balance"] == bill["TotalAmt"] - paid.get(bill["Id"], Decimal(0))
        assert bill["SyncToken"] == str(sum(1 for link in bill["LinkedTxn"]))


def test_ledger_postings_balance(tmp_path: Path) -> None:
    realm = generate(tmp_path, 5)
    assert realm.store.execute("SELECT sum(cents) FROM postings")[0][0] == 0
    unbalanced = realm.store.execute("SELECT entity, txn_id FROM postings GROUP BY entity, txn_id HAVING sum(cents) != 0")
    assert unbalanced == []


def test_some_documents_are_in_foreign_currency(tmp_path: Path) -> None:
    realm = generate(tmp_path, 6, transactions=600)
    foreign = realm.store.execute(
        "SELECT count(*) FROM objects WHERE entity = 'Invoice' AND json_extract(payload, '$.CurrencyRef.value') != 'USD'")
    assert foreign[0][0] > 0


def test_data_dir_reuses_same_spec_and_rebuilds_a_different_one(tmp_path: Path) -> None:
    first = generate(tmp_path, 9, transactions=120)
    first.store.set_meta("marker", "kept")
    first.store.close()
    again = Realm(RealmSpec("1", seed=9, transactions=120, end=END), tmp_path)
    assert again.generate() == {}
    assert again.store.get_meta("marker") == "kept"
    again.store.close()
    other = Realm(RealmSpec("1", seed=10, transactions=120, end=END), tmp_path)
    assert other.generate()["Invoice"] > 0
    assert other.store.get_meta("marker") is None
