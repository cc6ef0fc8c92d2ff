"""`python -m sandboxes.qbo --realm 9130350000000001 --transactions 100000 [--port N] [--seed 42]`"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from sandboxes import MissingReferenceFile

from ..cli import StopSignal
from .realm import RealmSpec
from .sandbox import QBOSandbox


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m sandboxes.qbo", description="Local QuickBooks Online API sandbox")
    parser.add_argument("--realm", action="append", help="realm id (repeat for several companies)")
    parser.add_argument("--transactions", type=int, default=200, help="transactions per realm")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: a free one)")
    parser.add_argument("--data-dir", type=Path, default=None, help="keep the SQLite files here (reused when present)")
    parser.add_argument("--access-token-ttl", type=float, default=3600)
    parser.add_argument("--refresh-grace", type=float, default=0.0)
    parser.add_argument("--client-id", default=None)
    secret = parser.add_mutually_exclusive_group()
    secret.add_argument("--client-secret", default=None)
    # A generated secret may start with "-", which argparse would read as an option; and an
    # environment variable keeps it out of `ps`.
    secret.add_argument("--client-secret-env", default=None, help="read the client secret from this environment variable")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    client_secret = os.environ.get(args.client_secret_env) if args.client_secret_env else args.client_secret
    realms = [RealmSpec(r, seed=args.seed + i, transactions=args.transactions)
              for i, r in enumerate(args.realm or ["9130350000000001"])]
    sandbox = QBOSandbox(realms=realms, data_dir=args.data_dir, access_token_ttl=args.access_token_ttl,
                         refresh_grace=args.refresh_grace, client_id=args.client_id, client_secret=client_secret,
                         port=args.port)
    print(f"generating {args.transactions} transactions for {len(realms)} realm(s)...", file=sys.stderr, flush=True)
    try:
        sandbox.start()
    except MissingReferenceFile as missing:
        print(f"error: {missing}", file=sys.stderr)
        return 2
    stop = StopSignal()
    info = {
        "base_url": sandbox.base_url,
        "token_url": sandbox.token_url,
        "authorize_url": sandbox.authorize_url,
        "client_id": sandbox.client_id,
        "client_secret": sandbox.client_secret,
        "webhook_verifier_token": sandbox.webhook_verifier_token,
        "realms": {r: {"refresh_token": sandbox.issue_tokens(r)["refresh_token"],
                       "api_url": sandbox.api_url(r)} for r in sandbox.realm_ids},
    }
    print(f"QBO sandbox listening on {sandbox.base_url}")
    print(f"token URL:     {sandbox.token_url}")
    print(f"client id:     {sandbox.client_id}")
    print(f"client secret: {sandbox.client_secret}")
    for realm_id, realm_info in info["realms"].items():  # type: ignore[attr-defined]
        print(f"realm {realm_id}: refresh token {realm_info['refresh_token']}")
    print(json.dumps(info), flush=True)
    try:
        stop.wait()
    finally:
        sandbox.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
