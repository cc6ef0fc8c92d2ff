"""Per-realm throttling (500 requests/min, 10 in flight), injected faults and call counters."""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class RealmStats:
    total: int = 0
    by_endpoint: Counter[str] = field(default_factory=Counter)
    by_entity: Counter[str] = field(default_factory=Counter)
    by_status: Counter[int] = field(default_factory=Counter)
    minorversions: Counter[int] = field(default_factory=Counter)
    requests: list[tuple[str, str, int]] = field(default_factory=list)
    max_concurrent: int = 0
    throttled: int = 0

    MAX_LOGGED = 200_000

    def record(self, method: str, path: str, endpoint: str, entity: str | None, status: int) -> None:
        self.total += 1
        self.by_endpoint[endpoint] += 1
        self.by_status[status] += 1
        if entity:
            self.by_entity[entity] += 1
        if len(self.requests) < self.MAX_LOGGED:
            self.requests.append((method, path, status))


class Throttle:
    """Sliding one-minute window plus a concurrency gate, as Intuit applies per realm."""

    def __init__(self, per_minute: int, max_concurrent: int) -> None:
        self.per_minute = per_minute
        self.max_concurrent = max_concurrent
        self._lock = threading.Lock()
        self._window: deque[float] = deque()
        self.in_flight = 0

    def enter(self, stats: RealmStats) -> float | None:
        """None when admitted, else seconds the caller should wait (Retry-After)."""
        now = time.monotonic()
        with self._lock:
            while self._window and now - self._window[0] >= 60:
                self._window.popleft()
            if self.in_flight >= self.max_concurrent:
                return 1.0
            if len(self._window) >= self.per_minute:
                return max(1.0, 60 - (now - self._window[0]))
            self._window.append(now)
            self.in_flight += 1
            stats.max_concurrent = max(stats.max_concurrent, self.in_flight)
            return None

    def leave(self) -> None:
        with self._lock:
            self.in_flight -= 1


@dataclass
class _Pending:
    remaining: int
    realm_id: str | None
    value: float = 0.0


class FaultInjector:
    """Faults for the next N API calls; each call consumes at most one of each kind."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._fail: list[_Pending] = []
        self._slow: list[_Pending] = []
        self._drop: list[_Pending] = []
        self._token_fail: list[_Pending] = []
        # Wired by QBOSandbox to its token authority, so tests reach token faults through `faults`.
        self.expire_hook: Callable[[], None] | None = None
        self.revoke_hook: Callable[[str], None] | None = None

    def fail_next(self, n: int = 1, status: int = 503, realm_id: str | None = None) -> None:
        with self._lock:
            self._fail.append(_Pending(n, realm_id, float(status)))

    def slow(self, seconds: float, n: int = 1, realm_id: str | None = None) -> None:
        with self._lock:
            self._slow.append(_Pending(n, realm_id, seconds))

    def drop_connections(self, n: int = 1, realm_id: str | None = None) -> None:
        with self._lock:
            self._drop.append(_Pending(n, realm_id))

    def fail_token_endpoint(self, n: int = 1, status: int = 500) -> None:
        with self._lock:
            self._token_fail.append(_Pending(n, None, float(status)))

    def expire_access_tokens(self) -> None:
        """Every access token issued so far answers 401 from now on (token expiry mid-run)."""
        if self.expire_hook is not None:
            self.expire_hook()

    def revoke(self, token: str) -> None:
        """A refresh token (and the access tokens it minted) or an access token stops working."""
        if self.revoke_hook is not None:
            self.revoke_hook(token)

    def clear(self) -> None:
        with self._lock:
            self._fail.clear()
            self._slow.clear()
            self._drop.clear()
            self._token_fail.clear()

    @staticmethod
    def _take(queue: list[_Pending], realm_id: str | None) -> _Pending | None:
        for pending in queue:
            if pending.realm_id is None or pending.realm_id == realm_id:
                pending.remaining -= 1
                if pending.remaining <= 0:
                    queue.remove(pending)
                return pending
        return None

    def take_drop(self, realm_id: str | None) -> bool:
        with self._lock:
            return self._take(self._drop, realm_id) is not None

    def take_slow(self, realm_id: str | None) -> float:
        with self._lock:
            pending = self._take(self._slow, realm_id)
        return pending.value if pending else 0.0

    def take_fail(self, realm_id: str | None) -> int | None:
        with self._lock:
            pending = self._take(self._fail, realm_id)
        return int(pending.value) if pending else None

    def take_token_fail(self) -> int | None:
        with self._lock:
            pending = self._take(self._token_fail, None)
        return int(pending.value) if pending else None

