"""Build every package into dist/, check it as a registry would, and print what would be uploaded.

Run through ``scripts/release`` (which creates the project's virtualenv first). Nothing is uploaded
and nothing is tagged: the last lines are the commands a maintainer runs when the output is right.

Checks, each failing with the cause and the fix on the last line:

* one version for the whole suite (SemVer), with a section in CHANGELOG.md;
* every plugin's range for the plugin kit admits the kit's version;
* ``python -m build``: an sdist, then a wheel built from that sdist (so the sdist is complete);
* ``twine check --strict`` on every file;
* no built metadata names a local path or a direct reference (``Requires-Dist: x @ file:...``),
  every file carries the LICENSE.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from email.parser import Parser
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
KIT = "plugin_kit"
KIT_NAME = "quickbooks-connectors-plugin-kit"
PLUGINS = ["tap-quickbooks-online", "tap-quickbooks-desktop", "target-databricks",
           "target-looker-warehouse", "target-powerbi", "target-salesforce"]
# The kit first: a maintainer uploads it before the plugins that depend on it.
PACKAGES = [KIT, *PLUGINS]
SEMVER = re.compile(r"^\d+\.\d+\.\d+(?:(?:a|b|rc)\d+)?$")


class ReleaseError(Exception):
    """A check failed; the message names the cause and the fix."""


def project(folder: str) -> dict:
    return tomllib.loads((ROOT / folder / "pyproject.toml").read_text())["project"]


def suite_version() -> str:
    versions = {folder: project(folder)["version"] for folder in PACKAGES}
    distinct = sorted(set(versions.values()))
    if len(distinct) != 1:
        raise ReleaseError(f"packages disagree on the version ({versions}): set one version in "
                           "every pyproject.toml (the suite is released together)")
    version = distinct[0]
    if not SEMVER.match(version):
        raise ReleaseError(f"version {version} is not MAJOR.MINOR.PATCH: fix it in every pyproject.toml")
    changelog = (ROOT / "CHANGELOG.md").read_text()
    if not re.search(rf"^## \[{re.escape(version)}\]", changelog, re.MULTILINE):
        raise ReleaseError(f"CHANGELOG.md has no '## [{version}]' section: describe the release there")
    return version


def check_kit_ranges(version: str) -> None:
    for folder in PLUGINS:
        kit = [Requirement(r) for r in project(folder)["dependencies"] if Requirement(r).name == KIT_NAME]
        if not kit:
            raise ReleaseError(f"{folder} does not depend on {KIT_NAME}: add '{KIT_NAME}>=X.Y,<X.Y+1'")
        if Version(version) not in kit[0].specifier:
            raise ReleaseError(f"{folder} requires {kit[0]}, which excludes the kit's {version}: "
                               f"widen the range in {folder}/pyproject.toml")


def build(folder: str, out: Path, isolation: bool) -> None:
    command = [sys.executable, "-m", "build", "--outdir", str(out), str(ROOT / folder)]
    if not isolation:
        command.insert(3, "--no-isolation")
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.stderr.write(result.stdout[-3000:] + result.stderr[-3000:])
        raise ReleaseError(f"python -m build failed for {folder} (output above): fix its pyproject.toml")


def metadata_of(path: Path) -> tuple[str, list[str]]:
    """The core metadata text of a wheel or sdist, and the names of the files it holds."""
    if path.suffix == ".whl":
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            meta = next(n for n in names if n.endswith(".dist-info/METADATA"))
            return archive.read(meta).decode(), names
    with tarfile.open(path) as archive:
        names = archive.getnames()
        pkg_info = next(n for n in names if n.count("/") == 1 and n.endswith("/PKG-INFO"))
        member = archive.extractfile(pkg_info)
        assert member is not None
        return member.read().decode(), names


def check_metadata(path: Path) -> None:
    text, names = metadata_of(path)
    message = Parser().parsestr(text)
    for requirement in message.get_all("Requires-Dist") or []:
        if Requirement(requirement).url or "file:" in requirement:
            raise ReleaseError(f"{path.name} requires '{requirement}', a direct reference no registry "
                               "accepts: depend on the package name with a version range")
    if str(ROOT) in text:
        raise ReleaseError(f"{path.name} metadata names this machine's path {ROOT}: remove it from "
                           "the pyproject.toml")
    if not any(Path(name).name == "LICENSE" for name in names):
        raise ReleaseError(f"{path.name} carries no LICENSE: add license-files = [\"LICENSE\"]")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="where the files go (emptied first)")
    parser.add_argument("--no-isolation", action="store_true",
                        help="build with this environment's hatchling instead of a fresh one per package")
    args = parser.parse_args()
    try:
        version = suite_version()
        check_kit_ranges(version)
        if args.out.exists():
            shutil.rmtree(args.out)
        args.out.mkdir(parents=True)
        for folder in PACKAGES:
            print(f"building {folder}", flush=True)
            build(folder, args.out, isolation=not args.no_isolation)
        files = sorted(args.out.iterdir())
        twine = subprocess.run([sys.executable, "-m", "twine", "check", "--strict", *map(str, files)],
                               capture_output=True, text=True, check=False)
        print(twine.stdout.strip())
        if twine.returncode != 0:
            sys.stderr.write(twine.stderr)
            raise ReleaseError("twine check failed (output above): fix the README or metadata it names")
        for path in files:
            check_metadata(path)
    except ReleaseError as error:
        print(f"release: {error}", file=sys.stderr)
        return 1
    print(f"\nWould upload version {version} ({len(files)} files, the kit first):")
    for folder in PACKAGES:
        name = project(folder)["name"].replace("-", "_")
        for path in files:
            if path.name.startswith(f"{name}-{version}"):
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                print(f"  {path.name:60} {path.stat().st_size:>9,} B  sha256:{digest[:16]}")
    out = args.out if not args.out.is_relative_to(ROOT) else args.out.relative_to(ROOT)
    print(f"\nTo publish: twine upload {out}/quickbooks_connectors_plugin_kit-*  # the kit first\n"
          f"            twine upload --skip-existing {out}/*")
    print(f"Then tag:   git tag -a v{version} -m 'quickbooks-connectors {version}' && git push --tags")
    return 0


if __name__ == "__main__":
    sys.exit(main())
