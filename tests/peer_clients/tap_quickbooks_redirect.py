"""Run PyPI ``tap-quickbooks`` (singer-io) with its Intuit host constants pointed elsewhere.

The tap hard-codes ``https://quickbooks.api.intuit.com`` and Intuit's token URL as module constants
and reads them at call time, so setting them before ``main()`` redirects it without touching the
installed files. ``QBC_PEER_API_BASE`` and ``QBC_PEER_TOKEN_URL`` name the stand-ins; TLS trust comes
from ``REQUESTS_CA_BUNDLE`` like any requests-based client. Run with the peer's own interpreter:
``<peer venv>/bin/python tap_quickbooks_redirect.py --config ... --catalog ...``.
"""

from __future__ import annotations

import importlib
import os
import sys


def main() -> None:
    client = importlib.import_module("tap_quickbooks.client")
    api_base = os.environ["QBC_PEER_API_BASE"].rstrip("/")
    redirects = {
        "PROD_ENDPOINT_BASE": api_base,
        "SANDBOX_ENDPOINT_BASE": api_base,
        "TOKEN_REFRESH_URL": os.environ["QBC_PEER_TOKEN_URL"],
    }
    for name, value in redirects.items():
        if not hasattr(client, name):
            raise SystemExit(f"tap_quickbooks.client has no {name}: this wrapper fits tap-quickbooks 2.5.0; "
                             "pin that version or update the constant names here")
        setattr(client, name, value)
    tap = importlib.import_module("tap_quickbooks")
    sys.argv[0] = "tap-quickbooks"
    tap.main()


if __name__ == "__main__":
    main()
