"""``python -m sandboxes.powerbi``: serve the Power BI sandbox until interrupted.

Prints one JSON line with the target settings (``target_config``) so a dev environment (or
``meltano.yml``'s ``dev`` environment through env vars) can point target-powerbi at it.
"""

from __future__ import annotations

import sys

from sandboxes.cli import https_sandbox_parser, serve_https_sandbox
from sandboxes.powerbi.server import PowerBISandbox


def main(argv: list[str] | None = None) -> int:
    parser = https_sandbox_parser("python -m sandboxes.powerbi", __doc__)
    parser.add_argument("--tenant-id", help="Azure AD tenant the sandbox serves")
    parser.add_argument("--workspace-id", help="Power BI workspace (group) id the sandbox serves")
    args = parser.parse_args(argv)
    return serve_https_sandbox(
        PowerBISandbox, args, ("client_id", "client_secret", "tenant_id", "workspace_id")
    )


if __name__ == "__main__":
    sys.exit(main())
