"""The generated dashboards drill from a balance to the documents and on to their lines, and
the aging models carry the cost center (class, department) the by-cost-center dashboard slices by."""

from __future__ import annotations

import pathlib
import re
import typing as t
from decimal import Decimal

import lkml
import yaml

from tests.qb_records import QuickBooksData, singer_lines
from tests.target_runner import model, query, run_target

LINK_FILTER = re.compile(r"/explore/(\w+)/(\w+)\?fields=\2\.detail\*&f\[\2\.(\w+)\]=\{\{ (\w+)\.(\w+)\._value")


def _views(root: pathlib.Path) -> dict[str, dict[str, t.Any]]:
    return {v["name"]: v for p in root.rglob("*.view.lkml") for v in lkml.load(p.read_text())["views"]}


def test_every_money_tile_drills_to_documents_that_link_to_their_lines(
    duckdb_config: dict[str, t.Any], tmp_path: pathlib.Path
) -> None:
    root = tmp_path / "project"
    run_target({**duckdb_config, "lookml_path": str(root)},
               singer_lines(QuickBooksData(invoices=6, bills=6, journals=2).records))
    views = _views(root)
    drilled_to: set[str] = set()
    for path in sorted((root / "dashboards").glob("*.dashboard.lookml")):
        (dashboard,) = yaml.safe_load(path.read_text())
        for element in dashboard["elements"]:
            for field in element["fields"]:
                view_name, name = field.split(".")
                measure = next((m for m in views[view_name].get("measures", []) if m["name"] == name), None)
                if measure is None or not name.startswith("total_"):
                    continue
                assert measure["drill_fields"] == ["detail*"], f"{path.name}: {field}"
                (detail,) = [s for s in views[view_name]["sets"] if s["name"] == "detail"]
                dimensions = {d["name"]: d for d in views[view_name]["dimensions"]}
                links = [link for f in detail["fields"] for link in dimensions.get(f, {}).get("links", [])]
                assert links, f"{path.name}: {field} drills to documents without a link to their lines"
                for link in links:
                    found = LINK_FILTER.search(link["url"])
                    assert found, link["url"]
                    lines_view, lines_column, source_view, source_field = found.group(2, 3, 4, 5)
                    assert lines_column in {d["name"] for d in views[lines_view]["dimensions"]}
                    assert source_view == view_name and source_field in dimensions
                    drilled_to.add(lines_view)
    assert drilled_to == {"fct_bill_line", "fct_invoice_line"}


def test_aging_rows_carry_the_class_with_most_of_the_amount_and_how_many_classes(
    duckdb_config: dict[str, t.Any],
) -> None:
    data = QuickBooksData(invoices=2, bills=4, journals=0)
    bills = {b["id"]: b for b in data.records["bills"]}
    for bill in bills.values():
        bill["balance"] = bill["total_amount"]  # every bill open, so every bill is aged
    lines = [line for line in data.records["bill_lines"] if line["detail_type"] != "SubTotalLineDetail"]
    expected: dict[str, tuple[str | None, int]] = {}
    for bill_id in bills:
        own = [line for line in lines if line["bill_id"] == bill_id]
        if bill_id == "B0":
            own[0]["class_id"] = "ops"
            expected[bill_id] = ("ops", 1)
        elif bill_id == "B1" and len(own) > 1:
            own[0]["class_id"], own[0]["amount"] = "ops", Decimal("10.00")
            for line in own[1:]:
                line["class_id"], line["amount"] = "sales", Decimal("500.00")
            expected[bill_id] = ("sales", 2)
        else:
            expected[bill_id] = (None, 0)
    assert ("sales", 2) in expected.values(), "the seed gives B1 several lines"
    run_target(duckdb_config, singer_lines(data.records))
    rows = query(duckdb_config, f"SELECT bill_id, class_id, class_count, department_id FROM {model(duckdb_config, 'ap_aging')}")
    assert {r[0]: (r[1], r[2]) for r in rows} == expected
    assert all(r[3] is None for r in rows)  # these books give no document a department


def test_the_aging_views_say_how_class_and_department_are_read_and_that_desktop_has_no_departments(
    duckdb_config: dict[str, t.Any], tmp_path: pathlib.Path
) -> None:
    root = tmp_path / "project"
    run_target({**duckdb_config, "lookml_path": str(root)}, singer_lines(QuickBooksData(invoices=3, bills=3).records))
    views = _views(root)
    for view in ("ap_aging", "ar_aging"):
        described = {d["name"]: d.get("description", "") for d in views[view]["dimensions"]}
        assert "most of its amount" in described["class_id"] and described["class_count"]
        for field in ("department_id", "department_name"):
            assert "QuickBooks Desktop" in described[field] and "DepartmentRef" in described["department_id"]
