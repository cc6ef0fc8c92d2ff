"""`python -m sandboxes.qbo` starts a server and prints what a tap needs to reach it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from sandboxes.loopback_http import loopback_session


# A generated secret (secrets.token_urlsafe) starts with "-" about once in 64 runs; given on the
# command line, argparse took it for an option and the sandbox did not start (CI, stop 22).
@pytest.mark.parametrize("secret_args", [[], ["--client-secret-env", "QBO_SANDBOX_TEST_SECRET"]],
                         ids=["generated secret", "secret starting with a dash, from the environment"])
def test_cli_prints_credentials_and_serves(tmp_path, secret_args) -> None:
    env = {**os.environ, "QBO_SANDBOX_TEST_SECRET": "-x5Nq-dash-first"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "sandboxes.qbo", "--realm", "9130350000000001", "--transactions", "50",
         "--data-dir", str(tmp_path), *secret_args],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
    )
    try:
        assert proc.stdout is not None
        info = None
        for _ in range(20):
            line = proc.stdout.readline()
            if line.startswith("{"):
                info = json.loads(line)
                break
        assert info is not None
        if secret_args:
            assert info["client_secret"] == "-x5Nq-dash-first"
        s = loopback_session()
        token = s.post(info["token_url"], data={"grant_type": "refresh_token",
                                                "refresh_token": info["realms"]["9130350000000001"]["refresh_token"]},
                       auth=(info["client_id"], info["client_secret"]), timeout=10).json()
        response = s.get(f"{info['base_url']}/v3/company/9130350000000001/query",
                         params={"query": "select count(*) from Invoice", "minorversion": "75"},
                         headers={"Authorization": f"Bearer {token['access_token']}", "Accept": "application/json"},
                         timeout=10)
        assert response.json()["QueryResponse"]["totalCount"] > 0
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert proc.returncode == 0
