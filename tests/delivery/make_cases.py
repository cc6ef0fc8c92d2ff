"""Writes the QuickBooks-shaped ``cases/*.singer`` files from the schemas tap-quickbooks-online
ships (the same shapes tap-quickbooks-desktop emits: tests/test_record_model.py).

Run ``python -m tests.delivery.make_cases`` from the repository root after changing a case or
a tap schema; ``test_case_files.py`` fails while a committed file differs from what this writes.
Hostile lines (NaN, 40-digit numbers, broken JSON) are written as raw text: no JSON library
would produce them, and that is the point.
"""

from __future__ import annotations

import copy
import importlib.resources
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import simplejson

CASES_DIR = Path(__file__).resolve().parent / "cases"
KEYS = {
    "customers": ["company_id", "id"],
    "vendors": ["company_id", "id"],
    "invoices": ["company_id", "id"],
    "bills": ["company_id", "id"],
    "invoice_lines": ["company_id", "invoice_id", "line_id"],
    "deleted_records": ["company_id", "stream", "id"],
}
QBO = {"company_id": "9130", "edition": "qbo"}
QBD = {"company_id": "acme", "edition": "qbd"}
EXTRACTED = "2026-11-20T10:00:00+00:00"


def tap_schema(stream: str) -> dict[str, Any]:
    resource = importlib.resources.files("tap_quickbooks_online") / "schemas" / f"{stream}.json"
    return dict(json.loads(resource.read_text(encoding="utf-8")))


def dumps(message: dict[str, Any]) -> str:
    # Decimal as JSON numbers with every digit; non-ASCII kept as UTF-8, as taps send it.
    return str(simplejson.dumps(message, use_decimal=True, ensure_ascii=False))


def schema(stream: str, body: dict[str, Any] | None = None, keys: list[str] | None = None) -> str:
    return dumps({"type": "SCHEMA", "stream": stream, "schema": body or tap_schema(stream),
                  "key_properties": keys if keys is not None else KEYS[stream]})


def record(stream: str, values: dict[str, Any]) -> str:
    return dumps({"type": "RECORD", "stream": stream, "record": values, "time_extracted": EXTRACTED})


def state(**bookmarks: str) -> str:
    return dumps({"type": "STATE", "value": {"bookmarks": {
        stream: {"replication_key": "updated_at", "replication_key_value": value}
        for stream, value in bookmarks.items()}}})


def customer(id_: str, name: str, updated_at: str, company: dict[str, str] = QBO, **extra: Any) -> dict[str, Any]:
    return {**company, "id": id_, "display_name": name, "created_at": "2026-01-05T08:00:00-08:00",
            "updated_at": updated_at, "sync_token": 0 if company is QBO else None,
            "edit_sequence": None if company is QBO else "1762000000", "_sdc_deleted_at": None,
            "active": True, "balance": Decimal("0.00"), **extra}


def vendor(id_: str, name: str, updated_at: str, sync_token: int | None, **extra: Any) -> dict[str, Any]:
    return {**QBO, "id": id_, "display_name": name, "created_at": "2026-01-05T08:00:00-08:00",
            "updated_at": updated_at, "sync_token": sync_token, "edit_sequence": None,
            "_sdc_deleted_at": None, "active": True, "balance": Decimal("0.00"),
            "billing_address": {"line1": "1 Main St", "line2": None, "city": "Austin",
                                "region": "TX", "postal_code": "78701", "country": "US"},
            "vendor_1099": False, **extra}


def invoice(id_: str, updated_at: str, sync_token: int | None, total: Any, *,
            lines: list[dict[str, Any]] | None = None, company: dict[str, str] = QBO,
            customer_id: str = "58", **extra: Any) -> dict[str, Any]:
    return {**company, "id": id_, "doc_number": f"INV-{id_}", "txn_date": "2026-11-02",
            "due_date": "2026-12-02", "currency": "USD", "exchange_rate": Decimal("1"),
            "customer_id": customer_id, "customer_name": "Ada Lovelace",
            "created_at": "2026-11-02T08:00:00-08:00", "updated_at": updated_at,
            "sync_token": sync_token, "edit_sequence": None, "_sdc_deleted_at": None,
            "total_amount": total, "balance": total, "private_note": None, "voided": False,
            "ar_account_id": "84", "lines": [_line_in_header(x) for x in lines or []], **extra}


