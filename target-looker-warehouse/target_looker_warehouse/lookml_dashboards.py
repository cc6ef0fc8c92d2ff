"""The generated LookML dashboards: AP aging by vendor and by cost center, AR aging, the
general ledger / trial balance and cash.

Every money tile is a measure whose drill lists the documents behind it (the view's
``detail`` set), and each document's number links to its lines (``drill_links`` below), so
a user goes from a balance to the bill, invoice or journal entry lines in two clicks.
A dashboard is written only when the warehouse has every field it shows.
"""

from __future__ import annotations

import typing as t

import yaml

# (view, dimension) -> (link label, lines explore, lines column naming the document,
# the view's dimension holding the document id, condition on the row or None)
DRILL_LINKS: dict[tuple[str, str], list[tuple[str, str, str, str, tuple[str, str] | None]]] = {
    ("ap_aging", "doc_number"): [("Bill lines", "fct_bill_line", "bill_id", "bill_id", None)],
    ("ar_aging", "doc_number"): [("Invoice lines", "fct_invoice_line", "invoice_id", "invoice_id", None)],
    ("fct_gl_entry", "source_id"): [
        ("Bill lines", "fct_bill_line", "bill_id", "source_id", ("source_type", "bill")),
        ("Invoice lines", "fct_invoice_line", "invoice_id", "source_id", ("source_type", "invoice")),
    ],
}
# The generated dashboards, by LookML dashboard name (a scheduled plan names them so).
NAMES = ("ap_aging", "ap_aging_by_cost_center", "ar_aging", "general_ledger", "cash")


def drill_links(model: str, view: str, dimension: str) -> list[dict[str, str]]:
    links = []
    for label, explore, column, id_dimension, condition in DRILL_LINKS.get((view, dimension), []):
        url = (f"/explore/{model}/{explore}?fields={explore}.detail*"
               f"&f[{explore}.{column}]={{{{ {view}.{id_dimension}._value | url_encode }}}}"
               f"&f[{explore}.company_id]={{{{ {view}.company_id._value | url_encode }}}}")
        if condition is not None:
            field, value = condition
            url = f"{{% if {view}.{field}._value == '{value}' %}}{url}{{% endif %}}"
        links.append({"label": label, "url": url})
    return links


def _tile(model: str, explore: str, name: str, title: str, kind: str, fields: list[str], row: int, col: int,
          width: int, height: int, **extra: t.Any) -> dict[str, t.Any]:
    return {"title": title, "name": name, "model": model, "explore": explore, "type": kind,
            "fields": [f"{explore}.{f}" if "." not in f else f for f in fields],
            "row": row, "col": col, "width": width, "height": height, **extra}


def _aging(model: str, explore: str, party: str, title: str, noun: str) -> dict[str, t.Any]:
    listen = {"As Of": f"{explore}.as_of_date"}
    return {
        "title": title,
        "elements": [
            _tile(model, explore, f"open_{noun}", f"Open {noun}", "single_value",
                  ["total_open_balance_home"], 0, 0, 8, 4, listen=listen),
            _tile(model, explore, "open_documents", "Open documents", "single_value", ["count"], 0, 8, 8, 4,
                  listen=listen),
            _tile(model, explore, "by_bucket", f"{noun.capitalize()} by aging bucket", "looker_column",
                  ["aging_bucket", "total_open_balance_home"], 4, 0, 24, 8,
                  sorts=[f"{explore}.aging_bucket"], listen=listen),
            _tile(model, explore, f"by_{party}", f"{noun.capitalize()} by {party}", "looker_grid",
                  [f"{party}_name", "aging_bucket", "total_open_balance_home"], 12, 0, 24, 10,
                  pivots=[f"{explore}.aging_bucket"], sorts=[f"{explore}.total_open_balance_home desc 0"],
                  limit=500, listen=listen),
        ],
        "filters": [{"name": "As Of", "title": "As Of", "type": "field_filter", "model": model,
                     "explore": explore, "field": f"{explore}.as_of_date", "default_value": ""}],
        "needs": {explore: {"total_open_balance_home", "count", "aging_bucket", f"{party}_name", "as_of_date"}},
    }


