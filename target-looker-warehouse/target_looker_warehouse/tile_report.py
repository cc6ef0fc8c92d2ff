"""A local HTML picture of the generated dashboards' tiles, computed from the warehouse.

For a newcomer without a Looker instance: AP aging by vendor and by cost center (class, and
department), AR aging, cash by bank account and top vendors, each drawn with Chart.js (vendored, inlined: the file
opens offline). The numbers come from the same modelled tables the LookML dashboards query.

Once drawn, the page writes what each chart holds and how many pixels it painted into
``<pre id="render-check">``, so a headless browser can confirm every tile rendered.
"""

# SQL here is built from schema names quoted by this module, never from record values: S608
# does not apply.
# ruff: noqa: S608

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import html
import json
import pathlib
import typing as t

from target_looker_warehouse.model_sql import AGING_BUCKETS

Query = t.Callable[[str], t.Sequence[t.Sequence[t.Any]]]
_VENDOR_JS = pathlib.Path(__file__).with_name("vendor") / "chart.umd.min.js"
TOP = 10
_COLORS = ("#4e79a7", "#59a14f", "#edc948", "#f28e2b", "#e15759", "#76b7b2", "#b07aa1")


@dataclasses.dataclass(frozen=True)
class Tile:
    key: str
    title: str
    labels: list[str]
    series: list[tuple[str, list[decimal.Decimal]]]  # (name, one value per label)
    horizontal: bool = False
    note: str = ""  # shown under the title: what the numbers leave out, and why

    @property
    def total(self) -> decimal.Decimal:
        return sum((v for _, values in self.series for v in values), decimal.Decimal(0))


def _money(value: t.Any) -> decimal.Decimal:
    return decimal.Decimal(str(value or 0)).quantize(decimal.Decimal("0.01"))


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _by_party_and_bucket(query: Query, table: str, label_sql: str) -> tuple[list[str], list[tuple[str, list[decimal.Decimal]]]]:
    rows = query(
        f"SELECT {label_sql} AS label, SUM(current_home), SUM(days_1_30_home), SUM(days_31_60_home), "
        f"SUM(days_61_90_home), SUM(days_over_90_home), SUM(open_balance_home) AS total "
        f"FROM {table} GROUP BY 1 ORDER BY total DESC, label LIMIT {TOP}")
    labels = [str(r[0]) for r in rows]
    series = [(bucket, [_money(r[i + 1]) for r in rows]) for i, bucket in enumerate(AGING_BUCKETS)]
    return labels, series


NO_DEPARTMENT = "(no department)"


def _department_note(labels: t.Sequence[str]) -> str:
    # QuickBooks Desktop's qbXML has no department on a bill (its cost centers are classes);
    # QuickBooks Online sets one through the transaction's DepartmentRef (location tracking).
    if not labels or set(labels) == {NO_DEPARTMENT}:
        return ("No open bill has a department: QuickBooks Desktop has none (its cost centers are classes), "
                "and QuickBooks Online sets one only with location tracking on (a bill's DepartmentRef).")
    if NO_DEPARTMENT in labels:
        return (f"{NO_DEPARTMENT}: open bills without one. QuickBooks Desktop has no departments (its cost "
                "centers are classes): every Desktop bill is counted there.")
    return ""


def compute_tiles(query: Query, model_schema: str) -> list[Tile]:
    """The report's tiles; a tile whose model table is missing is left out."""
    schema = _q(model_schema)
    present = {str(r[0]) for r in query(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = "
        f"'{model_schema.replace(chr(39), chr(39) * 2)}'")}
    tiles: list[Tile] = []
    if "ap_aging" in present:
        labels, series = _by_party_and_bucket(query, f"{schema}.ap_aging", "COALESCE(vendor_name, vendor_id, '(no vendor)')")
        tiles.append(Tile("ap_aging_by_vendor", f"AP aging by vendor (top {TOP})", labels, series, horizontal=True))
        labels, series = _by_party_and_bucket(query, f"{schema}.ap_aging", "COALESCE(class_name, class_id, '(no class)')")
        tiles.append(Tile("ap_aging_by_class", f"AP aging by cost center: class (top {TOP})", labels, series,
                          horizontal=True))
        labels, series = _by_party_and_bucket(
            query, f"{schema}.ap_aging", f"COALESCE(department_name, department_id, '{NO_DEPARTMENT}')")
        tiles.append(Tile("ap_aging_by_department", f"AP aging by cost center: department (top {TOP})", labels, series,
                          horizontal=True, note=_department_note(labels)))
    if "ar_aging" in present:
        (row,) = query(f"SELECT SUM(current_home), SUM(days_1_30_home), SUM(days_31_60_home), "
                       f"SUM(days_61_90_home), SUM(days_over_90_home) FROM {schema}.ar_aging")
        tiles.append(Tile("ar_aging", "AR aging", list(AGING_BUCKETS), [("open receivables", [_money(v) for v in row])]))
    if {"fct_gl_entry", "dim_account"} <= present:
        rows = query(
            f"SELECT COALESCE(a.name, g.account_id) AS account, SUM(g.amount_home) FROM {schema}.fct_gl_entry AS g "
            f"JOIN {schema}.dim_account AS a ON a.company_id = g.company_id AND a.account_id = g.account_id "
            "WHERE a.account_type = 'Bank' GROUP BY 1 ORDER BY 1")
        tiles.append(Tile("cash", "Cash by bank account", [str(r[0]) for r in rows],
                          [("balance", [_money(r[1]) for r in rows])]))
    if "fct_bill_line" in present:
        rows = query(
            f"SELECT COALESCE(vendor_name, vendor_id, '(no vendor)') AS vendor, SUM(amount_home) AS spend "
            f"FROM {schema}.fct_bill_line GROUP BY 1 ORDER BY spend DESC, vendor LIMIT {TOP}")
        tiles.append(Tile("top_vendors", f"Top {TOP} vendors by billed amount", [str(r[0]) for r in rows],
                          [("billed", [_money(r[1]) for r in rows])], horizontal=True))
    return tiles


