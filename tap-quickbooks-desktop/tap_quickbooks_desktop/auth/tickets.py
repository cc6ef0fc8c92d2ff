"""Session tickets and password checks for the Web Connector's authenticate call."""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ..store import StateStore, StoredSession


def password_matches(supplied: str, expected: str) -> bool:
    """Constant-time comparison so response timing does not leak the password."""
    return hmac.compare_digest(supplied.encode("utf-8"), expected.encode("utf-8"))


class TicketStore:
    """Random, expiring session tickets mapped to the session state they identify.

    A ticket is the only credential QBWC presents after authenticate, so it is
    unguessable (128 bits from `secrets`) and forgotten once it expires or the
    session closes. The sessions live in the state store, not in this process: a
    Web Connector call may land on any replica, and a replica may die between calls.
    Expiry uses the wall clock because replicas share no monotonic clock.
    """

    def __init__(
        self, store: StateStore, ttl_seconds: float, clock: Callable[[], float] = time.time
    ) -> None:
        self._store = store
        self._ttl = ttl_seconds
        self._clock = clock

    def issue(self, company: str, state: str) -> str:
        ticket = secrets.token_hex(16)
        self._store.create_session(ticket, company, state, self._clock() + self._ttl)
        return ticket

    def get(self, ticket: str | None) -> StoredSession | None:
        if not ticket:
            return None
        return self._store.load_session(ticket, self._clock())

    def revoke(self, ticket: str | None) -> StoredSession | None:
        if not ticket:
            return None
        return self._store.end_session(ticket)


@dataclass
class LoginThrottle:
    """Slows down repeated bad passwords for one user name (online guessing)."""

    base_delay: float = 0.25
    max_delay: float = 5.0
    _failures: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record_failure(self, username: str) -> float:
        """Count a failure and return how long to wait before answering it."""
        with self._lock:
            count = self._failures.get(username, 0) + 1
            # Bound the table so random user names cannot grow it without limit.
            if len(self._failures) > 10_000:
                self._failures.clear()
            self._failures[username] = count
        return min(self.max_delay, self.base_delay * (2 ** (count - 1)))

    def record_success(self, username: str) -> None:
        with self._lock:
            self._failures.pop(username, None)

    def failures(self, username: str) -> int:
        with self._lock:
            return self._failures.get(username, 0)
