"""Every plugin on Python 3.12 and 3.13; the full suite runs on the project's .venv (3.11 first).

For each other Python: one fresh virtualenv with every plugin installed from the wheels
``scripts/release`` builds (so the published metadata is what resolves), each plugin's ``--about``,
the SDK standard tests, and the Desktop tap's WSDL contract tests and QuickBooks Web Connector
sessions (the sandbox Web Connector against the tap's SOAP server, spyne patched by
``tap_quickbooks_desktop.spyne_compat``). ``QBC_PYTHONS_FULL=1`` runs each plugin's whole test
folder instead (minutes more per Python).

Interpreters are looked up as ``$(pyenv root)/versions/3.X.*/bin/python3.X`` (newest patch), else
``python3.X`` on PATH; a Python that is not there is skipped with that reason.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from .conftest import ROOT, plugin_definitions

pytestmark = pytest.mark.e2e

OTHER_PYTHONS = ("3.12", "3.13")
PLUGINS = [p["folder"] for p in plugin_definitions.PLUGINS]
# target-databricks' standard tests need the local Spark engine (pyspark 3.5, Java); they run on
# the .venv's Python in scripts/test, its install and --about run here.
STANDARD_TESTS = [p for p in PLUGINS if p != "target-databricks"]
SESSION_TESTS = ["tests/test_spyne_compat.py", "tests/test_wsdl_contract.py", "tests/test_qbwc_sync.py"]
FULL = os.environ.get("QBC_PYTHONS_FULL") == "1"


def _pyenv_root() -> Path | None:
    if os.environ.get("PYENV_ROOT"):
        return Path(os.environ["PYENV_ROOT"])
    pyenv = shutil.which("pyenv")
    if pyenv:
        out = subprocess.run([pyenv, "root"], capture_output=True, text=True, timeout=30, check=False)
        if out.returncode == 0 and out.stdout.strip():
            return Path(out.stdout.strip())
    return None


def find_python(version: str) -> str | None:
    root = _pyenv_root()
    if root:
        def patch(path: Path) -> int:
            match = re.fullmatch(rf"{re.escape(version)}\.(\d+)", path.parents[1].name)
            return int(match.group(1)) if match else -1

        found = [p for p in root.glob(f"versions/{version}.*/bin/python{version}") if patch(p) >= 0]
        if found:
            return str(max(found, key=patch))
    return shutil.which(f"python{version}")


def install_everything(interpreter: str, env_dir: Path, dist: Path) -> str | None:
    """A virtualenv on that interpreter with every released wheel and the sandboxes; pip's error if not."""
    subprocess.run([interpreter, "-m", "venv", str(env_dir)], check=True, timeout=300)
    wheels = [str(next(dist.glob("quickbooks_connectors_plugin_kit-*.whl")))]
    wheels += [f"{next(dist.glob(folder.replace('-', '_') + '-*.whl'))}[test]" for folder in PLUGINS]
    result = subprocess.run([str(env_dir / "bin" / "python"), "-m", "pip", "install", "-q", *wheels,
                             "./sandboxes[powerbi,looker]"], cwd=ROOT, capture_output=True, text=True,
                            timeout=1800)
    return None if result.returncode == 0 else result.stderr[-3000:]


@pytest.fixture(scope="module")
def python_envs(release_dist: tuple[Path, str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Version -> bin folder, or the reason there is none. Both installs at once: mostly downloads."""
    dist, _ = release_dist
    found = {version: find_python(version) for version in OTHER_PYTHONS}

    def prepare(version: str) -> tuple[str, Any]:
        interpreter = found[version]
        if interpreter is None:
            return version, (f"Python {version} not found under $(pyenv root)/versions or as "
                             f"python{version} on PATH: install it (e.g. pyenv install {version}) "
                             "to prove the plugins on it")
        env_dir = tmp_path_factory.mktemp(f"py{version}") / "venv"
        error = install_everything(interpreter, env_dir, dist)
        return version, (env_dir / "bin" if error is None else AssertionError(
            f"installing every plugin on Python {version} failed: {error}"))

    with ThreadPoolExecutor(max_workers=len(OTHER_PYTHONS)) as pool:
        return dict(pool.map(prepare, OTHER_PYTHONS))


@pytest.fixture(params=OTHER_PYTHONS, ids=[f"py{v}" for v in OTHER_PYTHONS])
def python_env(request: pytest.FixtureRequest, python_envs: dict[str, Any]) -> tuple[str, Path]:
    """(version, bin folder) of a virtualenv on that Python holding every plugin and the sandboxes."""
    version: str = request.param
    prepared = python_envs[version]
    if isinstance(prepared, str):
        pytest.skip(prepared)
    if isinstance(prepared, Exception):
        raise prepared
    return version, prepared


def run_tests(bin_dir: Path, folder: str, paths: list[str]) -> str:
    """One plugin's tests with that Python; one pytest per plugin, as scripts/test runs them."""
    # The sandboxes are installed from the folder (not editable) there, so they cannot find the
    # repository's reference cache by their own path: name it, as a user running them alone would.
    cache = ROOT / ".meltano" / "reference-cache"
    reference = cache if cache.is_dir() else ROOT.parent / "shared" / "reference"
    env = {**os.environ, "QBC_REFERENCE_DIR": str(reference)}
    result = subprocess.run([str(bin_dir / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider",
                             *paths], cwd=ROOT / folder, capture_output=True, text=True, timeout=1800, env=env)
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    assert result.returncode == 0, f"{folder}: {result.stdout[-4000:]}{result.stderr[-2000:]}"
    assert re.search(r"\d+ passed", summary), f"{folder}: nothing ran ({summary})"
    return summary


def test_every_plugin_answers_about_from_its_wheel(python_env: tuple[str, Path]) -> None:
    version, bin_dir = python_env
    actual = subprocess.run([str(bin_dir / "python"), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                            capture_output=True, text=True, check=True, timeout=60).stdout.strip()
    assert actual == version
    for folder in PLUGINS:
        result = subprocess.run([str(bin_dir / folder), "--about", "--format=json"],
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, f"{folder} on Python {version}: {result.stderr[-2000:]}"
        about = json.loads(result.stdout)
        assert about["name"] == folder
        assert version in about["supported_python_versions"]


@pytest.mark.parametrize("folder", STANDARD_TESTS)
def test_sdk_standard_tests_pass(python_env: tuple[str, Path], folder: str) -> None:
    _, bin_dir = python_env
    run_tests(bin_dir, folder, ["tests"] if FULL else ["tests/test_core.py"])


def test_web_connector_sessions_and_the_wsdl_contract_pass(python_env: tuple[str, Path]) -> None:
    """spyne 2.14.0 serves the QBWC contract and whole Web Connector sessions on this Python."""
    _, bin_dir = python_env
    summary = run_tests(bin_dir, "tap-quickbooks-desktop", SESSION_TESTS)
    assert "skipped" not in summary, summary
