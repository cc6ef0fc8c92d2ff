"""The last line of a run that cannot deliver names the cause and the setting (issue 14),
the run exits 1 and emits no STATE (docs/delivery-contract.md)."""

from __future__ import annotations

import json
import socket
import typing as t
from pathlib import Path

import pytest
from conftest import run_cli

pytestmark = pytest.mark.e2e

LINES = [
    json.dumps({"type": "SCHEMA", "stream": "items", "key_properties": ["id"],
                "schema": {"type": "object", "properties": {"id": {"type": "string"}}}}),
    json.dumps({"type": "RECORD", "stream": "items", "record": {"id": "1"}}),
    json.dumps({"type": "STATE", "value": {"bookmarks": {"items": "2026-01-01"}}}),
]


def test_a_wrong_client_secret_ends_naming_client_secret(
        target_config: dict[str, t.Any], databricks_engine: t.Any, tmp_path: Path) -> None:
    config = {**target_config, "client_id": databricks_engine.client_id, "client_secret": "dose-wrong-1"}
    del config["access_token"]
    run = run_cli(config, tmp_path, LINES)
    assert (run.returncode, run.states) == (1, [])
    assert run.last_line == (
        f"target-databricks: the OAuth token endpoint https://{databricks_engine.server_hostname}/oidc/v1/token "
        f"refused client_id '{databricks_engine.client_id}' with this client_secret (HTTP 401 invalid_client): the "
        "secret is wrong or expired, or no such service principal. Fix: set client_secret to a current OAuth "
        "secret of the service principal client_id (workspace: Settings > Identity and access > Service "
        "principals > Secrets)")
    assert "dose-wrong-1" not in run.stderr


def test_a_closed_port_ends_naming_host_port_and_server_hostname(
        target_config: dict[str, t.Any], tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    run = run_cli({**target_config, "server_hostname": f"127.0.0.1:{port}"}, tmp_path, LINES)
    assert (run.returncode, run.states) == (1, [])
    assert run.last_line == (
        f"target-databricks: cannot reach the warehouse at server_hostname '127.0.0.1:{port}': nothing accepts "
        f"connections at 127.0.0.1:{port} (connection refused). Fix: set server_hostname to the workspace host "
        "of the SQL warehouse (its Connection details), with :port only for a non-standard port")


def test_a_wrong_http_path_ends_saying_not_found_and_naming_http_path(
        target_config: dict[str, t.Any], tmp_path: Path) -> None:
    run = run_cli({**target_config, "http_path": "/sql/1.0/warehouses/gone"}, tmp_path, LINES)
    assert (run.returncode, run.states) == (1, [])
    assert run.last_line == (
        f"target-databricks: the workspace at server_hostname '{target_config['server_hostname']}' has no SQL "
        "warehouse at http_path '/sql/1.0/warehouses/gone' (HTTP 404: not found). Fix: set http_path to the "
        "HTTP path in the warehouse's Connection details (/sql/1.0/warehouses/<id>)")


def test_old_setting_names_still_load_and_the_warning_names_the_new_ones(
        target_config: dict[str, t.Any], tmp_path: Path) -> None:
    config = dict(target_config)
    config["tls_ca_file"] = config.pop("ca_bundle")
    config["schema"] = config.pop("default_target_schema")
    run = run_cli(config, tmp_path, LINES)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.states == [{"bookmarks": {"items": "2026-01-01"}}]
    assert "Setting tls_ca_file is deprecated: read as ca_bundle (rename it to ca_bundle)" in run.stderr
    assert "Setting schema is deprecated: read as default_target_schema" in run.stderr
