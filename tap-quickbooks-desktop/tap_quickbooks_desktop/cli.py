"""Console entry point: `serve`, `qwc` and `check` here, everything else to the SDK CLI; every
failure ends on one line naming the cause and the fix."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from qbc_plugin_kit.checks import check_parser, run_checks, secret_values
from qbc_plugin_kit.failures import SystemicFailure
from qbc_plugin_kit.parent_watch import watch_parent
from qbc_plugin_kit.plugin_cli import load_config, show_help
from qbc_plugin_kit.quiet_logs import quiet_config_parsing
from singer_sdk.exceptions import ConfigValidationError

from .config import ConfigError, server_config
from .quiet_warnings import silence_library_warnings
from .qwc import render_qwc

PROG = "tap-quickbooks-desktop"


def _load_settings(config_args: list[str], *, validate: bool = True) -> dict:
    from .tap import TapQuickBooksDesktop

    # No --config: read settings from TAP_QUICKBOOKS_DESKTOP_* variables, which is how
    # `meltano invoke tap-quickbooks-desktop:serve` hands them over.
    config_args = config_args or ["ENV"]
    merged = load_config([Path(c) for c in config_args if c != "ENV"])
    # The SDK applies defaults, validates, and with ENV reads TAP_QUICKBOOKS_DESKTOP_* variables.
    tap = TapQuickBooksDesktop(
        config=merged, parse_env_config="ENV" in config_args, validate_config=validate,
        setup_mapper=False,
    )
    return dict(tap.config)


def _parser(command: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"tap-quickbooks-desktop {command}")
    parser.add_argument("--config", action="append", default=[],
                        help="Settings JSON file (repeatable) or ENV for TAP_QUICKBOOKS_DESKTOP_* "
                        "environment variables (the default when no --config is given).")
    return parser


def serve(argv: list[str]) -> int:
    """Run the Web Connector's SOAP server, long-lived (QBWC calls it on its schedule)."""
    parser = _parser("serve")
    parser.add_argument("--port", type=int, help="Override the port setting.")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    from .server import QbwcServer

    settings = _load_settings(args.config)
    if args.port is not None:
        settings["port"] = args.port
    try:
        config = server_config(settings)
    except ConfigError as exc:
        raise SystemicFailure(str(exc), "set it with meltano config tap-quickbooks-desktop set ...") from exc
    QbwcServer(config).serve_forever()
    return 0


def write_qwc(argv: list[str]) -> int:
    """Write each company's .qwc file, to load into the QuickBooks Web Connector."""
    parser = _parser("qwc")
    parser.add_argument("--output", default=".", help="Directory for <company>.qwc files, or - for stdout.")
    parser.add_argument("--run-every-minutes", type=int, default=15)
    args = parser.parse_args(argv)
    try:
        config = server_config(_load_settings(args.config))
    except ConfigError as exc:
        raise SystemicFailure(str(exc), "set it with meltano config tap-quickbooks-desktop set ...") from exc
    for company in config.companies:
        document = render_qwc(config, company, run_every_n_minutes=args.run_every_minutes)
        if args.output == "-":
            sys.stdout.write(document)
            continue
        path = Path(args.output) / f"{company.company}.qwc"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(document, encoding="utf-8")
        print(path)
    return 0


def check(argv: list[str]) -> int:
    """Prove the .qwc, certificate, buffer and server fit, and report the Web Connector's last calls."""
    from .checks import build_checks
    from .tap import TapQuickBooksDesktop

    parser = check_parser(PROG)
    parser.add_argument("--qwc", type=Path, action="append", default=[],
                        help="the .qwc file loaded into the Web Connector (default: ./<company>.qwc)")
    args = parser.parse_args(argv)
    settings = _load_settings([str(p) for p in args.config], validate=False)
    schema = TapQuickBooksDesktop.config_jsonschema
    return run_checks(PROG, build_checks(settings, schema, args.qwc), secrets=secret_values(settings, schema))


COMMANDS = {"serve": serve, "qwc": write_qwc, "check": check}


def fail(message: str) -> int:
    logging.getLogger(PROG).debug("failure", exc_info=True)
    print(f"{PROG}: {message}", file=sys.stderr)
    return 1


def main(argv: list[str] | None = None) -> None:
    silence_library_warnings()
    quiet_config_parsing(PROG)
    args = sys.argv[1:] if argv is None else list(argv)
    from .tap import TapQuickBooksDesktop

    try:
        if args in (["--help"], ["-h"]):
            sys.exit(show_help(PROG, TapQuickBooksDesktop, COMMANDS))
        if args and args[0] in COMMANDS:
            sys.exit(COMMANDS[args[0]](args[1:]))
        watch_parent()  # a Singer run ends with its parent (meltano); serve, qwc and check do not
        TapQuickBooksDesktop.cli(args=args)
    except ConfigValidationError as exc:
        details = "; ".join(str(e) for e in (exc.errors or [])) or str(exc)
        sys.exit(fail(f"the configuration is not valid: {details}. Fix: set these settings "
                      f"(meltano config {PROG} set ...) and run again"))
    except SystemicFailure as exc:
        sys.exit(fail(str(exc)))
    except ConfigError as exc:
        sys.exit(fail(f"{exc}. Fix: set it with meltano config {PROG} set ..."))
    except Exception as exc:
        # A bug, not a setup problem: its traceback helps whoever reports it, and the last line still says what to do.
        logging.getLogger(PROG).exception("unexpected error")
        sys.exit(fail(f"unexpected {type(exc).__name__}: {exc}. Fix: run again; if it persists, report it with the traceback above"))
