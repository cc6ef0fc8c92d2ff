"""Fixtures: the local Spark SQL warehouse (one per session) and helpers to run the target."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
import typing as t
import uuid
from pathlib import Path

import pytest
from qbc_plugin_kit.dead_letters import DeadLetter, DeadLetterStore

try:
    from sandboxes.databricks.fixtures import databricks_engine, databricks_faults
except ImportError:  # sandboxes[spark] not installed: only the engine tests are skipped
    @pytest.fixture(scope="session")
    def databricks_engine() -> t.Any:
        pytest.skip("quickbooks-connectors-sandboxes[spark] is not installed")

    @pytest.fixture
    def databricks_faults() -> t.Any:
        pytest.skip("quickbooks-connectors-sandboxes[spark] is not installed")

from target_databricks.config import DatabricksSettings
from target_databricks.connector import DatabricksConnector
from target_databricks.row_encoding import to_json_text
from target_databricks.target import TargetDatabricks


@pytest.fixture
def schema_name() -> str:
    return f"t_{uuid.uuid4().hex[:10]}"


@pytest.fixture
def target_config(databricks_engine: t.Any, schema_name: str, tmp_path: t.Any) -> dict[str, t.Any]:
    """Production settings pointed at the sandbox: its CA file and Iceberg as the table format
    (Delta's jars cannot be fetched here). Native parameters, the production default."""
    return {
        "server_hostname": databricks_engine.server_hostname,
        "http_path": databricks_engine.http_path,
        "access_token": databricks_engine.access_token,
        "catalog": databricks_engine.catalog,
        "default_target_schema": schema_name,
        "ca_bundle": str(databricks_engine.ca_file),
        "table_provider": "iceberg",
        "connector_telemetry": False,
        "dead_letter_path": str(tmp_path / "dead_letters"),
        # One retry (a jittered 0.5-1 s wait) is enough to show retrying; five would only wait.
        "max_retries": 1,
    }


class Lines:
    """Singer input that can run a callback when a given line is reached."""

    def __init__(self, messages: list[dict[str, t.Any]],
                 hooks: dict[int, t.Callable[[], None]] | None = None) -> None:
        self._lines = [to_json_text(m) + "\n" for m in messages]
        self._hooks = hooks or {}

    def __iter__(self) -> t.Iterator[str]:
        for number, line in enumerate(self._lines):
            if number in self._hooks:
                self._hooks[number]()
            yield line

    def readline(self) -> str:  # pragma: no cover - the SDK iterates
        raise NotImplementedError


def run_target(config: dict[str, t.Any], messages: list[dict[str, t.Any]],
               hooks: dict[int, t.Callable[[], None]] | None = None) -> TargetDatabricks:
    target = TargetDatabricks(config=config, parse_env_config=False)
    try:
        if hooks:
            target.listen(file_input=Lines(messages, hooks))  # type: ignore[arg-type]
        else:
            target.listen(file_input=io.StringIO("".join(to_json_text(m) + "\n" for m in messages)))
    finally:
        target.connector.close()
    return target


def letters(config: t.Mapping[str, t.Any], status: str | None = "pending") -> list[DeadLetter]:
    """The dead-letter store's letters, as `target-databricks replay --list` reads them."""
    store = DeadLetterStore(config["dead_letter_path"])
    try:
        return store.letters(status=status)
    finally:
        store.close()


class Run(t.NamedTuple):
    returncode: int
    stdout: str
    stderr: str

    @property
    def last_line(self) -> str:
        lines = self.stderr.strip().splitlines()
        return lines[-1] if lines else ""

    @property
    def states(self) -> list[dict[str, t.Any]]:
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]


def run_cli(config: t.Mapping[str, t.Any], tmp_path: Path, input_lines: t.Sequence[str] = (),
            replay: t.Sequence[str] | None = None, command_name: str | None = None) -> Run:
    """The installed `target-databricks` console command, as Meltano runs it: a load of
    ``input_lines``, `target-databricks replay` with the ``replay`` arguments, or another
    command of the plugin (``command_name="check"``)."""
    config_file = tmp_path / f"config-{uuid.uuid4().hex[:6]}.json"
    config_file.write_text(json.dumps(dict(config)), encoding="utf-8")
    command = str(Path(sys.executable).parent / "target-databricks")
    argv = [command, "--config", str(config_file)]
    if replay is not None:
        argv = [command, "replay", "--config", str(config_file), *replay]
    if command_name is not None:
        argv = [command, command_name, "--config", str(config_file)]
    result = subprocess.run(argv, input="".join(line + "\n" for line in input_lines),
                            capture_output=True, text=True, timeout=600, check=False)
    return Run(result.returncode, result.stdout, result.stderr)


@pytest.fixture
def sql(target_config: dict[str, t.Any]) -> t.Iterator[t.Callable[..., list[t.Any]]]:
    """Run SQL on the warehouse as a user would (for checking what the target stored)."""
    connector = DatabricksConnector(DatabricksSettings.from_config(target_config), logging.getLogger("tests"))
    yield connector.execute
    connector.close()


def schema_message(stream: str, properties: dict[str, t.Any],
                   keys: list[str] | None = None) -> dict[str, t.Any]:
    return {"type": "SCHEMA", "stream": stream, "key_properties": keys or [],
            "schema": {"type": "object", "properties": properties}}


def record(stream: str, **values: t.Any) -> dict[str, t.Any]:
    return {"type": "RECORD", "stream": stream, "record": values}
