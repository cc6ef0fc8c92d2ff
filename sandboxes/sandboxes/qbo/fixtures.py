"""Pytest fixtures for the QBO sandbox.

In a package's `tests/conftest.py`:
    from sandboxes.qbo.fixtures import qbo_sandbox, qbo_sandbox_factory  # noqa: F401
In a test module (where a test argument of the same name would shadow the import):
    from sandboxes.qbo.fixtures import qbo_sandbox_fixture, qbo_sandbox_factory_fixture  # noqa: F401
Both spellings register the fixtures `qbo_sandbox` and `qbo_sandbox_factory`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .realm import RealmSpec
from .sandbox import QBOSandbox

DEFAULT_REALM = "9130350000000001"


@pytest.fixture(name="qbo_sandbox_factory")
def qbo_sandbox_factory_fixture(tmp_path: Path) -> Iterator[Callable[..., QBOSandbox]]:
    """`make(**QBOSandbox kwargs) -> started QBOSandbox`; every sandbox is stopped at teardown."""
    started: list[QBOSandbox] = []

    def make(**kwargs: Any) -> QBOSandbox:
        kwargs.setdefault("realms", [RealmSpec(DEFAULT_REALM, seed=42, transactions=200)])
        kwargs.setdefault("data_dir", tmp_path / f"qbo-{len(started)}")
        sandbox = QBOSandbox(**kwargs).start()
        started.append(sandbox)
        return sandbox

    yield make
    for sandbox in started:
        sandbox.stop()


@pytest.fixture(name="qbo_sandbox")
def qbo_sandbox_fixture(qbo_sandbox_factory: Callable[..., QBOSandbox]) -> QBOSandbox:
    """A started sandbox: realm 9130350000000001, seed 42, 200 transactions."""
    return qbo_sandbox_factory()


qbo_sandbox = qbo_sandbox_fixture
qbo_sandbox_factory = qbo_sandbox_factory_fixture
