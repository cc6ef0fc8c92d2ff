"""Fill the local cache of vendor reference files the sandboxes read (reference/MANIFEST.json).

Each file comes from ``../shared/reference`` when it is there, else from the URL in the manifest,
and is kept only if its sha256 matches. Without ``../shared`` and without network access, the last
lines name every file still missing and what to do. Standard library only: runs before any venv.

    python scripts/reference_cache.py [--check] [--offline] [--source DIR] [--cache DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = ROOT / "reference" / "MANIFEST.json"
DEFAULT_CACHE = ROOT / ".meltano" / "reference-cache"
DEFAULT_SOURCE = ROOT.parent / "shared" / "reference"
DOWNLOAD_TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class Entry:
    file: str
    url: str
    sha256: str


def load_manifest(path: Path = MANIFEST) -> list[Entry]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return [Entry(e["file"], e["url"], e["sha256"]) for e in data["files"]]


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_atomically(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as tmp:
        tmp.write(data)
    Path(tmp.name).replace(target)


def download(url: str) -> bytes:
    if not url.startswith("https://"):
        raise ValueError(f"refusing a non-https URL: {url}")
    with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_SECONDS) as response:  # noqa: S310 - https only, checked above
        return bytes(response.read())


def fill_one(entry: Entry, cache: Path, source: Path, offline: bool, check_only: bool) -> str | None:
    """None when the cache holds the file with the right hash afterwards, else why not."""
    target = cache / entry.file
    if target.is_file() and digest(target.read_bytes()) == entry.sha256:
        return None
    if check_only:
        return "not in the cache" if not target.is_file() else "in the cache with a different sha256"
    local = source / entry.file
    if local.is_file():
        data = local.read_bytes()
        if digest(data) != entry.sha256:
            return f"{local} has sha256 {digest(data)}, the manifest says {entry.sha256}"
        write_atomically(target, data)
        return None
    if offline:
        return f"not in {source} and downloads are off (--offline)"
    try:
        data = download(entry.url)
    except (OSError, ValueError) as exc:
        return f"not in {source}; download from {entry.url} failed: {exc}"
    if digest(data) != entry.sha256:
        return f"{entry.url} served sha256 {digest(data)}, the manifest says {entry.sha256}"
    write_atomically(target, data)
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python scripts/reference_cache.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="verify the cache only; change nothing")
    parser.add_argument("--offline", action="store_true", help="copy from --source only; never download")
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="a copy of shared/reference")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="where the sandboxes read them")
    parser.add_argument("--manifest", type=Path, default=MANIFEST, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    entries = load_manifest(args.manifest)
    problems = {e.file: why for e in entries
                if (why := fill_one(e, args.cache, args.source, args.offline, args.check)) is not None}
    for name, why in problems.items():
        print(f"missing {name}: {why}", file=sys.stderr)
    if problems:
        print(f"{len(problems)} of {len(entries)} vendor reference files missing from {args.cache}: put the "
              f"shared/ folder beside the repository ({args.source}) or allow downloads from the URLs in "
              f"{MANIFEST.relative_to(ROOT)}, then run this again", file=sys.stderr)
        return 1
    print(f"{len(entries)} vendor reference files in {args.cache}, sha256 checked", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
