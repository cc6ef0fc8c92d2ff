"""The storage interface behind the QBWC server and the tap: buffer, bookmarks, sessions.

Two backends keep the same contract: `Buffer` (one SQLite file, the embedded default)
and `PostgresStore` (one database shared by several server replicas behind a load
balancer). Everything a Web Connector session needs between two calls lives here, so
any replica can answer any call and a replica that dies loses nothing but the call in
flight.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class SectionToStore:
    """A response section ready for the buffer: its stream tag and object versions.

    `records` (object id, stream, record JSON) are the section's records as mapped by
    `MAPPING_VERSION` `mapping` (see stored_records); None stores the qbXML alone.
    """

    tag: str
    section: str
    body: bytes
    versions: Sequence[tuple[str, str]]
    records: Sequence[tuple[str, str, bytes]] | None = None
    mapping: str | None = None

    def record_arrays(self, skip: set[str]) -> dict[str, bytes]:
        """Per stream, one JSON array of the records of objects not in `skip`."""
        parts: dict[str, list[bytes]] = {}
        for object_id, stream, record in self.records or ():
            if object_id not in skip:
                parts.setdefault(stream, []).append(record)
        return {stream: b"[" + b",".join(found) + b"]" for stream, found in parts.items()}


@dataclass(frozen=True)
class Entry:
    """One buffered response section as a tap run reads it.

    When read for one stream with the running code's mapping version, `records` holds
    that stream's records as stored (a JSON array; b"" for none) and `body` is empty;
    otherwise `records` is None and `body` is the qbXML to map.
    """

    seq: int
    company: str
    tag: str
    section: str
    skip_ids: frozenset[str]
    body: bytes
    records: bytes | None = None
    received_at: datetime | None = None


@dataclass(frozen=True)
class CompanyStatus:
    consecutive_failures: int
    last_failure_at: datetime | None
    last_error: str | None


@dataclass(frozen=True)
class StoredSession:
    """One Web Connector session as the store holds it between two calls.

    `version` grows by one on every save: a save that names an older version lost a
    race with a replayed call of the same session and writes nothing.
    """

    ticket: str
    company: str
    state: str
    version: int
    expires_at: float


@dataclass(frozen=True)
class SessionWrite:
    """A session's new state, saved in the same transaction as the data it describes."""

    ticket: str
    state: str
    expected_version: int


@dataclass(frozen=True)
class ConsumerRegistration:
    """What registering one reader (a Meltano job's state) at run start decided.

    `behind`: (tag, company, committed position, highest pruned seq) where entries this
    consumer never committed were pruned; nothing was registered or pruned then.
    `reloaded`: companies whose query bookmarks were reset because this consumer had
    never read a tag whose entries were already pruned (the next session re-reads them).
    `prune_to`: (tag, company) -> the sequence every live consumer has committed.
    """

    behind: tuple[tuple[str, str, int, int], ...] = ()
    reloaded: tuple[str, ...] = ()
    prune_to: Mapping[tuple[str, str], int] = field(default_factory=dict)


def consumer_standing(
    positions: Mapping[tuple[str, str], int | None], marks: Mapping[tuple[str, str], int],
) -> tuple[tuple[tuple[str, str, int, int], ...], tuple[str, ...]]:
    """(behind, reloaded) of a consumer, from its committed positions and the pruned marks
    (highest pruned seq per tag and company; 0 when none): the rule both stores apply.

    Behind: a committed position below what was pruned (changes it never read are gone).
    Reloaded: a company of which it never read a tag whose entries were already pruned."""
    behind = tuple(
        (tag, company, pos, marks[(tag, company)])
        for (tag, company), pos in sorted(positions.items())
        if pos is not None and pos < marks[(tag, company)]
    )
    reloaded = tuple(sorted({c for (t, c), pos in positions.items() if pos is None and marks[(t, c)]}))
    return behind, reloaded


@dataclass(frozen=True)
class ConsumerRow:
    """One consumer's committed position in one tag of one company (for `check`)."""

    consumer: str
    tag: str
    company: str
    position: int
    last_seen: datetime
    waiting: int  # entries after `position` still in the buffer


class StaleSession(RuntimeError):
    """The session changed (or ended) since it was read: the write was rolled back."""


class StateStore(Protocol):
    """What the QBWC server and the tap need from a backend; see `Buffer` for the rules."""

    # --- QBWC server: responses, bookmarks, errors ---------------------------------------
    def append(
        self,
        company: str,
        sections: Iterable[SectionToStore],
        bookmarks: Mapping[str, str] | None = None,
        errors: Iterable[tuple[str, int | None, str]] = (),
        session: SessionWrite | None = None,
    ) -> list[int]: ...

    def bookmarks(self, company: str) -> dict[str, str]: ...
    def record_failure(self, company: str, message: str) -> None: ...
    def record_success(self, company: str) -> None: ...
    def company_status(self, company: str) -> CompanyStatus: ...
    def request_errors(self, company: str) -> list[tuple[str, int | None, str]]: ...

    # --- QBWC server: session tickets ----------------------------------------------------
    def create_session(self, ticket: str, company: str, state: str, expires_at: float) -> None: ...
    def load_session(self, ticket: str, now: float) -> StoredSession | None: ...
    def save_session(self, write: SessionWrite) -> None: ...
    def end_session(self, ticket: str) -> StoredSession | None: ...

    # --- tap runs ------------------------------------------------------------------------
    def max_seq(self) -> int: ...
    def iter_entries(
        self, tags: Sequence[str], companies: Sequence[str], after_seq: int, upto_seq: int,
        batch_size: int = 8, *, stream: str | None = None, mapping: str | None = None,
    ) -> Iterator[Entry]: ...
    def prune(self, tag: str, companies: Sequence[str], upto_seq: int) -> int: ...
    def count_entries(self) -> int: ...

    # --- consumers (each Meltano job's state is one reader of the buffer) ------------------
    def register_consumer(
        self, consumer: str, positions: Mapping[tuple[str, str], int | None], retention_seconds: float,
    ) -> ConsumerRegistration: ...
    def consumers(self) -> list[ConsumerRow]: ...

    def reopen(self) -> StateStore: ...
    def close(self) -> None: ...


def is_postgres_url(url: str | None) -> bool:
    return bool(url) and str(url).startswith(("postgresql://", "postgres://"))


def open_store(settings: Mapping[str, Any]) -> StateStore:
    """The backend the settings name: PostgreSQL for `state_database_url`, else SQLite."""
    from .config import DEFAULT_BUFFER_PATH

    url = settings.get("state_database_url")
    if url:
        if not is_postgres_url(url):
            from .config import ConfigError

            raise ConfigError(
                "state_database_url must be a postgresql:// URL; leave it empty to keep the "
                "buffer in the SQLite file at buffer_path"
            )
        from .store_postgres import PostgresStore

        return PostgresStore(str(url))
    from .buffer import Buffer

    return Buffer(str(settings.get("buffer_path") or DEFAULT_BUFFER_PATH))
