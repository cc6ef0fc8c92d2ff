"""Each plugin installs alone from its folder into a fresh virtualenv and answers as a Singer plugin."""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from .conftest import ROOT, discover, plugin_definitions

PLUGINS = [p["folder"] for p in plugin_definitions.PLUGINS]
TAPS = [p for p in PLUGINS if p.startswith("tap-")]


@pytest.fixture(scope="module")
def lone_installs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One fresh virtualenv per plugin holding nothing but that plugin (non-editable)."""
    base = tmp_path_factory.mktemp("lone")

    def install(folder: str) -> tuple[str, Path]:
        env_dir = base / folder
        venv.EnvBuilder(with_pip=True).create(env_dir)
        subprocess.run([str(env_dir / "bin" / "python"), "-m", "pip", "install", "-q",
                        str(ROOT / folder)], check=True, timeout=900, capture_output=True)
        return folder, env_dir / "bin"

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(pool.map(install, PLUGINS))


pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("folder", PLUGINS)
def test_plugin_answers_version_and_about_after_installing_alone(
    lone_installs: dict[str, Path], folder: str
) -> None:
    exe = str(lone_installs[folder] / folder)
    version = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=60)
    assert version.returncode == 0 and folder in version.stdout
    about = json.loads(subprocess.run([exe, "--about", "--format=json"], check=True,
                                      capture_output=True, text=True, timeout=60).stdout)
    assert about["name"] == folder
    assert about["settings"]["properties"], "no settings documented"
    markdown = subprocess.run([exe, "--about", "--format=markdown"], check=True,
                              capture_output=True, text=True, timeout=60).stdout
    assert f"# `{folder}`" in markdown and "| Setting" in markdown


@pytest.mark.parametrize("folder", TAPS)
def test_tap_discovers_its_streams_after_installing_alone(
    lone_installs: dict[str, Path], folder: str, tmp_path: Path
) -> None:
    catalog = discover(folder, tmp_path, bin_dir=lone_installs[folder])
    names = {s["tap_stream_id"] for s in catalog["streams"]}
    assert {"invoices", "invoice_lines", "vendors", "bills"} <= names
    for stream in catalog["streams"]:
        assert stream["schema"]["properties"], f"{stream['tap_stream_id']} has an empty schema"


def test_python_used_here_is_one_spyne_supports() -> None:
    assert (3, 11) <= sys.version_info[:2] < (3, 13)
