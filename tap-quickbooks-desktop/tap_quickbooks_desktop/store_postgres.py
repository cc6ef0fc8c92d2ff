"""The PostgreSQL backend of the state store: one database behind several QBWC replicas.

Same contract as the SQLite `Buffer`. Two things differ because several processes
write at once:
* `seq` must become visible in order, or a tap run that read up to seq 12 would
  never see a seq 11 committed a moment later. Appends take one transaction-level
  advisory lock just before inserting entries, so sequence numbers are handed out
  in commit order; the lock covers the insert and the commit only, never a
  QuickBooks round trip, and companies' sessions do not otherwise wait on each other.
* Sessions carry a version; a save naming an older version writes nothing.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

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

# Any fixed 64-bit numbers will do; they name this store's locks in pg_locks.
_SEQ_LOCK = 0x5142_4457_0001
_DDL_LOCK = 0x5142_4457_0002
_CONSUMER_LOCK = 0x5142_4457_0003
_POOL_SIZE = 16

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS qbd_entries (
        seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        company TEXT NOT NULL,
        tag TEXT NOT NULL,
        section TEXT NOT NULL,
        received_at TIMESTAMPTZ NOT NULL,
        skip_ids TEXT NOT NULL DEFAULT '[]',
        body BYTEA NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS qbd_entries_by_tag ON qbd_entries (tag, company, seq)",
    # Entries stored with their records (stored_records): tables of their own, so a store
    # from before them needs no migration.
    """CREATE TABLE IF NOT EXISTS qbd_entry_mappings (
        seq BIGINT PRIMARY KEY, mapping TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS qbd_entry_records (
        seq BIGINT NOT NULL, stream TEXT NOT NULL, body BYTEA NOT NULL,
        PRIMARY KEY (seq, stream))""",
    """CREATE TABLE IF NOT EXISTS qbd_versions (
        company TEXT NOT NULL, tag TEXT NOT NULL, object_id TEXT NOT NULL, version TEXT NOT NULL,
        PRIMARY KEY (company, tag, object_id))""",
    """CREATE TABLE IF NOT EXISTS qbd_bookmarks (
        company TEXT NOT NULL, query TEXT NOT NULL, value TEXT NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL, PRIMARY KEY (company, query))""",
    """CREATE TABLE IF NOT EXISTS qbd_request_errors (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        company TEXT NOT NULL, query TEXT NOT NULL, status_code INTEGER,
        message TEXT NOT NULL, at TIMESTAMPTZ NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS qbd_company_status (
        company TEXT PRIMARY KEY, consecutive_failures INTEGER NOT NULL DEFAULT 0,
        last_failure_at TIMESTAMPTZ, last_error TEXT, last_success_at TIMESTAMPTZ)""",
    """CREATE TABLE IF NOT EXISTS qbd_sessions (
        ticket TEXT PRIMARY KEY, company TEXT NOT NULL, state TEXT NOT NULL,
        version INTEGER NOT NULL, expires_at DOUBLE PRECISION NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS qbd_sessions_by_expiry ON qbd_sessions (expires_at)",
    # Readers of the buffer (one per Meltano state id) and the highest entry pruned per tag
    # and company; see Buffer.register_consumer.
    """CREATE TABLE IF NOT EXISTS qbd_consumers (
        consumer TEXT NOT NULL, tag TEXT NOT NULL, company TEXT NOT NULL, position BIGINT NOT NULL,
        last_seen TIMESTAMPTZ NOT NULL, PRIMARY KEY (consumer, tag, company))""",
    """CREATE TABLE IF NOT EXISTS qbd_pruned (
        tag TEXT NOT NULL, company TEXT NOT NULL, upto_seq BIGINT NOT NULL, PRIMARY KEY (tag, company))""",
)


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError as exc:
        raise RuntimeError(
            "state_database_url needs the PostgreSQL driver: "
            "pip install 'tap-quickbooks-desktop[postgres]' (or psycopg[binary])"
        ) from exc
    return psycopg


class PostgresStore:
    """Thread-safe; each call borrows a connection from a small pool."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._psycopg = _psycopg()
        self._pool: queue.LifoQueue[Any] = queue.LifoQueue(maxsize=_POOL_SIZE)
        self._closed = threading.Event()
        with self._transaction() as cur:
            # Replicas starting together would race on CREATE TABLE IF NOT EXISTS.
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (_DDL_LOCK,))
            for statement in _SCHEMA:
                cur.execute(statement)

    def __repr__(self) -> str:
        # The URL may hold a password: never print it.
        return "PostgresStore(<state_database_url>)"

    # --- connections ---------------------------------------------------------------------

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        try:
            conn = self._pool.get_nowait()
        except queue.Empty:
            conn = self._psycopg.connect(self.url, autocommit=False, connect_timeout=10)
        broken = False
        try:
            with conn.transaction(), conn.cursor() as cur:
                yield cur
        except self._psycopg.OperationalError:
            broken = True
            raise
        finally:
            if broken or conn.closed or self._closed.is_set():
                conn.close()
            else:
                try:
                    self._pool.put_nowait(conn)
                except queue.Full:
                    conn.close()

    def close(self) -> None:
        self._closed.set()
        while True:
            try:
                self._pool.get_nowait().close()
            except queue.Empty:
                return

    def reopen(self) -> PostgresStore:
        return PostgresStore(self.url)

    # --- writes (QBWC server) ------------------------------------------------------------

    def append(
        self,
        company: str,
        sections: Iterable[SectionToStore],
        bookmarks: Mapping[str, str] | None = None,
        errors: Iterable[tuple[str, int | None, str]] = (),
        session: SessionWrite | None = None,
    ) -> list[int]:
        stored: list[int] = []
        now = datetime.now(UTC)
        with self._transaction() as cur:
            if session is not None:
                # First, so a call that lost the race writes nothing and waits on no lock.
                self._save_session(cur, session)
            rows = []
            for section in sections:
                skip = self._register_versions(cur, company, section)
                if section.versions and len(skip) >= len({i for i, _ in section.versions}):
                    continue
                mapping = section.mapping if section.records is not None else None
                rows.append((
                    (company, section.tag, section.section, now, json.dumps(sorted(skip)), section.body),
                    mapping, section.record_arrays(skip) if mapping else {},
                ))
            if rows:
                cur.execute("SELECT pg_advisory_xact_lock(%s)", (_SEQ_LOCK,))
                for row, mapping, arrays in rows:
                    cur.execute(
                        "INSERT INTO qbd_entries (company, tag, section, received_at, skip_ids, body)"
                        " VALUES (%s, %s, %s, %s, %s, %s) RETURNING seq",
                        row,
                    )
                    seq = int(cur.fetchone()[0])
                    if mapping:
                        cur.execute("INSERT INTO qbd_entry_mappings (seq, mapping) VALUES (%s, %s)", (seq, mapping))
                    if arrays:
                        cur.executemany(
                            "INSERT INTO qbd_entry_records (seq, stream, body) VALUES (%s, %s, %s)",
                            [(seq, stream, body) for stream, body in arrays.items()],
                        )
                    stored.append(seq)
            for query, value in (bookmarks or {}).items():
                cur.execute(
                    "INSERT INTO qbd_bookmarks (company, query, value, updated_at) VALUES (%s, %s, %s, %s)"
                    " ON CONFLICT (company, query) DO UPDATE SET value = excluded.value,"
                    " updated_at = excluded.updated_at",
                    (company, query, value, now),
                )
            for query, status, message in errors:
                cur.execute(
                    "INSERT INTO qbd_request_errors (company, query, status_code, message, at)"
                    " VALUES (%s, %s, %s, %s, %s)",
                    (company, query, status, message, now),
                )
        return stored

    @staticmethod
    def _register_versions(cur: Any, company: str, section: SectionToStore) -> set[str]:
        """Objects already buffered in this version; one statement per section."""
        if not section.versions:
            return set()
        latest = dict(section.versions)
        ids, versions = list(latest), [latest[i] for i in latest]
        cur.execute(
            "INSERT INTO qbd_versions (company, tag, object_id, version)"
            " SELECT %s, %s, v.object_id, v.version FROM unnest(%s::text[], %s::text[]) AS v(object_id, version)"
            " ON CONFLICT (company, tag, object_id) DO UPDATE SET version = excluded.version"
            " WHERE qbd_versions.version IS DISTINCT FROM excluded.version"
            " RETURNING object_id",
            (company, section.tag, ids, versions),
        )
        changed = {str(row[0]) for row in cur.fetchall()}
        return set(ids) - changed

    @staticmethod
    def _save_session(cur: Any, write: SessionWrite) -> None:
        cur.execute(
            "UPDATE qbd_sessions SET state = %s, version = version + 1 WHERE ticket = %s AND version = %s",
            (write.state, write.ticket, write.expected_version),
        )
        if cur.rowcount != 1:
            raise StaleSession(f"session {write.ticket[:6]}… changed or ended while this call ran")

    def bookmarks(self, company: str) -> dict[str, str]:
        with self._transaction() as cur:
            cur.execute("SELECT query, value FROM qbd_bookmarks WHERE company = %s", (company,))
            return {str(q): str(v) for q, v in cur.fetchall()}

    def record_failure(self, company: str, message: str) -> None:
        with self._transaction() as cur:
            cur.execute(
                "INSERT INTO qbd_company_status (company, consecutive_failures, last_failure_at, last_error)"
                " VALUES (%s, 1, %s, %s) ON CONFLICT (company) DO UPDATE SET"
                " consecutive_failures = qbd_company_status.consecutive_failures + 1,"
                " last_failure_at = excluded.last_failure_at, last_error = excluded.last_error",
                (company, datetime.now(UTC), message),
            )

    def record_success(self, company: str) -> None:
        with self._transaction() as cur:
            cur.execute(
                "INSERT INTO qbd_company_status (company, consecutive_failures, last_success_at)"
                " VALUES (%s, 0, %s) ON CONFLICT (company) DO UPDATE SET"
                " consecutive_failures = 0, last_success_at = excluded.last_success_at",
                (company, datetime.now(UTC)),
            )

    def company_status(self, company: str) -> CompanyStatus:
        with self._transaction() as cur:
            cur.execute(
                "SELECT consecutive_failures, last_failure_at, last_error FROM qbd_company_status"
                " WHERE company = %s",
                (company,),
            )
            row = cur.fetchone()
        if row is None:
            return CompanyStatus(0, None, None)
        return CompanyStatus(int(row[0]), row[1], row[2])

    def request_errors(self, company: str) -> list[tuple[str, int | None, str]]:
        with self._transaction() as cur:
            cur.execute(
                "SELECT query, status_code, message FROM qbd_request_errors WHERE company = %s ORDER BY id",
                (company,),
            )
            return [(str(q), s, str(m)) for q, s, m in cur.fetchall()]

    # --- sessions (tickets) --------------------------------------------------------------

    def create_session(self, ticket: str, company: str, state: str, expires_at: float) -> None:
        with self._transaction() as cur:
            cur.execute("DELETE FROM qbd_sessions WHERE expires_at <= %s", (datetime.now(UTC).timestamp(),))
            cur.execute(
                "INSERT INTO qbd_sessions (ticket, company, state, version, expires_at)"
                " VALUES (%s, %s, %s, 0, %s)",
                (ticket, company, state, expires_at),
            )

    def load_session(self, ticket: str, now: float) -> StoredSession | None:
        with self._transaction() as cur:
            cur.execute(
                "SELECT company, state, version, expires_at FROM qbd_sessions"
                " WHERE ticket = %s AND expires_at > %s",
                (ticket, now),
            )
            row = cur.fetchone()
        if row is None:
            return None
        return StoredSession(ticket, str(row[0]), str(row[1]), int(row[2]), float(row[3]))

    def save_session(self, write: SessionWrite) -> None:
        with self._transaction() as cur:
            self._save_session(cur, write)

    def end_session(self, ticket: str) -> StoredSession | None:
        with self._transaction() as cur:
            cur.execute(
                "DELETE FROM qbd_sessions WHERE ticket = %s RETURNING company, state, version, expires_at",
                (ticket,),
            )
            row = cur.fetchone()
        if row is None:
            return None
        return StoredSession(ticket, str(row[0]), str(row[1]), int(row[2]), float(row[3]))

    # --- reads and pruning (tap runs) ----------------------------------------------------

    def max_seq(self) -> int:
        with self._transaction() as cur:
            cur.execute("SELECT COALESCE(MAX(seq), 0) FROM qbd_entries")
            return int(cur.fetchone()[0])

    def iter_entries(
        self, tags: Sequence[str], companies: Sequence[str], after_seq: int, upto_seq: int,
        batch_size: int = 8, *, stream: str | None = None, mapping: str | None = None,
    ) -> Iterator[Entry]:
        if not tags or not companies:
            return
        if stream is not None and mapping is not None:
            query = (
                "SELECT e.seq, e.company, e.tag, e.section, e.skip_ids, e.received_at,"
                " CASE WHEN m.mapping = %s THEN ''::bytea ELSE e.body END,"
                " CASE WHEN m.mapping = %s THEN coalesce(r.body, ''::bytea) END"
                " FROM qbd_entries e LEFT JOIN qbd_entry_mappings m ON m.seq = e.seq"
                " LEFT JOIN qbd_entry_records r ON r.seq = e.seq AND r.stream = %s"
                " WHERE e.tag = ANY(%s) AND e.company = ANY(%s) AND e.seq > %s AND e.seq <= %s"
                " ORDER BY e.seq LIMIT %s"
            )
            leading: tuple[object, ...] = (mapping, mapping, stream)
        else:
            query = (
                "SELECT seq, company, tag, section, skip_ids, received_at, body, NULL::bytea FROM qbd_entries"
                " WHERE tag = ANY(%s) AND company = ANY(%s) AND seq > %s AND seq <= %s"
                " ORDER BY seq LIMIT %s"
            )
            leading = ()
        last = after_seq
        while True:
            with self._transaction() as cur:
                cur.execute(query, (*leading, list(tags), list(companies), last, upto_seq, batch_size))
                rows = cur.fetchall()
            if not rows:
                return
            for seq, company, tag, section, skip_ids, received_at, body, records in rows:
                yield Entry(
                    int(seq), company, tag, section, frozenset(json.loads(skip_ids)), bytes(body),
                    None if records is None else bytes(records),
                    received_at.astimezone(UTC) if received_at is not None else None,
                )
                last = int(seq)

    def prune(self, tag: str, companies: Sequence[str], upto_seq: int) -> int:
        if not companies or upto_seq <= 0:
            return 0
        with self._transaction() as cur:
            for table in ("qbd_entry_records", "qbd_entry_mappings"):
                cur.execute(
                    f"DELETE FROM {table} WHERE seq IN (SELECT seq FROM qbd_entries"  # noqa: S608
                    " WHERE tag = %s AND company = ANY(%s) AND seq <= %s)",
                    (tag, list(companies), upto_seq),
                )
            cur.execute(
                "DELETE FROM qbd_entries WHERE tag = %s AND company = ANY(%s) AND seq <= %s",
                (tag, list(companies), upto_seq),
            )
            return int(cur.rowcount)

    def count_entries(self) -> int:
        with self._transaction() as cur:
            cur.execute("SELECT COUNT(*) FROM qbd_entries")
            return int(cur.fetchone()[0])

    # --- consumers -----------------------------------------------------------------------

    def register_consumer(
        self, consumer: str, positions: Mapping[tuple[str, str], int | None], retention_seconds: float,
    ) -> ConsumerRegistration:
        """Same rules as `Buffer.register_consumer`; one advisory lock serialises the runs."""
        now = datetime.now(UTC)
        cutoff = now - timedelta(seconds=retention_seconds)
        with self._transaction() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (_CONSUMER_LOCK,))
            marks: dict[tuple[str, str], int] = {}
            for tag, company in positions:
                cur.execute("SELECT upto_seq FROM qbd_pruned WHERE tag = %s AND company = %s", (tag, company))
                row = cur.fetchone()
                marks[(tag, company)] = int(row[0]) if row else 0
            behind, reloaded = consumer_standing(positions, marks)
            if behind:
                return ConsumerRegistration(behind=behind)
            for company in reloaded:
                cur.execute("DELETE FROM qbd_bookmarks WHERE company = %s", (company,))
                cur.execute("DELETE FROM qbd_versions WHERE company = %s", (company,))
            for (tag, company), pos in positions.items():
                cur.execute(
                    "INSERT INTO qbd_consumers (consumer, tag, company, position, last_seen)"
                    " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (consumer, tag, company) DO UPDATE SET"
                    " position = excluded.position, last_seen = excluded.last_seen",
                    (consumer, tag, company, pos or 0, now),
                )
            prune_to: dict[tuple[str, str], int] = {}
            for tag, company in positions:
                cur.execute(
                    "SELECT MIN(position) FROM qbd_consumers WHERE tag = %s AND company = %s AND last_seen >= %s",
                    (tag, company, cutoff),
                )
                bound = cur.fetchone()[0]
                if bound is None:
                    continue
                cur.execute(
                    "SELECT MAX(seq) FROM qbd_entries WHERE tag = %s AND company = %s AND seq <= %s",
                    (tag, company, bound),
                )
                last = cur.fetchone()[0]
                if last is None:
                    continue
                cur.execute(
                    "INSERT INTO qbd_pruned (tag, company, upto_seq) VALUES (%s, %s, %s) ON CONFLICT (tag, company)"
                    " DO UPDATE SET upto_seq = GREATEST(qbd_pruned.upto_seq, excluded.upto_seq)",
                    (tag, company, int(last)),
                )
                prune_to[(tag, company)] = int(bound)
        return ConsumerRegistration(reloaded=reloaded, prune_to=prune_to)

    def consumers(self) -> list[ConsumerRow]:
        with self._transaction() as cur:
            cur.execute(
                "SELECT c.consumer, c.tag, c.company, c.position, c.last_seen,"
                " (SELECT COUNT(*) FROM qbd_entries e WHERE e.tag = c.tag AND e.company = c.company"
                "  AND e.seq > c.position)"
                " FROM qbd_consumers c ORDER BY c.consumer, c.company, c.tag"
            )
            rows = cur.fetchall()
        return [ConsumerRow(str(c), str(t), str(co), int(p), s, int(w)) for c, t, co, p, s, w in rows]