def bill(id_: str, updated_at: str, total: Any, **extra: Any) -> dict[str, Any]:
    return {**QBO, "id": id_, "doc_number": f"B-{id_}", "txn_date": "2026-11-02",
            "due_date": "2026-12-02", "currency": "USD", "exchange_rate": Decimal("1"),
            "vendor_id": "41", "vendor_name": "Acme Supplies",
            "created_at": "2026-11-02T08:00:00-08:00", "updated_at": updated_at, "sync_token": 0,
            "edit_sequence": None, "_sdc_deleted_at": None, "total_amount": total, "balance": total,
            "private_note": None, "voided": False, "ap_account_id": "33", "lines": [], **extra}


def invoice_line(header: dict[str, Any], line_id: str, amount: Any, quantity: Any = Decimal("1"),
                 unit_price: Any = None, **extra: Any) -> dict[str, Any]:
    return {"company_id": header["company_id"], "edition": header["edition"],
            "invoice_id": header["id"], "doc_number": header["doc_number"],
            "txn_date": header["txn_date"], "currency": header["currency"],
            "exchange_rate": header["exchange_rate"], "customer_id": header["customer_id"],
            "vendor_id": None, "created_at": header["created_at"], "updated_at": header["updated_at"],
            "sync_token": header["sync_token"], "edit_sequence": header["edit_sequence"],
            "_sdc_deleted_at": None, "line_id": line_id, "line_num": int(line_id),
            "detail_type": "SalesItemLineDetail", "description": f"Line {line_id}",
            "amount": amount, "item_id": "5", "item_name": "Consulting", "account_id": "79",
            "account_name": "Sales", "class_id": None, "quantity": quantity,
            "unit_price": amount if unit_price is None else unit_price, "posting_type": None,
            "entity_id": None, "billable_customer_id": None, **extra}


def _line_in_header(line: dict[str, Any]) -> dict[str, Any]:
    names = tap_schema("invoices")["properties"]["lines"]["items"]["properties"]
    return {name: line.get(name) for name in names}


def swap(line: str, old: str, new: str) -> str:
    """``line`` with its one ``old`` replaced by raw ``new`` text (NaN, Infinity, a 40-digit number)."""
    if line.count(old) != 1:
        raise ValueError(f"{old!r} occurs {line.count(old)} times in {line[:80]!r}")
    return line.replace(old, new)


def deleted(row: dict[str, Any], deleted_at: str) -> dict[str, Any]:
    """A deletion as the taps send it: key, edition, version columns and the time; the rest null."""
    keep = {"company_id", "edition", "id", "updated_at", "sync_token", "edit_sequence"}
    gone = {name: (value if name in keep else None) for name, value in row.items()}
    gone.update(_sdc_deleted_at=deleted_at, sync_token=None, edit_sequence=None, lines=[])
    return gone


def with_lines(header: dict[str, Any], *lines: dict[str, Any]) -> dict[str, Any]:
    return {**header, "lines": [_line_in_header(x) for x in lines]}


# --- the cases -------------------------------------------------------------------------------

T1 = "2026-11-02T09:15:02-08:00"
T2 = "2026-11-03T10:00:00-08:00"
ADA = customer("58", "Ada Lovelace", "2026-11-01T09:00:00-08:00")


def money_exact() -> list[str]:
    first = invoice("1001", T1, 0, Decimal("0.30"))
    l1 = invoice_line(first, "1", Decimal("0.10"))
    l2 = invoice_line(first, "2", Decimal("0.20"), Decimal("2"), Decimal("0.10"))
    biggest = invoice("1002", T1, 0, Decimal("9999999999999.99"))  # QBD AMTTYPE: 13 digits, 2 places
    credit = invoice("1003", T1, 0, Decimal("-1234.56"), balance=Decimal("-0.01"))
    zero = invoice("1004", T1, 0, Decimal("0.00"))
    return [schema("customers"), schema("invoices"), schema("invoice_lines"), schema("bills"),
            record("customers", ADA), record("invoices", with_lines(first, l1, l2)),
            record("invoice_lines", l1), record("invoice_lines", l2),
            record("invoices", biggest), record("invoices", credit), record("invoices", zero),
            record("bills", bill("1101", T1, Decimal("1500.00"), balance=Decimal("0.01"))),
            state(invoices=T1, bills=T1)]


