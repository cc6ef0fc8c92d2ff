"""`bash scripts/sandboxes up`, then `meltano --environment=dev run ...` by hand, then `down`.

Run on a copy of the project (meltano.yml, the lock files, the installed plugins), so the
repository's own `.env` and `.meltano/` are not touched.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml

from .conftest import ROOT

SCRIPT = ROOT / "scripts" / "dev_sandboxes.py"


def _meltano() -> str:
    return os.environ.get("QBC_MELTANO") or str(ROOT / ".venv-meltano" / "bin" / "meltano")


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _dev_port(url: str) -> int:
    match = re.search(r":(\d+)", url)
    assert match, url
    return int(match.group(1))


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    copy = tmp_path / "project"
    copy.mkdir()
    shutil.copy(ROOT / "meltano.yml", copy / "meltano.yml")
    shutil.copytree(ROOT / "plugins", copy / "plugins")
    installed = ROOT / ".meltano"
    for kind in ("extractors", "loaders"):
        if not (installed / kind / "tap-quickbooks-online").exists() and kind == "extractors":
            pytest.fail("the plugins are not installed: run `meltano install` (scripts/test does) first")
        (copy / ".meltano").mkdir(exist_ok=True)
        (copy / ".meltano" / kind).symlink_to(installed / kind)
    (copy / ".env").write_text("MY_OWN_SETTING=kept\n")
    return copy


def _sandboxes(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args, "--project", str(project)],
                          capture_output=True, text=True, timeout=600, check=False)


@pytest.mark.e2e
def test_sandboxes_up_makes_the_dev_environment_run_by_hand_quietly_and_down_stops_them(project: Path) -> None:
    dev = next(e for e in yaml.safe_load((project / "meltano.yml").read_text())["environments"] if e["name"] == "dev")
    qbo_dev = next(p for p in dev["config"]["plugins"]["extractors"] if p["name"] == "tap-quickbooks-online")
    qbo_port = _dev_port(qbo_dev["config"]["base_url"])

    up = _sandboxes(project, "up", "--only", "qbo", "--transactions", "60")
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        assert f"127.0.0.1:{qbo_port}" in up.stdout  # on the port the dev environment names
        assert "bash scripts/sandboxes down" in up.stdout  # and says how to stop it
        assert _listening(qbo_port)
        dotenv = (project / ".env").read_text()
        assert "MY_OWN_SETTING=kept" in dotenv and "SANDBOX_QBO_REFRESH_TOKEN=" in dotenv
        assert (project / ".env").stat().st_mode & 0o077 == 0

        env = {k: v for k, v in os.environ.items() if not k.startswith(("TAP_", "TARGET_", "MELTANO_", "QBO_"))}
        env["MELTANO_SEND_ANONYMOUS_USAGE_STATS"] = "false"
        run = subprocess.run([_meltano(), "--environment=dev", "run", "tap-quickbooks-online", "target-looker-warehouse"],
                             cwd=project, env=env, capture_output=True, text=True, timeout=1200, check=False)
        log = run.stdout + run.stderr
        assert run.returncode == 0, log[-4000:]
        # Meltano's own first-run notice ("No state was found, complete import.") is the only warning.
        warnings = [line for line in log.splitlines() if re.search(r"\[warning\s*\]|WARNING", line)
                    and "No state was found" not in line]
        assert warnings == []
        errors = [line for line in log.splitlines() if re.search(r"\[error\s*\]|ERROR", line)]
        assert errors == []
        # The tap: one summary line per stream, no METRIC lines (the targets' own are theirs to quiet).
        assert re.search(r"tap-quickbooks-online\s+stream invoices: \d+ records in [\d.]+ s", log)
        assert not [line for line in log.splitlines() if "tap-quickbooks-online" in line and "METRIC" in line]
        warehouse = project / ".meltano" / "warehouse" / "warehouse.duckdb"
        con = duckdb.connect(str(warehouse), read_only=True)
        try:
            tables = {row[0] for row in con.execute("select table_name from information_schema.tables").fetchall()}
        finally:
            con.close()
        assert "invoices" in tables
    finally:
        down = _sandboxes(project, "down")
    assert down.returncode == 0, down.stdout + down.stderr
    assert not _listening(qbo_port)
    assert (project / ".env").read_text() == "MY_OWN_SETTING=kept\n"
