"""One faulted pass: a run with the fault armed (it completes, or fails naming the cause), changes
in QuickBooks, then a recovery run with nothing done by hand (no re-authorising, no replay, no
state edits), and the reconciliation."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import kills, pipeline
from .destinations import Destination
from .reconcile import Reconciliation, reconcile

_ERROR = re.compile(r"\[error\s*\]\s+(?P<plugin>(tap|target)-[\w-]+)\s+(?P<text>.*)")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def plugin_error(output: str) -> str:
    """The last error a plugin logged (Meltano's own last lines only say which side failed)."""
    found = ""
    for line in _ANSI.sub("", output).splitlines():
        match = _ERROR.search(line)
        if match:
            found = f"{match['plugin']}: {match['text'].split(' plugin_exc_message=')[0].strip()}"
    return found


@dataclass
class FaultedPass:
    scenario: str
    pair: str
    faulted_run_ok: bool = False
    faulted_run_error: str = ""
    recovery_runs: int = 0
    recovery_failures: list[str] = field(default_factory=list)
    reconciliation: Reconciliation | None = None
    notes: dict[str, Any] = field(default_factory=dict)

    def figures(self) -> dict[str, Any]:
        rec = self.reconciliation
        return {"pair": self.pair, "faulted_run": "completed" if self.faulted_run_ok else "failed",
                "error": self.faulted_run_error, "recovery_runs": self.recovery_runs,
                "recovery_failures": self.recovery_failures,
                "result": rec.summary() if rec else "not reconciled", "ok": bool(rec and rec.ok), **self.notes}


def faulted_pass(scenario: str, source: Any, destination: Destination, work: Path, *, seed: int,
                 arm: Callable[[], None], extra_env: dict[str, str] | None = None, recovery_runs: int = 1,
                 load_first: bool = False, kill_within: float = 0.0,
                 disarm: Callable[[], None] | None = None) -> FaultedPass:
    """The fault is armed for the first (full) load, the longest run, unless ``load_first``: then a
    clean full load and the source changes come first (a fault that needs changes to act on, such
    as webhook deliveries). Changes are made before the recovery runs either way. ``kill_within``:
    the faulted run's target is also SIGKILLed at a seeded moment within that many seconds.
    ``disarm``: the service comes back after the faulted run (faults left unconsumed are dropped)."""
    env = {**pipeline.scenario_env(work), **source.env, **destination.env, **(extra_env or {})}
    result = FaultedPass(scenario, f"{source.tap} {destination.target} ({destination.name})")
    logs = work / "logs"
    logs.mkdir(exist_ok=True)
    changes = random.Random(seed)
    if load_first:
        with source.session():
            first = pipeline.run(env, source.tap, destination.target, logs / "baseline.log")
        assert first.returncode == 0, f"the full load before the fault failed: {plugin_error(first.output) or first.last_line}"
        source.change(changes, 15)
    arm()
    with source.session():
        if kill_within:
            outcome = kills.run_with_kill(env, source.tap, destination.target, logs / "faulted.log",
                                          random.Random(seed), max_delay=kill_within, victims=("target",))
            result.notes["target_killed"] = outcome.killed
            faulted = pipeline.Finished(outcome.returncode, (logs / "faulted.log").read_text(errors="replace"))
        else:
            faulted = pipeline.run(env, source.tap, destination.target, logs / "faulted.log")
    result.faulted_run_ok = faulted.returncode == 0
    killed = "the target was SIGKILLed" if result.notes.get("target_killed") else ""
    result.faulted_run_error = "" if result.faulted_run_ok else plugin_error(faulted.output) or killed or faulted.last_line
    if disarm:
        disarm()
    if not load_first:
        source.change(changes, 15)
    for n in range(recovery_runs):
        with source.session():
            finished = pipeline.run(env, source.tap, destination.target, logs / f"recovery-{n}.log")
        result.recovery_runs += 1
        if finished.returncode != 0:
            result.recovery_failures.append(plugin_error(finished.output) or finished.last_line)
        leaked = pipeline.leaked_secrets(env, finished.output + faulted.output)
        if leaked:
            result.recovery_failures.append(f"secrets in the log: {leaked}")
    result.reconciliation = reconcile(
        source.book(destination.streams, subtotal_lines=destination.name != "salesforce"),
        destination.book(source.edition, source.company), destination.streams,
        trial_balance=destination.trial_balance)
    return result
