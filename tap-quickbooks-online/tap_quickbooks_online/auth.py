"""OAuth 2.0 against Intuit: code exchange, refresh with rotation, expiry warnings.

Order of operations on refresh (the reason this module exists): Intuit answers a refresh grant
with a NEW refresh token and the old one dies. The answer is written to the encrypted token
store (atomic, fsync'ed) before the access token is handed to any caller, so a crash at any
instant leaves a usable refresh token on disk.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import random
import threading
import time
import typing as t

import requests

from tap_quickbooks_online.errors import AuthError, redact
from tap_quickbooks_online.token_store import PENDING_PREFIX, TokenStore

LOGGER = logging.getLogger("tap_quickbooks_online.auth")

# Refresh this long before the access token's stated expiry (Intuit: 1 h tokens; refresh at 55 min).
REFRESH_MARGIN_SECONDS = 300


class OAuthClient:
    """Intuit's token endpoint (client_secret_basic)."""

    def __init__(
        self,
        *,
        token_url: str,
        client_id: str,
        client_secret: str,
        session: requests.Session | None = None,
        timeout: float = 30.0,
        max_attempts: int = 4,
        backoff_base: float = 1.0,
    ) -> None:
        self.token_url = token_url
        self._auth = (client_id, client_secret)
        self._secrets = (client_id, client_secret)
        self._session = session or requests.Session()
        self._timeout = timeout
        self._max_attempts = max_attempts
        self._backoff_base = backoff_base

    def exchange_code(self, code: str, redirect_uri: str) -> dict[str, t.Any]:
        return self._grant(
            {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri},
            secret=code,
        )

    def refresh(self, refresh_token: str) -> dict[str, t.Any]:
        return self._grant(
            {"grant_type": "refresh_token", "refresh_token": refresh_token}, secret=refresh_token
        )

    def _grant(self, form: dict[str, str], *, secret: str) -> dict[str, t.Any]:
        last_problem = ""
        for attempt in range(1, self._max_attempts + 1):
            try:
                resp = self._session.post(
                    self.token_url,
                    data=form,
                    auth=self._auth,
                    headers={"Accept": "application/json"},
                    timeout=self._timeout,
                )
            except requests.RequestException as ex:
                last_problem = redact(f"{type(ex).__name__}: {ex}", secret, *self._secrets)
            else:
                tid = resp.headers.get("intuit_tid")
                if resp.status_code == 200:
                    return t.cast(dict[str, t.Any], resp.json())
                if resp.status_code < 500 and resp.status_code != 429:
                    raise AuthError(self._describe_refusal(resp, form["grant_type"], tid))
                last_problem = f"HTTP {resp.status_code} (intuit_tid={tid})"
            if attempt < self._max_attempts:
                time.sleep(self._backoff_base * 2 ** (attempt - 1) * (0.5 + random.random()))
        msg = (f"Intuit token endpoint {self.token_url} unavailable after {self._max_attempts} attempts: "
               f"{last_problem}. Fix: check token_url and this machine's network access to it, then run again")
        raise AuthError(msg)

    @staticmethod
    def _describe_refusal(resp: requests.Response, grant_type: str, tid: str | None) -> str:
        try:
            error = str(resp.json().get("error", ""))
        except (ValueError, AttributeError):
            error = ""
        cause, fix = {
            "invalid_grant": (
                "the refresh token (or code) is expired, revoked or already rotated",
                "run `tap-quickbooks-online auth` (meltano invoke tap-quickbooks-online:auth) to authorize again",
            ),
            "invalid_client": (
                "client_id / client_secret are wrong for this token endpoint",
                "set client_id and client_secret to the app's Keys & credentials",
            ),
        }.get(error, ("the grant was refused", "check client_id, client_secret and redirect_uri"))
        return (
            f"Intuit refused the {grant_type} grant (HTTP {resp.status_code} "
            f"error={error or 'unknown'}, intuit_tid={tid}): {cause}. Fix: {fix}"
        )


