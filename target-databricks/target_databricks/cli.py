"""Console script: the plugin kit's ``target-databricks replay``, ``check`` (checks.py), and
every SDK command, each ending on one line that names the cause and the fix when it fails."""

from __future__ import annotations

from qbc_plugin_kit import plugin_cli
from qbc_plugin_kit.checks import check_command

from target_databricks.checks import build_checks
from target_databricks.config import RENAMED_SETTINGS, SETTINGS_SCHEMA, TARGET_NAME
from target_databricks.target import TargetDatabricks


def main(argv: list[str] | None = None) -> None:
    plugin_cli.main(argv, TARGET_NAME, TargetDatabricks,
                    commands={"check": check_command(TARGET_NAME, SETTINGS_SCHEMA, build_checks, RENAMED_SETTINGS)})
