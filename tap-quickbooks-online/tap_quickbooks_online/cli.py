"""Console entry point: ``auth``, ``webhooks serve`` and ``check`` here, everything else to the
SDK's CLI; every failure ends on one line naming the cause and the fix."""

from __future__ import annotations

import argparse
import logging
import secrets
import sys
import time
import typing as t
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlparse

from qbc_plugin_kit import plugin_cli
from qbc_plugin_kit.checks import check_parser, run_checks, secret_values
from qbc_plugin_kit.failures import SystemicFailure
from qbc_plugin_kit.parent_watch import watch_parent
from qbc_plugin_kit.plugin_cli import load_config, show_help
from qbc_plugin_kit.quiet_logs import quiet_config_parsing
from singer_sdk.exceptions import ConfigValidationError

from tap_quickbooks_online.auth import tokens_summary
from tap_quickbooks_online.checks import build_checks, token_endpoint_aspect
from tap_quickbooks_online.errors import QBOError, with_fix
from tap_quickbooks_online.tap import TapQuickBooksOnline

PROG = "tap-quickbooks-online"


def _load_tap(config_args: list[str]) -> TapQuickBooksOnline:
    """The tap with its config from ``--config`` files and/or ``--config ENV`` (as the SDK reads it)."""
    files = [c for c in config_args if c != "ENV"]
    config = load_config([Path(f) for f in files])
    return TapQuickBooksOnline(
        config=config,
        parse_env_config="ENV" in config_args or not files,
        validate_config=False,
        setup_mapper=False,
    )


def authorize_url(tap: TapQuickBooksOnline, state: str) -> str:
    query = urlencode(
        {
            "client_id": tap.required("client_id"),
            "redirect_uri": tap.settings.redirect_uri,
            "response_type": "code",
            "scope": tap.settings.scope,
            "state": state,
        }
    )
    return f"{tap.settings.authorize_url}?{query}"


def parse_redirect(answer: str, expected_state: str) -> tuple[str, str | None]:
    """The code (and realmId) from a pasted redirect URL, or a bare code."""
    answer = answer.strip()
    if "?" not in answer and "=" not in answer:
        return answer, None
    params = parse_qs(urlparse(answer).query or answer)
    if "error" in params:
        raise QBOError(f"Authorization refused: {params['error'][0]}")
    state = params.get("state", [""])[0]
    if state != expected_state:
        raise QBOError("The redirect's state does not match this authorization request; start again.")
    if "code" not in params:
        raise QBOError("No code in the redirect URL.")
    return params["code"][0], params.get("realmId", [None])[0]


def run_auth(argv: list[str]) -> int:
    """Authorize a company once (OAuth2 code flow) and store its tokens encrypted."""
    parser = argparse.ArgumentParser(prog="tap-quickbooks-online auth",
                                     description="Authorize the app for a QuickBooks company once and store its tokens (encrypted).")
    parser.add_argument("--config", action="append", default=[], help="Config file (repeatable) or ENV.")
    parser.add_argument("--redirect-url", help="The URL Intuit redirected to (otherwise read from stdin).")
    parser.add_argument("--realm-id", help="Realm id, when the redirect URL is not given in full.")
    parser.add_argument("--state", help="Reuse this state value (for scripted runs).")
    args = parser.parse_args(argv)
    tap = _load_tap(args.config)
    state = args.state or secrets.token_urlsafe(24)
    url = authorize_url(tap, state)  # names a missing client_id before asking anything
    print("Open this URL, sign in and pick the company:\n")
    print(url + "\n", flush=True)
    answer = args.redirect_url
    if answer is None:
        print("Paste the URL you were redirected to (or the code):", flush=True)
        answer = sys.stdin.readline()
    code, realm_id = parse_redirect(answer, state)
    realm_id = realm_id or args.realm_id
    if not realm_id:
        raise QBOError("No realmId in the redirect. Fix: pass --realm-id (the company id)")
    tokens = tap.oauth_client().exchange_code(code, tap.settings.redirect_uri)
    now = time.time()
    entry = {
        # Intuit named the company in the redirect: this chain belongs to it for good.
        "confirmed": True,
        "refresh_token": tokens["refresh_token"],
        "access_token": tokens["access_token"],
        "access_token_expires_at": now + float(tokens.get("expires_in", 3600)),
        "rotated_at": now,
    }
    if tokens.get("x_refresh_token_expires_in") is not None:
        entry["refresh_token_expires_at"] = now + float(tokens["x_refresh_token_expires_in"])
    tap.token_store().save(realm_id, entry)
    print(f"Stored the tokens of realm {realm_id} in {tap.settings.token_store_path} (encrypted); "
          f"lifetimes {tokens_summary(tokens)}. Add realm_id {realm_id} to the tap's config.")
    return 0


