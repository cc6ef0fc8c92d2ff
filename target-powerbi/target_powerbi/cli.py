"""Console entry point: the kit's ``replay`` and every SDK command, one-line failures."""

from __future__ import annotations

from qbc_plugin_kit import plugin_cli

from target_powerbi.target import TargetPowerBI


def main(argv: list[str] | None = None) -> None:
    plugin_cli.main(argv, "target-powerbi", TargetPowerBI)
