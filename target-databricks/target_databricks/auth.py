"""Credentials for the SQL warehouse: a personal access token or service-principal OAuth M2M.

OAuth M2M is the client-credentials grant against the workspace's ``/oidc/v1/token``
endpoint (Databricks: "Authorize unattended access to Databricks resources with a service
principal using OAuth"). Tokens live one hour; this module renews one a few minutes before
it ends, and on demand after the warehouse answers 401, so a long load never stalls on an
expired token.
"""

from __future__ import annotations

import threading
import time
import typing as t
from dataclasses import dataclass

import requests

DEFAULT_SCOPE = "all-apis"
REFRESH_MARGIN_SECONDS = 300.0


class AuthenticationError(RuntimeError):
    """The warehouse or its token endpoint refused our credentials; retrying will not help.
    ``fix`` says what to change when the message alone does not (errors.auth_fix otherwise)."""

    def __init__(self, message: str, fix: str = "") -> None:
        super().__init__(message)
        self.fix = fix


@dataclass
class _Token:
    value: str
    expires_at: float


class ClientCredentialsToken:
    """Access tokens for a service principal, renewed before expiry and after a 401."""

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        *,
        scope: str = DEFAULT_SCOPE,
        verify: bool | str = True,
        timeout: float = 30.0,
        refresh_margin: float = REFRESH_MARGIN_SECONDS,
        clock: t.Callable[[], float] = time.monotonic,
        session: requests.Session | None = None,
    ) -> None:
        self._token_url = token_url
        self._client_id = client_id
        self._client_secret = client_secret
        self._scope = scope
        self._verify = verify
        self._timeout = timeout
        self._refresh_margin = refresh_margin
        self._clock = clock
        self._session = session or requests.Session()
        self._token: _Token | None = None
        self._lock = threading.Lock()
        self.fetch_count = 0
        # Why the token endpoint refused the last request (None after a token was issued): the
        # connector wraps the refusal raised inside its HTTP call into a 401 of its own.
        self.refusal: str | None = None

    def access_token(self) -> str:
        with self._lock:
            if self._token is None or self._clock() >= self._token.expires_at - self._refresh_margin:
                self._token = self._fetch()
            return self._token.value

    def invalidate(self) -> None:
        """Forget the current token (the warehouse rejected it)."""
        with self._lock:
            self._token = None

    def _fetch(self) -> _Token:
        started = self._clock()
        # verify is passed per request: a session-level verify loses to REQUESTS_CA_BUNDLE.
        response = self._session.post(
            self._token_url,
            data={"grant_type": "client_credentials", "scope": self._scope},
            auth=(self._client_id, self._client_secret),
            verify=self._verify,
            timeout=self._timeout,
        )
        self.fetch_count += 1
        if response.status_code in (400, 401, 403):
            self.refusal = self._refusal(response)
            raise AuthenticationError(self.refusal)
        self.refusal = None
        response.raise_for_status()
        body = response.json()
        try:
            value = str(body["access_token"])
        except KeyError as exc:
            raise AuthenticationError(
                f"the OAuth token endpoint {self._token_url} returned no access_token"
            ) from exc
        return _Token(value=value, expires_at=started + float(body.get("expires_in", 3600)))


    def _refusal(self, response: requests.Response) -> str:
        """What the token endpoint's refusal means, naming the setting (never the secret)."""
        try:
            error = str(response.json().get("error", ""))
        except (ValueError, AttributeError):
            error = ""
        status = f"HTTP {response.status_code}{' ' + error if error else ''}"
        if error == "invalid_client" or response.status_code == 401:
            return (f"the OAuth token endpoint {self._token_url} refused client_id {self._client_id!r} "
                    f"with this client_secret ({status}): the secret is wrong or expired, or no such "
                    "service principal")
        if error == "invalid_scope":
            return f"the OAuth token endpoint {self._token_url} refused the scope {self._scope!r} ({status})"
        return (f"the OAuth token endpoint {self._token_url} refused service principal "
                f"{self._client_id!r} ({status})")


class OAuthCredentialsProvider:
    """The connector's ``credentials_provider`` protocol over a ClientCredentialsToken."""

    def __init__(self, token: ClientCredentialsToken) -> None:
        self._token = token

    def auth_type(self) -> str:
        return "oauth-m2m"

    def __call__(self, *args: t.Any, **kwargs: t.Any) -> t.Callable[[], dict[str, str]]:
        def headers() -> dict[str, str]:
            return {"Authorization": f"Bearer {self._token.access_token()}"}

        return headers


def token_url_for(server_hostname: str) -> str:
    return f"https://{server_hostname}/oidc/v1/token"
