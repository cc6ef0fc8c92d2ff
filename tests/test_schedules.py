"""The commented schedules at the end of meltano.yml work once uncommented (README: "Run on a
schedule"): each names a job of the project and an interval Meltano accepts."""

from __future__ import annotations

import json
import os
import pathlib
import re
import shutil
import subprocess

import pytest
import yaml

from .conftest import ROOT

MELTANO = pathlib.Path(os.environ.get("QBC_MELTANO") or ROOT / ".venv-meltano" / "bin" / "meltano")

PRESETS = {"@once", "@hourly", "@daily", "@weekly", "@monthly", "@yearly"}
CRON_FIELD = re.compile(r"^[\d*/,LW#-]+$")


def _uncommented_text() -> str:
    text = (ROOT / "meltano.yml").read_text()
    # The YAML lines (the `schedules:` key and its entries) lose their "# "; prose stays a comment.
    lines = [line[2:] if line.startswith(("# schedules:", "# - ", "#   ")) else line for line in text.splitlines()]
    return "\n".join(lines) + "\n"


def _uncommented() -> dict:
    return yaml.safe_load(_uncommented_text())


def test_uncommenting_the_schedules_gives_hourly_daily_and_month_end_runs_of_existing_jobs() -> None:
    project = _uncommented()
    jobs = {job["name"] for job in project["jobs"]}
    schedules = project["schedules"]
    assert {s["job"] for s in schedules} <= jobs
    assert {s["job"] for s in schedules} >= {"qbo-to-warehouse", "qbd-to-warehouse", "qbd-to-salesforce"}
    for schedule in schedules:
        interval = schedule["interval"]
        assert interval in PRESETS or (len(interval.split()) == 5
                                       and all(CRON_FIELD.match(f) for f in interval.split())), schedule
    intervals = {s["interval"] for s in schedules}
    assert "@hourly" in intervals and "@daily" in intervals
    assert any(i.split()[2:3] == ["1"] for i in intervals if not i.startswith("@")), "no month-end schedule"


def test_the_qbd_to_salesforce_job_runs_the_desktop_tap_into_salesforce() -> None:
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    (job,) = [j for j in project["jobs"] if j["name"] == "qbd-to-salesforce"]
    assert job["tasks"] == ["tap-quickbooks-desktop target-salesforce"]
    assert "schedules" not in project  # shipped commented: nothing runs until a user enables one


def test_meltano_lists_every_uncommented_schedule_with_its_job(tmp_path: pathlib.Path) -> None:
    if not MELTANO.exists():
        pytest.fail(f"meltano is not installed at {MELTANO}: run `bash -c 'source scripts/lib.sh; make_meltano_venv'` "
                    "or set QBC_MELTANO to a meltano executable")
    project = tmp_path / "project"
    project.mkdir()
    shutil.copytree(ROOT / "plugins", project / "plugins")
    (project / "meltano.yml").write_text(_uncommented_text())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MELTANO_", "TAP_", "TARGET_"))}
    env["MELTANO_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    result = subprocess.run([str(MELTANO), "schedule", "list", "--format=json"], cwd=project, env=env,
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    listed = {s["name"]: s for s in json.loads(result.stdout)["schedules"]["job"]}
    declared = _uncommented()["schedules"]
    assert set(listed) == {s["name"] for s in declared}
    for schedule in declared:
        shown = listed[schedule["name"]]
        assert shown["job"]["name"] == schedule["job"] and shown["job"]["tasks"], shown
        assert len(shown["cron_interval"].split()) == 5, shown
    assert listed["qbo-to-databricks-month-end"]["cron_interval"] == "0 2 1 * *"
