"""A plugin process ends soon after its parent dies, and not while the parent lives."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(os.name != "posix", reason="parent ids are POSIX")

# The grandchild: watches its parent, then would sleep a minute. Prints its pid first.
GRANDCHILD = textwrap.dedent("""
    import os, sys, time
    from qbc_plugin_kit.parent_watch import watch_parent
    print(os.getpid(), flush=True)
    time.sleep(float(sys.argv[2]))  # a plugin still importing its modules when its parent dies
    watch_parent(poll_seconds=0.1, grace_seconds=1.0)
    time.sleep(float(sys.argv[1]))
""")

# The parent: starts the grandchild, relays its pid, and waits (until the test kills it).
PARENT = textwrap.dedent("""
    import subprocess, sys
    child = subprocess.Popen([sys.executable, "-c", *sys.argv[1:]], stdout=subprocess.PIPE, text=True)
    print(child.stdout.readline().strip(), flush=True)
    sys.exit(child.wait())
""")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); re-parented orphans are reaped by init, so read the state.
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(")")[-1].split()[0] == "Z")


def _wait_gone(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.1)
    return not _alive(pid)


def _start(env: dict[str, str], sleep: float, starting: float = 0.0) -> tuple[subprocess.Popen[str], int]:
    # The parent leads its own process group, as meltano started from a shell or a scheduler does.
    parent = subprocess.Popen([sys.executable, "-c", PARENT, GRANDCHILD, str(sleep), str(starting)], env=env,
                              stdout=subprocess.PIPE, text=True, start_new_session=True)
    assert parent.stdout is not None
    return parent, int(parent.stdout.readline())


def test_a_plugin_ends_when_its_parent_is_killed() -> None:
    parent, child = _start({**os.environ, "QBC_PARENT_WATCH": ""}, sleep=60)
    try:
        assert _alive(child)
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        assert _wait_gone(child, 30), "the orphaned plugin kept running after its parent was killed"
    finally:
        if _alive(child):
            os.kill(child, signal.SIGKILL)


def test_a_plugin_orphaned_while_still_starting_ends_as_soon_as_it_starts_watching() -> None:
    parent, child = _start({**os.environ, "QBC_PARENT_WATCH": ""}, sleep=60, starting=2.0)
    try:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        assert _alive(child)
        assert _wait_gone(child, 30), "a plugin orphaned before it started watching kept running"
    finally:
        if _alive(child):
            os.kill(child, signal.SIGKILL)


def test_the_watch_can_be_switched_off_for_a_run_meant_to_outlive_its_parent() -> None:
    parent, child = _start({**os.environ, "QBC_PARENT_WATCH": "off"}, sleep=60)
    try:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        assert not _wait_gone(child, 2), "QBC_PARENT_WATCH=off did not keep the run alive"
    finally:
        os.kill(child, signal.SIGKILL)


def test_a_plugin_whose_parent_lives_runs_to_its_end() -> None:
    parent, _child = _start({**os.environ, "QBC_PARENT_WATCH": ""}, sleep=1.5)
    assert parent.wait(timeout=60) == 0