def run_webhooks(argv: list[str]) -> int:
    """Receive Intuit's signed webhooks into the journal webhook-mode syncs read (serve)."""
    from tap_quickbooks_online.webhooks.receiver import serve

    parser = argparse.ArgumentParser(prog="tap-quickbooks-online webhooks",
                                     description="Receive Intuit webhooks into the journal the tap drains.")
    parser.add_argument("action", choices=["serve"])
    parser.add_argument("--config", action="append", default=[], help="Config file (repeatable) or ENV.")
    parser.add_argument("--host")
    parser.add_argument("--port", type=int)
    args = parser.parse_args(argv)
    tap = _load_tap(args.config)
    verifier = tap.settings.webhook_verifier_token
    if not verifier:
        raise QBOError("webhook_verifier_token is not set, so intuit-signature cannot be verified. Fix: "
                       "meltano config tap-quickbooks-online set webhook_verifier_token ... (the "
                       "subscription's Verifier Token on the Intuit developer portal)")
    serve(
        host=args.host or tap.settings.webhook_host,
        port=args.port if args.port is not None else tap.settings.webhook_port,
        verifier_token=verifier,
        journal_path=tap.settings.webhook_journal_path,
    )
    return 0


def run_check(argv: list[str]) -> int:
    """Prove the settings reach Intuit and each company, without moving data (one line each)."""
    args = check_parser(PROG).parse_args(argv)
    tap = _load_tap([str(p) for p in args.config])
    return run_checks(PROG, build_checks(tap), secrets=secret_values(dict(tap.config), tap.config_jsonschema))


COMMANDS = {"auth": run_auth, "webhooks": run_webhooks, "check": run_check}


def credentials_gate(args: list[str]) -> None:
    """``--test=schema`` writes schemas without connecting, so it passed with any secret: every
    ``--test`` first proves the app's credentials at the token endpoint (no token is spent)."""
    if not any(a == "--test" or a.startswith("--test=") for a in args):
        return
    config_args = [args[i + 1] for i, a in enumerate(args[:-1]) if a == "--config"]
    config_args += [a.split("=", 1)[1] for a in args if a.startswith("--config=")]
    tap = _load_tap(config_args)
    if tap.settings.client_id and tap.settings.client_secret:
        aspect = token_endpoint_aspect(tap)
        if not aspect.ok:
            raise SystemicFailure(aspect.problem or aspect.name, aspect.fix)


def fail(message: str) -> int:
    return plugin_cli.fail(PROG, message)


def main(argv: t.Sequence[str] | None = None) -> t.Any:
    args = list(sys.argv[1:] if argv is None else argv)
    quiet_config_parsing(PROG)
    try:
        if args in (["--help"], ["-h"]):
            return sys.exit(show_help(PROG, TapQuickBooksOnline, COMMANDS))
        if args and args[0] in COMMANDS:
            logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
            return sys.exit(COMMANDS[args[0]](args[1:]))
        credentials_gate(args)
        watch_parent()  # a Singer run ends with its parent (meltano); auth, webhooks serve and check do not
        return TapQuickBooksOnline.cli(args=args)
    except ConfigValidationError as exc:
        details = "; ".join(str(e) for e in (exc.errors or [])) or str(exc)
        return sys.exit(fail(f"the configuration is not valid: {details}. Fix: set these settings "
                             f"(meltano config {PROG} set ...) and run again"))
    except QBOError as exc:
        return sys.exit(fail(with_fix(exc)))
    except SystemicFailure as exc:
        return sys.exit(fail(str(exc)))
    except Exception as exc:
        # A bug, not a setup problem: its traceback helps whoever reports it, and the last line still says what to do.
        logging.getLogger(PROG).exception("unexpected error")
        return sys.exit(fail(f"unexpected {type(exc).__name__}: {exc}. Fix: run again; if it persists, report it with the traceback above"))