def _chart_config(tile: Tile) -> dict[str, t.Any]:
    stacked = len(tile.series) > 1
    value_axis = "x" if tile.horizontal else "y"
    return {
        "type": "bar",
        "data": {"labels": tile.labels, "datasets": [
            {"label": name, "data": [float(v) for v in values], "backgroundColor": _COLORS[i % len(_COLORS)]}
            for i, (name, values) in enumerate(tile.series)]},
        "options": {
            "indexAxis": "y" if tile.horizontal else "x",
            # Drawn at once: the render check reads the canvas right after.
            "animation": False, "responsive": False,
            "plugins": {"legend": {"display": stacked}},
            "scales": {"x": {"stacked": stacked}, "y": {"stacked": stacked}, value_axis: {"stacked": stacked,
                                                                                       "beginAtZero": True}},
        },
    }


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>QuickBooks dashboards (local report)</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 24px; color: #222; }}
.tiles {{ display: flex; flex-wrap: wrap; gap: 24px; }}
.tile {{ border: 1px solid #ddd; border-radius: 6px; padding: 12px 16px; }}
.tile h2 {{ font-size: 16px; margin: 0 0 4px; }}
.total {{ color: #555; margin: 0 0 8px; }}
.note {{ color: #555; font-size: 13px; max-width: 560px; margin: 0 0 8px; }}
#render-check {{ display: none; }}
</style></head>
<body>
<h1>QuickBooks dashboards</h1>
<p>Computed from the warehouse's modelled tables (schema {schema}) on {generated}. Amounts in home currency.</p>
<div class="tiles">
{tiles}
</div>
<pre id="render-check"></pre>
<script>{library}</script>
<script>
const tiles = {configs};
const check = {{}};
for (const [key, config] of Object.entries(tiles)) {{
  const canvas = document.getElementById("chart-" + key);
  const chart = new Chart(canvas, config);
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < pixels.length; i += 4) {{ if (pixels[i] > 0) painted++; }}
  check[key] = {{labels: chart.data.labels, data: chart.data.datasets.map(d => d.data), painted: painted}};
}}
document.getElementById("render-check").textContent = JSON.stringify(check);
</script>
</body></html>
"""


def render_html(tiles: t.Sequence[Tile], model_schema: str, generated: dt.datetime | None = None) -> str:
    blocks = []
    for tile in tiles:
        blocks.append(
            f'<section class="tile" id="tile-{tile.key}"><h2>{html.escape(tile.title)}</h2>'
            f'<p class="total">Total: <span class="total-value">{tile.total:,.2f}</span></p>'
            + (f'<p class="note">{html.escape(tile.note)}</p>' if tile.note else "") +
            f'<canvas id="chart-{tile.key}" width="560" height="320"></canvas></section>')
    configs = json.dumps({tile.key: _chart_config(tile) for tile in tiles})
    return _PAGE.format(
        schema=html.escape(model_schema),
        generated=(generated or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%d %H:%M UTC"),
        tiles="\n".join(blocks),
        # "</" would end the script element early.
        configs=configs.replace("</", "<\\/"),
        library=_VENDOR_JS.read_text(encoding="utf-8").replace("</script", "<\\/script"),
    )


def write_report(query: Query, model_schema: str, path: str | pathlib.Path) -> pathlib.Path:
    target = pathlib.Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_html(compute_tiles(query, model_schema), model_schema), encoding="utf-8")
    return target.resolve()
