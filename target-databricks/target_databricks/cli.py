"""Console script: the plugin kit's ``target-databricks replay`` plus every SDK command, each
ending on one line that names the cause and the fix when it fails."""

from __future__ import annotations

from qbc_plugin_kit import plugin_cli

from target_databricks.target import TargetDatabricks


def main(argv: list[str] | None = None) -> None:
    plugin_cli.main(argv, "target-databricks", TargetDatabricks)
