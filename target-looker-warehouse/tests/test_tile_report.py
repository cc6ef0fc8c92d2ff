"""The local dashboard report, opened in headless Chromium: every tile drew a chart holding the
warehouse's numbers (read back here with SQL of the test's own)."""

from __future__ import annotations

import html
import json
import pathlib
import re
import shutil
import subprocess
import typing as t
from decimal import Decimal

import pytest
from target_looker_warehouse.tile_report import write_report

from tests.qb_records import QuickBooksData, singer_lines
from tests.target_runner import model, query, raw, run_target

TILES = {"ap_aging_by_vendor", "ap_aging_by_class", "ap_aging_by_department", "ar_aging", "cash", "top_vendors"}
DESKTOP_NOTE = "QuickBooks Desktop has no departments"


def _chromium() -> str:
    found = shutil.which("chromium")
    if found is None:
        pytest.fail("headless Chromium is missing: run `bash -c 'source scripts/lib.sh; install_chromium'` "
                    "(Debian's chromium package), then run the test again")
    return found


def _rendered(report: pathlib.Path, tmp_path: pathlib.Path) -> tuple[dict[str, t.Any], str]:
    """What each chart drew (the page's render check), and the page as Chromium laid it out."""
    result = subprocess.run(
        [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--no-first-run", f"--user-data-dir={tmp_path / 'chromium-profile'}", "--virtual-time-budget=10000",
         "--dump-dom", report.as_uri()],
        capture_output=True, text=True, timeout=120, check=False)
    found = re.search(r'<pre id="render-check">(.*?)</pre>', result.stdout, re.S)
    assert found and found.group(1), f"the page did not finish drawing: {result.stderr[-1500:]}"
    return t.cast(dict[str, t.Any], json.loads(html.unescape(found.group(1)))), result.stdout


def _tile_text(dom: str, key: str) -> str:
    found = re.search(rf'<section class="tile" id="tile-{key}">(.*?)</section>', dom, re.S)
    assert found, f"tile {key} is not on the page"
    return html.unescape(re.sub(r"<[^>]+>", " ", found.group(1)))


def _sums_by_label(tile: dict[str, t.Any]) -> dict[str, Decimal]:
    return {label: _cents([sum(Decimal(str(series[i])) for series in tile["data"])])[0]
            for i, label in enumerate(tile["labels"])}


def _cents(values: t.Iterable[t.Any]) -> list[Decimal]:
    return [Decimal(str(v)).quantize(Decimal("0.01")) for v in values]


def test_every_tile_renders_with_the_warehouse_numbers(duckdb_config: dict[str, t.Any], tmp_path: pathlib.Path) -> None:
    data = QuickBooksData(invoices=12, bills=12, journals=3)
    for n, line in enumerate(data.records["bill_lines"]):
        line["class_id"] = ("ops", "sales", None)[n % 3]
    data.records["departments"] = [{**data.base(d), "name": name, "fully_qualified_name": name, "active": True}
                                   for d, name in (("D1", "North"), ("D2", "South"))]
    for n, bill in enumerate(data.records["bills"]):
        bill["department_id"] = ("D1", "D2", None)[n % 3]
    run_target(duckdb_config, singer_lines(data.records))

    def sql(text: str) -> list[tuple[t.Any, ...]]:
        return query(duckdb_config, text)

    report = write_report(sql, "finance", tmp_path / "report" / "dashboards.html")
    page = report.read_text(encoding="utf-8")
    assert "cdn" not in page.lower() and "https://" not in page.split("<script>", 1)[0]
    rendered, dom = _rendered(report, tmp_path)
    assert set(rendered) == TILES
    for key, tile in rendered.items():
        assert tile["painted"] > 1000, f"tile {key} drew nothing"

    ap = model(duckdb_config, "ap_aging")
    vendors = sql(f"SELECT vendor_name, SUM(open_balance_home) FROM {ap} GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10")
    assert rendered["ap_aging_by_vendor"]["labels"] == [v for v, _ in vendors]
    drawn = [sum(Decimal(str(series[i])) for series in rendered["ap_aging_by_vendor"]["data"])
             for i in range(len(vendors))]
    assert _cents(drawn) == _cents(total for _, total in vendors)

    classes = dict(sql(f"SELECT COALESCE(class_name, class_id, '(no class)'), SUM(open_balance_home) FROM {ap} GROUP BY 1"))
    assert {"ops", "sales"} <= set(classes)
    assert _sums_by_label(rendered["ap_aging_by_class"]) == {k: _cents([v])[0] for k, v in classes.items()}

    departments = dict(sql(f"SELECT COALESCE(d.name, '(no department)'), SUM(a.open_balance_home) FROM {ap} a "
                           f"LEFT JOIN {raw(duckdb_config, 'departments')} d ON d.id = a.department_id GROUP BY 1"))
    assert {"North", "South", "(no department)"} <= set(departments)
    assert _sums_by_label(rendered["ap_aging_by_department"]) == {k: _cents([v])[0] for k, v in departments.items()}
    assert DESKTOP_NOTE in _tile_text(dom, "ap_aging_by_department")

    (buckets,) = sql(f"SELECT SUM(current_home), SUM(days_1_30_home), SUM(days_31_60_home), SUM(days_61_90_home), "
                     f"SUM(days_over_90_home) FROM {model(duckdb_config, 'ar_aging')}")
    assert _cents(rendered["ar_aging"]["data"][0]) == _cents(buckets)

    cash = sql(f"SELECT a.name, SUM(g.amount_home) FROM {model(duckdb_config, 'fct_gl_entry')} g "
               f"JOIN {model(duckdb_config, 'dim_account')} a USING (company_id, account_id) "
               "WHERE a.account_type = 'Bank' GROUP BY 1 ORDER BY 1")
    assert rendered["cash"]["labels"] == [name for name, _ in cash] == ["Checking"]
    assert _cents(rendered["cash"]["data"][0]) == _cents(v for _, v in cash)

    spend = sql(f"SELECT vendor_name, SUM(amount_home) FROM {model(duckdb_config, 'fct_bill_line')} "
                "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10")
    assert rendered["top_vendors"]["labels"] == [v for v, _ in spend]
    assert _cents(rendered["top_vendors"]["data"][0]) == _cents(v for _, v in spend)


def test_desktop_books_leave_the_department_tile_empty_and_it_says_why(
    duckdb_config: dict[str, t.Any], tmp_path: pathlib.Path
) -> None:
    books = QuickBooksData(seed=4, edition="qbd", company_id="acme-qbd", invoices=6, bills=6, journals=0)
    for header in books.records["bills"]:
        header["balance"] = header["total_amount"]
    run_target(duckdb_config, singer_lines(books.records))
    report = write_report(lambda text: query(duckdb_config, text), "finance", tmp_path / "dashboards.html")
    rendered, dom = _rendered(report, tmp_path)
    (open_bills,) = query(duckdb_config, f"SELECT SUM(open_balance_home) FROM {model(duckdb_config, 'ap_aging')}")[0]
    assert open_bills > 0
    assert _sums_by_label(rendered["ap_aging_by_department"]) == {"(no department)": _cents([open_bills])[0]}
    text = _tile_text(dom, "ap_aging_by_department")
    assert "No open bill has a department" in text and "QuickBooks Desktop has none" in text
