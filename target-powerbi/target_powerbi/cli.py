"""Console entry point: the kit's ``replay``, ``check`` and every SDK command, one-line failures."""

from __future__ import annotations

from qbc_plugin_kit import plugin_cli

from target_powerbi.checks import run_check
from target_powerbi.config import PROG
from target_powerbi.target import TargetPowerBI


def main(argv: list[str] | None = None) -> None:
    plugin_cli.main(argv, PROG, TargetPowerBI, commands={"check": run_check})
