"""``python -m sandboxes.salesforce``: serve the Salesforce sandbox until interrupted.

Prints one JSON line with the target settings (``target_config``) so a dev environment (or
``meltano.yml``'s ``dev`` environment through env vars) can point target-salesforce at it.
"""

from __future__ import annotations

import sys

from sandboxes.cli import https_sandbox_parser, serve_https_sandbox
from sandboxes.salesforce.server import SalesforceSandbox


def main(argv: list[str] | None = None) -> int:
    args = https_sandbox_parser("python -m sandboxes.salesforce", __doc__).parse_args(argv)
    return serve_https_sandbox(SalesforceSandbox, args, ("client_id", "client_secret"))


if __name__ == "__main__":
    sys.exit(main())
