"""Local SQLite mirror of what each Power BI table should hold.

Push datasets accept appends and whole-table deletes only, never row updates. The mirror keeps
the newest version of every row (the version guard, in the kit's version order: ``version``
is :func:`qbc_plugin_kit.version_order.version_text`, whose string order is that order),
whether that version has reached Power BI yet (``pushed``), and each row's document key
(``parent_key``: a line's header, a header's own), so a deleted invoice flags its lines too.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import simplejson
from qbc_plugin_kit.version_order import version_text

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
# PRAGMA user_version: 2 = versions written by the kit's version_text (a deletion at the same
# instant is newer than a live version). Files of earlier releases are re-encoded on open.
_VERSION_ENCODING = 2


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


# Audit columns that differ on every arrival of the same values.
_ARRIVAL_COLUMNS = frozenset({"_sdc_extracted_at", "_sdc_received_at", "_sdc_batched_at", "_sdc_version",
                              "_sdc_sequence", "_sdc_table_version", "_sdc_sync_started_at"})


def _content(record: dict[str, Any]) -> str:
    return _dumps({k: v for k, v in record.items() if k not in _ARRIVAL_COLUMNS})


class Mirror:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        (encoding,) = self._db.execute("PRAGMA user_version").fetchone()
        if encoding < _VERSION_ENCODING:
            self._reencode_versions()

    def _reencode_versions(self) -> None:
        with self.transaction() as db:
            rows = db.execute("SELECT stream, row_key, record FROM mirror_rows").fetchall()
            for stream, key, text in rows:
                record = _loads(text)
                version = version_text(record)
                record["_sdc_version"] = version
                db.execute("UPDATE mirror_rows SET version = ?, record = ? WHERE stream = ? AND row_key = ?",
                           (version, _dumps(record), stream, key))
            db.execute(f"PRAGMA user_version = {_VERSION_ENCODING}")

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; nested calls join the outer one (all or nothing)."""
        if self._db.in_transaction:
            yield self._db
            return
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
        with self.transaction() as db:
            for row in rows:
                if not self._accepts(stream, row):
                    continue
                db.execute(
                    "INSERT OR REPLACE INTO mirror_rows (stream, row_key, version, parent_key, deleted, pushed, record) "
                    "VALUES (?, ?, ?, ?, ?, 0, ?)",
                    (stream, row.key, row.version, row.parent_key, int(row.deleted), _dumps(row.record)),
                )
                accepted.append(row)
        return accepted

    def _accepts(self, stream: str, row: StagedRow) -> bool:
        current = self._db.execute(
            "SELECT version, pushed, record FROM mirror_rows WHERE stream = ? AND row_key = ?",
            (stream, row.key),
        ).fetchone()
        if current is None:
            return True
        stored_version, pushed, stored_record = current
        if row.version < stored_version:
            return False
        # Pushed already and nothing a report shows changed (a re-run, or a version-less record
        # whose arrival stamp alone is newer): a duplicate, not a new row.
        return not (pushed and (row.version == stored_version
                                or _content(row.record) == _content(_loads(stored_record))))

    def would_accept(self, stream: str, rows: Iterable[StagedRow]) -> bool:
        """Whether :meth:`stage` would take any of ``rows`` (nothing is written)."""
        return any(self._accepts(stream, row) for row in rows)

    def mark_pushed(self, stream: str, rows: Iterable[StagedRow]) -> None:
        with self.transaction() as db:
            db.executemany(
                "UPDATE mirror_rows SET pushed = 1 WHERE stream = ? AND row_key = ? AND version = ?",
                [(stream, r.key, r.version) for r in rows],
            )

    def save_schema(self, stream: str, schema: dict[str, Any], key_properties: list[str]) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO stream_schemas VALUES (?, ?, ?)",
                       (stream, _dumps(schema), _dumps(key_properties)))

    def schemas(self) -> dict[str, tuple[dict[str, Any], list[str]]]:
        rows = self._db.execute("SELECT stream, schema_json, key_properties_json FROM stream_schemas")
        return {stream: (_loads(schema), list(simplejson.loads(keys))) for stream, schema, keys in rows}

    def mark_stream_unpushed(self, stream: str) -> None:
        with self.transaction() as db:
            db.execute("UPDATE mirror_rows SET pushed = 0 WHERE stream = ?", (stream,))

    def mark_stream_pushed(self, stream: str) -> None:
        with self.transaction() as db:
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

    def deleted_document(self, stream: str, document_key: str) -> StagedRow | None:
        """The deletion of the header row whose document key is ``document_key``, if any."""
        found = self._db.execute(
            "SELECT row_key, version, record FROM mirror_rows "
            "WHERE stream = ? AND parent_key = ? AND deleted = 1 ORDER BY version DESC LIMIT 1",
            (stream, document_key),
        ).fetchone()
        return None if found is None else StagedRow(found[0], found[1], document_key, True, _loads(found[2]))

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