def _definitions(model: str) -> dict[str, dict[str, t.Any]]:
    cost_center = _aging(model, "ap_aging", "vendor", "Accounts Payable Aging by Cost Center", "payables")
    cost_center["elements"] = [
        _tile(model, "ap_aging", "by_class", "Payables by class", "looker_grid",
              ["class_name", "aging_bucket", "total_open_balance_home"], 0, 0, 24, 10,
              pivots=["ap_aging.aging_bucket"], sorts=["ap_aging.total_open_balance_home desc 0"]),
        _tile(model, "ap_aging", "by_department", "Payables by department", "looker_grid",
              ["department_name", "aging_bucket", "total_open_balance_home"], 10, 0, 24, 10,
              pivots=["ap_aging.aging_bucket"], sorts=["ap_aging.total_open_balance_home desc 0"]),
        _tile(model, "ap_aging", "by_class_and_vendor", "Payables by class and vendor", "looker_grid",
              ["class_name", "vendor_name", "total_open_balance_home"], 20, 0, 24, 10,
              sorts=["ap_aging.total_open_balance_home desc 0"], limit=500),
    ]
    cost_center["needs"] = {"ap_aging": {"class_name", "department_name", "vendor_name", "aging_bucket",
                                         "total_open_balance_home", "as_of_date"}}
    gl = "fct_gl_entry"
    return {
        "ap_aging": _aging(model, "ap_aging", "vendor", "Accounts Payable Aging by Vendor", "payables"),
        "ap_aging_by_cost_center": cost_center,
        "ar_aging": _aging(model, "ar_aging", "customer", "Accounts Receivable Aging", "receivables"),
        "general_ledger": {
            "title": "General Ledger and Trial Balance",
            "elements": [
                _tile(model, gl, "trial_balance", "Trial balance", "looker_grid",
                      ["dim_account.account_type", "dim_account.name", "total_debit_home", "total_credit_home",
                       "total_amount_home"], 0, 0, 24, 12,
                      sorts=["dim_account.account_type", "dim_account.name"], limit=1000, total=True),
                _tile(model, gl, "entries_by_month", "Entries by month", "looker_column",
                      ["txn_month", "total_debit_home", "total_credit_home"], 12, 0, 24, 8,
                      sorts=[f"{gl}.txn_month"]),
            ],
            "filters": [{"name": "Date", "title": "Date", "type": "field_filter", "model": model, "explore": gl,
                         "field": f"{gl}.txn_date", "default_value": ""}],
            "needs": {gl: {"total_debit_home", "total_credit_home", "total_amount_home", "txn_month", "txn_date"},
                      "dim_account": {"name", "account_type"}},
        },
        "cash": {
            "title": "Cash",
            "elements": [
                _tile(model, gl, "cash_balance", "Cash balance", "single_value", ["total_amount_home"], 0, 0, 8, 4,
                      filters={"dim_account.account_type": "Bank"}),
                _tile(model, gl, "cash_by_account", "Cash by account", "looker_bar",
                      ["dim_account.name", "total_amount_home"], 4, 0, 12, 8,
                      filters={"dim_account.account_type": "Bank"}, sorts=[f"{gl}.total_amount_home desc"]),
                _tile(model, gl, "cash_movement", "Cash in and out by month", "looker_column",
                      ["txn_month", "total_debit_home", "total_credit_home"], 4, 12, 12, 8,
                      filters={"dim_account.account_type": "Bank"}, sorts=[f"{gl}.txn_month"]),
            ],
            "filters": [],
            "needs": {gl: {"total_amount_home", "total_debit_home", "total_credit_home", "txn_month"},
                      "dim_account": {"name", "account_type"}},
        },
    }


def dashboard_files(model: str, fields_by_view: t.Mapping[str, set[str]], header: str) -> dict[str, str]:
    files = {}
    for name, spec in _definitions(model).items():
        if not all(needed <= fields_by_view.get(view, set()) for view, needed in spec["needs"].items()):
            continue
        dashboard = [{"dashboard": name, "title": spec["title"], "layout": "newspaper",
                      "filters": spec["filters"], "elements": spec["elements"]}]
        files[f"dashboards/{name}.dashboard.lookml"] = header + yaml.safe_dump(
            dashboard, sort_keys=False, default_flow_style=False)
    return files
