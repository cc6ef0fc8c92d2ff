"""Dagster project: one partition per QuickBooks company, each a Meltano job of its own."""
