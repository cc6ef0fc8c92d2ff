"""Intuit OAuth 2.0 as the sandbox plays it: authorization codes, rotating refresh tokens, expiring
access tokens. Tokens are random opaque strings; lookups compare with hmac.compare_digest-safe
dictionary keys (the token itself is the key, never logged)."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

ACCESS_TOKEN_TTL = 3600
# Intuit returns x_refresh_token_expires_in with every refresh (101 days before the 2025 change).
REFRESH_TOKEN_TTL = 8_726_400
CODE_TTL = 300


class OAuthError(Exception):
    def __init__(self, status: int, error: str, description: str = "") -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.description = description


class AccessDenied(Exception):
    """A bearer token that cannot be used (expired, revoked, unknown, other realm)."""

    def __init__(self, detail: str, status: int = 401) -> None:
        super().__init__(detail)
        self.detail = detail
        self.status = status


@dataclass
class RefreshRecord:
    realm_id: str
    expires_at: float
    superseded_at: float | None = None
    revoked: bool = False


@dataclass
class AccessRecord:
    realm_id: str
    expires_at: float
    refresh_token: str
    revoked: bool = False


@dataclass
class TokenStats:
    calls: int = 0
    refreshes: int = 0
    auth_code_exchanges: int = 0
    failures: int = 0
    rejected_refreshes: int = 0


@dataclass
class TokenAuthority:
    access_token_ttl: float = ACCESS_TOKEN_TTL
    refresh_grace: float = 0.0
    refresh_token_ttl: float = REFRESH_TOKEN_TTL
    clock: Callable[[], float] = time.time
    client_id: str = field(default_factory=lambda: "ABsandbox" + secrets.token_hex(16))
    client_secret: str = field(default_factory=lambda: secrets.token_urlsafe(30))
    stats: TokenStats = field(default_factory=TokenStats)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._codes: dict[str, tuple[str, str, float]] = {}
        self._refresh: dict[str, RefreshRecord] = {}
        self._access: dict[str, AccessRecord] = {}

    # client authentication -----------------------------------------------------------------
    def check_client(self, client_id: str, client_secret: str) -> None:
        ok_id = secrets.compare_digest(client_id.encode(), self.client_id.encode())
        ok_secret = secrets.compare_digest(client_secret.encode(), self.client_secret.encode())
        if not (ok_id and ok_secret):
            raise OAuthError(401, "invalid_client")

    # grants --------------------------------------------------------------------------------
    def issue_code(self, realm_id: str, redirect_uri: str) -> str:
        code = "AB11" + secrets.token_urlsafe(30)
        with self._lock:
            self._codes[code] = (realm_id, redirect_uri, self.clock() + CODE_TTL)
        return code

    def exchange_code(self, code: str, redirect_uri: str) -> dict[str, object]:
        with self._lock:
            entry = self._codes.pop(code, None)
        if entry is None or entry[2] < self.clock():
            raise OAuthError(400, "invalid_grant")
        realm_id, expected_uri, _ = entry
        if redirect_uri != expected_uri:
            raise OAuthError(400, "invalid_grant", "redirect_uri does not match the authorization request")
        self.stats.auth_code_exchanges += 1
        return self.issue(realm_id)

    def issue(self, realm_id: str) -> dict[str, object]:
        now = self.clock()
        refresh = "AB11" + secrets.token_urlsafe(36)
        access = "eyJlbmMiOiJBMTI4Q0JDLUhTMjU2IiwiYWxnIjoiZGlyIn0.." + secrets.token_urlsafe(96)
        with self._lock:
            self._refresh[refresh] = RefreshRecord(realm_id, now + self.refresh_token_ttl)
            self._access[access] = AccessRecord(realm_id, now + self.access_token_ttl, refresh)
        return {
            "token_type": "bearer",
            "access_token": access,
            "refresh_token": refresh,
            "expires_in": int(self.access_token_ttl),
            "x_refresh_token_expires_in": int(self.refresh_token_ttl),
            "id_token": None,
            "realm_id": realm_id,
        }

    def refresh(self, refresh_token: str) -> dict[str, object]:
        now = self.clock()
        with self._lock:
            record = self._refresh.get(refresh_token)
            stale = (
                record is None
                or record.revoked
                or record.expires_at < now
                or (record.superseded_at is not None and now > record.superseded_at + self.refresh_grace)
            )
            if stale or record is None:
                self.stats.rejected_refreshes += 1
                raise OAuthError(400, "invalid_grant")
            if record.superseded_at is None:
                record.superseded_at = now
        self.stats.refreshes += 1
        return self.issue(record.realm_id)

    def revoke(self, token: str) -> None:
        with self._lock:
            record = self._refresh.get(token)
            if record is not None:
                record.revoked = True
                for access in self._access.values():
                    if access.refresh_token == token:
                        access.revoked = True
            access_record = self._access.get(token)
            if access_record is not None:
                access_record.revoked = True

    def expire_access_tokens(self) -> None:
        with self._lock:
            for record in self._access.values():
                record.expires_at = 0.0

    # bearer check --------------------------------------------------------------------------
    def authorize(self, header: str | None, realm_id: str) -> None:
        if not header or not header.lower().startswith("bearer "):
            raise AccessDenied("Token invalid: no bearer token")
        token = header[7:].strip()
        with self._lock:
            record = self._access.get(token)
        if record is None:
            raise AccessDenied("Token invalid: unknown access token")
        if record.revoked:
            raise AccessDenied("Token revoked")
        if record.expires_at <= self.clock():
            raise AccessDenied(f"Token expired: {token[:6]}...")
        if record.realm_id != realm_id:
            raise AccessDenied("Authorization failed: token not issued for this realm", status=403)
