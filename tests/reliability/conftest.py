"""Settings of the reliability suite: the CI size by default, a long soak through the environment.

* ``QBC_SOAK_SEED`` (default 19): seed of every random choice; a failing seed replays the soak.
* ``QBC_SOAK_ITERATIONS`` (default 2): kill runs per soaked pair.
* ``QBC_SOAK_PAIRS`` (default ``qbo-duckdb,qbd-duckdb``): comma-separated pairs to soak; also
  ``qbo-postgres``, ``qbd-postgres`` (the fault matrix covers every pair in any case).
* ``QBC_SOAK_TRANSACTIONS`` (default 120): transactions in each generated company.
* ``QBC_SOAK_MAX_SECONDS`` (default 0: no bound): a soak starts no kill run after this long, then
  recovers and reconciles (bounds a long soak in time as well as in count).
* ``QBC_RELIABILITY_RESULTS``: JSON-lines file the scenarios append to (see results.py).
* ``QBC_MELTANO_INSTALLED=1``: the plugins are installed already; a long soak runs one process per
  pair after one ``meltano install``, so no process reinstalls them under another's runs.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from . import pipeline


def setting(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


SEED = setting("QBC_SOAK_SEED", 19)
ITERATIONS = setting("QBC_SOAK_ITERATIONS", 2)
TRANSACTIONS = setting("QBC_SOAK_TRANSACTIONS", 120)
MAX_SECONDS = setting("QBC_SOAK_MAX_SECONDS", 0)


@pytest.fixture(scope="session")
def meltano_installed(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The plugins installed into the project's .meltano, as an operator's `meltano install`."""
    if os.environ.get("QBC_MELTANO_INSTALLED") == "1":
        return
    work = tmp_path_factory.mktemp("meltano-install")
    env = {**pipeline.scenario_env(work)}
    del env["MELTANO_SYS_DIR_ROOT"]  # into the project's own .meltano, which every scenario shares
    completed = subprocess.run([pipeline.meltano_executable(), "--environment", "dev", "install"],
                               cwd=pipeline.ROOT, env=env, capture_output=True,
                               text=True, timeout=1800, check=False)
    assert completed.returncode == 0, (completed.stdout + completed.stderr)[-3000:]


@pytest.fixture
def work(tmp_path: Path) -> Path:
    return tmp_path
