"""Console entry point: the kit's ``replay``, ``check`` and every SDK command, failures on one last line."""

from __future__ import annotations

from qbc_plugin_kit import plugin_cli

from target_salesforce.checks import run_check
from target_salesforce.target import TargetSalesforce


def main(argv: list[str] | None = None) -> None:
    plugin_cli.main(argv, "target-salesforce", TargetSalesforce, commands={"check": run_check})
