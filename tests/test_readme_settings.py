"""Each plugin README's settings table names real settings with their real defaults.

The settings are declared once, in each plugin's config.py; a README table is a second, hand-kept
copy, and it had drifted (target-looker-warehouse listed a `dead_letter_enabled` that no longer
existed and a `max_retries` default of 3 against the code's 5). A user copying a setting from the
README must get one the plugin reads.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PLUGINS = ["tap-quickbooks-online", "tap-quickbooks-desktop", "target-databricks", "target-looker-warehouse",
           "target-powerbi", "target-salesforce"]
_NAME = re.compile(r"[a-z][a-z0-9_]*")


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _settings_rows(readme: str) -> list[tuple[list[str], str]]:
    """(names, default cell) of each row of the tables under the `## Settings` heading: the names
    are the first column's (`a`, `b` or a bare name), the default is the column headed
    "default"."""
    section = readme.split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    rows: list[tuple[list[str], str]] = []
    default_at: int | None = None
    for line in section.splitlines():
        if not line.startswith("|"):
            default_at = None
            continue
        cells = _cells(line)
        if default_at is None:
            headers = [c.lower() for c in cells]
            default_at = headers.index("default") if "default" in headers else -1
            continue
        if set(line) <= set("|-: ") or default_at < 0:
            continue
        names = re.findall(r"`([a-z][a-z0-9_]*)`", cells[0])
        if not names and _NAME.fullmatch(cells[0]):
            names = [cells[0]]
        if names:
            rows.append((names, cells[default_at]))
    return rows


def _about(plugin: str) -> dict:
    exe = shutil.which(plugin, path=str(Path(sys.executable).parent))
    assert exe, f"{plugin} is not installed in this venv"
    done = subprocess.run([exe, "--about", "--format", "json"], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def _same(declared: object, written: str) -> bool:
    if isinstance(declared, bool):
        return written.lower() == str(declared).lower()
    if isinstance(declared, int | float):
        try:
            return float(written) == float(declared)
        except ValueError:
            return False
    return written == str(declared)


@pytest.mark.parametrize("plugin", PLUGINS)
def test_readme_settings_are_settings_with_their_defaults(plugin: str) -> None:
    properties = _about(plugin)["settings"]["properties"]
    rows = _settings_rows((ROOT / plugin / "README.md").read_text(encoding="utf-8"))
    assert rows, f"{plugin}/README.md has no settings table under '## Settings'"
    unknown = [name for names, _ in rows for name in names if name not in properties]
    assert not unknown, f"{plugin}/README.md lists settings the plugin does not have: {unknown}"
    wrong = []
    for names, cell in rows:
        # A default cell of plain literals, one per name ("`38`, `10`", or a bare value for one
        # name); prose ("today (UTC)", "unset") is not compared.
        written = re.findall(r"`([^`]*)`", cell)
        if not written and len(names) == 1 and cell and " " not in cell:
            written = [cell]
        elif len(written) != len(names) or re.sub(r"`[^`]*`|[,\s]", "", cell):
            continue
        for name, value in zip(names, written, strict=True):
            declared = properties[name].get("default")
            if declared is not None and not isinstance(declared, list | dict) and not _same(declared, value):
                wrong.append(f"{name}: README {value!r}, declared {declared!r}")
    assert not wrong, f"{plugin}/README.md: defaults that differ from the plugin's: {wrong}"
