"""The seeded kill soak through Meltano, reconciled to the cent (reduced size in CI; see conftest)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from . import results
from .conftest import ITERATIONS, MAX_SECONDS, SEED, TRANSACTIONS
from .destinations import open_destination
from .soak import soak
from .sources import open_source

pytestmark = pytest.mark.e2e

# The bulk of the kills go to the cheap destinations; Databricks, Power BI and Salesforce get their
# kills and faults in test_fault_matrix.py.
PAIRS = {f"{edition}-{destination}": (edition, destination)
         for edition in ("qbo", "qbd") for destination in ("duckdb", "postgres", "databricks", "powerbi", "salesforce")}
CI_PAIRS = ("qbo-duckdb", "qbd-duckdb")  # the default: the CI-size soak
SELECTED = [p.strip() for p in os.environ.get("QBC_SOAK_PAIRS", ",".join(CI_PAIRS)).split(",")
            if p.strip()]


@pytest.mark.parametrize("pair", SELECTED)
def test_killed_runs_then_clean_runs_reconcile_to_the_cent(pair: str, meltano_installed: None, tmp_path: Path) -> None:
    edition, destination_name = PAIRS[pair]
    with open_source(edition, tmp_path, TRANSACTIONS, SEED) as source, \
            open_destination(destination_name, tmp_path) as destination:
        report = soak(source, destination, tmp_path, seed=SEED, iterations=ITERATIONS, max_seconds=MAX_SECONDS)
    results.record("soak", pair, **report.figures())
    assert report.reconciliation is not None
    replay = f"replay with QBC_SOAK_SEED={SEED} QBC_SOAK_ITERATIONS={ITERATIONS} QBC_SOAK_PAIRS={pair}"
    assert not report.failed_clean_runs, f"runs after the kills failed ({replay}): {report.failed_clean_runs}"
    assert report.orphans_left == 0, f"{report.orphans_left} plugins outlived a killed meltano ({replay})"
    assert report.reconciliation.ok, f"{replay}\n{report.reconciliation.explain()}"
