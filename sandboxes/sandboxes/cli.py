"""Shared pieces of the ``python -m sandboxes.<vendor>`` commands: serve until told to stop."""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from sandboxes.https_server import HttpsSandbox


class StopSignal:
    """SIGTERM (a supervisor, ``kill``) or SIGINT (Ctrl-C) asks the command to shut down.

    Create it before printing the settings: a caller that reads them and signals at once must
    get a clean shutdown, not the default SIGTERM action that skips ``finally`` blocks.
    """

    def __init__(self) -> None:
        self._event = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: self._event.set())

    def wait(self) -> None:
        """Block the main thread until a stop signal arrives."""
        # A timed wait returns to the interpreter regularly, so the handlers run promptly.
        while not self._event.wait(0.5):
            pass


def https_sandbox_parser(prog: str, description: str | None) -> argparse.ArgumentParser:
    """The options every TLS SaaS sandbox command takes; callers add their vendor's own."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--workdir", type=Path, help="where the TLS files go (default: a temp dir)")
    parser.add_argument("--config-out", type=Path, help="also write the target settings JSON here")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--ca-out", type=Path, help="also copy the sandbox CA certificate (PEM) here")
    parser.add_argument("--client-id", help="client id the sandbox accepts (default: a fixed test value)")
    parser.add_argument("--client-secret", help="client secret the sandbox accepts (default: a fixed test value)")
    return parser


def serve_https_sandbox(
    make_sandbox: Callable[..., HttpsSandbox], args: argparse.Namespace, identity: Sequence[str]
) -> int:
    """Start the sandbox, print its target settings as one JSON line, serve until signalled.

    ``identity`` names the options (``client_id``, ...) passed to ``make_sandbox`` when given,
    so an omitted one keeps the sandbox's fixed test default.
    """
    given = {name: getattr(args, name) for name in identity if getattr(args, name)}
    sandbox = make_sandbox(workdir=args.workdir, **given).start(args.port)
    try:
        stop = StopSignal()
        if args.ca_out:
            args.ca_out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(sandbox.ca_file, args.ca_out)
        text = json.dumps(sandbox.target_config())
        if args.config_out:
            args.config_out.write_text(text + "\n", encoding="utf-8")
        print(text, flush=True)
        stop.wait()
    finally:
        sandbox.stop()
    return 0
