"""`target-databricks check` against the local SQL warehouse: one line per aspect, the first
failure's cause and fix last, exit 1 when any aspect failed, no secret printed."""

from __future__ import annotations

import socket
import typing as t
from pathlib import Path

import pytest
from conftest import run_cli

pytestmark = pytest.mark.e2e


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _line(output: str, aspect: str) -> str:
    return next(line for line in output.splitlines() if line.split(":")[0].split(None, 1)[-1] == aspect)


def _schemas(sql: t.Callable[..., list[t.Any]], catalog: str) -> set[str]:
    return {str(row[0]) for row in sql(f"SHOW SCHEMAS IN `{catalog}`")}


def test_a_good_service_principal_passes_every_aspect_and_leaves_nothing_behind(
        target_config: dict[str, t.Any], databricks_engine: t.Any, sql: t.Callable[..., list[t.Any]],
        tmp_path: Path) -> None:
    config = {**target_config, "client_id": databricks_engine.client_id,
              "client_secret": databricks_engine.client_secret}
    del config["access_token"]
    run = run_cli(config, tmp_path, command_name="check")
    assert run.returncode == 0, run.stdout
    lines = run.stdout.splitlines()
    assert [line.split(":")[0] for line in lines[:-1]] == [
        "ok    settings", "ok    warehouse host", "ok    credentials", "ok    warehouse session",
        "ok    catalog", "ok    schema", "ok    create table", "ok    staging volume"]
    assert lines[-1] == "target-databricks check: all 8 aspects ok"
    # staging: auto (the default) without staging_volume never touches a Volume.
    assert _line(run.stdout, "staging volume") == (
        "ok    staging volume: off (staging: auto without staging_volume: every batch goes as query parameters)")
    assert f"service principal {databricks_engine.client_id}: token issued by https://" in run.stdout
    assert databricks_engine.client_secret not in run.stdout + run.stderr
    # The schema did not exist: the check created it as a run would, and dropped it again.
    assert "(does not exist yet: created and dropped again" in _line(run.stdout, "schema")
    assert config["default_target_schema"] not in _schemas(sql, config["catalog"])


def test_a_wrong_client_secret_is_named_as_the_secret_before_the_warehouse_is_asked(
        target_config: dict[str, t.Any], databricks_engine: t.Any, tmp_path: Path) -> None:
    config = {**target_config, "client_id": databricks_engine.client_id, "client_secret": "dose-wrong-secret-0"}
    del config["access_token"]
    run = run_cli(config, tmp_path, command_name="check")
    assert run.returncode == 1
    assert _line(run.stdout, "credentials") == (
        f"FAIL  credentials: the OAuth token endpoint https://{databricks_engine.server_hostname}/oidc/v1/token "
        f"refused client_id '{databricks_engine.client_id}' with this client_secret (HTTP 401 invalid_client): "
        "the secret is wrong or expired, or no such service principal. Fix: set client_secret to a current "
        "OAuth secret of the service principal client_id (workspace: Settings > Identity and access > "
        "Service principals > Secrets)")
    assert _line(run.stdout, "warehouse session") == (
        "FAIL  warehouse session: not tried: credentials failed. Fix: see the credentials line")
    assert run.stdout.splitlines()[-1].startswith("target-databricks check: 5 of 8 aspects failed; first: credentials:")
    assert "dose-wrong-secret-0" not in run.stdout + run.stderr


def test_a_closed_port_names_host_port_and_server_hostname(target_config: dict[str, t.Any], tmp_path: Path) -> None:
    port = _closed_port()
    run = run_cli({**target_config, "server_hostname": f"127.0.0.1:{port}"}, tmp_path, command_name="check")
    assert run.returncode == 1
    assert _line(run.stdout, "warehouse host") == (
        f"FAIL  warehouse host: cannot reach server_hostname '127.0.0.1:{port}': nothing accepts connections "
        f"at 127.0.0.1:{port} (connection refused). Fix: set server_hostname to the workspace host of the SQL "
        "warehouse (its Connection details), with :port only for a non-standard port")


def test_a_wrong_http_path_is_a_404_naming_http_path(target_config: dict[str, t.Any], tmp_path: Path) -> None:
    run = run_cli({**target_config, "http_path": "/sql/1.0/warehouses/nope"}, tmp_path, command_name="check")
    assert run.returncode == 1
    assert _line(run.stdout, "warehouse session") == (
        f"FAIL  warehouse session: the workspace at server_hostname '{target_config['server_hostname']}' has no "
        "SQL warehouse at http_path '/sql/1.0/warehouses/nope' (HTTP 404: not found). Fix: set http_path to the "
        "HTTP path in the warehouse's Connection details (/sql/1.0/warehouses/<id>)")


