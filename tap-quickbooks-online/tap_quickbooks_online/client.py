"""HTTP access to one realm of the QuickBooks Online Accounting API.

Every request goes through the realm's rate limiter (500/min, 10 in flight), carries a fresh
access token, and is retried only when retrying can help: 429 after Retry-After, 5xx, timeouts
and dropped connections with jittered exponential backoff. A 401 triggers one token refresh; a
400/401/403 that survives that fails at once with Intuit's fault text and ``intuit_tid``.
"""

from __future__ import annotations

import collections
import json
import logging
import random
import threading
import time
import typing as t
from decimal import Decimal
from urllib.parse import quote, urlsplit

import msgspec
import requests

from tap_quickbooks_online.auth import RealmTokens
from tap_quickbooks_online.errors import (
    APIError,
    AuthError,
    ObjectNotFound,
    RetriesExhausted,
    redact,
)
from tap_quickbooks_online.rate_limit import RealmRateLimiter

LOGGER = logging.getLogger("tap_quickbooks_online.client")

_TRANSIENT_EXCEPTIONS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
)
_MAX_RETRY_AFTER_SECONDS = 120.0


# Every non-integer number is handed over as its text to Decimal: exact, never through float.
_DECODER = msgspec.json.Decoder(float_hook=Decimal)


def parse_json(content: bytes) -> t.Any:
    """Intuit's JSON with every non-integer number as Decimal (money must never be float).

    msgspec decodes the same values as ``json.loads(parse_float=Decimal)`` at several times the
    speed; its DecodeError is a ValueError.
    """
    return _DECODER.decode(content)


def fault_text(body: t.Any) -> tuple[str, str | None]:
    """Intuit's fault (``Fault`` for validation, ``fault`` for auth/throttle) as text and code."""
    if not isinstance(body, dict):
        return "", None
    fault = body.get("Fault") or body.get("fault") or {}
    errors = fault.get("Error") or fault.get("error") or []
    parts: list[str] = []
    code: str | None = None
    for error in errors if isinstance(errors, list) else []:
        message = error.get("Message") or error.get("message") or ""
        detail = error.get("Detail") or error.get("detail") or ""
        code = code or (str(error.get("code")) if error.get("code") is not None else None)
        parts.append(f"{message}: {detail}".strip(": "))
    return "; ".join(parts), code


