"""The company file: every object in one SQLite table, so a million transactions stay on disk.

One connection guarded by one lock: the Web Connector thread and a test's control thread
(racing edits against a sync) see each other's writes in a single, serial order, as users
and the SDK do inside one QuickBooks process.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    seq INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    family TEXT NOT NULL,
    qb_id TEXT NOT NULL UNIQUE,
    name TEXT,
    entity_id TEXT,
    txn_date TEXT,
    is_active INTEGER NOT NULL DEFAULT 1,
    created INTEGER NOT NULL,
    modified INTEGER NOT NULL,
    edit_sequence TEXT NOT NULL,
    deleted INTEGER,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS objects_family_modified ON objects(family, deleted, modified);
CREATE INDEX IF NOT EXISTS objects_family_name ON objects(family, name);
CREATE INDEX IF NOT EXISTS objects_deleted ON objects(deleted) WHERE deleted IS NOT NULL;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

# Callers pass WHERE fragments built from constants in this package, never from request text;
# every value travels as a bound parameter. Hence the S608 suppressions below.
COLUMNS = (
    "seq, kind, family, qb_id, name, entity_id, txn_date, is_active, created, modified, "
    "edit_sequence, deleted, data"
)


@dataclass
class NewObject:
    """An object about to be inserted: the store numbers it (``seq``) on insert."""

    kind: str
    family: str
    qb_id: str
    name: str | None
    entity_id: str | None
    txn_date: str | None
    is_active: bool
    created: int
    modified: int
    edit_sequence: str
    data: dict[str, Any]


@dataclass
class StoredObject(NewObject):
    """An object as the company file holds it: its insertion order and deletion time too."""

    seq: int
    deleted: int | None

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> StoredObject:
        # In COLUMNS order, which every SELECT here asks for.
        (seq, kind, family, qb_id, name, entity_id, txn_date, is_active, created, modified,
         edit_sequence, deleted, data) = row
        return cls(
            kind=kind, family=family, qb_id=qb_id, name=name, entity_id=entity_id,
            txn_date=txn_date, is_active=bool(is_active), created=created, modified=modified,
            edit_sequence=edit_sequence, data=json.loads(data), seq=seq, deleted=deleted,
        )


class CompanyStore:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.lock = threading.RLock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self.lock:
            self._db.close()

    # -- meta -------------------------------------------------------------------------------
    def get_meta(self, key: str, default: str | None = None) -> str | None:
        with self.lock:
            row = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, values: dict[str, str]) -> None:
        with self.lock:
            self._db.executemany(
                "INSERT INTO meta(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                list(values.items()),
            )

    def next_counter(self, key: str) -> int:
        with self.lock:
            value = int(self.get_meta(key, "0") or 0) + 1
            self.set_meta({key: str(value)})
            return value

    # -- writes -----------------------------------------------------------------------------
    def insert_many(self, objects: Iterable[NewObject]) -> None:
        rows = (
            (o.kind, o.family, o.qb_id, o.name, o.entity_id, o.txn_date, int(o.is_active),
             o.created, o.modified, o.edit_sequence, json.dumps(o.data, separators=(",", ":")))
            for o in objects
        )
        with self.lock:
            self._db.execute("BEGIN")
            try:
                self._db.executemany(
                    "INSERT INTO objects(kind, family, qb_id, name, entity_id, txn_date, "
                    "is_active, created, modified, edit_sequence, data) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    rows,
                )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def update(self, obj: StoredObject) -> None:
        with self.lock:
            self._db.execute(
                "UPDATE objects SET name=?, entity_id=?, txn_date=?, is_active=?, modified=?, "
                "edit_sequence=?, deleted=?, data=? WHERE qb_id=?",
                (obj.name, obj.entity_id, obj.txn_date, int(obj.is_active), obj.modified,
                 obj.edit_sequence, obj.deleted, json.dumps(obj.data, separators=(",", ":")),
                 obj.qb_id),
            )

    # -- reads ------------------------------------------------------------------------------
    def get(self, qb_id: str) -> StoredObject | None:
        with self.lock:
            row = self._db.execute(f"SELECT {COLUMNS} FROM objects WHERE qb_id=?", (qb_id,)).fetchone()  # noqa: S608
        return StoredObject.from_row(row) if row else None

    def seqs(self, where: str, params: Sequence[Any], limit: int | None = None) -> list[int]:
        sql = f"SELECT seq FROM objects WHERE {where} ORDER BY seq"  # noqa: S608
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with self.lock:
            return [r[0] for r in self._db.execute(sql, tuple(params))]

    def fetch_seqs(self, seqs: Sequence[int]) -> list[StoredObject]:
        """Objects for these row numbers, in the given order; vanished rows are skipped."""
        if not seqs:
            return []
        found: dict[int, StoredObject] = {}
        with self.lock:
            for start in range(0, len(seqs), 500):
                chunk = seqs[start:start + 500]
                marks = ",".join("?" * len(chunk))
                for row in self._db.execute(
                    f"SELECT {COLUMNS} FROM objects WHERE seq IN ({marks})", tuple(chunk)  # noqa: S608
                ):
                    found[row[0]] = StoredObject.from_row(row)
        return [found[s] for s in seqs if s in found]

    def select(self, where: str, params: Sequence[Any], limit: int | None = None) -> list[StoredObject]:
        sql = f"SELECT {COLUMNS} FROM objects WHERE {where} ORDER BY seq"  # noqa: S608
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with self.lock:
            return [StoredObject.from_row(r) for r in self._db.execute(sql, tuple(params))]

    def iter_all(self, batch: int = 2000) -> Iterator[StoredObject]:
        last = 0
        while True:
            rows = self.select("seq > ?", (last,), limit=batch)
            if not rows:
                return
            yield from rows
            last = rows[-1].seq

    def count(self, where: str, params: Sequence[Any]) -> int:
        with self.lock:
            return int(self._db.execute(f"SELECT count(*) FROM objects WHERE {where}", tuple(params)).fetchone()[0])  # noqa: S608
