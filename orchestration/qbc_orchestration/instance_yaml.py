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
        "telemetry": {"enabled": False},
    }


def main() -> None:
    yaml.safe_dump(instance_settings(load_fleet()), sys.stdout, sort_keys=False)


if __name__ == "__main__":
    main()
