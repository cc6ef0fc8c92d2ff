"""Every package is one a registry accepts: built by scripts/release, checked by twine, no local paths.

The installs themselves (by name from a wheelhouse, with no checkout beside) are in
test_plugins_install_alone.py; the other Pythons in test_pythons.py.
"""

from __future__ import annotations

import importlib.util
import subprocess
import tomllib
import venv
import zipfile
from email.parser import Parser
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from .conftest import ROOT, plugin_definitions

PLUGINS = [p["folder"] for p in plugin_definitions.PLUGINS]
KIT = "quickbooks-connectors-plugin-kit"
PACKAGES = ["plugin_kit", *PLUGINS]


def _load_release() -> Any:
    spec = importlib.util.spec_from_file_location("release", ROOT / "scripts" / "release.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


release = _load_release()


def project(folder: str) -> dict[str, Any]:
    data: dict[str, Any] = tomllib.loads((ROOT / folder / "pyproject.toml").read_text())["project"]
    return data


def dist_name(folder: str) -> str:
    return str(project(folder)["name"]).replace("-", "_")


def test_release_builds_an_sdist_and_a_wheel_of_every_package_that_twine_accepts(
    release_dist: tuple[Path, str],
) -> None:
    dist, output = release_dist
    version = project("plugin_kit")["version"]
    expected = {f"{dist_name(f)}-{version}{suffix}" for f in PACKAGES
                for suffix in ("-py3-none-any.whl", ".tar.gz")}
    assert {p.name for p in dist.iterdir()} == expected
    assert output.count("PASSED") == len(expected), output
    assert f"Would upload version {version} ({len(expected)} files" in output


@pytest.mark.parametrize("folder", PACKAGES)
def test_built_metadata_names_no_local_path_and_the_kit_by_range(
    release_dist: tuple[Path, str], folder: str
) -> None:
    dist, _ = release_dist
    wheel = next(dist.glob(f"{dist_name(folder)}-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        metadata = archive.read(next(n for n in archive.namelist() if n.endswith("/METADATA"))).decode()
    message = Parser().parsestr(metadata)
    requirements = [Requirement(r) for r in message.get_all("Requires-Dist") or []]
    headers = "\n".join(f"{k}: {v}" for k, v in message.items())  # the README body may say file://
    assert "file:" not in headers and str(ROOT) not in headers
    assert not [str(r) for r in requirements if r.url], "a direct reference no registry accepts"
    if folder != "plugin_kit":
        kit = next(r for r in requirements if r.name == KIT)
        kit_version = Version(project("plugin_kit")["version"])
        assert kit_version in kit.specifier
        next_minor = Version(f"{kit_version.major}.{kit_version.minor + 1}.0")
        assert next_minor not in kit.specifier, "a plugin must not take a kit from the next minor version"


@pytest.mark.parametrize("folder", PACKAGES)
def test_every_built_file_ships_the_repositorys_license(release_dist: tuple[Path, str], folder: str) -> None:
    dist, _ = release_dist
    license_text = (ROOT / "LICENSE").read_text()
    assert "Apache License" in license_text and "Version 2.0" in license_text
    with zipfile.ZipFile(next(dist.glob(f"{dist_name(folder)}-*.whl"))) as archive:
        shipped = [n for n in archive.namelist() if n.endswith(".dist-info/licenses/LICENSE")]
        assert shipped and archive.read(shipped[0]).decode() == license_text
    # The package folder's copy is what its sdist carries (a symlink would arrive broken).
    assert (ROOT / folder / "LICENSE").read_text() == license_text


def test_release_refuses_a_direct_reference_with_the_fix(tmp_path: Path) -> None:
    wheel = tmp_path / "target_powerbi-0.2.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("target_powerbi-0.2.0.dist-info/METADATA",
                         f"Metadata-Version: 2.4\nName: target-powerbi\nVersion: 0.2.0\n"
                         f"Requires-Dist: {KIT} @ file:///build/machine/plugin_kit\n")
        archive.writestr("target_powerbi-0.2.0.dist-info/licenses/LICENSE", "Apache")
    with pytest.raises(release.ReleaseError, match="direct reference no registry accepts"):
        release.check_metadata(wheel)


def test_the_suite_has_one_semver_version_with_a_changelog_entry() -> None:
    versions = {project(folder)["version"] for folder in PACKAGES}
    assert len(versions) == 1
    version = versions.pop()
    assert release.SEMVER.match(version)
    assert f"## [{version}]" in (ROOT / "CHANGELOG.md").read_text()


@pytest.mark.e2e
def test_a_plugin_installs_from_its_folder_beside_the_kits_folder(tmp_path: Path) -> None:
    """The checkout form the README gives: `pip install ./plugin_kit ./target-powerbi`."""
    venv.EnvBuilder(with_pip=True).create(tmp_path / "venv")
    bin_dir = tmp_path / "venv" / "bin"
    result = subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "-q", "./plugin_kit",
                             "./target-powerbi"], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-2000:]
    about = subprocess.run([str(bin_dir / "target-powerbi"), "--about"], capture_output=True, text=True,
                           timeout=120)
    assert about.returncode == 0 and "target-powerbi" in about.stdout, about.stderr[-2000:]

