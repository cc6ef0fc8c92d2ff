"""End to end: tap-quickbooks-online (against the QBO sandbox) piped into this target."""

from __future__ import annotations

import pathlib
import typing as t

import pytest

from tests.qbo_company import REALM, read_through_tap
from tests.target_runner import model, query, run_target

pytest.importorskip("tap_quickbooks_online")
pytest.importorskip("sandboxes.qbo")


@pytest.fixture(scope="module")
def tap_output(tmp_path_factory: pytest.TempPathFactory) -> str:
    return read_through_tap(tmp_path_factory.mktemp("e2e-qbo")).singer


@pytest.mark.e2e
def test_tap_output_fills_the_warehouse_and_every_model(
    tap_output: str, duckdb_config: dict[str, t.Any], tmp_path: pathlib.Path
) -> None:
    config = {**duckdb_config, "lookml_path": str(tmp_path / "lookml")}
    target, stdout = run_target(config, tap_output)
    assert not target.delivery.set_aside_counts, "nothing set aside"
    assert set(target.after_load_report["model"]) == {
        "dim_account", "dim_vendor", "dim_customer", "fct_invoice_line", "fct_bill_line", "fct_gl_entry",
        "ap_aging", "ar_aging"}
    assert all(count > 0 for count in target.after_load_report["model"].values())
    assert '"bookmarks"' in stdout.strip().splitlines()[-1]
    unbalanced = query(
        config,
        f"SELECT source_type, source_id FROM {model(config, 'fct_gl_entry')} "
        "GROUP BY source_type, source_id HAVING SUM(amount_home) <> 0",
    )
    assert unbalanced == []
    assert query(config, f"SELECT DISTINCT _sdc_source FROM {model(config, 'ar_aging')}") == [(f"qbo:{REALM}",)]
    assert (tmp_path / "lookml" / "dashboards" / "ap_aging.dashboard.lookml").exists()