def money_beyond_cents() -> list[str]:
    # QBD PRICETYPE/QUANTYPE carry 5 places, FLOATTYPE exchange rates more: exact in DECIMAL(38,10).
    header = invoice("2001", T1, 0, Decimal("0.12"), exchange_rate=Decimal("1.2345678901"))
    line = invoice_line(header, "1", Decimal("0.12"), Decimal("0.00001"), Decimal("12345.67891"))
    plain = invoice("2002", T1, 0, Decimal("19.99"))
    return [schema("customers"), schema("invoices"), schema("invoice_lines"),
            record("customers", ADA), record("invoices", with_lines(header, line)),
            record("invoice_lines", line), record("invoices", plain), state(invoices=T1)]


def late_older_version() -> list[str]:
    older, newer = "2026-11-02T09:00:00+00:00", "2026-11-03T09:00:00+00:00"
    return [schema("vendors"), schema("customers"), schema("invoices"), record("customers", ADA),
            record("vendors", vendor("41", "Acme New", newer, 3)),
            record("vendors", vendor("41", "Acme Old", older, 2)),        # late, older instant
            record("vendors", vendor("42", "Beta Old", older, 1)),
            record("vendors", vendor("42", "Beta New", newer, 2)),
            record("vendors", vendor("43", "Gamma five", newer, 5)),
            record("vendors", vendor("43", "Gamma four", newer, 4)),      # late, older sync_token
            record("invoices", invoice("1201", newer, 1, Decimal("200.00"))),
            record("invoices", invoice("1201", older, 0, Decimal("100.00"))),
            state(vendors=newer, invoices=newer)]


def desktop_edit_and_delete_same_second() -> list[str]:
    # QBD: TimeModified and TimeDeleted in the same second, no sync_token, and a deletion carries
    # no EditSequence. The deletion is the newer version (docs/delivery-contract.md, rule 2).
    same_second = "2026-11-02T09:15:02-08:00"
    who = customer("80000001-1762000000", "Ada Desktop", "2026-11-01T09:00:00-08:00", company=QBD)
    lines = [schema("customers"), schema("invoices"), schema("deleted_records"), record("customers", who)]
    for n, live_first in (("1", True), ("2", False), ("3", True), ("4", False)):
        txn = f"1A{n}-1762000000"
        live = invoice(txn, same_second, None, Decimal("10.00"), company=QBD,
                       customer_id="80000001-1762000000", edit_sequence="1762103702")
        gone = deleted(live, same_second)
        pair = [live, gone] if live_first else [gone, live]
        lines += [record("invoices", pair[0]), record("invoices", pair[1])]
    for n in "1234":
        lines.append(record("deleted_records", {**QBD, "id": f"1A{n}-1762000000", "entity": "Invoice",
                                                "stream": "invoices", "deleted_at": same_second,
                                                "updated_at": same_second}))
    return [*lines, state(invoices=same_second, deleted_records=same_second)]


def header_deleted_with_lines() -> list[str]:
    doomed = invoice("3001", T1, 0, Decimal("30.00"))
    d1, d2 = invoice_line(doomed, "1", Decimal("10.00")), invoice_line(doomed, "2", Decimal("20.00"))
    kept = invoice("3002", T1, 0, Decimal("5.00"))
    k1 = invoice_line(kept, "1", Decimal("5.00"))
    early = invoice("3003", T1, 0, Decimal("7.00"))
    e1 = invoice_line(early, "1", Decimal("7.00"))
    return [schema("customers"), schema("invoices"), schema("invoice_lines"), record("customers", ADA),
            record("invoices", with_lines(doomed, d1, d2)), record("invoices", with_lines(kept, k1)),
            # 3003's deletion arrives before its lines (CDC answer before the line stream).
            record("invoices", deleted(early, T2) | {"updated_at": T2}),
            record("invoice_lines", d1), record("invoice_lines", d2), record("invoice_lines", k1),
            record("invoice_lines", e1),
            record("invoices", deleted(doomed, T2) | {"updated_at": T2}),
            state(invoices=T2, invoice_lines=T1)]