class QBOClient:
    """Requests against ``{base_url}/v3/company/{realm_id}/...`` for one realm."""

    def __init__(
        self,
        realm_id: str,
        *,
        base_url: str,
        minorversion: int,
        tokens: RealmTokens,
        limiter: RealmRateLimiter,
        session: requests.Session | None = None,
        timeout: float = 60.0,
        max_attempts: int = 6,
        backoff_base: float = 1.0,
        backoff_max: float = 60.0,
    ) -> None:
        self.realm_id = realm_id
        self.base = f"{base_url.rstrip('/')}/v3/company/{quote(realm_id, safe='')}"
        self.minorversion = minorversion
        self.tokens = tokens
        self.limiter = limiter
        self.session = session or requests.Session()
        self.timeout = timeout
        self.max_attempts = max(1, max_attempts)
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self._stats_lock = threading.Lock()
        self.calls: collections.Counter[str] = collections.Counter()

    # -- endpoints ---------------------------------------------------------------------------

    def query(self, statement: str) -> dict[str, t.Any]:
        """The whole answer: ``QueryResponse`` plus Intuit's server ``time``."""
        return self.get("query", {"query": statement}, endpoint="query")

    def read(self, entity: str, object_id: str) -> dict[str, t.Any]:
        body = self.get(f"{entity.lower()}/{quote(object_id, safe='')}", {}, endpoint="read")
        return t.cast(dict[str, t.Any], body.get(entity) or {})

    def cdc(self, entities: t.Sequence[str], changed_since: str) -> dict[str, t.Any]:
        return self.get(
            "cdc", {"entities": ",".join(entities), "changedSince": changed_since}, endpoint="cdc"
        )

    def report(self, name: str, params: dict[str, str]) -> dict[str, t.Any]:
        return self.get(f"reports/{name}", params, endpoint="reports")

    def batch(self, items: list[dict[str, t.Any]]) -> dict[str, t.Any]:
        """``POST /batch``: the whole answer, ``BatchItemResponse`` (one per ``bId``) plus ``time``.

        The tap batches queries only, so re-sending a batch after a lost answer changes nothing.
        """
        return self.get("batch", {}, endpoint="batch", body={"BatchItemRequest": items})

    # -- transport ---------------------------------------------------------------------------

    def get(self, path: str, params: dict[str, str], *, endpoint: str,
            body: dict[str, t.Any] | None = None) -> dict[str, t.Any]:
        """One API call (GET, or POST when there is a ``body``) with the retry policy above."""
        url = f"{self.base}/{path}"
        data = None if body is None else json.dumps(body)
        params = {**params, "minorversion": str(self.minorversion)}
        transient_failures = 0
        throttled = 0
        refreshed = False
        while True:
            token = self.tokens.access_token()
            problem: str
            with self.limiter.slot():
                try:
                    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
                    if data is not None:
                        headers["Content-Type"] = "application/json"
                    send = self.session.get if data is None else self.session.post
                    resp = send(url, params=params, data=data, headers=headers, timeout=self.timeout)
                except _TRANSIENT_EXCEPTIONS as ex:
                    resp = None
                    problem = redact(f"{type(ex).__name__}: {ex}", token)
            with self._stats_lock:
                self.calls[endpoint] += 1
            if resp is None:
                pass
            elif resp.status_code == 200:
                self.tokens.confirm_realm()
                return t.cast(dict[str, t.Any], parse_json(resp.content))
            else:
                tid = resp.headers.get("intuit_tid")
                status = resp.status_code
                if status == 401:
                    if refreshed:
                        msg = (
                            f"Realm {self.realm_id}: Intuit answered 401 to {endpoint} even with a "
                            "freshly refreshed access token; the app may have lost access to this "
                            "company. Run `tap-quickbooks-online auth` again."
                        )
                        raise AuthError(f"{msg} (intuit_tid={tid})")
                    self.tokens.invalidate(token)
                    refreshed = True
                    continue
                if status == 429:
                    throttled += 1
                    wait = self._retry_after(resp, throttled)
                    self.limiter.pause(wait)
                    if throttled > max(self.max_attempts, 10):
                        msg = f"Realm {self.realm_id}: still throttled (429) after {throttled} waits"
                        raise RetriesExhausted(msg, status=429, intuit_tid=tid)
                    LOGGER.warning(
                        "Realm %s throttled by Intuit (429) on %s; waiting %.1fs (intuit_tid=%s)",
                        self.realm_id, endpoint, wait, tid,
                    )
                    continue
                if status < 500:
                    self._raise_client_error(resp, endpoint, path, tid)
                problem = f"HTTP {status} (intuit_tid={tid})"
            transient_failures += 1
            if transient_failures >= self.max_attempts:
                cause = "was unreachable" if resp is None else f"answered HTTP {resp.status_code}"
                msg = (
                    f"Realm {self.realm_id}: QuickBooks Online ({urlsplit(url).netloc}) {cause}: the "
                    f"{endpoint} request to {path} failed {transient_failures} times (max_retries "
                    f"{self.max_attempts}); last: {problem}"
                )
                raise RetriesExhausted(msg)
            delay = self._backoff(transient_failures)
            LOGGER.warning(
                "Realm %s: %s request failed (%s); retry %d/%d in %.1fs",
                self.realm_id, endpoint, problem, transient_failures, self.max_attempts - 1, delay,
            )
            time.sleep(delay)

    def _backoff(self, failures: int) -> float:
        ceiling = min(self.backoff_max, self.backoff_base * 2 ** (failures - 1))
        return ceiling * (0.5 + random.random() / 2)

    def _retry_after(self, resp: requests.Response, throttled: int) -> float:
        header = resp.headers.get("Retry-After")
        try:
            wait = float(header) if header is not None else self._backoff(throttled)
        except ValueError:
            wait = self._backoff(throttled)
        return min(max(wait, 0.0), _MAX_RETRY_AFTER_SECONDS)

    def _raise_client_error(
        self, resp: requests.Response, endpoint: str, path: str, tid: str | None
    ) -> t.NoReturn:
        try:
            body = parse_json(resp.content)
        except ValueError:
            body = None
        text, code = fault_text(body)
        if code == "610":
            raise ObjectNotFound(
                f"Realm {self.realm_id}: {path} not found ({text})",
                status=resp.status_code, intuit_tid=tid, code=code,
            )
        hint = ""
        if resp.status_code == 403:
            hint = (f" The token is not authorised for company {self.realm_id} (or this entity). Fix: check "
                    "realm_id (the refresh token is kept and follows a corrected realm_id), or run "
                    "`tap-quickbooks-online auth` for this company")
        msg = (
            f"Realm {self.realm_id}: Intuit refused the {endpoint} request {path}: "
            f"HTTP {resp.status_code} {text or 'no fault detail'} (code {code}).{hint}"
        )
        raise APIError(msg, status=resp.status_code, intuit_tid=tid, code=code)
