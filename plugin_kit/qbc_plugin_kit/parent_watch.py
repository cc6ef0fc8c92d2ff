"""Stop a plugin promptly when the process that started it dies.

A target already ends on stdin EOF, but when ``meltano`` is killed the tap and the target live on
(measured: up to 20 s, and the target still commits on the EOF that follows). A restarted run
then races that orphan for the same destination (DuckDB's file lock, the same MERGE keys). So a
Singer run watches its parent and terminates itself once the parent is gone.

Why a watcher thread polling ``getppid()`` and not ``prctl(PR_SET_PDEATHSIG)``: Linux sends the
parent-death signal when the *thread* that forked the child exits, not the process, so a parent
that spawns plugins from a short-lived worker thread (thread pools in orchestrators) would kill a
healthy run; and the signal is lost if the parent died before the child called prctl. A changed
``getppid()`` (re-parented to init or a subreaper) means exactly "the parent process is gone",
on every POSIX system.

``QBC_PARENT_WATCH=off`` disables the watch, for a run deliberately left running after its
parent exits (``nohup tap ... | target ... &`` from a shell that then closes).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

ENV_SWITCH = "QBC_PARENT_WATCH"
POLL_SECONDS = 0.5
# After SIGTERM the process gets this long to end by itself (the default SIGTERM action is
# immediate; a handler somebody installed may want to close files) before SIGKILL.
GRACE_SECONDS = 5.0


def _disabled() -> bool:
    return os.environ.get(ENV_SWITCH, "").strip().lower() in ("0", "off", "false", "no")


def watch_parent(poll_seconds: float = POLL_SECONDS, grace_seconds: float = GRACE_SECONDS) -> threading.Thread | None:
    """Start the daemon thread that ends this process when its parent dies; returns it, or None
    when there is nothing to watch (disabled, not POSIX, or started by init). A process found
    already orphaned is stopped at once."""
    if _disabled() or not hasattr(os, "getppid") or os.name != "posix":
        return None
    parent = os.getppid()
    if parent <= 1:
        # Re-parented to init before this ran (a loaded machine spends seconds importing the
        # plugin): orphaned if the process group's leader, the parent that started the run, is
        # gone. A plugin started by init itself (a systemd service) leads its own group.
        if _group_leader_gone():
            _stop(grace_seconds)
        return None
    thread = threading.Thread(target=_watch, args=(parent, poll_seconds, grace_seconds),
                              name="qbc-parent-watch", daemon=True)
    thread.start()
    return thread


def _group_leader_gone() -> bool:
    leader = os.getpgid(0)
    if leader == os.getpid():
        return False
    try:
        os.kill(leader, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # alive, and another user's
    return False


def _watch(parent: int, poll_seconds: float, grace_seconds: float) -> None:
    while os.getppid() == parent:
        time.sleep(poll_seconds)
    _stop(grace_seconds)


def _stop(grace_seconds: float) -> None:
    # stderr, because stdout carries Singer messages nobody reads any more.
    print(f"{os.path.basename(sys.argv[0] or 'plugin')}: the process that started it is gone, "
          "stopping (nothing after the last STATE the parent recorded counts; the next run resumes from it). "
          f"Set {ENV_SWITCH}=off to keep a run alive without its parent.",
          file=sys.stderr, flush=True)
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(grace_seconds)
    os.kill(os.getpid(), signal.SIGKILL)