def schema_growth_and_widening() -> list[str]:
    grown = tap_schema("vendors")
    grown["properties"]["discount_days"] = {"type": ["integer", "null"]}
    widened = copy.deepcopy(grown)
    widened["properties"]["discount_days"] = {"type": ["number", "null"]}
    return [schema("vendors"), record("vendors", vendor("41", "Acme", T1, 0)),
            schema("vendors", grown), record("vendors", vendor("42", "Beta", T1, 0, discount_days=10)),
            schema("vendors", widened),
            record("vendors", vendor("43", "Gamma", T1, 0, discount_days=Decimal("2.5"))),
            state(vendors=T1)]


def names_reserved_mixed_unicode() -> list[str]:
    body = {"type": "object", "properties": {
        "id": {"type": "string"}, "select": {"type": ["string", "null"]},
        "from": {"type": ["string", "null"]}, "Group": {"type": ["string", "null"]},
        "ClientName": {"type": ["string", "null"]}, "Größe": {"type": ["number", "null"]},
        "名前": {"type": ["string", "null"]}, "user": {"type": ["string", "null"]}}}
    rows = [{"id": "1", "select": "s1", "from": "f1", "Group": "g1", "ClientName": "Ada",
             "Größe": Decimal("1.5"), "名前": "エイダ", "user": "ada"},
            {"id": "2", "select": "s2", "from": "f2", "Group": "g2", "ClientName": "Bob",
             "Größe": Decimal("2.25"), "名前": "ボブ", "user": "bob"}]
    return [schema("Order", body, ["id"]), *(record("Order", r) for r in rows)]


def long_strings() -> list[str]:
    note = ("Überweisung € ✓ " * 320)[:5000]  # 5,000 characters, many of them multi-byte
    return [schema("customers"), schema("invoices"), record("customers", ADA),
            record("invoices", invoice("4001", T1, 0, Decimal("1.00"), private_note=note)),
            record("invoices", invoice("4002", T1, 0, Decimal("2.00"), private_note="x" * 4000)),
            state(invoices=T1)]


def extreme_dates() -> list[str]:
    return [schema("customers"), schema("invoices"), record("customers", ADA),
            record("invoices", invoice("5001", T1, 0, Decimal("1.00"), txn_date="0001-01-01",
                                       due_date="9999-12-31")),
            record("invoices", invoice("5002", "2038-01-19T03:14:08+00:00", 0, Decimal("2.00"),
                                       txn_date="2024-02-29", created_at="1970-01-01T00:00:00Z")),
            # 23:00 at -08:00 on the last day of 9999 is in year 10000 in UTC: no timestamp holds it.
            record("invoices", invoice("5003", "9999-12-31T23:00:00-08:00", 0, Decimal("3.00"))),
            record("invoices", invoice("5004", "2026-11-02T09:15:02.123456-08:00", 0, Decimal("4.00"))),
            state(invoices=T1)]


def utc_offsets() -> list[str]:
    return [schema("vendors"),
            record("vendors", vendor("41", "v1", "2026-11-02T01:00:00-08:00", 4)),   # 09:00 UTC
            record("vendors", vendor("41", "v2", "2026-11-02T09:30:00+00:00", 5)),   # 09:30 UTC
            record("vendors", vendor("41", "v3", "2026-11-02T10:15:00+01:00", 9)),   # 09:15 UTC
            record("vendors", vendor("42", "Kathmandu", "2026-11-02T15:00:00+05:45", 1)),  # 09:15 UTC
            record("vendors", vendor("42", "Zulu", "2026-11-02T09:14:00Z", 2)),      # 09:14 UTC: older
            state(vendors="2026-11-02T09:30:00+00:00")]


def nan_infinity() -> list[str]:
    good = record("invoices", invoice("6001", T1, 0, Decimal("1.00")))
    hostile = [
        swap(record("invoices", invoice("6002", T1, 0, Decimal("1.00"))),
             '"total_amount": 1.00', '"total_amount": NaN'),
        swap(record("invoices", invoice("6003", T1, 0, Decimal("1.00"))),
             '"exchange_rate": 1,', '"exchange_rate": Infinity,'),
        swap(record("invoices", invoice("6004", T1, 0, Decimal("1.00"))),
             '"balance": 1.00', '"balance": -Infinity'),
    ]
    return [schema("customers"), schema("invoices"), record("customers", ADA), good, *hostile,
            record("invoices", invoice("6005", T1, 0, Decimal("5.00"))), state(invoices=T1)]


