"""What an operator meets after a killed ``meltano`` (docs/operations.md), and the plugins ending
with their parent so that a restart never races an orphan."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from . import kills, pipeline, results
from .conftest import SEED, TRANSACTIONS
from .destinations import open_destination
from .reconcile import reconcile
from .sources import open_source

pytestmark = pytest.mark.e2e

TAP, TARGET = "tap-quickbooks-online", "target-looker-warehouse"


def _wait_for_plugins(process: subprocess.Popen[bytes], seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.poll() is None:
        if pipeline.plugin_pid(process.pid, TAP) and pipeline.plugin_pid(process.pid, TARGET):
            return
        time.sleep(0.1)
    pytest.fail("meltano never started the tap and the target")


def test_after_a_killed_meltano_the_job_waits_for_force_and_the_forced_run_reconciles(
    meltano_installed: None, tmp_path: Path,
) -> None:
    with open_source("qbo", tmp_path, TRANSACTIONS, SEED) as source, \
            open_destination("duckdb", tmp_path) as destination:
        env = {**pipeline.scenario_env(tmp_path), **source.env, **destination.env}
        source.sandbox.faults.slow(2.0, n=5)  # keep the run going while it is killed
        source.change(random.Random(SEED), 10)
        log = tmp_path / "killed.log"
        process = pipeline.start(env, TAP, TARGET, log)
        _wait_for_plugins(process)
        plugins = pipeline.group_members(process.pid)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        left = pipeline.wait_gone([p for p in plugins if p != process.pid], kills.ORPHAN_BOUND_SECONDS)
        pipeline.kill_group(process.pid)
        assert not left, "the tap or the target kept running after meltano was killed"

        refused = pipeline.run(env, TAP, TARGET, tmp_path / "refused.log")
        assert refused.returncode != 0
        assert "is already running" in refused.output and "--force" in refused.output

        forced = pipeline.run(env, TAP, TARGET, tmp_path / "forced.log", force=True)
        assert forced.returncode == 0, forced.output[-3000:]
        # The killed run stays marked running after a forced run succeeds: --force again.
        still = pipeline.run(env, TAP, TARGET, tmp_path / "still-refused.log")
        assert still.returncode != 0 and "is already running" in still.output

        rec = reconcile(source.book(destination.streams), destination.book("qbo", source.company), destination.streams)
    results.record("operations", "killed meltano: stale-run block, --force", ok=rec.ok, result=rec.summary(),
                   refused_message=next(line for line in refused.output.splitlines() if "already running" in line)
                   .split("meltano", 1)[-1].strip()[:300],
                   blocked_again_after_forced_run=still.returncode != 0)
    assert rec.ok, rec.explain()


def test_two_forced_runs_at_once_then_the_next_forced_run_recovers_without_loss(
    meltano_installed: None, tmp_path: Path,
) -> None:
    """An operator and a scheduler both ``--force`` the job a killed meltano left marked running.
    The two runs share Meltano's run directory (the tap's catalog and state files) and the
    destination, so either may fail (docs/operations.md says never to do it); what must hold is
    that the next forced run, alone, ends green and the books reconcile to the cent."""
    with open_source("qbo", tmp_path, TRANSACTIONS, SEED) as source, \
            open_destination("duckdb", tmp_path) as destination:
        env = {**pipeline.scenario_env(tmp_path), **source.env, **destination.env}
        first = pipeline.run(env, TAP, TARGET, tmp_path / "first.log")
        assert first.returncode == 0, first.output[-3000:]
        rng = random.Random(SEED)
        source.change(rng, 10)
        process = pipeline.start(env, TAP, TARGET, tmp_path / "killed.log")
        _wait_for_plugins(process)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        pipeline.wait_gone(pipeline.group_members(process.pid), kills.ORPHAN_BOUND_SECONDS)
        pipeline.kill_group(process.pid)

        source.change(rng, 10)
        logs = [tmp_path / "forced-a.log", tmp_path / "forced-b.log"]
        for log in logs:
            log.write_bytes(b"")
        both = [pipeline.start(env, TAP, TARGET, log, force=True) for log in logs]
        concurrent = [pipeline.finish(run, log) for run, log in zip(both, logs, strict=True)]

        source.change(rng, 10)
        after = pipeline.run(env, TAP, TARGET, tmp_path / "after.log", force=True)
        assert after.returncode == 0, after.output[-3000:]
        rec = reconcile(source.book(destination.streams), destination.book("qbo", source.company), destination.streams)
    results.record("operations", "two --force runs at once after a killed meltano", ok=rec.ok, result=rec.summary(),
                   concurrent_exit_codes=[c.returncode for c in concurrent], next_forced_run=after.returncode)
    assert rec.ok, rec.explain()


# The parent: starts the plugin with the test's pipe as stdin (so no EOF ever comes), prints its
# pid, then waits to be killed.
PARENT = textwrap.dedent("""
    import subprocess, sys, time
    child = subprocess.Popen(sys.argv[1:], stdin=0)
    print(child.pid, flush=True)
    time.sleep(600)
