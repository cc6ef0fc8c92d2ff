"""Local stand-ins for the SaaS services the plugins talk to.

Every server here listens on 127.0.0.1 only, behaves as its vendor documents the real service,
and checks each request against the vendor's published schema in ``shared/reference/``.
"""

import os
from pathlib import Path

REFERENCE_DIR = Path(
    os.environ.get("QBC_REFERENCE_DIR")
    or Path(__file__).resolve().parents[3] / "shared" / "reference"
)
"""``shared/reference`` sits beside the repository (``../shared``), as in CI's clean clone;
``QBC_REFERENCE_DIR`` overrides it for a non-editable install."""


def reference_path(*parts: str) -> Path:
    """Return a path inside the vendors' reference files, failing clearly if they are absent."""
    path = REFERENCE_DIR.joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(
            f"vendor reference file {path} is missing: the sandboxes need ../shared/reference "
            "beside the repository checkout"
        )
    return path
