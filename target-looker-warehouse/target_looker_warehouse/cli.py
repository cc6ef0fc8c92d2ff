"""Console entry point: ``replay`` (the kit's, as every target's), ``lookml``, ``check``
(checks.py), and every SDK command, each failure ending on one line that names the cause and the fix.

``target-looker-warehouse lookml --config config.json`` regenerates the LookML project from the
warehouse as it is.
"""

from __future__ import annotations

import argparse
import json
import pathlib

from qbc_plugin_kit import plugin_cli
from qbc_plugin_kit.checks import check_command

from target_looker_warehouse.checks import build_checks
from target_looker_warehouse.config import RENAMED_SETTINGS, SETTINGS_SCHEMA
from target_looker_warehouse.target import TargetLookerWarehouse

PROG = "target-looker-warehouse"


def lookml(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog=f"{PROG} lookml",
                                     description="Regenerate the LookML project from the warehouse as it is.")
    parser.add_argument("--config", type=pathlib.Path, action="append", default=[],
                        help="config JSON file (repeatable; later files win); settings also come from "
                             "the environment variables Meltano sets")
    options = parser.parse_args(argv)
    from target_looker_warehouse.after_load import regenerate_lookml

    target = TargetLookerWarehouse(config=plugin_cli.load_config(options.config), parse_env_config=True,
                                   validate_config=True)
    print(json.dumps(regenerate_lookml(dict(target.config))))
    return 0


def main(argv: list[str] | None = None) -> None:
    check = check_command(PROG, SETTINGS_SCHEMA, build_checks, RENAMED_SETTINGS)
    plugin_cli.main(argv, PROG, TargetLookerWarehouse, commands={"lookml": lookml, "check": check})
