"""Two tap processes sharing one token store refresh at the same moment (Intuit rotates the refresh
token: the first refresh kills the token the second one sends). Both runs must succeed, or the loser
must find the winner's token in the store: never ask the user to re-authorise while the store holds
a valid token."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from . import results
from .conftest import SEED
from .sources import open_source

pytestmark = pytest.mark.e2e

PREFIX = "TAP_QUICKBOOKS_ONLINE_"


def _config(env: dict[str, str], path: Path) -> Path:
    config = {key[len(PREFIX):].lower(): value for key, value in env.items() if key.startswith(PREFIX)}
    config["start_date"] = "2025-01-01T00:00:00Z"
    config["token_store_key_env"] = "QBO_TOKEN_STORE_KEY"
    path.write_text(json.dumps(config))
    return path


def _tap(config: Path, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    executable = str(Path(sys.executable).parent / "tap-quickbooks-online")
    return subprocess.Popen([executable, "--config", str(config)], env=env, stdout=subprocess.DEVNULL,
                            stderr=log.open("wb"))


def test_two_processes_refreshing_at_once_both_keep_a_valid_token(tmp_path: Path) -> None:
    with open_source("qbo", tmp_path, 40, SEED) as source:
        env = {**os.environ, **source.env}
        config = _config(source.env, tmp_path / "config.json")
        first = _tap(config, env, tmp_path / "first.log")
        assert first.wait(timeout=600) == 0, (tmp_path / "first.log").read_text()[-2000:]
        # Both runs start with an expired access token, so each refreshes at once with the
        # refresh token the store holds; the sandbox kills a refresh token as soon as it is used.
        source.sandbox.faults.expire_access_tokens()
        racers = [_tap(config, env, tmp_path / f"racer-{n}.log") for n in range(2)]
        codes = [racer.wait(timeout=600) for racer in racers]
        logs = [(tmp_path / f"racer-{n}.log").read_text() for n in range(2)]
        # Whatever the race did, the store must still work for the next run.
        after = _tap(config, env, tmp_path / "after.log")
        after_code = after.wait(timeout=600)
    results.record("fault", "qbo two processes refresh the same token at once", pair="tap-quickbooks-online (alone)",
                   faulted_run="completed" if codes == [0, 0] else "failed",
                   error=next((log.strip().splitlines()[-1] for log, code in zip(logs, codes, strict=True) if code),
                              ""),
                   recovery_runs=1, recovery_failures=[] if after_code == 0 else ["the next run failed"],
                   result=f"exit codes {codes}, next run {after_code}", ok=after_code == 0 and codes == [0, 0])
    assert after_code == 0, "the token store was left without a valid token"
    assert codes == [0, 0], "a run lost the refresh race: " + " / ".join(
        log.strip().splitlines()[-1] for log, code in zip(logs, codes, strict=True) if code)
