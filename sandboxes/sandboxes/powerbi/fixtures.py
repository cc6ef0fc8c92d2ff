"""Pytest fixtures: ``powerbi_sandbox`` (one per test) and ``powerbi_config`` (its target settings).

Import them in a ``conftest.py``: ``from sandboxes.powerbi.fixtures import *  # noqa: F403``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sandboxes.powerbi.server import PowerBISandbox

__all__ = ["powerbi_config", "powerbi_sandbox"]


@pytest.fixture
def powerbi_sandbox(tmp_path: Path) -> Iterator[PowerBISandbox]:
    with PowerBISandbox(workdir=tmp_path / "powerbi-sandbox") as sandbox:
        yield sandbox


@pytest.fixture
def powerbi_config(powerbi_sandbox: PowerBISandbox, tmp_path: Path) -> dict[str, Any]:
    """Settings for target-powerbi against the sandbox, with state files under ``tmp_path``."""
    return powerbi_sandbox.target_config(
        mirror_path=str(tmp_path / "powerbi-mirror.sqlite"),
        dead_letter_path=str(tmp_path / "powerbi-dead-letters"),
        backoff_base_seconds=0.01,
        backoff_max_seconds=0.05,
    )
