"""``python -m sandboxes.powerbi``: serve the Power BI sandbox until interrupted.

Prints one JSON line with the target settings (``target_config``) so a dev environment (or
``meltano.yml``'s ``dev`` environment through env vars) can point target-powerbi at it.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import sys
import threading
from pathlib import Path

from sandboxes.powerbi.server import PowerBISandbox


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandboxes.powerbi", description=__doc__)
    parser.add_argument("--workdir", type=Path, help="where the TLS files go (default: a temp dir)")
    parser.add_argument("--config-out", type=Path, help="also write the target settings JSON here")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--ca-out", type=Path, help="also copy the sandbox CA certificate (PEM) here")
    parser.add_argument("--client-id", help="client id the sandbox accepts (default: a fixed test value)")
    parser.add_argument("--client-secret", help="client secret the sandbox accepts (default: a fixed test value)")
    parser.add_argument("--tenant-id", help="Azure AD tenant the sandbox serves")
    parser.add_argument("--workspace-id", help="Power BI workspace (group) id the sandbox serves")
    args = parser.parse_args(argv)
    names = ("client_id", "client_secret", "tenant_id", "workspace_id")
    identity = {name: getattr(args, name) for name in names if getattr(args, name)}
    sandbox = PowerBISandbox(workdir=args.workdir, **identity).start(args.port)
    if args.ca_out:
        args.ca_out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(sandbox.ca_file, args.ca_out)
    config = sandbox.target_config()
    text = json.dumps(config)
    if args.config_out:
        args.config_out.write_text(text + "\n", encoding="utf-8")
    print(text, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
