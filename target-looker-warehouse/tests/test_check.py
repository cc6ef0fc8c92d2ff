"""`target-looker-warehouse check` and the last line of a run that cannot deliver (issue 14):
each aspect one line, the first failure's cause and fix last, exit 1, no STATE, no secret."""

from __future__ import annotations

import json
import pathlib
import socket
import subprocess
import sys
import typing as t

import pytest
from sandboxes.looker import LookerSandbox
from sandboxes.looker.fixtures import looker_sandbox  # noqa: F401
from sandboxes.postgres.cluster import PostgresCluster

pytestmark = pytest.mark.e2e

COMMAND = str(pathlib.Path(sys.executable).parent / "target-looker-warehouse")
LINES = "".join(json.dumps(m) + "\n" for m in [
    {"type": "SCHEMA", "stream": "items", "key_properties": ["id"],
     "schema": {"type": "object", "properties": {"id": {"type": "string"}}}},
    {"type": "RECORD", "stream": "items", "record": {"id": "1"}},
    {"type": "STATE", "value": {"bookmarks": {"items": "2026-01-01"}}},
])


class Run(t.NamedTuple):
    returncode: int
    stdout: str
    stderr: str

    def line(self, aspect: str) -> str:
        return next(line for line in self.stdout.splitlines() if line[6:].split(":")[0] == aspect)

    @property
    def last_stderr_line(self) -> str:
        return self.stderr.strip().splitlines()[-1]


def _run(config: dict[str, t.Any], tmp_path: pathlib.Path, *args: str, stdin: str = "") -> Run:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    result = subprocess.run([COMMAND, *args, "--config", str(path)], input=stdin, capture_output=True,
                            text=True, timeout=300, check=False)
    return Run(result.returncode, result.stdout, result.stderr)


def _looker(sandbox: LookerSandbox, **overrides: t.Any) -> dict[str, t.Any]:
    return {"looker_api_enabled": True, "looker_base_url": sandbox.base_url, "looker_client_id": sandbox.client_id,
            "looker_client_secret": sandbox.client_secret, **overrides}


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def password_postgres() -> t.Iterator[PostgresCluster]:
    """A PostgreSQL that checks passwords, as a real server does (the session's sandbox trusts)."""
    with PostgresCluster(password="right-password-7") as cluster:
        yield cluster


def _postgres(cluster: PostgresCluster, tmp_path: pathlib.Path, **overrides: t.Any) -> dict[str, t.Any]:
    return {"dialect": "postgres", "host": "127.0.0.1", "port": cluster.port, "user": "postgres",
            "password": "right-password-7", "database": "postgres", "default_target_schema": "raw_check",
            "model_schema": "finance_check", "dead_letter_path": str(tmp_path / "dead_letters"), **overrides}


def test_a_good_postgres_and_looker_pass_every_aspect_and_leave_nothing_behind(
        password_postgres: PostgresCluster, looker_sandbox: LookerSandbox, tmp_path: pathlib.Path) -> None:  # noqa: F811
    run = _run({**_postgres(password_postgres, tmp_path), **_looker(looker_sandbox)}, tmp_path, "check")
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.splitlines() == [
        f"ok    settings: postgres (postgres@127.0.0.1:{password_postgres.port}/postgres), schemas raw_check and "
        "finance_check",
        f"ok    warehouse connection: PostgreSQL at 127.0.0.1:{password_postgres.port}, logged in as postgres to "
        "postgres",
        "ok    schema rights: CREATE SCHEMA and CREATE TABLE allowed in raw_check and finance_check (rolled back)",
        f"ok    Looker login: {looker_sandbox.base_url}/api/4.0/login accepted looker_client_id",
        "ok    Looker project: project quickbooks",
        "ok    Looker deploy rights: the API user 'quickbooks-loader' may validate (develop) and deploy",
        "target-looker-warehouse check: all 6 aspects ok",
    ]
    assert "right-password-7" not in run.stdout + run.stderr
    assert looker_sandbox.client_secret not in run.stdout + run.stderr
    assert looker_sandbox.violations == []


def test_a_wrong_warehouse_password_is_a_refused_login_naming_user_and_password(
        password_postgres: PostgresCluster, tmp_path: pathlib.Path) -> None:
    run = _run(_postgres(password_postgres, tmp_path, password="wrong-password-3"), tmp_path, "check")
    assert run.returncode == 1
    line = run.line("warehouse connection")
    assert line.startswith("FAIL  warehouse connection: PostgreSQL refused the login: ")
    assert 'password authentication failed for user "postgres"' in line
    assert line.endswith("Fix: check the settings user and password (or sqlalchemy_url)")
    assert run.line("schema rights") == ("FAIL  schema rights: not tried: no warehouse connection. "
                                         "Fix: see the warehouse connection line")
    assert "wrong-password-3" not in run.stdout + run.stderr


def test_an_unreachable_postgres_names_host_and_port(tmp_path: pathlib.Path) -> None:
    port = _closed_port()
    config = {"dialect": "postgres", "host": "127.0.0.1", "port": port, "user": "u", "password": "p",
              "database": "d", "dead_letter_path": str(tmp_path / "dl")}
    run = _run(config, tmp_path, "check")
    assert run.returncode == 1
    line = run.line("warehouse connection")
    assert line.startswith("FAIL  warehouse connection: the warehouse cannot be reached: ")
    assert f'port {port} failed: Connection refused' in line
    assert line.endswith("Fix: check the settings host and port (and that PostgreSQL is running)")


