"""Pytest fixtures: ``salesforce_sandbox`` (one per test) and ``salesforce_config``.

Import them in a ``conftest.py``: ``from sandboxes.salesforce.fixtures import *  # noqa: F403``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sandboxes.salesforce.server import SalesforceSandbox

__all__ = ["salesforce_config", "salesforce_sandbox"]


@pytest.fixture
def salesforce_sandbox(tmp_path: Path) -> Iterator[SalesforceSandbox]:
    with SalesforceSandbox(workdir=tmp_path / "salesforce-sandbox") as sandbox:
        yield sandbox


@pytest.fixture
def salesforce_config(salesforce_sandbox: SalesforceSandbox, tmp_path: Path) -> dict[str, Any]:
    """Settings for target-salesforce against the sandbox, dead letters under ``tmp_path``."""
    return salesforce_sandbox.target_config(
        dead_letter_path=str(tmp_path / "salesforce-dead-letters"),
        backoff_base_seconds=0.01,
        backoff_max_seconds=0.05,
        bulk_poll_seconds=0.05,
    )