class RealmTokens:
    """The access token of one realm, refreshed before expiry and persisted before use."""

    def __init__(
        self,
        realm_id: str,
        *,
        oauth: OAuthClient,
        store: TokenStore,
        configured_refresh_token: str | None = None,
        refresh_warning_days: int = 30,
        clock: t.Callable[[], float] = time.time,
    ) -> None:
        self.realm_id = realm_id
        self._oauth = oauth
        self._store = store
        self._configured_refresh_token = configured_refresh_token
        self._warning_days = refresh_warning_days
        self._clock = clock
        self._lock = threading.Lock()
        self._access_token: str | None = None
        self._expires_at = 0.0
        self._loaded = False
        self._confirmed = False
        # The pending:<origin> key the chain in use waits under until the realm answers.
        self._pending_key: str | None = None
        # When the refresh token in use expires (Intuit's x_refresh_token_expires_in), if known.
        self.refresh_token_expires_at: float | None = None

    def access_token(self) -> str:
        with self._lock:
            if not self._loaded:
                self._load_stored()
            if self._access_token is None or self._clock() >= self._expires_at - REFRESH_MARGIN_SECONDS:
                self._refresh_locked()
            assert self._access_token is not None
            return self._access_token

    def refresh_now(self) -> str:
        """Refresh whatever the stored access token's age (``check`` proves the refresh token)."""
        with self._lock:
            self._loaded = True
            self._refresh_locked()
            assert self._access_token is not None
            return self._access_token

    def invalidate(self, token: str) -> None:
        """Forget ``token`` after a 401 so the next caller refreshes (once)."""
        with self._lock:
            if self._access_token == token:
                self._access_token = None
                self._expires_at = 0.0

    def _load_stored(self) -> None:
        self._loaded = True
        entry = self._store.load(self.realm_id) or {}
        if self._foreign(entry):
            return
        if entry.get("access_token") and float(entry.get("access_token_expires_at", 0)) > self._clock():
            self._access_token = str(entry["access_token"])
            self._expires_at = float(entry["access_token_expires_at"])
        self._note_expiry(entry.get("refresh_token_expires_at"))
        self._warn_if_expiring(entry.get("refresh_token_expires_at"))

    def _pending_keys(self) -> list[str]:
        """Store keys a chain of the configured token waits under until its realm answers
        (``unclaimed:`` is how an earlier version of the tap filed a displaced chain)."""
        configured = self._configured_refresh_token
        if not configured:
            return []
        return [f"{PENDING_PREFIX}{origin_of(configured)}", f"unclaimed:{origin_of(configured)}"]

    def _candidate_refresh_tokens(self) -> list[tuple[str, str, str | None]]:
        """(refresh token, origin, store key it came from) to try, the likeliest first.

        The origin is a digest of the configured token a chain of rotations started from. A
        chain is filed under a realm only once the API answered for that realm; until then it
        waits under ``pending:<origin>``, so a first run with a wrong realm_id files nothing
        under that realm and the run with the corrected realm_id (and the same, now spent,
        configured token) finds the chain by its origin.
        """
        entries = self._store.entries()
        entry = entries.get(self.realm_id) or {}
        configured = self._configured_refresh_token
        pairs: list[tuple[str, str, str | None]] = []
        foreign = self._foreign(entry)
        if entry.get("refresh_token") and not foreign:
            origin = str(entry.get("origin") or (origin_of(configured) if configured else ""))
            pairs.append((str(entry["refresh_token"]), origin, self.realm_id))
        for key in self._pending_keys():
            pending = entries.get(key) or {}
            if pending.get("refresh_token"):
                pairs.append((str(pending["refresh_token"]), str(pending.get("origin") or key.split(":", 1)[1]), key))
        if configured:
            pairs.append((configured, origin_of(configured), None))
            # Stores written before pending entries existed filed the chain under the wrong realm.
            pairs += [
                (str(other["refresh_token"]), origin_of(configured), realm)
                for realm, other in entries.items()
                if realm != self.realm_id and ":" not in realm and not other.get("confirmed")
                and other.get("origin") == origin_of(configured) and other.get("refresh_token")
            ]
        if entry.get("refresh_token") and foreign:
            pairs.append((str(entry["refresh_token"]), str(entry["origin"]), self.realm_id))  # last: another token's chain
        unique: list[tuple[str, str, str | None]] = []
        for pair in pairs:
            if pair[0] not in [u[0] for u in unique]:
                unique.append(pair)
        return unique

    def _foreign(self, entry: dict[str, t.Any]) -> bool:
        """An entry a run with another configured token filed here and the API never accepted
        for this realm (tokens swapped between realms, or a wrong refresh_token fixed since)."""
        configured = self._configured_refresh_token
        return bool(configured and entry.get("refresh_token") and not entry.get("confirmed")
                    and entry.get("origin") and entry["origin"] != origin_of(configured))

    def _reread_after_refusal(self, tried: set[str]) -> str | None:
        """After a refusal: another process may have rotated the token meanwhile (a refresh
        race). "adopted" when its access token is still good (now ours), "retry" when the store
        holds a refresh token not tried yet, None when the store has nothing new."""
        entries = self._store.entries()
        outcome: str | None = None
        for key in [self.realm_id, *self._pending_keys()]:
            entry = entries.get(key) or {}
            current = entry.get("refresh_token")
            if not current or current in tried or (key == self.realm_id and self._foreign(entry)):
                continue
            expires_at = float(entry.get("access_token_expires_at") or 0)
            if entry.get("access_token") and expires_at > self._clock() + REFRESH_MARGIN_SECONDS:
                self._access_token = str(entry["access_token"])
                self._expires_at = expires_at
                self._pending_key = None if key == self.realm_id else key
                self._note_expiry(entry.get("refresh_token_expires_at"))
                return "adopted"
            outcome = "retry"
        return outcome

    def _refresh_locked(self) -> None:
        candidates = self._candidate_refresh_tokens()
        if not candidates:
            msg = (
                f"No refresh token for realm {self.realm_id}. Fix: run `tap-quickbooks-online auth` "
                "(meltano invoke tap-quickbooks-online:auth) or set the realm's refresh_token"
            )
            raise AuthError(msg)
        failure: AuthError | None = None
        tried: set[str] = set()
        while candidates:
            refresh_token, origin, key = candidates.pop(0)
            tried.add(refresh_token)
            try:
                answer = self._oauth.refresh(refresh_token)
            except AuthError as ex:
                # A stale configured token after a rotation is expected; try the next one.
                failure = ex
                outcome = None if candidates else self._reread_after_refusal(tried)
                if outcome == "adopted":
                    LOGGER.info("Realm %s: another run refreshed the token first; using its token", self.realm_id)
                    return
                if outcome == "retry":
                    candidates = [c for c in self._candidate_refresh_tokens() if c[0] not in tried]
                continue
            self._persist_then_use(answer, origin or origin_of(refresh_token), key)
            return
        assert failure is not None
        msg = f"Realm {self.realm_id}: {failure}"
        raise AuthError(msg) from None

    def confirm_realm(self) -> None:
        """The API accepted this realm's token: its chain belongs to this realm for good."""
        if self._confirmed:
            return
        self._confirmed = True
        if self._pending_key is not None:
            claimed = self._store.claim(self._pending_key, self.realm_id)
            self._pending_key = None
            if claimed:
                return
        entry = self._store.load(self.realm_id) or {}
        if entry and not entry.get("confirmed"):
            self._store.save(self.realm_id, {"confirmed": True})

    def _persist_then_use(self, answer: dict[str, t.Any], origin: str, source: str | None) -> None:
        """Store the rotated chain, then hand out its access token.

        Under the realm when the chain is this realm's (its confirmed entry, or the store is the
        only source of tokens); otherwise under ``pending:<origin>`` until the API answers for
        this realm (``confirm_realm``). The entry the spent token came from is dropped in the
        same write.
        """
        now = self._clock()
        expires_at = now + float(answer.get("expires_in", 3600))
        entry: dict[str, t.Any] = {
            "refresh_token": answer["refresh_token"],
            "access_token": answer["access_token"],
            "access_token_expires_at": expires_at,
            "rotated_at": now,
            "origin": origin,
        }
        if answer.get("x_refresh_token_expires_in") is not None:
            entry["refresh_token_expires_at"] = now + float(answer["x_refresh_token_expires_in"])
        current = self._store.load(self.realm_id) or {}
        owned = not self._configured_refresh_token or (source == self.realm_id and bool(current.get("confirmed")))
        # Durable first: only once the rotated refresh token is on disk may the access token run.
        if owned:
            self._store.save(self.realm_id, entry)
            self._pending_key = None
        else:
            target = f"{PENDING_PREFIX}{origin}"
            drops = [source] if source is not None and source != target else []
            if source is not None and source != self.realm_id and ":" not in source:
                LOGGER.info("Realm %s: took over the refresh token a run with realm_id %s had stored",
                            self.realm_id, source)
            self._store.apply({target: entry}, drops)
            self._pending_key = target
        self._access_token = str(answer["access_token"])
        self._expires_at = expires_at
        self._note_expiry(entry.get("refresh_token_expires_at"))
        self._warn_if_expiring(entry.get("refresh_token_expires_at"))

    def _note_expiry(self, refresh_expires_at: t.Any) -> None:
        if refresh_expires_at is not None:
            self.refresh_token_expires_at = float(refresh_expires_at)

    def _warn_if_expiring(self, refresh_expires_at: t.Any) -> None:
        if refresh_expires_at is None:
            return
        remaining = float(refresh_expires_at) - self._clock()
        if remaining < self._warning_days * 86400:
            when = dt.datetime.fromtimestamp(float(refresh_expires_at), tz=dt.UTC)
            LOGGER.warning(
                "The refresh token of realm %s expires in %.1f days (%s). Run "
                "`tap-quickbooks-online auth` before then or the tap will stop working.",
                self.realm_id,
                remaining / 86400,
                when.isoformat(),
            )


def origin_of(refresh_token: str) -> str:
    """A digest naming a configured refresh token without holding it."""
    return hashlib.sha256(refresh_token.encode()).hexdigest()[:16]


def tokens_summary(answer: dict[str, t.Any]) -> str:
    """What may be printed about a token answer: lifetimes only, never values."""
    return json.dumps(
        {k: answer[k] for k in ("token_type", "expires_in", "x_refresh_token_expires_in") if k in answer}
    )