def test_a_missing_catalog_is_named_with_the_catalog_setting(target_config: dict[str, t.Any], tmp_path: Path) -> None:
    run = run_cli({**target_config, "catalog": "finanse"}, tmp_path, command_name="check")
    assert run.returncode == 1
    assert _line(run.stdout, "catalog") == (
        "FAIL  catalog: the catalog 'finanse' does not exist: ServerOperationError: [NO_SUCH_CATALOG_EXCEPTION] "
        "Catalog 'finanse' was not found. Please verify the catalog name and then retry the query or command "
        "again. Fix: set catalog to an existing Unity Catalog catalog the principal may use")


def test_a_principal_without_create_table_is_told_which_grant_is_missing_not_that_its_token_is_wrong(
        target_config: dict[str, t.Any], databricks_engine: t.Any, tmp_path: Path) -> None:
    # A service principal, not a personal token: the engine hands its newest token to later tests.
    client_id, secret = databricks_engine.credentials.add_client(denied=("CREATE TABLE",))
    config = {**target_config, "client_id": client_id, "client_secret": secret}
    del config["access_token"]
    run = run_cli(config, tmp_path, command_name="check")
    assert run.returncode == 1, run.stdout
    assert _line(run.stdout, "warehouse session").startswith("ok    warehouse session")
    create = _line(run.stdout, "create table")
    assert create.startswith(
        "FAIL  create table: the warehouse refused permission: ServerOperationError: [INSUFFICIENT_PERMISSIONS] "
        f"Insufficient privileges: User does not have CREATE TABLE on Schema '{target_config['catalog']}."
        f"{target_config['default_target_schema']}'.")
    assert create.endswith("Fix: grant the principal USE CATALOG, USE SCHEMA, CREATE TABLE and MODIFY on the "
                           "target catalog and schema (or set catalog/default_target_schema to ones it may write)")
    assert secret not in run.stdout + run.stderr


def test_a_volume_the_principal_may_not_write_fails_the_staging_aspect(
        target_config: dict[str, t.Any], databricks_engine: t.Any, sql: t.Callable[..., list[t.Any]],
        tmp_path: Path) -> None:
    catalog, schema = target_config["catalog"], target_config["default_target_schema"]
    sql(f"CREATE SCHEMA IF NOT EXISTS `{catalog}`.`{schema}`")
    sql(f"CREATE VOLUME IF NOT EXISTS `{catalog}`.`{schema}`.`stage`")
    config = {**target_config, "staging": "volume", "staging_volume": "stage", "staging_local_path": str(tmp_path)}
    good = run_cli(config, tmp_path, command_name="check")
    assert good.returncode == 0, good.stdout
    assert _line(good.stdout, "staging volume").startswith(
        f"ok    staging volume: wrote and removed /Volumes/{catalog}/{schema}/stage/qbc_check_")
    # staging: auto with a Volume named writes to it too (its large batches go there).
    auto = run_cli({**config, "staging": "auto"}, tmp_path, command_name="check")
    assert _line(auto.stdout, "staging volume").startswith(
        f"ok    staging volume: wrote and removed /Volumes/{catalog}/{schema}/stage/qbc_check_")
    client_id, secret = databricks_engine.credentials.add_client(denied=("WRITE VOLUME",))
    restricted = {**config, "client_id": client_id, "client_secret": secret}
    del restricted["access_token"]
    refused = run_cli(restricted, tmp_path, command_name="check")
    assert refused.returncode == 1
    assert f"User does not have WRITE VOLUME on Volume '{catalog}.{schema}.stage'" in _line(
        refused.stdout, "staging volume")


def test_a_warehouse_that_is_still_starting_is_said_to_be_starting(
        target_config: dict[str, t.Any], databricks_faults: t.Any, tmp_path: Path) -> None:
    databricks_faults.fail_next(50, 503)  # every warehouse call: "The SQL warehouse is starting"
    run = run_cli(target_config, tmp_path, command_name="check")
    databricks_faults.clear()
    assert run.returncode == 1
    session = _line(run.stdout, "warehouse session")
    assert session.startswith("FAIL  warehouse session: the SQL warehouse is not ready (starting or busy): ")
    assert session.endswith("Fix: wait until the SQL warehouse is running (or start it on the SQL Warehouses "
                            "page) and check again; a run waits and retries while it starts")
