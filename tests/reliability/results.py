"""Where each scenario writes what it did and found, for ``scripts/reliability_report.py``.

One JSON object per line in ``$QBC_RELIABILITY_RESULTS`` (default
``.meltano/reliability/results.jsonl``, git-ignored), appended, so a long soak and the CI matrix
can both feed one report.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

from .pipeline import ROOT


def results_path() -> Path:
    configured = os.environ.get("QBC_RELIABILITY_RESULTS")
    return Path(configured) if configured else ROOT / ".meltano" / "reliability" / "results.jsonl"


def record(kind: str, scenario: str, **figures: Any) -> None:
    path = results_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    entry = {"kind": kind, "scenario": scenario,
             "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), **figures}
    with path.open("a", encoding="utf-8") as out:
        out.write(json.dumps(entry, default=str) + "\n")
