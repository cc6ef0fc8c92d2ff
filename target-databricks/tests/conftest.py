"""Fixtures: the local Spark SQL warehouse (one per session) and helpers to run the target."""

from __future__ import annotations

import io
import logging
import typing as t
import uuid

import pytest

try:
    from sandboxes.databricks.fixtures import databricks_engine, databricks_faults
except ImportError:  # sandboxes[spark] not installed: only the engine tests are skipped
    @pytest.fixture(scope="session")
    def databricks_engine() -> t.Any:
        pytest.skip("quickbooks-connectors-sandboxes[spark] is not installed")

    @pytest.fixture
    def databricks_faults() -> t.Any:
        pytest.skip("quickbooks-connectors-sandboxes[spark] is not installed")

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
        "schema": schema_name,
        "tls_ca_file": str(databricks_engine.ca_file),
        "table_provider": "iceberg",
        "connector_telemetry": False,
        "dead_letter_path": str(tmp_path / "dead_letters"),
        "retry_base_delay_seconds": 0.05,
        "retry_max_delay_seconds": 0.2,
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


@pytest.fixture
def sql(target_config: dict[str, t.Any]) -> t.Iterator[t.Callable[..., list[t.Any]]]:
    """Run SQL on the warehouse as a user would (for checking what the target stored)."""
    connector = DatabricksConnector(target_config, logging.getLogger("tests"))
    yield connector.execute
    connector.close()


def schema_message(stream: str, properties: dict[str, t.Any],
                   keys: list[str] | None = None) -> dict[str, t.Any]:
    return {"type": "SCHEMA", "stream": stream, "key_properties": keys or [],
            "schema": {"type": "object", "properties": properties}}


def record(stream: str, **values: t.Any) -> dict[str, t.Any]:
    return {"type": "RECORD", "stream": stream, "record": values}
