"""Run a measured command so that its peak RSS is its own.

Python starts a child with vfork + exec; Linux then counts the parent's memory high-water mark
in the child's ``ru_maxrss`` (the mark survives exec). A bench process that holds a sandbox or a
large read-back therefore made every tool it measured look as large as itself. Each measured
command runs under a small Python that starts it and writes the command's own peak RSS (KiB),
CPU seconds and exit code to a file.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

_MEASURE = (
    "import os, signal, subprocess, sys\n"
    "child = subprocess.Popen(sys.argv[2:])\n"
    "signal.signal(signal.SIGTERM, lambda *_: child.terminate())\n"
    "_pid, status, usage = os.wait4(child.pid, 0)\n"
    "with open(sys.argv[1], 'w') as out:\n"
    "    out.write(f'{usage.ru_maxrss} {usage.ru_utime + usage.ru_stime} {os.waitstatus_to_exitcode(status)}')\n"
)


def measured(command: list[str], report: Path, **popen: object) -> subprocess.Popen:
    """Start ``command`` under the measuring Python; ``reap`` reads its figures."""
    return subprocess.Popen([sys.executable, "-c", _MEASURE, str(report), *command], **popen)  # type: ignore[call-overload]


def reap(process: subprocess.Popen, report: Path) -> tuple[int, float, float]:
    """Exit code, peak RSS (MiB) and CPU seconds of the measured command."""
    process.wait()
    max_rss_kib, cpu, code = report.read_text().split()
    return int(code), int(max_rss_kib) / 1024, float(cpu)
