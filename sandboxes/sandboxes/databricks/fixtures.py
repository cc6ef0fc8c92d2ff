"""Pytest fixtures: ``from sandboxes.databricks.fixtures import databricks_engine, databricks_faults``.

``databricks_engine`` is one warm engine for the whole pytest session (Spark takes ~10 s to
start), however many test modules or conftests import the fixture. Tests share it, so each
should work in its own schema (``unique_schema()``). A test that arms faults or expires
tokens takes ``databricks_faults``, which puts the engine back as it was afterwards.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator

import pytest

from .faults import Faults
from .warehouse import LocalWarehouse

_lock = threading.Lock()
_shared: LocalWarehouse | None = None
_start_error: Exception | None = None


def shared_warehouse(config: pytest.Config) -> LocalWarehouse:
    """Start the session's engine on first use; stopped when pytest finishes.

    A failed start is remembered: every later test fails at once with the same error instead
    of waiting for its own start to time out.
    """
    global _shared, _start_error
    with _lock:
        if _start_error is not None:
            raise _start_error
        if _shared is None:
            warehouse = LocalWarehouse()
            try:
                warehouse.start()
            except Exception as exc:
                _start_error = exc
                raise
            _shared = warehouse
            config.add_cleanup(_stop_shared)
        return _shared


def _stop_shared() -> None:
    global _shared
    with _lock:
        warehouse, _shared = _shared, None
    if warehouse is not None:
        warehouse.stop()


def unique_schema(prefix: str = "t") -> str:
    """A schema name no other test uses, for tests sharing the session's engine."""
    return f"{prefix}_{secrets.token_hex(4)}"


@pytest.fixture(scope="session")
def databricks_engine(pytestconfig: pytest.Config) -> LocalWarehouse:
    """The local SQL warehouse: ``server_hostname`` (``host:port``), ``host``, ``port``,
    ``http_path``, ``access_token``, ``ca_file``, ``catalog``, ``host_url``, ``client_id`` /
    ``client_secret`` (a service principal for OAuth M2M), ``faults`` and ``connect()``."""
    return shared_warehouse(pytestconfig)


@pytest.fixture
def databricks_faults(databricks_engine: LocalWarehouse) -> Iterator[Faults]:
    """The engine's fault switches and counters, counters zeroed; every armed fault, expired
    token and changed token lifetime is undone after the test."""
    databricks_engine.reset()
    yield databricks_engine.faults
    databricks_engine.reset()
