"""SIGKILL of meltano, the tap or the target at a seeded moment of a ``meltano run``."""

from __future__ import annotations

import os
import random
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from . import pipeline

VICTIMS = ("meltano", "tap", "target")
# How long a plugin may outlive a killed meltano: the parent watch polls every 0.5 s and gives a
# SIGTERM'd plugin 5 s before SIGKILL; anything left after this is an orphan that races a restart.
ORPHAN_BOUND_SECONDS = 30.0


@dataclass
class KillOutcome:
    victim: str
    delay: float
    killed: bool  # False: the run ended before the moment came (nothing was killed)
    returncode: int
    orphans_left: int = 0  # plugins still alive ORPHAN_BOUND_SECONDS after meltano died
    orphan_seconds: float = 0.0  # how long the last plugin outlived meltano
    tap_finished: bool = False  # the tap had ended when the target was killed: it was committing its last batches, its state not yet out


def run_with_kill(env: dict[str, str], tap: str, target: str, log: Path, rng: random.Random,
                  *, max_delay: float, victims: tuple[str, ...] = VICTIMS, force: bool = False) -> KillOutcome:
    victim = rng.choice(victims)
    delay = rng.uniform(0.5, max_delay)
    log.write_bytes(b"")
    process = pipeline.start(env, tap, target, log, force=force)
    deadline = time.monotonic() + delay
    while time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    # A plugin not started yet at the moment (Meltano still discovering) is killed once it runs.
    pid = _victim_pid(process.pid, victim, tap, target)
    while pid is None and process.poll() is None:
        time.sleep(0.05)
        pid = _victim_pid(process.pid, victim, tap, target)
    if process.poll() is not None or pid is None:
        finished = pipeline.finish(process, log)
        return KillOutcome(victim, delay, False, finished.returncode)
    tap_finished = victim == "target" and _victim_pid(process.pid, "tap", tap, target) is None
    os.kill(pid, signal.SIGKILL)
    if victim != "meltano":
        return KillOutcome(victim, delay, True, pipeline.finish(process, log).returncode, tap_finished=tap_finished)
    returncode = process.wait()
    died = time.monotonic()
    plugins = pipeline.group_members(process.pid)
    left = pipeline.wait_gone(plugins, ORPHAN_BOUND_SECONDS)
    outlived = time.monotonic() - died
    pipeline.kill_group(process.pid)  # whatever is left must not race the next run
    return KillOutcome(victim, delay, True, returncode, orphans_left=len(left),
                       orphan_seconds=outlived if plugins else 0.0)


def _victim_pid(meltano_pid: int, victim: str, tap: str, target: str) -> int | None:
    if victim == "meltano":
        return meltano_pid
    return pipeline.plugin_pid(meltano_pid, tap if victim == "tap" else target)
