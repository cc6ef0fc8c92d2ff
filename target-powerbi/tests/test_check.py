"""``target-powerbi check`` against the Power BI sandbox: the lines a user reads, per aspect."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from target_powerbi.cli import main

from .singer_io import CUSTOMER_SCHEMA, customer, record_message, run_target, schema_message

TENANT = "0f3e2d1c-4b5a-4c6d-8e7f-9a0b1c2d3e4f"
APP = "6a7b8c9d-0e1f-4a2b-8c3d-4e5f6a7b8c9d"
WORKSPACE = "f089354e-8366-4e18-aea3-4cb4a3a50b48"


def _check(config: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str],
           *extra: str) -> tuple[int, list[str]]:
    config_file = tmp_path / "check-config.json"
    config_file.write_text(json.dumps(config))
    with pytest.raises(SystemExit) as ended:
        main(["check", "--config", str(config_file), *extra])
    out = capsys.readouterr().out
    return int(ended.value.code or 0), out.strip().splitlines()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_good_settings_pass_every_aspect(powerbi_sandbox, powerbi_config, tmp_path, capsys):
    status, lines = _check(powerbi_config, tmp_path, capsys)
    assert lines == [
        f"ok    settings: tenant {TENANT}, app {APP}, workspace {WORKSPACE}",
        f"ok    token: Azure AD issued a Power BI token to app {APP} in tenant {TENANT}",
        f"ok    workspace: 'QuickBooks reporting' ({WORKSPACE})",
        "ok    role: the service principal is Admin: it may create the dataset and push rows",
        "ok    dataset 'QuickBooks': not in the workspace yet; the first run creates it",
        "target-powerbi check: all 5 aspects ok",
    ]
    assert status == 0
    assert not powerbi_sandbox.store.datasets_named("QuickBooks")  # a check creates nothing


def test_wrong_secret_names_the_secret_and_stops_there(powerbi_sandbox, powerbi_config, tmp_path, capsys):
    status, lines = _check({**powerbi_config, "client_secret": "not-the-secret"}, tmp_path, capsys)
    fail = (f"token: Azure AD refused the client secret of app {APP} (invalid_client, AADSTS7000215). Fix: set "
            "client_secret to the Value of a current secret of the app registration (Certificates & secrets), "
            "not its Secret ID")
    assert lines[1] == "FAIL  " + fail
    assert lines[2] == "FAIL  workspace: not tried: see the token line. Fix: fix the token first"
    assert lines[-1] == "target-powerbi check: 4 of 5 aspects failed; first: " + fail
    assert status == 1
    assert "not-the-secret" not in "\n".join(lines)


def test_unknown_app_and_unknown_tenant_are_told_apart_from_a_wrong_secret(powerbi_sandbox, powerbi_config,
                                                                           tmp_path, capsys):
    other = "11111111-2222-4333-8444-555555555555"
    _, lines = _check({**powerbi_config, "client_id": other}, tmp_path, capsys)
    assert lines[1].startswith(f"FAIL  token: Azure AD knows no app {other} in tenant {TENANT} "
                               "(unauthorized_client, AADSTS700016). Fix: set client_id to the app registration's")
    _, lines = _check({**powerbi_config, "tenant_id": other}, tmp_path, capsys)
    assert lines[1].startswith(f"FAIL  token: Azure AD does not know tenant {other}. Fix: set tenant_id to")


def test_a_missing_workspace_is_named_with_where_its_id_is(powerbi_sandbox, powerbi_config, tmp_path, capsys):
    missing = "00000000-0000-4000-8000-000000000000"
    status, lines = _check({**powerbi_config, "workspace_id": missing}, tmp_path, capsys)
    assert lines[2] == (f"FAIL  workspace: workspace {missing} does not exist or the service principal is not a "
                        "member of it. Fix: set workspace_id to the id in the workspace's address "
                        "(app.powerbi.com/groups/<id>/...), and in Power BI open the workspace > Manage access "
                        "and add the app (the service principal) as Contributor, Member or Admin")
    assert lines[3] == "FAIL  role: not tried: see the workspace line. Fix: fix the workspace first"
    assert status == 1


def test_a_viewer_is_told_it_cannot_push(powerbi_sandbox, powerbi_config, tmp_path, capsys):
    powerbi_sandbox.set_principal_role("Viewer")
    status, lines = _check(powerbi_config, tmp_path, capsys)
    assert lines[3] == (f"FAIL  role: the service principal is Viewer of workspace {WORKSPACE}: a Viewer cannot "
                        "create datasets or push rows. Fix: give the app the Contributor, Member or Admin role "
                        "(the workspace > Manage access)")
    assert status == 1


def test_a_contributor_may_push(powerbi_sandbox, powerbi_config, tmp_path, capsys):
    powerbi_sandbox.set_principal_role("Contributor")
    status, lines = _check(powerbi_config, tmp_path, capsys)
    assert lines[3] == "ok    role: the service principal is Contributor: it may create the dataset and push rows"
    assert status == 0


def test_an_unreachable_host_is_named_with_the_setting(powerbi_sandbox, powerbi_config, tmp_path, capsys):
    host = f"https://127.0.0.1:{_closed_port()}"
    status, lines = _check({**powerbi_config, "authority_host": host, "api_url": host}, tmp_path, capsys)
    assert lines[1].startswith(f"FAIL  token: cannot reach the Azure AD authority {host} (")
    assert lines[1].endswith("Fix: check authority_host (public cloud: https://login.microsoftonline.com) and "
                             "that this machine reaches it (proxy, firewall, DNS)")
    assert status == 1
    status, lines = _check({**powerbi_config, "api_url": host}, tmp_path, capsys)
    assert lines[2].startswith(f"FAIL  workspace: cannot reach the Power BI API at {host} (")
    assert lines[2].endswith("Fix: check api_url (public cloud: https://api.powerbi.com) and that this machine "
                             "reaches it (proxy, firewall, DNS)")


def test_with_a_catalog_each_stream_is_compared_with_its_table(powerbi_sandbox, powerbi_config, tmp_path, capsys):
    run_target(powerbi_config, [schema_message("customers"),
                                record_message("customers", customer("1", "Ada", "2026-11-01T09:00:00Z", 0))])
    changed = json.loads(json.dumps(CUSTOMER_SCHEMA))
    changed["properties"]["balance"] = {"type": ["integer", "null"]}
    catalog = {"streams": [{"tap_stream_id": "customers", "stream": "customers", "schema": changed,
                            "metadata": [{"breadcrumb": [], "metadata": {"selected": True}}]},
                           {"tap_stream_id": "invoices", "stream": "invoices", "schema": CUSTOMER_SCHEMA,
                            "metadata": [{"breadcrumb": [], "metadata": {"selected": True}}]},
                           {"tap_stream_id": "vendors", "stream": "vendors", "schema": CUSTOMER_SCHEMA,
                            "metadata": [{"breadcrumb": [], "metadata": {"selected": False}}]}]}
    catalog_file = tmp_path / "catalog.json"
    catalog_file.write_text(json.dumps(catalog))
    capsys.readouterr()
    status, lines = _check(powerbi_config, tmp_path, capsys, "--catalog", str(catalog_file))
    assert lines[4].startswith("ok    dataset 'QuickBooks': present (") and lines[4].endswith(") with 1 table(s)")
    assert lines[5] == ("FAIL  stream customers: differs from table 'customers': column 'balance' is Int64 in the "
                        "stream but Decimal in the table. Fix: set schema_change_action: migrate to let the target "
                        "change table 'customers', or make the stream match the table again (a stream map, or the "
                        "tap's schema)")
    assert lines[6].startswith("ok    stream invoices: no table 'invoices' yet: the first run adds it")
    assert len(lines) == 8 and status == 1


def test_check_runs_as_the_console_script_with_meltano_variables(powerbi_sandbox, powerbi_config, tmp_path):
    env = {f"TARGET_POWERBI_{k.upper()}": str(v) for k, v in powerbi_config.items()}
    run = subprocess.run([sys.executable, "-c", "from target_powerbi.cli import main; main()", "check"],
                         capture_output=True, text=True, timeout=120, env={"PATH": "/usr/bin:/bin", **env})
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.strip().splitlines()[-1] == "target-powerbi check: all 5 aspects ok"
    assert powerbi_config["client_secret"] not in run.stdout + run.stderr
