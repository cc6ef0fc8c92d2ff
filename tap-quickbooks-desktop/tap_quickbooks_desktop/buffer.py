"""The SQLite backend of the state store (`store.StateStore`): the embedded default.

The QBWC server appends every qbXML response section here, in the same transaction
as the bookmarks it moves, before `receiveResponseXML` returns; tap runs read the
entries after the sequence number in their state. WAL lets a tap run read while a
long-lived server writes, and `synchronous=FULL` makes each commit survive a crash.
Web Connector sessions live here too, so a restarted server continues them.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta

from .store import (
    CompanyStatus,
    ConsumerRegistration,
    ConsumerRow,
    Entry,
    SectionToStore,
    SessionWrite,
    StaleSession,
    StoredSession,
    consumer_standing,
)

__all__ = ["Buffer", "CompanyStatus", "Entry", "SectionToStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    company TEXT NOT NULL,
    tag TEXT NOT NULL,
    section TEXT NOT NULL,
    received_at TEXT NOT NULL,
    skip_ids TEXT NOT NULL DEFAULT '[]',
    body BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_by_tag ON entries (tag, seq);
-- Entries stored with their records (stored_records): the mapping code's version, and the
-- records per stream. Tables of their own, so a buffer from before them needs no migration,
-- and reading the version never walks past an entry's (overflowing) qbXML.
CREATE TABLE IF NOT EXISTS entry_mappings (
    seq INTEGER PRIMARY KEY,
    mapping TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS entry_records (
    seq INTEGER NOT NULL,
    stream TEXT NOT NULL,
    body BLOB NOT NULL,
    PRIMARY KEY (seq, stream)
);
CREATE TABLE IF NOT EXISTS versions (
    company TEXT NOT NULL,
    tag TEXT NOT NULL,
    object_id TEXT NOT NULL,
    version TEXT NOT NULL,
    PRIMARY KEY (company, tag, object_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS bookmarks (
    company TEXT NOT NULL,
    query TEXT NOT NULL,
    value TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (company, query)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS request_errors (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    company TEXT NOT NULL,
    query TEXT NOT NULL,
    status_code INTEGER,
    message TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS company_status (
    company TEXT PRIMARY KEY,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    last_failure_at TEXT,
    last_error TEXT,
    last_success_at TEXT
);
CREATE TABLE IF NOT EXISTS sessions (
    ticket TEXT PRIMARY KEY,
    company TEXT NOT NULL,
    state TEXT NOT NULL,
    version INTEGER NOT NULL,
    expires_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_by_expiry ON sessions (expires_at);
-- Readers of the buffer (one per Meltano state id): what each committed, per tag and company.
CREATE TABLE IF NOT EXISTS consumers (
    consumer TEXT NOT NULL,
    tag TEXT NOT NULL,
    company TEXT NOT NULL,
    position INTEGER NOT NULL,
    last_seen TEXT NOT NULL,
    PRIMARY KEY (consumer, tag, company)
) WITHOUT ROWID;
-- The highest entry ever pruned per tag and company: a consumer below it missed entries.
CREATE TABLE IF NOT EXISTS pruned (
    tag TEXT NOT NULL,
    company TEXT NOT NULL,
    upto_seq INTEGER NOT NULL,
    PRIMARY KEY (tag, company)
) WITHOUT ROWID;
"""


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _received(value: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


class Buffer:
    """Thread-safe handle on the buffer file; one per process is enough."""

    def __init__(self, path: str) -> None:
        directory = os.path.dirname(os.path.abspath(path))
        os.makedirs(directory, exist_ok=True)
        self.path = path
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(path, check_same_thread=False, timeout=30, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.execute("PRAGMA busy_timeout=30000")
        with self._lock:
            self._conn.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def reopen(self) -> Buffer:
        """A second handle on the same file (for a server started inside a tap run)."""
        return Buffer(self.path)

    # --- writes (QBWC server) -------------------------------------------------------

    def append(
        self,
        company: str,
        sections: Iterable[SectionToStore],
        bookmarks: Mapping[str, str] | None = None,
        errors: Iterable[tuple[str, int | None, str]] = (),
        session: SessionWrite | None = None,
    ) -> list[int]:
        """Store sections, move bookmarks, record errors and save the session atomically.

        Objects whose (id, version) is already buffered are listed in the entry's
        skip list, so a re-read page (after a cut session) emits nothing twice.
        A session save that lost a race (StaleSession) rolls everything back.
        """
        stored: list[int] = []
        with self._lock:
            cur = self._conn.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                now = _now()
                for section in sections:
                    skip = self._register_versions(cur, company, section)
                    if section.versions and len(skip) == len(section.versions):
                        continue
                    cur.execute(
                        "INSERT INTO entries (company, tag, section, received_at, skip_ids, body)"
                        " VALUES (?, ?, ?, ?, ?, ?)",
                        (company, section.tag, section.section, now, json.dumps(sorted(skip)), section.body),
                    )
                    seq = int(cur.lastrowid or 0)
                    if section.records is not None and section.mapping:
                        cur.execute("INSERT INTO entry_mappings (seq, mapping) VALUES (?, ?)", (seq, section.mapping))
                        cur.executemany(
                            "INSERT INTO entry_records (seq, stream, body) VALUES (?, ?, ?)",
                            [(seq, stream, body) for stream, body in section.record_arrays(skip).items()],
                        )
                    stored.append(seq)
                for query, value in (bookmarks or {}).items():
                    cur.execute(
                        "INSERT INTO bookmarks (company, query, value, updated_at) VALUES (?, ?, ?, ?)"
                        " ON CONFLICT (company, query) DO UPDATE SET value = excluded.value,"
                        " updated_at = excluded.updated_at",
                        (company, query, value, now),
                    )
                for query, status, message in errors:
                    cur.execute(
                        "INSERT INTO request_errors (company, query, status_code, message, at)"
                        " VALUES (?, ?, ?, ?, ?)",
                        (company, query, status, message, now),
                    )
                if session is not None:
                    self._save_session(cur, session)
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
        return stored

    @staticmethod
    def _register_versions(cur: sqlite3.Cursor, company: str, section: SectionToStore) -> set[str]:
        skip: set[str] = set()
        for object_id, version in section.versions:
            row = cur.execute(
                "SELECT version FROM versions WHERE company = ? AND tag = ? AND object_id = ?",
                (company, section.tag, object_id),
            ).fetchone()
            if row is not None and row[0] == version:
                skip.add(object_id)
                continue
            cur.execute(
                "INSERT INTO versions (company, tag, object_id, version) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (company, tag, object_id) DO UPDATE SET version = excluded.version",
                (company, section.tag, object_id, version),
            )
        return skip

    @staticmethod
    def _save_session(cur: sqlite3.Cursor, write: SessionWrite) -> None:
        cur.execute(
            "UPDATE sessions SET state = ?, version = version + 1 WHERE ticket = ? AND version = ?",
            (write.state, write.ticket, write.expected_version),
        )
        if cur.rowcount != 1:
            raise StaleSession(f"session {write.ticket[:6]}… changed or ended while this call ran")

    # --- sessions (tickets) -----------------------------------------------------------

    def create_session(self, ticket: str, company: str, state: str, expires_at: float) -> None:
        with self._lock:
            # Expired sessions go when new ones come: the table stays as small as the
            # number of companies syncing right now.
            self._conn.execute("DELETE FROM sessions WHERE expires_at <= ?", (datetime.now(UTC).timestamp(),))
            self._conn.execute(
                "INSERT INTO sessions (ticket, company, state, version, expires_at) VALUES (?, ?, ?, 0, ?)",
                (ticket, company, state, expires_at),
            )

    def load_session(self, ticket: str, now: float) -> StoredSession | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT company, state, version, expires_at FROM sessions WHERE ticket = ? AND expires_at > ?",
                (ticket, now),
            ).fetchone()
        if row is None:
            return None
        return StoredSession(ticket, str(row[0]), str(row[1]), int(row[2]), float(row[3]))

    def save_session(self, write: SessionWrite) -> None:
        with self._lock:
            cur = self._conn.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                self._save_session(cur, write)
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise

    def end_session(self, ticket: str) -> StoredSession | None:
        with self._lock:
            row = self._conn.execute(
                "DELETE FROM sessions WHERE ticket = ? RETURNING company, state, version, expires_at",
                (ticket,),
            ).fetchone()
        if row is None:
            return None
        return StoredSession(ticket, str(row[0]), str(row[1]), int(row[2]), float(row[3]))

    def bookmarks(self, company: str) -> dict[str, str]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT query, value FROM bookmarks WHERE company = ?", (company,)
            ).fetchall()
        return {str(q): str(v) for q, v in rows}

    def record_failure(self, company: str, message: str) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT INTO company_status (company, consecutive_failures, last_failure_at, last_error)"
                " VALUES (?, 1, ?, ?) ON CONFLICT (company) DO UPDATE SET"
                " consecutive_failures = consecutive_failures + 1,"
                " last_failure_at = excluded.last_failure_at, last_error = excluded.last_error",
                (company, _now(), message),
            )

    def record_success(self, company: str) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT INTO company_status (company, consecutive_failures, last_success_at)"
                " VALUES (?, 0, ?) ON CONFLICT (company) DO UPDATE SET"
                " consecutive_failures = 0, last_success_at = excluded.last_success_at",
                (company, _now()),
            )

    def company_status(self, company: str) -> CompanyStatus:
        with self._lock:
            row = self._conn.execute(
                "SELECT consecutive_failures, last_failure_at, last_error FROM company_status"
                " WHERE company = ?",
                (company,),
            ).fetchone()
        if row is None:
            return CompanyStatus(0, None, None)
        return CompanyStatus(
            int(row[0]), datetime.fromisoformat(row[1]) if row[1] else None, row[2]
        )

    def request_errors(self, company: str) -> list[tuple[str, int | None, str]]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT query, status_code, message FROM request_errors WHERE company = ? ORDER BY id",
                (company,),
            ).fetchall()
        return [(str(q), s, str(m)) for q, s, m in rows]

    # --- reads and pruning (tap runs) -----------------------------------------------

    def max_seq(self) -> int:
        with self._lock:
            row = self._conn.execute("SELECT COALESCE(MAX(seq), 0) FROM entries").fetchone()
        return int(row[0])

    def iter_entries(
        self, tags: Sequence[str], companies: Sequence[str], after_seq: int, upto_seq: int,
        batch_size: int = 64, *, stream: str | None = None, mapping: str | None = None,
    ) -> Iterator[Entry]:
        """Entries in sequence order, fetched in small batches to bound memory.

        With `stream` and `mapping`, an entry mapped by that mapping comes with the
        stream's stored records instead of its qbXML (see `Entry`).
        """
        if not tags or not companies:
            return
        tag_marks = ",".join("?" * len(tags))
        company_marks = ",".join("?" * len(companies))
        mapped = stream is not None and mapping is not None
        # Only "?" placeholders are interpolated; every value is bound.
        if mapped:
            query = (
                "SELECT e.seq, e.company, e.tag, e.section, e.skip_ids, e.received_at,"  # noqa: S608
                " CASE WHEN m.mapping = ? THEN x'' ELSE e.body END,"
                " CASE WHEN m.mapping = ? THEN coalesce(r.body, x'') END"
                " FROM entries e LEFT JOIN entry_mappings m ON m.seq = e.seq"
                " LEFT JOIN entry_records r ON r.seq = e.seq AND r.stream = ?"
                f" WHERE e.tag IN ({tag_marks}) AND e.company IN ({company_marks})"
                " AND e.seq > ? AND e.seq <= ? ORDER BY e.seq LIMIT ?"
            )
            leading: tuple[object, ...] = (mapping, mapping, stream)
        else:
            query = (
                "SELECT seq, company, tag, section, skip_ids, received_at, body, NULL FROM entries"  # noqa: S608
                f" WHERE tag IN ({tag_marks}) AND company IN ({company_marks})"
                " AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?"
            )
            leading = ()
        last = after_seq
        while True:
            with self._lock:
                rows = self._conn.execute(
                    query, (*leading, *tags, *companies, last, upto_seq, batch_size)
                ).fetchall()
            if not rows:
                return
            for seq, company, tag, section, skip_ids, received_at, body, records in rows:
                yield Entry(
                    int(seq), company, tag, section, frozenset(json.loads(skip_ids)), bytes(body),
                    None if records is None else bytes(records), _received(received_at),
                )
                last = int(seq)

    def prune(self, tag: str, companies: Sequence[str], upto_seq: int) -> int:
        """Delete entries a target has committed (state handed back by Meltano)."""
        if not companies or upto_seq <= 0:
            return 0
        marks = ",".join("?" * len(companies))
        where = f"tag = ? AND company IN ({marks}) AND seq <= ?"
        with self._lock:
            cur = self._conn.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                for table in ("entry_records", "entry_mappings"):
                    cur.execute(
                        f"DELETE FROM {table} WHERE seq IN (SELECT seq FROM entries WHERE {where})",  # noqa: S608
                        (tag, *companies, upto_seq),
                    )
                cur.execute(f"DELETE FROM entries WHERE {where}", (tag, *companies, upto_seq))  # noqa: S608
                deleted = int(cur.rowcount)
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            return deleted

    def count_entries(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM entries").fetchone()[0])

    # --- consumers ------------------------------------------------------------------------

    def register_consumer(
        self, consumer: str, positions: Mapping[tuple[str, str], int | None], retention_seconds: float,
    ) -> ConsumerRegistration:
        """Record what `consumer` committed and decide what every live consumer has committed.

        One transaction (BEGIN IMMEDIATE serialises it with every other run's), so a
        consumer registering while another run prunes is either counted by that prune
        or sees its mark; the caller then deletes up to `prune_to` with `prune`.
        A position of None means this consumer never read the tag: 0 is registered,
        and if entries of it were already pruned, the company's bookmarks (and buffered
        versions) are reset so the next Web Connector session reads it again in full.
        """
        now = datetime.now(UTC)
        cutoff = (now - timedelta(seconds=retention_seconds)).isoformat()
        with self._lock:
            cur = self._conn.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                marks = {pair: self._pruned_mark(cur, *pair) for pair in positions}
                behind, reloaded = consumer_standing(positions, marks)
                if behind:
                    cur.execute("ROLLBACK")
                    return ConsumerRegistration(behind=behind)
                for company in reloaded:
                    cur.execute("DELETE FROM bookmarks WHERE company = ?", (company,))
                    cur.execute("DELETE FROM versions WHERE company = ?", (company,))
                for (tag, company), pos in positions.items():
                    cur.execute(
                        "INSERT INTO consumers (consumer, tag, company, position, last_seen) VALUES (?, ?, ?, ?, ?)"
                        " ON CONFLICT (consumer, tag, company) DO UPDATE SET position = excluded.position,"
                        " last_seen = excluded.last_seen",
                        (consumer, tag, company, pos or 0, now.isoformat()),
                    )
                prune_to: dict[tuple[str, str], int] = {}
                for tag, company in positions:
                    bound = cur.execute(
                        "SELECT MIN(position) FROM consumers WHERE tag = ? AND company = ? AND last_seen >= ?",
                        (tag, company, cutoff),
                    ).fetchone()[0]
                    last = None if bound is None else cur.execute(
                        "SELECT MAX(seq) FROM entries WHERE tag = ? AND company = ? AND seq <= ?",
                        (tag, company, bound),
                    ).fetchone()[0]
                    if bound is None or last is None:
                        continue
                    cur.execute(
                        "INSERT INTO pruned (tag, company, upto_seq) VALUES (?, ?, ?) ON CONFLICT (tag, company)"
                        " DO UPDATE SET upto_seq = MAX(upto_seq, excluded.upto_seq)",
                        (tag, company, int(last)),
                    )
                    prune_to[(tag, company)] = int(bound)
                cur.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:
                    cur.execute("ROLLBACK")
                raise
        return ConsumerRegistration(reloaded=reloaded, prune_to=prune_to)

    @staticmethod
    def _pruned_mark(cur: sqlite3.Cursor, tag: str, company: str) -> int:
        row = cur.execute("SELECT upto_seq FROM pruned WHERE tag = ? AND company = ?", (tag, company)).fetchone()
        return int(row[0]) if row else 0

    def consumers(self) -> list[ConsumerRow]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT c.consumer, c.tag, c.company, c.position, c.last_seen,"
                " (SELECT COUNT(*) FROM entries e WHERE e.tag = c.tag AND e.company = c.company"
                "  AND e.seq > c.position)"
                " FROM consumers c ORDER BY c.consumer, c.company, c.tag"
            ).fetchall()
        return [ConsumerRow(str(c), str(t), str(co), int(p), datetime.fromisoformat(s), int(w))
                for c, t, co, p, s, w in rows]
