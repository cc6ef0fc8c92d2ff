"""A load that uses no Looker API does not pay for importing the Looker SDK (seconds per run)."""

from __future__ import annotations

import subprocess
import sys


def test_the_console_entry_point_does_not_import_the_looker_sdk() -> None:
    code = "import sys; from target_looker_warehouse.cli import main; print(sorted(m for m in sys.modules if m.startswith('looker_sdk')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"
