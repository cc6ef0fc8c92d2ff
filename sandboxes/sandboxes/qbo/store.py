"""One SQLite file per realm: objects as JSON text plus the columns queries filter and sort on.

Payload text is written once by the generator or a mutation and served as-is, so a page of a
million-row company costs one indexed range scan, never a JSON copy of the company in memory.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from . import jsonfmt

SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    entity TEXT NOT NULL,
    id INTEGER NOT NULL,
    sync_token INTEGER NOT NULL,
    created_s INTEGER NOT NULL,
    updated_s INTEGER NOT NULL,
    active INTEGER,
    deleted INTEGER NOT NULL DEFAULT 0,
    payload TEXT NOT NULL
);
-- A rowid table keeps the multi-KB payloads out of the key B-tree (WITHOUT ROWID tables store
-- whole rows in it, which doubled the file size in measurements).
CREATE UNIQUE INDEX IF NOT EXISTS objects_key ON objects (entity, id);
CREATE INDEX IF NOT EXISTS objects_updated ON objects (entity, updated_s, id);
CREATE INDEX IF NOT EXISTS objects_changed ON objects (updated_s);
CREATE TABLE IF NOT EXISTS postings (
    entity TEXT NOT NULL,
    txn_id INTEGER NOT NULL,
    txn_date TEXT NOT NULL,
    account_id INTEGER NOT NULL,
    cents INTEGER NOT NULL,
    name TEXT,
    doc_number TEXT,
    memo TEXT
);
CREATE INDEX IF NOT EXISTS postings_txn ON postings (entity, txn_id);
CREATE INDEX IF NOT EXISTS postings_account ON postings (account_id, txn_date);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    entity TEXT NOT NULL,
    id INTEGER NOT NULL,
    operation TEXT NOT NULL,
    updated_s INTEGER NOT NULL,
    delivered INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS counters (entity TEXT PRIMARY KEY, next_id INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

Posting = tuple[str, int, str, int, int, str | None, str | None, str | None]


class RealmStore:
    """Thread-safe access to one realm's SQLite file (one connection, one lock)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.lock = threading.RLock()
        self._conn = self._connect()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        # A sandbox file is disposable: durability is traded for generation speed.
        conn.execute("PRAGMA synchronous=OFF")
        conn.executescript(SCHEMA)
        return conn

    def recreate(self) -> None:
        """Start over with an empty file (dropping a million rows one by one would take minutes)."""
        with self.lock:
            self._conn.close()
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
            self._conn = self._connect()

    def get_meta(self, key: str) -> str | None:
        rows = self.execute("SELECT value FROM meta WHERE key = ?", (key,))
        return str(rows[0][0]) if rows else None

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def checkpoint(self) -> None:
        with self.lock:
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        with self.lock:
            self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self.lock:
            self._conn.execute("BEGIN")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self.lock:
            return self._conn.execute(sql, params).fetchall()

    # ids -----------------------------------------------------------------------------------
    def next_id(self, entity: str) -> int:
        with self.lock:
            row = self._conn.execute(
                "SELECT next_id FROM counters WHERE entity = ?", (entity,)
            ).fetchone()
            value = row[0] if row else 1
            self._conn.execute(
                "INSERT INTO counters (entity, next_id) VALUES (?, ?) "
                "ON CONFLICT(entity) DO UPDATE SET next_id = excluded.next_id",
                (entity, value + 1),
            )
            return int(value)

    def set_next_ids(self, next_ids: dict[str, int]) -> None:
        with self.transaction() as conn:
            conn.executemany(
                "INSERT INTO counters (entity, next_id) VALUES (?, ?) "
                "ON CONFLICT(entity) DO UPDATE SET next_id = excluded.next_id",
                list(next_ids.items()),
            )

    # objects -------------------------------------------------------------------------------
    @staticmethod
    def row_for(entity: str, obj: dict[str, Any]) -> tuple[Any, ...]:
        meta = obj["MetaData"]
        active = obj.get("Active")
        return (
            entity,
            int(obj["Id"]),
            int(obj["SyncToken"]),
            int(meta["_created_s"]),
            int(meta["_updated_s"]),
            None if active is None else int(bool(active)),
            jsonfmt.dumps(_public(obj)),
        )

    def put_many(self, rows: Iterable[tuple[Any, ...]]) -> None:
        with self.transaction() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO objects "
                "(entity, id, sync_token, created_s, updated_s, active, payload) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                rows,
            )

    def put(self, entity: str, obj: dict[str, Any]) -> None:
        self.put_many([self.row_for(entity, obj)])

    def mark_deleted(self, entity: str, obj_id: int, updated_s: int, payload: str) -> None:
        with self.transaction() as conn:
            conn.execute(
                "UPDATE objects SET deleted = 1, updated_s = ?, payload = ?, active = NULL "
                "WHERE entity = ? AND id = ?",
                (updated_s, payload, entity, obj_id),
            )

    def get_text(self, entity: str, obj_id: int, include_deleted: bool = False) -> str | None:
        sql = "SELECT payload FROM objects WHERE entity = ? AND id = ?"
        if not include_deleted:
            sql += " AND deleted = 0"
        rows = self.execute(sql, (entity, obj_id))
        return rows[0][0] if rows else None

    def get(self, entity: str, obj_id: int) -> dict[str, Any] | None:
        text = self.get_text(entity, obj_id)
        return None if text is None else jsonfmt.loads(text)

    def ids(self, entity: str) -> list[int]:
        rows = self.execute(
            "SELECT id FROM objects WHERE entity = ? AND deleted = 0 ORDER BY id", (entity,)
        )
        return [r[0] for r in rows]

    def count(self, entity: str) -> int:
        rows = self.execute(
            "SELECT count(*) FROM objects WHERE entity = ? AND deleted = 0", (entity,)
        )
        return int(rows[0][0])

    def max_updated(self) -> int:
        rows = self.execute("SELECT max(updated_s) FROM objects")
        return int(rows[0][0] or 0)

    # postings ------------------------------------------------------------------------------
    def replace_postings(self, entity: str, txn_id: int, postings: Sequence[Posting]) -> None:
        with self.transaction() as conn:
            conn.execute("DELETE FROM postings WHERE entity = ? AND txn_id = ?", (entity, txn_id))
            conn.executemany("INSERT INTO postings VALUES (?, ?, ?, ?, ?, ?, ?, ?)", postings)

    def add_postings(self, postings: Iterable[Posting]) -> None:
        with self.transaction() as conn:
            conn.executemany("INSERT INTO postings VALUES (?, ?, ?, ?, ?, ?, ?, ?)", postings)

    # change events (webhooks) --------------------------------------------------------------
    def add_event(self, entity: str, obj_id: int, operation: str, updated_s: int) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO events (entity, id, operation, updated_s) VALUES (?, ?, ?, ?)",
                (entity, obj_id, operation, updated_s),
            )

    def pending_events(self) -> list[tuple[int, str, int, str, int]]:
        rows = self.execute(
            "SELECT seq, entity, id, operation, updated_s FROM events "
            "WHERE delivered = 0 ORDER BY seq"
        )
        return [(r[0], r[1], r[2], r[3], r[4]) for r in rows]

    def mark_delivered(self, seqs: Sequence[int]) -> None:
        with self.transaction() as conn:
            conn.executemany("UPDATE events SET delivered = 1 WHERE seq = ?", [(s,) for s in seqs])


def _public(obj: dict[str, Any]) -> dict[str, Any]:
    """Drop the sandbox's private epoch fields from MetaData before the object is stored."""
    meta = {k: v for k, v in obj["MetaData"].items() if not k.startswith("_")}
    return {**obj, "MetaData": meta}
