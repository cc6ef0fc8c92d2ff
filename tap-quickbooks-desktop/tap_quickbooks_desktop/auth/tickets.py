"""Session tickets and password checks for the Web Connector's authenticate call."""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")


def password_matches(supplied: str, expected: str) -> bool:
    """Constant-time comparison so response timing does not leak the password."""
    return hmac.compare_digest(supplied.encode("utf-8"), expected.encode("utf-8"))


@dataclass
class _Entry(Generic[T]):
    value: T
    expires_at: float


class TicketStore(Generic[T]):
    """Random, expiring session tickets mapped to the session they identify.

    A ticket is the only credential QBWC presents after authenticate, so it is
    unguessable (128 bits from `secrets`) and forgotten once it expires or the
    session closes.
    """

    def __init__(self, ttl_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl_seconds
        self._clock = clock
        self._entries: dict[str, _Entry[T]] = {}
        self._lock = threading.Lock()

    def issue(self, value: T) -> str:
        ticket = secrets.token_hex(16)
        with self._lock:
            self._purge_expired()
            self._entries[ticket] = _Entry(value, self._clock() + self._ttl)
        return ticket

    def get(self, ticket: str | None) -> T | None:
        if not ticket:
            return None
        with self._lock:
            entry = self._entries.get(ticket)
            if entry is None:
                return None
            if entry.expires_at <= self._clock():
                del self._entries[ticket]
                return None
            return entry.value

    def revoke(self, ticket: str | None) -> T | None:
        if not ticket:
            return None
        with self._lock:
            entry = self._entries.pop(ticket, None)
        return entry.value if entry else None

    def values(self) -> list[T]:
        with self._lock:
            self._purge_expired()
            return [e.value for e in self._entries.values()]

    def _purge_expired(self) -> None:
        now = self._clock()
        for ticket in [t for t, e in self._entries.items() if e.expires_at <= now]:
            del self._entries[ticket]


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
