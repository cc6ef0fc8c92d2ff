"""Console entry point: `serve` and `qwc` commands, everything else to the SDK CLI."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from qbc_plugin_kit.parent_watch import watch_parent

from .config import ConfigError, server_config
from .qwc import render_qwc


def _load_settings(config_args: list[str]) -> dict:
    from .tap import TapQuickBooksDesktop

    # No --config: read settings from TAP_QUICKBOOKS_DESKTOP_* variables, which is how
    # `meltano invoke tap-quickbooks-desktop:serve` hands them over.
    config_args = config_args or ["ENV"]
    merged: dict = {}
    for path in (c for c in config_args if c != "ENV"):
        merged.update(json.loads(Path(path).read_text(encoding="utf-8")))
    # The SDK applies defaults, validates, and with ENV reads TAP_QUICKBOOKS_DESKTOP_* variables.
    tap = TapQuickBooksDesktop(
        config=merged, parse_env_config="ENV" in config_args, validate_config=True,
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
        print(f"tap-quickbooks-desktop serve: {exc}", file=sys.stderr)
        return 2
    QbwcServer(config).serve_forever()
    return 0


def write_qwc(argv: list[str]) -> int:
    parser = _parser("qwc")
    parser.add_argument("--output", default=".", help="Directory for <company>.qwc files, or - for stdout.")
    parser.add_argument("--run-every-minutes", type=int, default=15)
    args = parser.parse_args(argv)
    try:
        config = server_config(_load_settings(args.config))
    except ConfigError as exc:
        print(f"tap-quickbooks-desktop qwc: {exc}", file=sys.stderr)
        return 2
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


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] == "serve":
        sys.exit(serve(args[1:]))
    if args and args[0] == "qwc":
        sys.exit(write_qwc(args[1:]))
    from .tap import TapQuickBooksDesktop

    watch_parent()  # a Singer run ends with its parent (meltano); serve does not
    TapQuickBooksDesktop.cli(args=args)
