"""A virtualenv per peer client, installed by name from the package index and cached under
``.meltano/peer-clients/`` (git-ignored): the second run reuses it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

PEER_CLIENTS = ROOT / ".meltano" / "peer-clients"


def peer_python(name: str, requirements: tuple[str, ...]) -> Path:
    """The interpreter of a venv holding exactly ``requirements`` (pip specifiers)."""
    venv = PEER_CLIENTS / name
    python = venv / "bin" / "python"
    marker = venv / ".installed"
    wanted = " ".join(requirements)
    if marker.exists() and marker.read_text() == wanted and python.exists():
        return python
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True, timeout=300)
    installed = subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *requirements],
                               capture_output=True, text=True, timeout=900)
    if installed.returncode != 0:
        pytest.fail(f"{installed.stderr[-2000:]}\ncould not install {wanted} into {venv}: this test needs the "
                    "package index (pip install by name); check network access or pip's index settings")
    marker.write_text(wanted)
    return python
