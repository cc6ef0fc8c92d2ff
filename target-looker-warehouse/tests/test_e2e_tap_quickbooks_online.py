"""End to end: tap-quickbooks-online (against the QBO sandbox) piped into this target."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import typing as t

import pytest

from tests.target_runner import model, query, run_target

pytest.importorskip("tap_quickbooks_online")
qbo = pytest.importorskip("sandboxes.qbo")
fernet = pytest.importorskip("cryptography.fernet")

REALM = "9130350000000001"


@pytest.fixture(scope="module")
def tap_output(tmp_path_factory: pytest.TempPathFactory) -> str:
    work = tmp_path_factory.mktemp("e2e-qbo")
    env = {**os.environ, "QBO_E2E_KEY": fernet.Fernet.generate_key().decode()}
    sandbox = qbo.QBOSandbox(realms=[qbo.RealmSpec(REALM, seed=42, transactions=120)], data_dir=work / "sandbox")
    sandbox.start()
    try:
        config = {
            "client_id": sandbox.client_id, "client_secret": sandbox.client_secret,
            "realms": [{"realm_id": REALM, "refresh_token": sandbox.issue_tokens(REALM)["refresh_token"]}],
            "base_url": sandbox.base_url, "token_url": sandbox.token_url,
            "token_store_path": str(work / "tokens.fernet"), "token_store_key_env": "QBO_E2E_KEY",
            "webhook_journal_path": str(work / "journal.jsonl"),
        }
        (work / "config.json").write_text(json.dumps(config))
        tap = [sys.executable, "-c", "from tap_quickbooks_online.cli import main; main()"]
        catalog = json.loads(subprocess.run(
            [*tap, "--config", str(work / "config.json"), "--discover"],
            capture_output=True, text=True, check=True, env=env, timeout=300).stdout)
        for entry in catalog["streams"]:
            for meta in entry["metadata"]:
                if meta["breadcrumb"] == []:
                    meta["metadata"]["selected"] = not entry["tap_stream_id"].startswith("report_")
        (work / "catalog.json").write_text(json.dumps(catalog))
        result = subprocess.run(
            [*tap, "--config", str(work / "config.json"), "--catalog", str(work / "catalog.json")],
            capture_output=True, text=True, check=True, env=env, timeout=600)
        return result.stdout
    finally:
        sandbox.stop()


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
