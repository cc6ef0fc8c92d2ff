"""Model SQL builder: what it builds from which sources."""

from __future__ import annotations

import datetime as dt

from target_looker_warehouse.dialects import DuckDBDialect
from target_looker_warehouse.model_sql import ModelSql


def _builder(raw_columns: dict[str, set[str]]) -> ModelSql:
    return ModelSql(DuckDBDialect({}), "quickbooks", "finance", raw_columns, dt.date(2026, 11, 30))


def test_models_without_source_streams_are_skipped() -> None:
    names = [name for name, _ in _builder({"vendors": {"company_id", "id", "_sdc_source"}}).statements()]
    assert names == ["dim_vendor"]


def test_missing_source_columns_read_as_null() -> None:
    select = _builder({"bills": {"company_id", "id", "balance", "_sdc_source"}}).ap_aging()
    assert select is not None
    assert "CAST(NULL AS DATE)" in select and "CAST(NULL AS VARCHAR) AS vendor_name" in select


def test_gl_is_built_after_the_line_facts_it_reads() -> None:
    columns = {"company_id", "id", "invoice_id", "line_id", "total_amount", "amount", "_sdc_source"}
    names = [n for n, _ in _builder({"invoices": columns, "invoice_lines": columns}).statements()]
    assert names.index("fct_invoice_line") < names.index("fct_gl_entry")


def test_aging_uses_the_as_of_date_setting() -> None:
    select = _builder({"invoices": {"company_id", "id", "balance", "_sdc_source"}}).ar_aging()
    assert select is not None and "DATE '2026-11-30'" in select
