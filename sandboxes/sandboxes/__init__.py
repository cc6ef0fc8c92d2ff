"""Local stand-ins for the SaaS services the plugins talk to.

Every server here listens on 127.0.0.1 only, behaves as its vendor documents the real service,
and checks each request against the vendor's published schema: the reference files listed in
``reference/MANIFEST.json``. They are read from, in order: ``$QBC_REFERENCE_DIR``; the local cache
``scripts/reference_cache.py`` fills (``.meltano/reference-cache``); ``../shared/reference`` beside
the repository. A sandbox missing one refuses to start, naming the file and the command that fills
the cache, rather than failing its clients mid-run.
"""

import os
from pathlib import Path

REFERENCE_ENV = "QBC_REFERENCE_DIR"
# sandboxes/sandboxes/__init__.py -> the repository (an editable install, as scripts/lib.sh makes).
REPOSITORY = Path(__file__).resolve().parents[2]
CACHE_DIR = REPOSITORY / ".meltano" / "reference-cache"
SHARED_DIR = REPOSITORY.parent / "shared" / "reference"
FILL_COMMAND = "python scripts/reference_cache.py"


class MissingReferenceFile(FileNotFoundError):
    """A vendor reference file a sandbox needs is in none of the places it looks."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"vendor reference file {name} is missing (looked in {', '.join(str(r) for r in reference_roots())}); "
            f"run `{FILL_COMMAND}` in the repository: it copies ../shared/reference or downloads the files "
            "listed in reference/MANIFEST.json, checking each sha256")
        self.name = name


def reference_roots() -> list[Path]:
    override = os.environ.get(REFERENCE_ENV)
    return [Path(override)] if override else [CACHE_DIR, SHARED_DIR]


def reference_path(*parts: str) -> Path:
    """The first copy of a reference file, e.g. ``reference_path("qbo", "xsd", "Finance.xsd")``."""
    for root in reference_roots():
        path = root.joinpath(*parts)
        if path.is_file():
            return path
    raise MissingReferenceFile("/".join(parts))


def reference_dir(*parts: str, holding: str) -> Path:
    """The directory that holds ``holding`` (siblings that include each other stay together)."""
    return reference_path(*parts, holding).parent


def require(*names: str) -> None:
    """Refuse to go on unless every named file (``qbo/xsd/Finance.xsd``, ...) is there."""
    for name in names:
        reference_path(*name.split("/"))
