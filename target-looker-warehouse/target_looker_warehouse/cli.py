"""Console entry point: own sub-commands (``replay``, ``lookml``), everything else to the SDK.

``target-looker-warehouse replay --config config.json`` re-sends dead-lettered batches;
``target-looker-warehouse lookml --config config.json`` regenerates the LookML project
from the warehouse as it is. Any other argument list (``--about``, ``--config``,
``--input``, ...) goes unchanged to the singer-sdk CLI.
"""

from __future__ import annotations

import argparse
import json
import logging
import pathlib
import sys
import typing as t

from qbc_plugin_kit.parent_watch import watch_parent
from singer_sdk.configuration._dict_config import parse_environment_config

from target_looker_warehouse.target import TargetLookerWarehouse

SUBCOMMANDS = ("replay", "lookml")


def _load_config(paths: t.Sequence[str]) -> dict[str, t.Any]:
    """Merge config files in order; ``ENV`` (or no --config, as under ``meltano invoke``)
    reads TARGET_LOOKER_WAREHOUSE_* variables, which is how Meltano passes settings."""
    config: dict[str, t.Any] = {}
    for path in paths or ["ENV"]:
        if path == "ENV":
            config.update(
                parse_environment_config(TargetLookerWarehouse.config_jsonschema, "TARGET_LOOKER_WAREHOUSE_")
            )
        else:
            config.update(json.loads(pathlib.Path(path).read_text(encoding="utf-8")))
    return config


def _parser(command: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"target-looker-warehouse {command}")
    parser.add_argument(
        "--config", action="append", default=[],
        help="JSON config file (repeatable, later wins) or ENV; default: ENV",
    )
    return parser


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in SUBCOMMANDS:
        options = _parser(args[0]).parse_args(args[1:])
        logging.basicConfig(level=logging.INFO, format="%(asctime)s | %(levelname)s | %(message)s")
        config = _load_config(options.config)
        if args[0] == "replay":
            from target_looker_warehouse.replay import replay_dead_letters

            result = replay_dead_letters(config)
            print(json.dumps(result))
            sys.exit(1 if result["failed"] else 0)
        from target_looker_warehouse.after_load import regenerate_lookml

        print(json.dumps(regenerate_lookml(config)))
        return
    watch_parent()  # an orphaned load must not race the restarted run (DuckDB's file lock)
    TargetLookerWarehouse.cli(args=args)
