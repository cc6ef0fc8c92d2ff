"""One company's Meltano job: the thin op body around `meltano run`."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from .fleet import Fleet, Source

# Meltano's run log is long; the end of it names what failed.
_TAIL_CHARS = 4000


class MeltanoRunFailed(RuntimeError):
    pass


@dataclass(frozen=True)
class RunOutcome:
    state_id: str
    seconds: float


def meltano_executable() -> str:
    configured = os.environ.get("QBC_MELTANO")
    if configured:
        return configured
    found = shutil.which("meltano")
    if not found:
        raise MeltanoRunFailed("meltano is not on PATH: install it (pip install meltano) or set QBC_MELTANO "
                               "to its path")
    return found


def command(fleet: Fleet, source: Source, company: str) -> list[str]:
    return [meltano_executable(), "--environment", fleet.environment, "run",
            "--state-id-suffix", company, source.extractor, source.loader]


def state_id(fleet: Fleet, source: Source, company: str) -> str:
    """The id Meltano keeps this company's state under (its documented pattern)."""
    return f"{fleet.environment}:{source.extractor}-to-{source.loader}:{company}"


def run_company(fleet: Fleet, source: Source, company: str, log: logging.Logger,
                timeout_seconds: float = 6 * 3600) -> RunOutcome:
    """Run one company's job; raise with the end of Meltano's log when it fails."""
    if company not in source.companies:
        raise MeltanoRunFailed(f"{company!r} is not a company of source {source.name!r}; add it to the fleet file")
    env = {**os.environ, **source.company_env(company)}
    started = time.monotonic()
    log.info("meltano run for %s company %s", source.name, company)
    result = subprocess.run(command(fleet, source, company), cwd=Path(fleet.meltano_project), env=env,
                            capture_output=True, text=True, timeout=timeout_seconds, check=False)
    seconds = time.monotonic() - started
    if result.returncode != 0:
        tail = (result.stdout + result.stderr)[-_TAIL_CHARS:]
        raise MeltanoRunFailed(
            f"meltano run for {source.name} company {company} exited {result.returncode} after "
            f"{seconds:.0f}s:\n{tail}\nSee the lines above for the cause; the partition is retried by its "
            "retry policy, or re-run it from the Dagster UI once fixed."
        )
    return RunOutcome(state_id(fleet, source, company), seconds)
