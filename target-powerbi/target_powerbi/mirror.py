"""Local SQLite mirror of what each Power BI table should hold.

Push datasets accept appends and whole-table deletes only, never row updates. The mirror keeps
the newest version of every row (the version guard), whether that version has reached Power BI
yet (``pushed``), and each line's parent document, so a deleted invoice flags its lines too.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import simplejson

_SCHEMA = """
CREATE TABLE IF NOT EXISTS mirror_rows (
    stream TEXT NOT NULL,
    row_key TEXT NOT NULL,
    version TEXT NOT NULL,
    parent_key TEXT,
    deleted INTEGER NOT NULL DEFAULT 0,
    pushed INTEGER NOT NULL DEFAULT 0,
    record TEXT NOT NULL,
    PRIMARY KEY (stream, row_key)
);
CREATE INDEX IF NOT EXISTS mirror_rows_parent ON mirror_rows (stream, parent_key);
CREATE TABLE IF NOT EXISTS stream_schemas (
    stream TEXT PRIMARY KEY,
    schema_json TEXT NOT NULL,
    key_properties_json TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class StagedRow:
    key: str
    version: str
    parent_key: str | None
    deleted: bool
    record: dict[str, Any]


def _dumps(value: Any) -> str:
    return str(simplejson.dumps(value, use_decimal=True, ensure_ascii=False, sort_keys=True))


def _loads(text: str) -> dict[str, Any]:
    return dict(simplejson.loads(text, use_decimal=True))


class Mirror:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def stage(self, stream: str, rows: Iterable[StagedRow]) -> list[StagedRow]:
        """Store rows that are not older than what the mirror holds; return those accepted.

        An equal version that already reached Power BI is a duplicate (a re-run after a crash)
        and is skipped; an equal version not yet pushed is a retry and is accepted.
        """
        accepted: list[StagedRow] = []
        with self._transaction() as db:
            for row in rows:
                current = db.execute(
                    "SELECT version, pushed FROM mirror_rows WHERE stream = ? AND row_key = ?",
                    (stream, row.key),
                ).fetchone()
                if current is not None:
                    stored_version, pushed = current
                    if row.version < stored_version or (row.version == stored_version and pushed):
                        continue
                db.execute(
                    "INSERT OR REPLACE INTO mirror_rows (stream, row_key, version, parent_key, deleted, pushed, record) "
                    "VALUES (?, ?, ?, ?, ?, 0, ?)",
                    (stream, row.key, row.version, row.parent_key, int(row.deleted), _dumps(row.record)),
                )
                accepted.append(row)
        return accepted

    def mark_pushed(self, stream: str, rows: Iterable[StagedRow]) -> None:
        with self._transaction() as db:
            db.executemany(
                "UPDATE mirror_rows SET pushed = 1 WHERE stream = ? AND row_key = ? AND version = ?",
                [(stream, r.key, r.version) for r in rows],
            )

    def save_schema(self, stream: str, schema: dict[str, Any], key_properties: list[str]) -> None:
        with self._transaction() as db:
            db.execute("INSERT OR REPLACE INTO stream_schemas VALUES (?, ?, ?)",
                       (stream, _dumps(schema), _dumps(key_properties)))

    def schemas(self) -> dict[str, tuple[dict[str, Any], list[str]]]:
        rows = self._db.execute("SELECT stream, schema_json, key_properties_json FROM stream_schemas")
        return {stream: (_loads(schema), list(simplejson.loads(keys))) for stream, schema, keys in rows}

    def mark_stream_unpushed(self, stream: str) -> None:
        with self._transaction() as db:
            db.execute("UPDATE mirror_rows SET pushed = 0 WHERE stream = ?", (stream,))

    def mark_stream_pushed(self, stream: str) -> None:
        with self._transaction() as db:
            db.execute("UPDATE mirror_rows SET pushed = 1 WHERE stream = ?", (stream,))

    def current_records(self, stream: str, include_deleted: bool = True) -> list[dict[str, Any]]:
        sql = "SELECT record FROM mirror_rows WHERE stream = ?"
        if not include_deleted:
            sql += " AND deleted = 0"
        return [_loads(text) for (text,) in self._db.execute(sql + " ORDER BY row_key", (stream,))]

    def live_children(self, stream: str, parent_key: str) -> list[StagedRow]:
        cursor = self._db.execute(
            "SELECT row_key, version, record FROM mirror_rows "
            "WHERE stream = ? AND parent_key = ? AND deleted = 0",
            (stream, parent_key),
        )
        return [StagedRow(key, version, parent_key, False, _loads(text)) for key, version, text in cursor]

    def unpushed(self, stream: str) -> list[StagedRow]:
        cursor = self._db.execute(
            "SELECT row_key, version, parent_key, deleted, record FROM mirror_rows "
            "WHERE stream = ? AND pushed = 0 ORDER BY rowid",
            (stream,),
        )
        return [StagedRow(key, version, parent, bool(deleted), _loads(text))
                for key, version, parent, deleted, text in cursor]

    def count(self, stream: str) -> int:
        (n,) = self._db.execute("SELECT COUNT(*) FROM mirror_rows WHERE stream = ?", (stream,)).fetchone()
        return int(n)
