"""The webhook journal: an append-only JSON-lines file of change events.

The receiver appends (under an exclusive lock, fsync'ed) before it answers Intuit, so an event
acknowledged is an event kept. Each line has a sequence number; a tap run reads the events after
the sequence stored in its STATE for that stream and realm, so a run that dies before the
target commits simply reads them again.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import tempfile
import typing as t
from pathlib import Path


class Journal:
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        # (inode, file size, last seq) after our own last append: skips a rescan when nobody
        # else wrote. The inode changes when prune() replaces the file.
        self._tail: tuple[int, int, int] | None = None

    @contextlib.contextmanager
    def _locked(self, mode: str) -> t.Iterator[t.IO[str]]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        while True:
            handle = open(self.path, mode, encoding="utf-8")  # noqa: SIM115 - closed below
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                current = os.stat(self.path).st_ino
            except FileNotFoundError:
                current = -1
            if current == os.fstat(handle.fileno()).st_ino:
                break
            # prune() swapped the file while we waited for the lock: start over on the new one.
            handle.close()
        try:
            yield handle
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
            handle.close()

    def append(self, events: t.Sequence[dict[str, t.Any]], *, received_at: dt.datetime | None = None) -> int:
        """Append events; returns the last sequence number written."""
        received = (received_at or dt.datetime.now(dt.UTC)).isoformat()
        with self._locked("a+") as handle:
            size = handle.seek(0, os.SEEK_END)
            inode = os.fstat(handle.fileno()).st_ino
            if self._tail is not None and self._tail[:2] == (inode, size):
                seq = self._tail[2]
            else:
                handle.seek(0)
                seq = self._last_seq(handle)
            lines = []
            if size and not self._ends_with_newline(handle, size):
                lines.append("\n")  # seal a torn line left by a crash so it cannot swallow ours
            for event in events:
                seq += 1
                lines.append(json.dumps({"seq": seq, "received_at": received, **event}) + "\n")
            handle.seek(0, os.SEEK_END)
            handle.write("".join(lines))
            handle.flush()
            os.fsync(handle.fileno())
            self._tail = (inode, handle.tell(), seq)
            return seq

    @staticmethod
    def _ends_with_newline(handle: t.IO[str], size: int) -> bool:
        handle.seek(size - 1)
        return handle.read(1) == "\n"

    @staticmethod
    def _last_seq(handle: t.IO[str]) -> int:
        last = 0
        for line in handle:
            if line.endswith("\n"):
                with contextlib.suppress(ValueError, KeyError, TypeError):
                    last = max(last, int(json.loads(line)["seq"]))
        return last

    def read(self, *, realm_id: str, after_seq: int = 0) -> list[dict[str, t.Any]]:
        """Complete events of a realm with ``seq > after_seq``, in journal order."""
        if not self.path.exists():
            return []
        events = []
        with open(self.path, encoding="utf-8") as handle:
            for line in handle:
                if not line.endswith("\n"):
                    break  # a write in progress; the next run sees it whole
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                if event.get("realm_id") == realm_id and int(event.get("seq", 0)) > after_seq:
                    events.append(event)
        return events

    def last_seq(self) -> int:
        if not self.path.exists():
            return 0
        with open(self.path, encoding="utf-8") as handle:
            return self._last_seq(handle)

    def prune(self, through_seq: int) -> int:
        """Drop events with ``seq <= through_seq`` (already committed downstream); returns how many.

        The newest line always stays, so sequence numbers never restart below a stored bookmark.
        """
        if through_seq <= 0 or not self.path.exists():
            return 0
        with self._locked("r") as handle:
            lines = [line for line in handle if line.endswith("\n")]
            kept = []
            for line in lines:
                try:
                    seq = int(json.loads(line)["seq"])
                except (ValueError, KeyError, TypeError):
                    continue
                if seq > through_seq:
                    kept.append(line)
            if not kept and lines:
                kept = [lines[-1]]
            dropped = len(lines) - len(kept)
            if dropped <= 0:
                return 0
            fd, tmp_name = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write("".join(kept))
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp_name, self.path)
            return dropped