def huge_numbers() -> list[str]:
    forty = "1234567890123456789012345678901234567890"
    return [schema("customers"), schema("invoices"), record("customers", ADA),
            swap(record("invoices", invoice("7001", T1, 0, Decimal("1.00"))),
                 '"total_amount": 1.00', f'"total_amount": {forty}'),
            record("invoices", invoice("7002", T1, 0, Decimal("999999999999999999999999999.99"))),
            record("invoices", invoice("7003", T1, 9223372036854775808, Decimal("3.00"))),
            record("invoices", invoice("7004", T1, 0, Decimal("4.00"),
                                       exchange_rate=Decimal("0.000000000001"))),
            swap(record("invoices", invoice("7005", T1, 0, Decimal("5.00"))),
                 '"total_amount": 5.00', '"total_amount": 1E+3'),
            record("invoices", invoice("7006", T1, 0, Decimal("0.1"))),
            state(invoices=T1)]


def multiple_of() -> list[str]:
    # What singer-sdk SQL taps emit for NUMERIC(p,2) columns.
    body = tap_schema("invoices")
    for name in ("total_amount", "balance"):
        body["properties"][name]["multipleOf"] = 0.01
    return [schema("customers"), schema("invoices", body), record("customers", ADA),
            record("invoices", invoice("8001", T1, 0, Decimal("10.25"))),
            record("invoices", invoice("8002", T1, 0, Decimal("10.255"))),
            record("invoices", invoice("8003", T1, 0, Decimal("1234567.89"))),
            record("invoices", invoice("8004", T1, 0, Decimal("0.07"))),  # 0.07 / 0.01 is not 7 in float
            state(invoices=T1)]


def malformed_lines() -> list[str]:
    truncated = record("vendors", vendor("42", "Cut", T1, 0))[:60]
    return [schema("vendors"), record("vendors", vendor("41", "Acme", T1, 0)), truncated,
            "this is not JSON", record("vendors", vendor("43", "Gamma", T1, 0)), state(vendors=T1)]


def record_before_schema() -> list[str]:
    return [record("vendors", vendor("40", "Early", T1, 0)), schema("vendors"),
            record("vendors", vendor("41", "Acme", T1, 0)), state(vendors=T1)]


def missing_keys() -> list[str]:
    header = invoice("9001", T1, 0, Decimal("3.00"))
    good = invoice_line(header, "1", Decimal("1.00"))
    no_line_id = {k: v for k, v in invoice_line(header, "2", Decimal("1.00")).items() if k != "line_id"}
    null_line_id = invoice_line(header, "3", Decimal("1.00")) | {"line_id": None}
    no_id = {k: v for k, v in invoice("9002", T1, 0, Decimal("1.00")).items() if k != "id"}
    return [schema("customers"), schema("invoices"), schema("invoice_lines"), record("customers", ADA),
            record("invoices", with_lines(header, good)), record("invoice_lines", good),
            record("invoice_lines", no_line_id), record("invoice_lines", null_line_id),
            record("invoices", no_id), state(invoices=T1, invoice_lines=T1)]


CASES: dict[str, Callable[[], list[str]]] = {
    "qb_money_exact": money_exact,
    "qb_money_beyond_cents": money_beyond_cents,
    "qb_late_older_version": late_older_version,
    "qb_desktop_edit_and_delete_same_second": desktop_edit_and_delete_same_second,
    "qb_header_deleted_with_lines": header_deleted_with_lines,
    "qb_schema_growth_and_widening": schema_growth_and_widening,
    "qb_names_reserved_mixed_unicode": names_reserved_mixed_unicode,
    "qb_long_strings": long_strings,
    "qb_extreme_dates": extreme_dates,
    "qb_utc_offsets": utc_offsets,
    "qb_nan_infinity": nan_infinity,
    "qb_huge_numbers": huge_numbers,
    "qb_multiple_of": multiple_of,
    "qb_malformed_lines": malformed_lines,
    "qb_record_before_schema": record_before_schema,
    "qb_missing_keys": missing_keys,
}


def render(name: str) -> str:
    return "".join(line + "\n" for line in CASES[name]())


def main() -> None:
    for name in CASES:
        (CASES_DIR / f"{name}.singer").write_text(render(name), encoding="utf-8")


if __name__ == "__main__":
    main()
