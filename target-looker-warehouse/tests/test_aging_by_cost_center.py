"""AP and AR aging sliced by cost center equal, to the cent, what the generated company holds: the
QBO sandbox's own bills and invoices (their DepartmentRef, their lines' ClassRef), read through
tap-quickbooks-online into DuckDB and PostgreSQL; and Desktop books, whose classes sit on lines and
which have no departments."""

from __future__ import annotations

import collections
import datetime as dt
import typing as t
from decimal import ROUND_HALF_UP, Decimal

import pytest

from tests.qb_records import QuickBooksData, singer_lines
from tests.qbo_company import GeneratedCompany, read_through_tap
from tests.target_runner import model, query, run_target

pytest.importorskip("tap_quickbooks_online")
pytest.importorskip("sandboxes.qbo")

CENT = Decimal("0.01")
SUBTOTAL = "SubTotalLineDetail"


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> GeneratedCompany:
    return read_through_tap(tmp_path_factory.mktemp("cost-center"), transactions=400, seed=15)


def _as_of(config: t.Mapping[str, t.Any]) -> dt.date:
    return dt.date.fromisoformat(config["aging_as_of"])


def _major_class(document: t.Mapping[str, t.Any]) -> tuple[str | None, int]:
    """The class carrying most of the document's amount (ties: the lowest id), and how many."""
    by_class: dict[str, Decimal] = collections.defaultdict(Decimal)
    for line in document.get("Line") or []:
        if line.get("DetailType") == SUBTOTAL:
            continue
        detail = line.get(line.get("DetailType") or "") or {}
        if detail.get("ClassRef"):
            by_class[str(detail["ClassRef"]["value"])] += abs(Decimal(str(line.get("Amount") or 0)))
    if not by_class:
        return None, 0
    return min(by_class, key=lambda c: (-by_class[c], c)), len(by_class)


def _expected(company: GeneratedCompany, entity: str, as_of: dt.date) -> dict[str, dict[str | None, Decimal]]:
    from tap_quickbooks_online.records import is_voided

    names = {kind: {str(o["Id"]): str(o["Name"]) for o in company.objects[kind]} for kind in ("Class", "Department")}
    totals: dict[str, dict[str | None, Decimal]] = {"class": collections.defaultdict(Decimal),
                                                     "department": collections.defaultdict(Decimal)}
    for document in company.objects[entity]:
        balance = Decimal(str(document.get("Balance") or 0))
        if not balance or is_voided(document) or dt.date.fromisoformat(document["TxnDate"]) > as_of:
            continue
        rate = Decimal(str(document.get("ExchangeRate") or 1))
        home = (balance * rate).quantize(CENT, ROUND_HALF_UP)
        class_id, _ = _major_class(document)
        department = (document.get("DepartmentRef") or {}).get("value")
        totals["class"][names["Class"].get(class_id or "")] += home
        totals["department"][names["Department"].get(str(department)) if department else None] += home
    return {kind: dict(v) for kind, v in totals.items()}


def _in_warehouse(config: dict[str, t.Any], table: str, kind: str) -> dict[str | None, Decimal]:
    rows = query(config, f"SELECT {kind}_name, SUM(open_balance_home) FROM {model(config, table)} GROUP BY 1")
    return {name: Decimal(total) for name, total in rows}


@pytest.mark.e2e
@pytest.mark.parametrize(("table", "entity"), [("ap_aging", "Bill"), ("ar_aging", "Invoice")])
def test_aging_by_class_and_department_equals_the_generated_company_to_the_cent(
    company: GeneratedCompany, warehouse_config: dict[str, t.Any], table: str, entity: str
) -> None:
    run_target(warehouse_config, company.singer)
    expected = _expected(company, entity, _as_of(warehouse_config))
    for kind in ("class", "department"):
        named = [name for name in expected[kind] if name is not None]
        assert len(named) >= 2, f"the generated company gives open {entity}s of several {kind}es: {expected[kind]}"
        assert _in_warehouse(warehouse_config, table, kind) == expected[kind], kind


@pytest.mark.e2e
def test_aging_rows_name_each_documents_class_and_how_many_it_spans(
    company: GeneratedCompany, duckdb_config: dict[str, t.Any]
) -> None:
    run_target(duckdb_config, company.singer)
    rows = query(duckdb_config, f"SELECT bill_id, class_id, class_count, department_id FROM {model(duckdb_config, 'ap_aging')}")
    bills = {str(b["Id"]): b for b in company.objects["Bill"]}
    assert rows
    for bill_id, class_id, class_count, department_id in rows:
        assert (class_id, class_count) == _major_class(bills[bill_id]), bill_id
        assert department_id == (bills[bill_id].get("DepartmentRef") or {}).get("value"), bill_id
    assert any(count > 1 for _, _, count, _ in rows), "some open bill spans several classes"


def test_desktop_aging_takes_the_class_from_the_lines_and_has_no_department(
    warehouse_config: dict[str, t.Any],
) -> None:
    books = QuickBooksData(seed=4, edition="qbd", company_id="acme-qbd", invoices=16, bills=16, journals=0)
    for n, line in enumerate(books.records["bill_lines"] + books.records["invoice_lines"]):
        line["class_id"] = ("80000001-1700000000", "80000002-1700000000", None)[n % 3]
    books.records["classes"] = [
        {**books.base(class_id), "name": name, "fully_qualified_name": name, "parent_id": None, "active": True}
        for class_id, name in (("80000001-1700000000", "Retail"), ("80000002-1700000000", "Wholesale"))]
    for header in books.records["bills"] + books.records["invoices"]:
        header["balance"] = header["total_amount"]
    run_target(warehouse_config, singer_lines(books.records))
    for table, headers, lines, key in (("ap_aging", "bills", "bill_lines", "bill_id"),
                                       ("ar_aging", "invoices", "invoice_lines", "invoice_id")):
        expected: dict[str | None, Decimal] = collections.defaultdict(Decimal)
        for header in books.records[headers]:
            if dt.date.fromisoformat(header["txn_date"]) > _as_of(warehouse_config):
                continue
            by_class: dict[str, Decimal] = collections.defaultdict(Decimal)
            for line in books.records[lines]:
                if line[key] == header["id"] and line["class_id"] and line["detail_type"] != SUBTOTAL:
                    by_class[line["class_id"]] += abs(line["amount"])
            major = min(by_class, key=lambda c: (-by_class[c], c)) if by_class else None
            rate = header.get("exchange_rate") or Decimal(1)
            expected[{"80000001-1700000000": "Retail", "80000002-1700000000": "Wholesale"}.get(major or "")] += (
                header["balance"] * rate).quantize(CENT, ROUND_HALF_UP)
        assert _in_warehouse(warehouse_config, table, "class") == dict(expected), table
        assert {"Retail", "Wholesale"} <= set(expected)
        assert _in_warehouse(warehouse_config, table, "department") == {None: sum(expected.values(), Decimal(0))}
