"""The commented schedules at the end of meltano.yml work once uncommented (README: "Run on a
schedule"): each names a job of the project and an interval Meltano accepts."""

from __future__ import annotations

import re

import yaml

from .conftest import ROOT

PRESETS = {"@once", "@hourly", "@daily", "@weekly", "@monthly", "@yearly"}
CRON_FIELD = re.compile(r"^[\d*/,LW#-]+$")


def _uncommented() -> dict:
    text = (ROOT / "meltano.yml").read_text()
    # The YAML lines (the `schedules:` key and its entries) lose their "# "; prose stays a comment.
    lines = [line[2:] if line.startswith(("# schedules:", "# - ", "#   ")) else line for line in text.splitlines()]
    return yaml.safe_load("\n".join(lines))


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
