"""The modelled layer equals totals computed in Python straight from the raw Singer records."""


from __future__ import annotations

import collections
import datetime as dt
import typing as t
from decimal import ROUND_HALF_UP, Decimal

import pytest

from tests.qb_records import QuickBooksData, singer_lines
from tests.target_runner import model, query, run_target

AS_OF = dt.date(2026, 11, 30)
CENT = Decimal("0.01")


def home(amount: Decimal | None, rate: Decimal | None) -> Decimal:
    return ((amount or Decimal(0)) * (rate if rate is not None else Decimal(1))).quantize(CENT, ROUND_HALF_UP)


def bucket(days: int) -> str:
    if days <= 0:
        return "current"
    if days <= 30:
        return "1-30"
    if days <= 60:
        return "31-60"
    if days <= 90:
        return "61-90"
    return "90+"


def expected_aging(headers: list[dict[str, t.Any]]) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = collections.defaultdict(Decimal)
    for h in headers:
        if h.get("_sdc_deleted_at") or h.get("voided") or not h.get("balance"):
            continue
        if dt.date.fromisoformat(h["txn_date"]) > AS_OF:
            continue
        due = dt.date.fromisoformat(h.get("due_date") or h["txn_date"])
        totals[bucket((AS_OF - due).days)] += home(h["balance"], h.get("exchange_rate"))
    return dict(totals)


def expected_line_total(headers: list[dict[str, t.Any]], lines: list[dict[str, t.Any]], header_id: str) -> tuple[int, Decimal]:
    live = {h["id"]: h for h in headers if not h.get("_sdc_deleted_at") and not h.get("voided")}
    kept = [
        line for line in lines
        if line[header_id] in live and not line.get("_sdc_deleted_at") and line["detail_type"] != "SubTotalLineDetail"
    ]
    return len(kept), sum((home(x["amount"], live[x[header_id]].get("exchange_rate")) for x in kept), Decimal(0))


def aging_in_warehouse(config: dict[str, t.Any], table: str) -> dict[str, Decimal]:
    rows = query(config, f"SELECT aging_bucket, SUM(open_balance_home) FROM {model(config, table)} GROUP BY aging_bucket")
    return {str(b): Decimal(v) for b, v in rows}


@pytest.fixture
def books() -> QuickBooksData:
    return QuickBooksData(seed=11, invoices=60, bills=45, journals=12)


def _load(config: dict[str, t.Any], books: QuickBooksData) -> None:
    run_target(config, singer_lines(books.records))


def test_ar_and_ap_aging_equal_the_source_balances(warehouse_config: dict[str, t.Any], books: QuickBooksData) -> None:
    _load(warehouse_config, books)
    ar = expected_aging(books.records["invoices"])
    ap = expected_aging(books.records["bills"])
    assert len(ar) >= 3 and len(ap) >= 3, "fixture should spread balances over several buckets"
    assert aging_in_warehouse(warehouse_config, "ar_aging") == ar
    assert aging_in_warehouse(warehouse_config, "ap_aging") == ap


def test_bucket_columns_add_up_to_the_open_balance(warehouse_config: dict[str, t.Any], books: QuickBooksData) -> None:
    _load(warehouse_config, books)
    (row,) = query(
        warehouse_config,
        "SELECT SUM(open_balance_home), SUM(current_home + days_1_30_home + days_31_60_home + days_61_90_home "
        f"+ days_over_90_home) FROM {model(warehouse_config, 'ap_aging')}",
    )
    assert row[0] == row[1] == sum(expected_aging(books.records["bills"]).values())


def test_line_facts_equal_source_lines_in_home_currency(warehouse_config: dict[str, t.Any], books: QuickBooksData) -> None:
    _load(warehouse_config, books)
    for fact, header, lines, header_id in (
        ("fct_invoice_line", "invoices", "invoice_lines", "invoice_id"),
        ("fct_bill_line", "bills", "bill_lines", "bill_id"),
    ):
        count, total = expected_line_total(books.records[header], books.records[lines], header_id)
        assert query(warehouse_config, f"SELECT COUNT(*), SUM(amount_home) FROM {model(warehouse_config, fact)}") == [
            (count, total)
        ]


