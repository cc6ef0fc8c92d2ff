"""Generated LookML parses, names only columns that exist, and leaves the user's files alone."""

from __future__ import annotations

import json
import pathlib
import re
import typing as t

import lkml
import pytest
import yaml
from target_looker_warehouse.cli import main
from target_looker_warehouse.lookml_dashboards import NAMES
from target_looker_warehouse.lookml_project import is_generated

from tests.qb_records import QuickBooksData, singer_lines
from tests.target_runner import query, run_target

TABLE_COLUMN = re.compile(r'\$\{TABLE\}\.(?:"((?:[^"]|"")+)"|(\w+))')
FIELD_REF = re.compile(r"\$\{(\w+)\.(\w+)\}")
LOCAL_REF = re.compile(r"\$\{(\w+)\}")


def _warehouse_columns(config: dict[str, t.Any], schema_table: str) -> set[str]:
    schema, table = schema_table.split(".")
    rows = query(
        config,
        "SELECT column_name FROM information_schema.columns WHERE table_schema = :s AND table_name = :t",
        s=schema, t=table,
    )
    return {r[0] for r in rows}


def _view_fields(view: dict[str, t.Any]) -> set[str]:
    fields = {d["name"] for d in view.get("dimensions", []) + view.get("measures", [])}
    for group in view.get("dimension_groups", []):
        fields |= {f"{group['name']}_{tf}" for tf in group["timeframes"]}
    return fields


@pytest.fixture
def project(warehouse_config: dict[str, t.Any], tmp_path: pathlib.Path) -> tuple[dict[str, t.Any], pathlib.Path]:
    root = tmp_path / "looker_project"
    config = {**warehouse_config, "lookml_path": str(root), "lookml_model": "quickbooks"}
    run_target(config, singer_lines(QuickBooksData(invoices=10, bills=10, journals=3).records))
    return config, root


def test_every_generated_file_parses_and_names_existing_columns(
    project: tuple[dict[str, t.Any], pathlib.Path],
) -> None:
    config, root = project
    views: dict[str, dict[str, t.Any]] = {}
    for path in sorted(root.rglob("*.view.lkml")):
        parsed = lkml.load(path.read_text())
        (view,) = parsed["views"]
        views[view["name"]] = view
        columns = _warehouse_columns(config, view["sql_table_name"])
        assert columns, f"{path.name}: table {view['sql_table_name']} missing"
        fields = _view_fields(view)
        keys = [d for d in view.get("dimensions", []) if d.get("primary_key") == "yes"]
        assert len(keys) == 1, f"{path.name}: exactly one primary_key"
        for item in view.get("dimensions", []) + view.get("dimension_groups", []) + view.get("measures", []):
            sql = item.get("sql", "")
            for quoted, plain in TABLE_COLUMN.findall(sql):
                column = quoted.replace('""', '"') if quoted else plain
                assert column in columns, f"{path.name}: {item['name']} names missing column {column}"
            for local in LOCAL_REF.findall(sql):
                assert local == "TABLE" or local in fields, f"{path.name}: {item['name']} references {local}"
        for drill in view.get("sets", []):
            assert set(drill["fields"]) <= fields

    assert {"dim_account", "dim_vendor", "dim_customer", "fct_invoice_line", "fct_bill_line", "fct_gl_entry",
            "ap_aging", "ar_aging", "raw_invoices", "raw_bills"} <= set(views)
    types = {d["name"]: d["type"] for d in views["fct_invoice_line"]["dimensions"]}
    assert (types["amount_home"], types["line_key"], types["customer_id"]) == ("number", "string", "string")
    assert "txn_date" in _view_fields(views["fct_invoice_line"])
    assert {m["name"]: m["type"] for m in views["ap_aging"]["measures"]}["total_open_balance_home"] == "sum"

    model = lkml.load((root / "quickbooks.model.lkml").read_text())
    explores = {e["name"]: e for e in model["explores"]}
    assert set(explores) == {"fct_invoice_line", "fct_bill_line", "fct_gl_entry", "ap_aging", "ar_aging"}
    assert [j["name"] for j in explores["fct_invoice_line"]["joins"]] == ["raw_invoices", "dim_customer", "dim_account"]
    for explore in explores.values():
        for join in explore.get("joins", []):
            for view_name, field in FIELD_REF.findall(join["sql_on"]):
                assert field in _view_fields(views[view_name]), f"{join['name']}: ${{{view_name}.{field}}}"
    trigger = model["datagroups"][0]["sql_trigger"]
    assert query(config, trigger)[0][0] is not None

    dashboards = sorted((root / "dashboards").glob("*.dashboard.lookml"))
    assert [p.name.split(".")[0] for p in dashboards] == sorted(NAMES)
    for path in dashboards:
        (dashboard,) = yaml.safe_load(path.read_text())
        assert path.name == f"{dashboard['dashboard']}.dashboard.lookml"
        named = [f for e in dashboard["elements"] for f in [*e["fields"], *e.get("filters", {})]]
        named += [f["field"] for f in dashboard["filters"]]
        for field in named:
            view_name, name = field.split(".")
            assert name in _view_fields(views[view_name]), f"{path.name}: {field}"
        for element in dashboard["elements"]:
            assert element["explore"] in explores, f"{path.name}: explore {element['explore']}"
    lkml.load((root / "manifest.lkml").read_text())


def test_regeneration_is_deterministic(project: tuple[dict[str, t.Any], pathlib.Path], tmp_path: pathlib.Path) -> None:
    config, root = project
    before = {p: p.read_text() for p in root.rglob("*") if p.is_file()}
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(config))
    with pytest.raises(SystemExit) as ended:
        main(["lookml", "--config", str(config_file)])
    assert ended.value.code == 0
    after = {p: p.read_text() for p in root.rglob("*") if p.is_file()}
    assert after == before


def test_user_files_survive_regeneration_and_stale_generated_files_go(
    project: tuple[dict[str, t.Any], pathlib.Path], tmp_path: pathlib.Path
) -> None:
    config, root = project
    own = root / "views" / "refinements.view.lkml"
    own.write_text("view: +ap_aging {\n  measure: overdue { type: count }\n}\n")
    edited = root / "views" / "dim_vendor.view.lkml"
    edited.write_text("view: dim_vendor { sql_table_name: finance.dim_vendor ;; }\n")
    stale = root / "views" / "raw" / "raw_dropped_table.view.lkml"
    stale.write_text((root / "views" / "raw" / "raw_bills.view.lkml").read_text())
    assert is_generated(stale)

    run_target(config, singer_lines(QuickBooksData(invoices=2, bills=2, journals=1).records))
    assert own.read_text().startswith("view: +ap_aging")
    assert edited.read_text().startswith("view: dim_vendor { sql_table_name")
    assert not stale.exists()
    assert is_generated(root / "views" / "dim_customer.view.lkml")
