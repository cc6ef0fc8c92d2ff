"""Durable store of batches a vendor did not accept, for a target's ``replay`` command.

One SQLite file (``dead_letters.sqlite`` under ``dead_letter_path``), written with
``synchronous=FULL`` before the run moves on, so a failed write is never only in memory.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import simplejson

_SCHEMA = """
CREATE TABLE IF NOT EXISTS dead_letters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    stream TEXT NOT NULL,
    schema_json TEXT NOT NULL,
    key_properties_json TEXT NOT NULL,
    records_json TEXT NOT NULL,
    error TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 1,
    status TEXT NOT NULL DEFAULT 'pending',
    resolved_at TEXT
);
"""


@dataclass(frozen=True)
class DeadLetter:
    id: int
    created_at: str
    stream: str
    schema: dict[str, Any]
    key_properties: list[str]
    records: list[dict[str, Any]]
    error: str
    attempts: int


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


class DeadLetterStore:
    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / "dead_letters.sqlite"
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def add(self, stream: str, schema: dict[str, Any], key_properties: list[str],
            records: list[dict[str, Any]], error: str) -> int:
        cursor = self._db.execute(
            "INSERT INTO dead_letters (created_at, stream, schema_json, key_properties_json, records_json, error) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (_now(), stream, simplejson.dumps(schema), simplejson.dumps(key_properties),
             simplejson.dumps(records, use_decimal=True), error),
        )
        return int(cursor.lastrowid or 0)

    def pending(self, stream: str | None = None) -> list[DeadLetter]:
        sql = ("SELECT id, created_at, stream, schema_json, key_properties_json, records_json, error, attempts "
               "FROM dead_letters WHERE status = 'pending'")
        params: tuple[Any, ...] = ()
        if stream:
            sql += " AND stream = ?"
            params = (stream,)
        return [
            DeadLetter(row[0], row[1], row[2], simplejson.loads(row[3]), simplejson.loads(row[4]),
                       simplejson.loads(row[5], use_decimal=True), row[6], row[7])
            for row in self._db.execute(sql + " ORDER BY id", params)
        ]

    def mark_replayed(self, letter_id: int) -> None:
        self._db.execute("UPDATE dead_letters SET status = 'replayed', resolved_at = ? WHERE id = ?",
                         (_now(), letter_id))

    def keep_pending(self, letter_id: int, records: list[dict[str, Any]], error: str) -> None:
        """After a partial replay: only the records still refused stay in the letter."""
        self._db.execute(
            "UPDATE dead_letters SET attempts = attempts + 1, error = ?, records_json = ? WHERE id = ?",
            (error, simplejson.dumps(records, use_decimal=True), letter_id))

    def record_failure(self, letter_id: int, error: str) -> None:
        self._db.execute("UPDATE dead_letters SET attempts = attempts + 1, error = ? WHERE id = ?",
                         (error, letter_id))
