"""Print each company's latest sync run as JSON lines (what the Dagster UI shows per partition).

    DAGSTER_HOME=... python -m qbc_orchestration.company_status [source]

One line per run: source, company, status, start and end (epoch seconds), so a script or a
test can see which company is behind, failed or still queued without opening the UI.
"""

from __future__ import annotations

import json
import sys

from dagster import DagsterInstance, RunsFilter

from .definitions import SOURCE_TAG


def main(argv: list[str]) -> None:
    tags = {SOURCE_TAG: argv[0]} if argv else {}
    instance = DagsterInstance.get()
    for record in instance.get_run_records(filters=RunsFilter(tags=tags)):
        run = record.dagster_run
        if SOURCE_TAG not in run.tags:
            continue
        print(json.dumps({
            "source": run.tags[SOURCE_TAG],
            "company": run.tags.get("dagster/partition"),
            "status": run.status.value,
            "start": record.start_time,
            "end": record.end_time,
        }))


if __name__ == "__main__":
    main(sys.argv[1:])