""")


def _target_config(target: str, tmp_path: Path) -> dict[str, object]:
    if target == "target-looker-warehouse":
        return {"dialect": "duckdb", "duckdb_path": str(tmp_path / "w.duckdb"), "lookml_path": str(tmp_path / "lookml")}
    if target == "target-databricks":
        return {"server_hostname": "127.0.0.1:9", "http_path": "/sql/1.0/warehouses/x", "access_token": "x" * 12,
                "catalog": "main", "dead_letter_path": str(tmp_path / "dl")}
    if target == "target-powerbi":
        return {"tenant_id": "t", "client_id": "c", "client_secret": "s", "workspace_id": "w",
                "authority_host": "https://127.0.0.1:9", "api_url": "https://127.0.0.1:9/v1.0/myorg",
                "mirror_path": str(tmp_path / "m.sqlite"), "dead_letter_path": str(tmp_path / "dl")}
    return {"login_url": "https://127.0.0.1:9", "client_id": "c", "client_secret": "s",
            "dead_letter_path": str(tmp_path / "dl")}


# The control case (watch off: the orphan lives on) once, so the test is seen able to fail.
@pytest.mark.parametrize(("target", "watch"), [
    ("target-looker-warehouse", "on"), ("target-databricks", "on"), ("target-powerbi", "on"),
    ("target-salesforce", "on"), ("target-looker-warehouse", "off"),
])
def test_a_target_waiting_on_open_stdin_ends_when_its_parent_is_killed(target: str, watch: str, tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps(_target_config(target, tmp_path)))
    executable = str(Path(sys.executable).parent / target)
    read_end, write_end = os.pipe()
    env = {**os.environ, "QBC_PARENT_WATCH": "" if watch == "on" else "off"}
    log = tmp_path / "stderr.log"
    # The parent leads its own process group, as meltano started from a shell or a scheduler does.
    parent = subprocess.Popen([sys.executable, "-c", PARENT, executable, "--config", str(config)],
                              stdin=read_end, stdout=subprocess.PIPE, stderr=log.open("wb"), env=env, text=True,
                              start_new_session=True)
    os.close(read_end)
    child = 0
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        deadline = time.monotonic() + 120
        while not log.read_text(errors="replace").strip() and time.monotonic() < deadline:
            time.sleep(0.2)  # the target logs its banner once it runs, then waits for input
        assert pipeline.alive(child), f"{target} exited before its parent was killed: {log.read_text()[-2000:]}"
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        left = pipeline.wait_gone([child], kills.ORPHAN_BOUND_SECONDS if watch == "on" else 3)
        if watch == "on":
            assert not left, f"{target} kept running after its parent died (its stdin still open)"
        else:
            assert left, "with QBC_PARENT_WATCH=off the orphan should live on; the test proves nothing otherwise"
    finally:
        os.close(write_end)
        if child and pipeline.alive(child):
            os.kill(child, signal.SIGKILL)


@pytest.mark.parametrize("watch", ["on", "off"])
def test_the_tap_ends_mid_sync_when_its_parent_is_killed(watch: str, tmp_path: Path) -> None:
    """An orphaned tap would keep extracting (its stdout still open) and race the next run:
    QuickBooks answers slowly here, the parent is killed mid-sync, and the tap must be gone.
    The control case (watch off) shows the test able to fail."""
    with open_source("qbo", tmp_path, TRANSACTIONS, SEED) as source:
        source.sandbox.faults.slow(2.0, n=10_000)
        executable = str(Path(sys.executable).parent / TAP)
        env = {**os.environ, **source.env, "QBC_PARENT_WATCH": "" if watch == "on" else "off"}
        log = tmp_path / "stderr.log"
        parent = subprocess.Popen([sys.executable, "-c", PARENT, executable, "--config", "ENV"],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log.open("wb"), env=env,
                                  text=True, start_new_session=True)
        child = 0
        try:
            assert parent.stdout is not None
            child = int(parent.stdout.readline())
            deadline = time.monotonic() + 120
            while "by query sync" not in log.read_text(errors="replace") and time.monotonic() < deadline:
                time.sleep(0.2)
            assert pipeline.alive(child), f"the tap ended before its parent was killed: {log.read_text()[-2000:]}"
            parent.send_signal(signal.SIGKILL)
            parent.wait()
            left = pipeline.wait_gone([child], kills.ORPHAN_BOUND_SECONDS if watch == "on" else 3)
            if watch == "on":
                assert not left, "the tap kept extracting after its parent died"
            else:
                assert left, "with QBC_PARENT_WATCH=off the orphan should live on; the test proves nothing otherwise"
        finally:
            if child and pipeline.alive(child):
                os.kill(child, signal.SIGKILL)