def test_a_wrong_looker_secret_is_named_as_the_api_credentials(
        looker_sandbox: LookerSandbox, tmp_path: pathlib.Path) -> None:  # noqa: F811
    config = {"duckdb_path": str(tmp_path / "w.duckdb"), **_looker(looker_sandbox, looker_client_secret="nope-1234")}
    run = _run(config, tmp_path, "check")
    assert run.returncode == 1
    assert run.line("Looker login") == (
        "FAIL  Looker login: Looker refused the API credentials (looker_client_id/looker_client_secret): POST "
        f"{looker_sandbox.base_url}/api/4.0/login answered HTTP 404. Fix: set looker_client_id and "
        "looker_client_secret to an API key pair of the Looker user that deploys (Admin > Users > Edit > API keys)")
    assert run.line("Looker project") == ("FAIL  Looker project: not tried: an earlier Looker aspect failed. "
                                          "Fix: see the Looker lines above")
    assert "nope-1234" not in run.stdout + run.stderr


def test_a_missing_looker_project_is_named_with_looker_project_id(
        looker_sandbox: LookerSandbox, tmp_path: pathlib.Path) -> None:  # noqa: F811
    config = {"duckdb_path": str(tmp_path / "w.duckdb"), **_looker(looker_sandbox, looker_project_id="finanse")}
    run = _run(config, tmp_path, "check")
    assert run.returncode == 1
    assert run.line("Looker project") == (
        "FAIL  Looker project: Looker has no LookML project 'finanse' that this API user can see "
        "(looker_project_id). Fix: set looker_project_id to the project's id (Develop > Projects in Looker)")


def test_an_api_user_without_deploy_permission_is_told_so(tmp_path: pathlib.Path) -> None:
    with LookerSandbox(permissions=("access_data", "see_lookml", "develop")) as looker:
        run = _run({"duckdb_path": str(tmp_path / "w.duckdb"), **_looker(looker)}, tmp_path, "check")
    assert run.returncode == 1
    assert run.line("Looker deploy rights").startswith(
        "FAIL  Looker deploy rights: the API user 'quickbooks-loader' lacks the Looker permission(s) deploy")


def test_a_run_with_a_wrong_looker_secret_stops_before_loading_naming_the_credentials(
        looker_sandbox: LookerSandbox, tmp_path: pathlib.Path) -> None:  # noqa: F811
    config = {"duckdb_path": str(tmp_path / "w.duckdb"), "dead_letter_path": str(tmp_path / "dl"),
              **_looker(looker_sandbox, looker_client_secret="nope-5678")}
    run = _run(config, tmp_path, stdin=LINES)
    assert run.returncode == 1
    assert run.stdout == ""  # no STATE: the next run reads the data again
    assert run.last_stderr_line == (
        "target-looker-warehouse: Looker refused the API credentials (looker_client_id/looker_client_secret): "
        f"POST {looker_sandbox.base_url}/api/4.0/login answered HTTP 404. Fix: set looker_client_id and "
        "looker_client_secret to an API key pair of the Looker user that deploys (Admin > Users > Edit > API keys)")
    assert '{"message": "Not found"}' not in run.stderr


def test_postgres_without_a_host_names_the_setting_instead_of_trying_localhost(tmp_path: pathlib.Path) -> None:
    config = {"dialect": "postgres", "user": "loader", "password": "p", "database": "warehouse",
              "dead_letter_path": str(tmp_path / "dl")}
    run = _run(config, tmp_path, stdin=LINES)
    assert run.returncode == 1
    assert run.stdout == ""
    assert run.last_stderr_line == (
        "target-looker-warehouse: dialect postgres needs host (or sqlalchemy_url); host is not set. Fix: set host "
        "(meltano config target-looker-warehouse set host ...), or sqlalchemy_url")
    assert "localhost" not in run.stderr and "5432" not in run.stderr


def test_an_existing_duckdb_file_is_opened_and_the_schema_rights_leave_nothing_behind(tmp_path: pathlib.Path) -> None:
    import duckdb

    path = tmp_path / "w.duckdb"
    duckdb.connect(str(path)).close()
    run = _run({"duckdb_path": str(path), "dead_letter_path": str(tmp_path / "dl")}, tmp_path, "check")
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.line("warehouse connection") == f"ok    warehouse connection: DuckDB file {path} opens for writing"
    assert run.line("schema rights") == ("ok    schema rights: CREATE SCHEMA and CREATE TABLE allowed in quickbooks "
                                         "and finance (rolled back)")
    assert run.line("Looker login") == "ok    Looker login: not configured (looker_api_enabled is off)"
    with duckdb.connect(str(path)) as conn:
        schemas = {row[0] for row in conn.execute("SELECT schema_name FROM information_schema.schemata").fetchall()}
    assert "quickbooks" not in schemas and "finance" not in schemas


def test_a_misspelled_setting_fails_the_settings_aspect_with_the_closest_name(tmp_path: pathlib.Path) -> None:
    run = _run({"duckdb_path": str(tmp_path / "w.duckdb"), "dialekt": "postgres"}, tmp_path, "check")
    assert run.returncode == 1
    assert run.line("settings") == ("FAIL  settings: unknown setting 'dialekt' is ignored; did you mean 'dialect'?. "
                                    "Fix: rename or remove the setting")
