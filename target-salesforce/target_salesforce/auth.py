"""Salesforce sessions from the OAuth 2.0 client-credentials flow on the org's My Domain.

The token response carries no ``expires_in``: a session lives as long as the org's session
timeout (2 hours by default) after last use. A new session is requested once
``session_max_age_seconds`` have passed since login, and at once when Salesforce answers
``INVALID_SESSION_ID`` (401).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import requests
from qbc_plugin_kit.failures import SystemicFailure
from qbc_plugin_kit.retry import TransientError
from simple_salesforce import Salesforce

from target_salesforce.failure_kinds import network_failure


class SalesforceAuthError(SystemicFailure):
    """The org refused the client credentials, or none can be asked for; retrying cannot help."""


def login_base_url(domain: str | None, login_url: str | None) -> str:
    if login_url:
        return login_url.rstrip("/")
    if not domain:
        raise SalesforceAuthError("no Salesforce org is configured",
                                  "set domain (e.g. acme.my for https://acme.my.salesforce.com) or login_url")
    domain = domain.removeprefix("https://").removesuffix("/").removesuffix(".salesforce.com")
    if domain in ("login", "test"):
        raise SalesforceAuthError(
            f"domain is {domain!r}, but the client-credentials flow is served only on the org's My Domain",
            "set domain to the My Domain prefix (e.g. acme.my, or acme--uat.sandbox.my for a sandbox org)")
    return f"https://{domain}.salesforce.com"


class SalesforceSessionProvider:
    def __init__(
        self,
        *,
        base_url: str,
        client_id: str,
        client_secret: str,
        api_version: str,
        session: requests.Session,
        max_age_seconds: float = 6600,
        timeout_seconds: float = 60,
        clock: Callable[[], float] = time.monotonic,
        logger: logging.Logger | None = None,
    ) -> None:
        self._base_url = base_url
        self._client_id = client_id
        self._client_secret = client_secret
        self._api_version = api_version
        self._session = session
        self._max_age = max_age_seconds
        self._timeout = timeout_seconds
        self._clock = clock
        self._logger = logger or logging.getLogger(__name__)
        self._lock = threading.Lock()
        self._client: Salesforce | None = None
        self._logged_in_at = 0.0
        self.login_count = 0

    @property
    def base_url(self) -> str:
        return self._base_url

    def client(self) -> Salesforce:
        with self._lock:
            if self._client is None or self._clock() - self._logged_in_at >= self._max_age:
                self._client = self._login()
                self._logged_in_at = self._clock()
            return self._client

    def invalidate(self) -> None:
        with self._lock:
            self._client = None

    def _login(self) -> Salesforce:
        url = f"{self._base_url}/services/oauth2/token"
        try:
            response = self._session.post(
                url,
                data={"grant_type": "client_credentials", "client_id": self._client_id,
                      "client_secret": self._client_secret},
                timeout=self._timeout,
            )
        except requests.RequestException as exc:
            raise network_failure(exc, url) from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise TransientError(f"{url} answered {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise SalesforceAuthError(
                f"{url} is not a Salesforce token endpoint (HTTP {response.status_code}, no OAuth answer)",
                "set domain to the org's My Domain prefix (e.g. acme.my) or login_url to its base URL")
        if response.status_code != 200 or "access_token" not in body:
            # The consumer key is shown shortened and the secret never: logs are shared.
            raise SalesforceAuthError(
                f"Salesforce refused the client credentials of connected app {self._client_id[:12]}... at "
                f"{self._base_url} ({response.status_code} {body.get('error', '')}: {body.get('error_description', '')})",
                "check client_id and client_secret, and that the connected app enables the client "
                "credentials flow with a Run As user")
        self.login_count += 1
        self._logger.info("Logged in to Salesforce at %s", body.get("instance_url"))
        return Salesforce(instance_url=body["instance_url"], session_id=body["access_token"],
                          session=self._session, version=self._api_version)
