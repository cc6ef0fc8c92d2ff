"""Repo-level tests: contracts between the packages, and Meltano driving them."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load_definitions_module() -> Any:
    spec = importlib.util.spec_from_file_location("plugin_definitions", ROOT / "scripts" / "plugin_definitions.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


plugin_definitions = _load_definitions_module()


def executable(name: str, bin_dir: Path | None = None) -> str:
    candidate = (bin_dir or Path(sys.executable).parent) / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if not found:
        pytest.fail(f"{name} is not installed: run scripts/test, which installs every package")
    return found


def about(name: str, bin_dir: Path | None = None) -> dict[str, Any]:
    out = subprocess.run([executable(name, bin_dir), "--about", "--format=json"],
                         check=True, capture_output=True, text=True, timeout=120).stdout
    return json.loads(out)


def placeholder_config(settings_schema: dict[str, Any]) -> dict[str, Any]:
    """Values for the required settings only, enough for --discover (which calls no API)."""
    values: dict[str, Any] = {}
    for name in settings_schema.get("required", []):
        prop = settings_schema["properties"][name]
        kinds = prop.get("type", "string")
        kinds = {kinds} if isinstance(kinds, str) else set(kinds)
        if "enum" in prop:
            values[name] = prop["enum"][0]
        elif "array" in kinds:
            values[name] = []
        elif "object" in kinds:
            values[name] = {}
        elif "integer" in kinds:
            values[name] = 1
        elif "boolean" in kinds:
            values[name] = False
        elif prop.get("format") == "date-time":
            values[name] = "2026-01-01T00:00:00+00:00"
        else:
            values[name] = "placeholder"
    return values


def discover(name: str, tmp_path: Path, bin_dir: Path | None = None) -> dict[str, Any]:
    config = tmp_path / f"{name}-config.json"
    config.write_text(json.dumps(placeholder_config(about(name, bin_dir)["settings"])))
    out = subprocess.run([executable(name, bin_dir), "--config", str(config), "--discover"],
                         check=True, capture_output=True, text=True, timeout=120).stdout
    return json.loads(out)


def registry_free_env() -> dict[str, str]:
    """This environment without any pip configuration: no index, mirror or find-links but ours."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


@pytest.fixture(scope="session")
def release_dist(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """What ``scripts/release`` builds: every package's sdist and wheel, checked; and its output."""
    dist = tmp_path_factory.mktemp("release") / "dist"
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "release.py"), "--out", str(dist),
                             "--no-isolation"], capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return dist, result.stdout


@pytest.fixture(scope="session")
def wheelhouse(release_dist: tuple[Path, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A registry-like folder: the released wheels and every dependency's wheel for this Python."""
    dist, _ = release_dist
    house = tmp_path_factory.mktemp("wheelhouse")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--wheel-dir", str(house),
                    "--find-links", str(dist), *map(str, sorted(dist.glob("*.whl")))],
                   check=True, capture_output=True, timeout=1200)
    return house
