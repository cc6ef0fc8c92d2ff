"""``meltano run`` as an operator starts it, and the process tree it makes, for killing parts of it.

The plugins get the sandboxes' addresses the way a user gives them: Meltano setting environment
variables over the ``dev`` environment of ``meltano.yml``. Each scenario has its own Meltano system
database (``MELTANO_DATABASE_URI``), so its state and run history are its own.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SECRET_SUFFIXES = ("CLIENT_SECRET", "REFRESH_TOKEN", "ACCESS_TOKEN", "PASSWORD", "QBO_TOKEN_STORE_KEY")
RUN_TIMEOUT = 900


def meltano_executable() -> str:
    configured = os.environ.get("QBC_MELTANO")
    if configured:
        return configured
    return str(ROOT / ".venv-meltano" / "bin" / "meltano")


def _system_dir(work: Path) -> Path:
    """A Meltano system directory of the scenario's own, sharing the project's installed plugins.

    ``meltano run`` writes the tap's catalog and state to ``.meltano/run/<plugin>/tap.properties.json``
    and ``state.json``, one file per plugin *name*: two runs of one tap at once (even of different
    jobs) read each other's files (docs/operations.md). Scenarios run side by side (CI, a long soak),
    so each gets its own run directory, as separate deployments would.
    """
    system = work / ".meltano"
    system.mkdir(parents=True, exist_ok=True)
    for kind in ("extractors", "loaders"):
        link = system / kind
        if not link.is_symlink():
            (ROOT / ".meltano" / kind).mkdir(parents=True, exist_ok=True)
            link.symlink_to(ROOT / ".meltano" / kind, target_is_directory=True)
    return system


def scenario_env(work: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        MELTANO_SEND_ANONYMOUS_USAGE_STATS="false",
        MELTANO_SYS_DIR_ROOT=str(_system_dir(work)),
        MELTANO_DATABASE_URI=f"sqlite:///{work / 'meltano.db'}",
        TARGET_LOOKER_WAREHOUSE_DUCKDB_PATH=str(work / "warehouse.duckdb"),
        TARGET_LOOKER_WAREHOUSE_LOOKML_PATH=str(work / "lookml"),
        TARGET_LOOKER_WAREHOUSE_DEAD_LETTER_PATH=str(work / "warehouse-dead-letters"),
    )
    return env


@dataclass
class Finished:
    returncode: int
    output: str

    @property
    def last_line(self) -> str:
        lines = [line for line in self.output.splitlines() if line.strip()]
        return lines[-1] if lines else ""


def start(env: dict[str, str], tap: str, target: str, log: Path, *, force: bool = False) -> subprocess.Popen[bytes]:
    args = [meltano_executable(), "--environment", "dev", "run", *(["--force"] if force else []), tap, target]
    # A session of its own, so a left-over plugin can be found and cleaned up by its group.
    return subprocess.Popen(args, cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def finish(process: subprocess.Popen[bytes], log: Path, timeout: float = RUN_TIMEOUT) -> Finished:
    try:
        returncode = process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(process.pid)
        returncode = process.wait()
    return Finished(returncode, log.read_text(errors="replace"))


def run(env: dict[str, str], tap: str, target: str, log: Path, *, force: bool = False) -> Finished:
    log.write_bytes(b"")
    return finish(start(env, tap, target, log, force=force), log)


def leaked_secrets(env: dict[str, str], output: str) -> list[str]:
    return [name for name, value in env.items()
            if name.endswith(SECRET_SUFFIXES) and len(value) >= 8 and value in output]


def kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _stat(pid: int) -> tuple[int, int, str] | None:
    """(parent pid, process group, state) from /proc, or None once the process is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = text.rsplit(")", 1)[1].split()
    return int(fields[1]), int(fields[2]), fields[0]


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except (FileNotFoundError, ProcessLookupError):
        return ""


def _pids() -> Iterator[int]:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            yield int(entry.name)


def group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes of a process group: meltano and the plugins it started."""
    members = []
    for pid in _pids():
        stat = _stat(pid)
        if stat and stat[1] == pgid and stat[2] != "Z":
            members.append(pid)
    return members


def plugin_pid(pgid: int, executable: str) -> int | None:
    """The process running a plugin's console script inside a run's process group."""
    for pid in group_members(pgid):
        words = _cmdline(pid).split()
        if any(os.path.basename(word) == executable for word in words[:3]):
            return pid
    return None


def alive(pid: int) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[2] != "Z"


def wait_gone(pids: list[int], seconds: float) -> list[int]:
    """The pids still alive after waiting up to ``seconds`` for them to end."""
    deadline = time.monotonic() + seconds
    left = [p for p in pids if alive(p)]
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = [p for p in left if alive(p)]
    return left