def test_gl_balances_per_source_and_per_account(warehouse_config: dict[str, t.Any], books: QuickBooksData) -> None:
    _load(warehouse_config, books)
    gl = model(warehouse_config, "fct_gl_entry")
    per_source = dict(query(warehouse_config, f"SELECT source_type, SUM(amount_home) FROM {gl} GROUP BY source_type"))
    # The generated documents carry no tax, so every document posts balanced.
    assert per_source == {s: Decimal(0) for s in ("journal_entry", "invoice", "bill", "payment", "bill_payment")}
    expected_cash: Decimal = Decimal(0)
    for p in books.records["payments"]:
        expected_cash += home(p["total_amount"], p.get("exchange_rate"))
    for p in books.records["bill_payments"]:
        expected_cash -= home(p["total_amount"], p.get("exchange_rate"))
    for line in books.records["journal_entry_lines"]:
        if line["account_id"] == "10":
            expected_cash += line["amount"] if line["posting_type"] == "Debit" else -line["amount"]
    assert query(warehouse_config, f"SELECT SUM(amount_home) FROM {gl} WHERE account_id = '10'") == [(expected_cash,)]
    # Invoice lines reference an item: their income account comes from the item.
    income = sum((home(x["amount"], x.get("exchange_rate")) for x in books.records["invoice_lines"]
                  if x["detail_type"] != "SubTotalLineDetail"), Decimal(0))
    assert query(warehouse_config, f"SELECT -SUM(amount_home) FROM {gl} WHERE account_id = '41'") == [(income,)]


def test_account_hierarchy_paths(warehouse_config: dict[str, t.Any], books: QuickBooksData) -> None:
    _load(warehouse_config, books)
    rows = query(
        warehouse_config,
        f"SELECT account_id, root_account_id, hierarchy_path, hierarchy_depth FROM {model(warehouse_config, 'dim_account')} "
        "WHERE account_id IN ('4', '41', '60') ORDER BY account_id",
    )
    assert rows == [("4", "4", "Income", 1), ("41", "4", "Income > Services > Consulting", 3),
                    ("60", "6", "Expenses > Rent", 2)]


def test_model_follows_deletions_and_updates_on_the_next_run(warehouse_config: dict[str, t.Any], books: QuickBooksData) -> None:
    _load(warehouse_config, books)
    invoices = books.records["invoices"]
    open_invoice = next(i for i in invoices if i["balance"])
    deleted = {"company_id": open_invoice["company_id"], "edition": "qbo", "id": open_invoice["id"],
               "updated_at": "2026-11-29T00:00:00+00:00", "_sdc_deleted_at": "2026-11-29T00:00:00+00:00"}
    paid = next(i for i in invoices if i["balance"] and i["id"] != open_invoice["id"])
    paid_now = {**paid, "balance": Decimal(0), "updated_at": "2026-11-29T00:00:00+00:00"}
    run_target(warehouse_config, singer_lines({"invoices": [deleted, paid_now]}))

    current = [i for i in invoices if i["id"] not in (open_invoice["id"], paid["id"])]
    current += [{**open_invoice, "_sdc_deleted_at": deleted["_sdc_deleted_at"]}, paid_now]
    assert aging_in_warehouse(warehouse_config, "ar_aging") == expected_aging(current)
    count, total = expected_line_total(current, books.records["invoice_lines"], "invoice_id")
    assert query(warehouse_config, f"SELECT COUNT(*), SUM(amount_home) FROM {model(warehouse_config, 'fct_invoice_line')}") == [
        (count, total)
    ]


def test_desktop_books_build_the_same_models(warehouse_config: dict[str, t.Any]) -> None:
    books = QuickBooksData(seed=3, edition="qbd", company_id="acme-qbd", invoices=20, bills=20, journals=4)
    _load(warehouse_config, books)
    assert aging_in_warehouse(warehouse_config, "ap_aging") == expected_aging(books.records["bills"])
    sources = query(warehouse_config, f"SELECT DISTINCT _sdc_source FROM {model(warehouse_config, 'fct_gl_entry')}")
    assert sources == [("qbd:acme-qbd",)]


def test_sales_tax_posts_as_one_unitemised_row_per_invoice(warehouse_config: dict[str, t.Any]) -> None:
    books = QuickBooksData(seed=5, invoices=4, bills=1, journals=1)
    taxed = next(i for i in books.records["invoices"] if i["exchange_rate"] is None)
    tax = Decimal("8.25")
    taxed["total_amount"] += tax
    _load(warehouse_config, books)
    gl = model(warehouse_config, "fct_gl_entry")
    rows = query(
        warehouse_config,
        f"SELECT account_id, credit_home, debit_home FROM {gl} WHERE source_type = 'invoice' AND source_id = :doc "
        "AND line_id = 'unitemised'",
        doc=taxed["id"],
    )
    assert rows == [(None, tax, Decimal(0))]
    (balance,) = query(warehouse_config, f"SELECT SUM(amount_home) FROM {gl} WHERE source_id = :doc", doc=taxed["id"])
    assert balance == (Decimal(0),)
