"""The seeded kill soak: changes in QuickBooks between runs, SIGKILL of meltano, the tap or the
target at seeded moments, then runs to completion and a reconciliation to the cent.

One ``random.Random(seed)`` decides the changes, the victims and the moments, so a seed replays
the same soak (timing on a loaded machine moves where inside a run a moment falls, not which
moment is drawn). After a killed ``meltano`` the soak recovers as docs/operations.md tells an
operator: runs of the job go with ``--force`` until Meltano sees the killed run as stale.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import kills, pipeline
from .destinations import Destination
from .reconcile import Reconciliation, reconcile

# A killed meltano leaves its run marked running; Meltano refuses the job (without --force) until
# that run's heartbeat is 5 minutes old, and a successful --force run does not clear the mark.
STALE_AFTER_SECONDS = 5 * 60 + 30


@dataclass
class SoakReport:
    pair: str
    seed: int
    iterations: int
    iterations_done: int = 0
    runs: int = 0
    kills: Counter[str] = field(default_factory=Counter)
    kill_moments: Counter[str] = field(default_factory=Counter)
    runs_ended_before_kill: int = 0
    token_expiries: int = 0
    orphans_left: int = 0
    longest_orphan_seconds: float = 0.0
    forced_runs: int = 0  # runs started with --force (a killed meltano's run still marked running)
    failed_clean_runs: list[str] = field(default_factory=list)
    changes: Counter[str] = field(default_factory=Counter)
    reconciliation: Reconciliation | None = None
    seconds: float = 0.0

    def figures(self) -> dict[str, Any]:
        rec = self.reconciliation
        return {
            "pair": self.pair, "seed": self.seed, "iterations": self.iterations_done, "runs": self.runs,
            "kills": dict(self.kills), "kills_total": sum(self.kills.values()),
            "kill_moments": dict(self.kill_moments),
            "runs_ended_before_kill": self.runs_ended_before_kill, "token_expiries": self.token_expiries,
            "orphans_left": self.orphans_left, "longest_orphan_seconds": round(self.longest_orphan_seconds, 1),
            "forced_runs": self.forced_runs, "failed_clean_runs": self.failed_clean_runs,
            "changes": dict(self.changes), "changes_total": sum(self.changes.values()),
            "result": rec.summary() if rec else "not reconciled", "ok": bool(rec and rec.ok),
            "figures": rec.figures if rec else {}, "seconds": round(self.seconds),
        }


def soak(source: Any, destination: Destination, work: Path, *, seed: int, iterations: int,
         changes_per_iteration: tuple[int, int] = (3, 12), clean_run_chance: float = 0.25,
         max_seconds: float = 0) -> SoakReport:
    rng = random.Random(seed)
    report = SoakReport(f"{source.tap} {destination.target} ({destination.name})", seed, iterations)
    started = time.monotonic()
    env = {**pipeline.scenario_env(work), **source.env, **destination.env}
    logs = work / "logs"
    logs.mkdir(exist_ok=True)

    # A full load, then an incremental run, timed: kill moments are drawn inside an incremental
    # run's length (the full load is longer; moments drawn from it mostly miss the runs that follow).
    _clean_run(source, env, destination, logs / "baseline.log", report, force=False)
    source.change(rng, rng.randint(*changes_per_iteration))
    timed = time.monotonic()
    _clean_run(source, env, destination, logs / "incremental.log", report, force=False)
    run_seconds = max(3.0, time.monotonic() - timed)

    last_meltano_kill = -float(STALE_AFTER_SECONDS)
    for iteration in range(iterations):
        if max_seconds and time.monotonic() - started > max_seconds:
            break  # the time bound of a long soak: stop killing, recover and reconcile
        report.iterations_done += 1
        force = time.monotonic() - last_meltano_kill < STALE_AFTER_SECONDS
        n = rng.randint(*changes_per_iteration)
        source.change(rng, n)
        expiry = _maybe_expire_tokens(source, rng, run_seconds, report)
        sessions_before = len(getattr(source, "sessions", ()))
        with source.session():
            outcome = kills.run_with_kill(env, source.tap, destination.target, logs / f"kill-{iteration:03d}.log", rng,
                                          max_delay=run_seconds, force=force)
        report.forced_runs += force
        if expiry is not None:
            expiry[0].cancel()
        report.runs += 1
        if outcome.killed:
            report.kills[outcome.victim] += 1
            report.kill_moments[_moment(source, sessions_before, outcome, expiry)] += 1
            report.orphans_left += outcome.orphans_left
            report.longest_orphan_seconds = max(report.longest_orphan_seconds, outcome.orphan_seconds)
        else:
            report.runs_ended_before_kill += 1
            if outcome.returncode != 0:
                report.failed_clean_runs.append(f"kill-{iteration:03d}.log: ended before its kill moment, "
                                                f"exit {outcome.returncode}")
        if outcome.killed and outcome.victim == "meltano":
            last_meltano_kill = time.monotonic()
        force = time.monotonic() - last_meltano_kill < STALE_AFTER_SECONDS
        if rng.random() < clean_run_chance:
            _clean_run(source, env, destination, logs / f"clean-{iteration:03d}.log", report, force=force)

    # Recovery: runs to completion. One run must be enough; a second shows nothing was pending.
    force = time.monotonic() - last_meltano_kill < STALE_AFTER_SECONDS
    _clean_run(source, env, destination, logs / "final.log", report, force=force)
    _clean_run(source, env, destination, logs / "final-again.log", report, force=force)
    report.changes = source.log.counts
    report.reconciliation = reconcile(
        source.book(destination.streams, subtotal_lines=destination.name != "salesforce"),
        destination.book(source.edition, source.company), destination.streams,
        trial_balance=destination.trial_balance)
    report.seconds = time.monotonic() - started
    return report


def _clean_run(source: Any, env: dict[str, str], destination: Destination, log: Path, report: SoakReport,
               *, force: bool) -> None:
    with source.session():
        finished = pipeline.run(env, source.tap, destination.target, log, force=force)
    report.runs += 1
    report.forced_runs += force
    if finished.returncode != 0:
        report.failed_clean_runs.append(f"{log.name}: exit {finished.returncode}: {finished.last_line[-300:]}")
    leaked = pipeline.leaked_secrets(env, finished.output)
    if leaked:
        report.failed_clean_runs.append(f"{log.name}: secrets in the log: {leaked}")


def _moment(source: Any, sessions_before: int, outcome: kills.KillOutcome,
            expiry: tuple[threading.Timer, float] | None) -> str:
    """Where in the run a kill fell, as far as the harness can tell from outside."""
    if outcome.tap_finished:
        # Every record was sent: the target was committing its last batches and had not yet
        # emitted the state that covers them.
        return "target between its last commits and its state (the tap had ended)"
    sessions = getattr(source, "sessions", None)
    if sessions is not None:
        if len(sessions) == sessions_before:
            return "before the Web Connector session"
        completed = sessions[-1].outcome == "completed"
        return "during the drain (session done)" if completed else "inside a Web Connector session"
    if expiry is not None and 0 <= outcome.delay - expiry[1] <= 1.5:
        return "within 1.5 s after the access tokens expired (inside or around a refresh)"
    return "during a QBO sync"


def _maybe_expire_tokens(source: Any, rng: random.Random, run_seconds: float,
                         report: SoakReport) -> tuple[threading.Timer, float] | None:
    """Half the QBO kill runs get their access tokens expired at a random moment, so the tap
    refreshes (and rotates the refresh token) mid-run, and some kills land inside a refresh."""
    sandbox = getattr(source, "sandbox", None)
    if sandbox is None or rng.random() < 0.5:
        return None
    delay = rng.uniform(0.5, run_seconds)
    timer = threading.Timer(delay, sandbox.faults.expire_access_tokens)
    timer.daemon = True
    timer.start()
    report.token_expiries += 1
    return timer, delay
