"""The dead-letter store every target shares: one letter per record set aside.

A letter keeps the input line exactly as it arrived (NaN, Infinity, 40-digit numbers and any
unicode survive because nothing is re-serialised), the stream's SCHEMA message, the record's
key, why it was set aside and how often it was tried. One SQLite file
(``dead_letters.sqlite`` under the target's ``dead_letter_path``), written with
``synchronous=FULL`` before the run moves on, so a record is never only in memory once the
target emits a STATE that covers it.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import simplejson

PENDING, REPLAYED, DISCARDED = "pending", "replayed", "discarded"
FILE_NAME = "dead_letters.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS record_letters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    stream TEXT,
    record_key TEXT,
    line TEXT NOT NULL,
    schema_message TEXT,
    reason TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 1,
    status TEXT NOT NULL DEFAULT 'pending',
    resolved_at TEXT
);
CREATE INDEX IF NOT EXISTS record_letters_pending ON record_letters (status, stream);
"""


@dataclass(frozen=True)
class DeadLetter:
    id: int
    created_at: str
    stream: str | None
    key: dict[str, Any] | None
    line: str
    schema_message: str | None
    reason: str
    attempts: int
    status: str

    def summary(self) -> dict[str, Any]:
        """What ``replay --list`` prints for the letter."""
        return {"id": self.id, "stream": self.stream, "key": self.key, "reason": self.reason,
                "attempts": self.attempts, "created_at": self.created_at, "status": self.status,
                "line": self.line}


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


def _key_text(key: dict[str, Any] | None) -> str | None:
    return None if key is None else json.dumps(key, default=str, ensure_ascii=False, sort_keys=True)


class DeadLetterStore:
    """Thread-safe: sinks drain in parallel threads of one process."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.path = self.directory / FILE_NAME
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            try:
                self.directory.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=False)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=FULL")
                db.executescript(_SCHEMA)
                _import_batch_letters(db)
            except (OSError, sqlite3.Error) as exc:
                raise DeadLetterStoreUnavailable(
                    f"the dead-letter store {self.path} cannot be written ({exc}): set "
                    "dead_letter_path to a folder this user can write"
                ) from exc
            self._db = db
        return self._db

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def add(self, *, stream: str | None, line: str, reason: str, key: dict[str, Any] | None = None,
            schema_message: str | None = None) -> int:
        """The letter's id. A line already pending for the stream (sent again because the run
        that set it aside stopped before its STATE) keeps its one letter, with the new reason."""
        with self._lock:
            db = self._connection()
            pending = db.execute(
                "SELECT id FROM record_letters WHERE status = ? AND stream IS ? AND line = ? "
                "ORDER BY id LIMIT 1", (PENDING, stream, line)).fetchone()
            if pending is not None:
                db.execute("UPDATE record_letters SET reason = ? WHERE id = ?", (reason, pending[0]))
                return int(pending[0])
            cursor = db.execute(
                "INSERT INTO record_letters (created_at, stream, record_key, line, schema_message, reason)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (_now(), stream, _key_text(key), line, schema_message, reason),
            )
            return int(cursor.lastrowid or 0)

    def letters(self, *, status: str | None = PENDING, stream: str | None = None,
                ids: list[int] | None = None, max_attempts: int | None = None) -> list[DeadLetter]:
        if not self.path.exists():
            return []
        sql = ("SELECT id, created_at, stream, record_key, line, schema_message, reason, attempts, status "
               "FROM record_letters WHERE 1 = 1")
        params: list[Any] = []
        if status is not None:
            sql += " AND status = ?"
            params.append(status)
        if stream is not None:
            sql += " AND stream = ?"
            params.append(stream)
        if ids:
            sql += f" AND id IN ({', '.join('?' for _ in ids)})"
            params.extend(ids)
        if max_attempts is not None:
            sql += " AND attempts < ?"
            params.append(max_attempts)
        with self._lock:
            rows = self._connection().execute(sql + " ORDER BY id", params).fetchall()
        return [
            DeadLetter(id=row[0], created_at=row[1], stream=row[2],
                       key=None if row[3] is None else json.loads(row[3]), line=row[4],
                       schema_message=row[5], reason=row[6], attempts=row[7], status=row[8])
            for row in rows
        ]

    def _resolve(self, letter_id: int, status: str) -> None:
        with self._lock:
            self._connection().execute(
                "UPDATE record_letters SET status = ?, resolved_at = ? WHERE id = ?",
                (status, _now(), letter_id))

    def mark_replayed(self, letter_id: int) -> None:
        self._resolve(letter_id, REPLAYED)

    def discard(self, letter_id: int) -> None:
        self._resolve(letter_id, DISCARDED)

    def refused_again(self, letter_id: int, reason: str) -> None:
        """The letter stays pending, with its new reason and one more attempt."""
        with self._lock:
            self._connection().execute(
                "UPDATE record_letters SET attempts = attempts + 1, reason = ? WHERE id = ?",
                (reason, letter_id))


def _import_batch_letters(db: sqlite3.Connection) -> None:
    """Earlier releases kept a batch per letter (table ``dead_letters``, records re-serialised):
    their pending records become one letter each here, so an upgrade loses none of them. The
    old rows stay, marked ``imported``."""
    if db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'dead_letters'").fetchone() is None:
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        rows = db.execute("SELECT id, created_at, stream, schema_json, key_properties_json, records_json, error, "
                          "attempts FROM dead_letters WHERE status = 'pending' ORDER BY id").fetchall()
        for old_id, created_at, stream, schema_json, keys_json, records_json, error, attempts in rows:
            keys = simplejson.loads(keys_json)
            schema_message = simplejson.dumps({"type": "SCHEMA", "stream": stream, "schema": simplejson.loads(schema_json),
                                               "key_properties": keys})
            for record in simplejson.loads(records_json, use_decimal=True):
                line = simplejson.dumps({"type": "RECORD", "stream": stream, "record": record},
                                        use_decimal=True, ensure_ascii=False)
                db.execute(
                    "INSERT INTO record_letters (created_at, stream, record_key, line, schema_message, reason, attempts)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (created_at, stream, _key_text({k: record.get(k) for k in keys} or None), line, schema_message,
                     f"{error} (kept by an earlier release as part of batch letter {old_id})", attempts))
            db.execute("UPDATE dead_letters SET status = 'imported', resolved_at = ? WHERE id = ?", (_now(), old_id))
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


class DeadLetterStoreUnavailable(Exception):
    """The store cannot be opened or written: nothing may be set aside, so the run stops."""
