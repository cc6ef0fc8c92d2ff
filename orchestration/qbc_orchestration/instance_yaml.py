"""Print the Dagster instance settings (dagster.yaml) whose run queue enforces each source's limit.

    python -m qbc_orchestration.instance_yaml > "$DAGSTER_HOME/dagster.yaml"

The limits come from the fleet file, so the number lives in one place.
"""

from __future__ import annotations

import sys

import yaml

from .definitions import SOURCE_TAG
from .fleet import Fleet, load_fleet


def instance_settings(fleet: Fleet) -> dict[str, object]:
    return {
        # Dagster's run queue (the default coordinator of `dagster dev` and the daemon) holds
        # a source's runs past its limit until one of them ends.
        "concurrency": {
            "runs": {
                "max_concurrent_runs": sum(s.max_concurrent for s in fleet.sources),
                "tag_concurrency_limits": [
                    {"key": SOURCE_TAG, "value": source.name, "limit": source.max_concurrent}
                    for source in fleet.sources
                ],
            },
        },
        # A run the queue could not hand to its code server (busy, restarting) is tried again
        # instead of failing unstarted; a run whose worker died is re-run. Failures inside the
        # Meltano job are the op's retry policy's (definitions.py), not retried twice.
        "run_queue": {"max_user_code_failure_retries": 3, "user_code_failure_retry_delay": 30},
        "run_retries": {"enabled": True, "max_retries": 2, "retry_on_asset_or_op_failure": False},
        "telemetry": {"enabled": False},
    }


def main() -> None:
    yaml.safe_dump(instance_settings(load_fleet()), sys.stdout, sort_keys=False)


if __name__ == "__main__":
    main()
