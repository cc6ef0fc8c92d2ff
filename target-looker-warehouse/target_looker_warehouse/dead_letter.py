"""Durable dead-letter store for batches the warehouse refused (one SQLite file, WAL)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import pathlib
import sqlite3
import threading
import typing as t

from singer_sdk.singerlib.json import deserialize_json, serialize_json

_WRITE_LOCK = threading.Lock()
DEFAULT_PATH = ".meltano/target-looker-warehouse/dead_letters"


@dataclasses.dataclass(frozen=True)
class DeadLetter:
    id: int
    stream: str
    schema: dict[str, t.Any]
    key_properties: list[str]
    records: list[dict[str, t.Any]]
    error: str
    failed_at: str


class DeadLetterStore:
    """Batches are appended in one transaction each and fsynced before the run goes on."""

    def __init__(self, directory: str | pathlib.Path) -> None:
        self.directory = pathlib.Path(directory)
        self.path = self.directory / "dead_letters.sqlite"

    def _open(self) -> sqlite3.Connection:
        self.directory.mkdir(parents=True, exist_ok=True)
        # Sinks drain in parallel threads: wait for the file lock rather than fail.
        conn = sqlite3.connect(self.path, timeout=60)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS dead_letters ("
            " id INTEGER PRIMARY KEY AUTOINCREMENT, stream TEXT NOT NULL, schema TEXT NOT NULL,"
            " key_properties TEXT NOT NULL, records TEXT NOT NULL, error TEXT NOT NULL,"
            " failed_at TEXT NOT NULL, replayed_at TEXT)"
        )
        return conn

    def add(
        self,
        stream: str,
        schema: t.Mapping[str, t.Any],
        key_properties: t.Sequence[str],
        records: t.Sequence[t.Mapping[str, t.Any]],
        error: str,
    ) -> int:
        with _WRITE_LOCK:
            return self._add(stream, schema, key_properties, records, error)

    def _add(
        self,
        stream: str,
        schema: t.Mapping[str, t.Any],
        key_properties: t.Sequence[str],
        records: t.Sequence[t.Mapping[str, t.Any]],
        error: str,
    ) -> int:
        conn = self._open()
        try:
            with conn:
                cursor = conn.execute(
                    "INSERT INTO dead_letters (stream, schema, key_properties, records, error, failed_at)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        stream,
                        serialize_json(schema),
                        serialize_json(list(key_properties)),
                        serialize_json(list(records)),
                        error,
                        dt.datetime.now(dt.UTC).isoformat(),
                    ),
                )
            return int(cursor.lastrowid or 0)
        finally:
            conn.close()

    def pending(self) -> list[DeadLetter]:
        if not self.path.exists():
            return []
        conn = self._open()
        try:
            rows = conn.execute(
                "SELECT id, stream, schema, key_properties, records, error, failed_at"
                " FROM dead_letters WHERE replayed_at IS NULL ORDER BY id"
            ).fetchall()
        finally:
            conn.close()
        return [
            DeadLetter(
                id=row[0],
                stream=row[1],
                schema=deserialize_json(row[2]),
                key_properties=t.cast(list[str], deserialize_json(row[3])),
                records=t.cast(list[dict[str, t.Any]], deserialize_json(row[4])),
                error=row[5],
                failed_at=row[6],
            )
            for row in rows
        ]

    def mark_replayed(self, letter_id: int) -> None:
        conn = self._open()
        try:
            with conn:
                conn.execute(
                    "UPDATE dead_letters SET replayed_at = ? WHERE id = ?",
                    (dt.datetime.now(dt.UTC).isoformat(), letter_id),
                )
        finally:
            conn.close()
