"""Every target on every destination it supports, fed the shared hostile `.singer` cases
(``cases/``), checked for what a user would notice: exit status, records set aside and shown by
``replay --list`` exactly as sent, what the destination holds, and that replaying a letter no
replay can fix changes nothing.

Databricks runs a representative subset (the engine is slow); ``QBC_DELIVERY_ALL_DATABRICKS=1``
runs every case there too; ``QBC_DELIVERY_DESTINATIONS=duckdb,powerbi`` runs only those.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .conftest import make_destination
from .expectations import case_names, load_case
from .harness import check_case

DESTINATIONS = ["duckdb", "postgres", "databricks", "powerbi", "salesforce"]
# Money, NaN/Infinity with the replay round trip, deletions across header and lines, the
# Desktop same-second ordering, and numbers past the column: what differs most between engines.
DATABRICKS_CASES = {"qb_money_exact", "qb_nan_infinity", "qb_header_deleted_with_lines",
                    "qb_desktop_edit_and_delete_same_second", "qb_huge_numbers"}


def _selected(case: str, destination: str) -> bool:
    only = os.environ.get("QBC_DELIVERY_DESTINATIONS")  # e.g. "duckdb,powerbi" while developing
    if only and destination not in only.split(","):
        return False
    if destination != "databricks" or os.environ.get("QBC_DELIVERY_ALL_DATABRICKS") == "1":
        return True
    return case in DATABRICKS_CASES


@pytest.mark.e2e
@pytest.mark.parametrize(("case", "destination"), [
    pytest.param(c, d, id=f"{c}-{d}") for c in case_names() for d in DESTINATIONS if _selected(c, d)])
def test_case_lands_as_expected(case: str, destination: str, request: pytest.FixtureRequest,
                                tmp_path: Path) -> None:
    expectation = load_case(case)
    gap = expectation.expectation.get("destinations", {}).get(destination, {}).get("known_gap")
    if gap:
        # Stated in the case file, and strict: the day the gap closes, this fails until removed.
        request.node.add_marker(pytest.mark.xfail(reason=gap, strict=True))
    problems = check_case(expectation, make_destination(destination, request, tmp_path), tmp_path)
    assert not problems, f"{case} on {destination}:\n- " + "\n- ".join(problems)
