"""``python -m sandboxes.databricks``: run a local Databricks SQL warehouse until interrupted.

``--prepare`` only builds the cached engine jars (CI's install step) and exits.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
from pathlib import Path

from ..cli import StopSignal
from .engine_jars import EngineSetupError, default_cache_dir, prepare_jars
from .warehouse import LocalWarehouse


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandboxes.databricks", description=__doc__)
    parser.add_argument("--prepare", action="store_true", help="build the cached jars and exit")
    parser.add_argument("--cache-dir", type=Path, default=None, help=f"default {default_cache_dir()}")
    parser.add_argument("--catalog", default="main", help="name of the Iceberg catalog (default main)")
    parser.add_argument("--access-token", default=None, help="personal access token to accept")
    parser.add_argument("--json", action="store_true", help="print the settings as one JSON line")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--ca-out", type=Path, help="also copy the CA certificate (PEM) here")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING)

    try:
        if args.prepare:
            jars = prepare_jars(args.cache_dir)
            print(f"Iceberg runtime: {jars.iceberg_runtime}")
            print(f"relocated Jackson: {jars.shaded_jackson}")
            return 0
        warehouse = LocalWarehouse(
            catalog=args.catalog, cache_dir=args.cache_dir, access_token=args.access_token, port=args.port
        )
        warehouse.start()
    except EngineSetupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    stop = StopSignal()
    try:
        settings = warehouse.connection_settings()
        if args.ca_out:
            args.ca_out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(settings["ca_file"], args.ca_out)
        if args.json:
            print(json.dumps(settings), flush=True)
        else:
            print(
                f"Local Databricks SQL warehouse up in {warehouse.startup.total_s:.1f} s "
                f"(engine RSS {warehouse.rss_bytes() / 2**20:.0f} MiB). Ctrl-C stops it."
            )
            for key, value in settings.items():
                print(f"  {key:16} {value}")
            print(
                "  connector:       sql.connect(server_hostname=host, _port=int(port), http_path=..., "
                "access_token=..., _tls_trusted_ca_file=ca_file, use_inline_params=True)",
                flush=True,
            )
        stop.wait()
    finally:
        warehouse.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
