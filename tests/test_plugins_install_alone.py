"""Each plugin installs alone, by name, from a registry-like wheelhouse, and answers as a Singer plugin.

The wheelhouse holds the files ``scripts/release`` builds and their dependencies' wheels; pip runs
with no configuration and no index, from a folder with no repository checkout, as a user's
``pip install <plugin>`` would after the release is uploaded.
"""

from __future__ import annotations

import json
import subprocess
import venv
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from .conftest import discover, plugin_definitions, registry_free_env

PLUGINS = [p["folder"] for p in plugin_definitions.PLUGINS]
TAPS = [p for p in PLUGINS if p.startswith("tap-")]


@pytest.fixture(scope="module")
def lone_installs(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path) -> dict[str, Path]:
    """One fresh virtualenv per plugin holding nothing but that plugin and its dependencies."""
    base = tmp_path_factory.mktemp("lone")

    def install(folder: str) -> tuple[str, Path]:
        env_dir = base / folder
        venv.EnvBuilder(with_pip=True).create(env_dir)
        result = subprocess.run([str(env_dir / "bin" / "python"), "-m", "pip", "install", "-q",
                                 "--no-index", "--find-links", str(wheelhouse), folder],
                                cwd=base, env=registry_free_env(), timeout=900, capture_output=True, text=True)
        assert result.returncode == 0, f"{folder}: {result.stderr[-2000:]}"
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

