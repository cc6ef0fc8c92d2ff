"""Who may talk to the sandbox warehouse: personal access tokens, service principals, and the
short-lived OAuth tokens the ``/oidc/v1/token`` endpoint hands to those principals."""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from dataclasses import dataclass

DEFAULT_OAUTH_LIFETIME_S = 3600


@dataclass
class _Token:
    value: str
    expires_at: float | None  # monotonic; None for personal access tokens
    principal: str = ""  # whose grants apply: the token itself (a PAT) or the client id


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int


def new_personal_token() -> str:
    # Databricks personal access tokens start with "dapi"; tools recognise (and redact) them by it.
    return "dapi" + secrets.token_hex(16)


class CredentialStore:
    """Thread-safe token and client registry; every comparison is constant-time."""

    def __init__(self, personal_tokens: list[str] | None = None) -> None:
        self._lock = threading.Lock()
        self._tokens: list[_Token] = [
            _Token(value, None) for value in (personal_tokens or [new_personal_token()])
        ]
        self._clients: dict[str, str] = {}
        # Privileges (``"CREATE TABLE"``, ``"USE CATALOG"``...) a principal lacks; grants.py.
        self._denied: dict[str, frozenset[str]] = {}
        self.oauth_lifetime_s = DEFAULT_OAUTH_LIFETIME_S

    @property
    def personal_token(self) -> str:
        """The newest personal access token still accepted."""
        with self._lock:
            for token in reversed(self._tokens):
                if token.expires_at is None:
                    return token.value
        raise LookupError("every personal access token has been expired or revoked")

    def add_personal_token(self, value: str | None = None, *, denied: tuple[str, ...] = ()) -> str:
        """A new personal access token; its user lacks the ``denied`` privileges."""
        value = value or new_personal_token()
        with self._lock:
            self._tokens.append(_Token(value, None, value))
            if denied:
                self._denied[value] = frozenset(p.upper() for p in denied)
        return value

    def denied_to(self, presented: str) -> frozenset[str]:
        """The privileges the principal behind a valid token lacks (none for the defaults)."""
        with self._lock:
            for token in self._tokens:
                if hmac.compare_digest(token.value.encode(), presented.encode()):
                    return self._denied.get(token.principal, frozenset())
        return frozenset()

    def rotate_personal_token(self) -> str:
        """Revoke every token (personal and OAuth) and return a fresh personal token."""
        self.expire_all()
        return self.add_personal_token()

    def expire_all(self) -> None:
        """Every token handed out so far is refused from now on (401), as after its hour ends."""
        with self._lock:
            self._tokens.clear()

    def is_valid(self, presented: str) -> bool:
        now = time.monotonic()
        matched = False
        with self._lock:
            self._tokens = [t for t in self._tokens if t.expires_at is None or t.expires_at > now]
            for token in self._tokens:
                # No early exit: the time taken must not depend on which token matched.
                matched |= hmac.compare_digest(token.value.encode(), presented.encode())
        return matched

    def add_client(self, client_id: str | None = None, client_secret: str | None = None, *,
                   denied: tuple[str, ...] = ()) -> tuple[str, str]:
        """A new service principal; it lacks the ``denied`` privileges."""
        client_id = client_id or "qbc-sp-" + secrets.token_hex(8)
        client_secret = client_secret or "dose" + secrets.token_hex(20)
        with self._lock:
            self._clients[client_id] = client_secret
            if denied:
                self._denied[client_id] = frozenset(p.upper() for p in denied)
        return client_id, client_secret

    def check_client(self, client_id: str, client_secret: str) -> bool:
        with self._lock:
            expected = self._clients.get(client_id)
        # Compare against a dummy secret for unknown clients so timing does not reveal ids.
        reference = expected if expected is not None else secrets.token_hex(20)
        return hmac.compare_digest(reference.encode(), client_secret.encode()) and expected is not None

    def issue_oauth_token(self, client_id: str = "") -> IssuedToken:
        lifetime = int(self.oauth_lifetime_s)
        value = "eyJsb2NhbC1zYW5kYm94Ijp0cnVlfQ." + secrets.token_urlsafe(32)
        with self._lock:
            self._tokens.append(_Token(value, time.monotonic() + lifetime, client_id))
        return IssuedToken(value, lifetime)
