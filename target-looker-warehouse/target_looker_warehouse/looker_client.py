"""Looker API 4.0 client built on the official looker-sdk, with the lifecycle this target needs.

* Settings come from the target's config (not looker.ini), secrets never logged.
* The token (1 h, no refresh token) is renewed ahead of expiry and once on a 401.
* 429 (honouring Retry-After) and 5xx are retried with jittered backoff, bounded.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import time
import typing as t

import requests
from looker_sdk import error as looker_error
from looker_sdk.rtl import api_settings, auth_session, requests_transport, serialize, transport
from looker_sdk.sdk.api40 import methods as methods40
from qbc_plugin_kit.failures import SystemicFailure

from target_looker_warehouse.config import WarehouseSettings

logger = logging.getLogger("target-looker-warehouse.looker")

RETRYABLE = frozenset({429, 500, 502, 503, 504})



class LookerSettings(api_settings.ApiSettings):
    """ApiSettings fed from a dict instead of looker.ini / LOOKERSDK_* variables."""

    def __init__(self, *, base_url: str, client_id: str, client_secret: str, verify: bool | str, timeout: int) -> None:
        self._values: api_settings.SettingsConfig = {
            "base_url": base_url.rstrip("/"),
            "client_id": client_id,
            "client_secret": client_secret,
            "verify_ssl": "true" if verify else "false",
            "timeout": str(timeout),
        }
        self.verify = verify
        super().__init__(sdk_version="target-looker-warehouse")

    def read_config(self) -> api_settings.SettingsConfig:
        return dict(self._values)  # type: ignore[return-value]

    def __repr__(self) -> str:  # the default repr would show the secret
        return f"LookerSettings(base_url={self._values['base_url']!r})"


CREDENTIALS_FIX = ("set looker_client_id and looker_client_secret to an API key pair of the Looker user "
                   "that deploys (Admin > Users > Edit > API keys)")


class RenewingAuthSession(auth_session.AuthSession):
    """Log in again ``renew_margin`` seconds before the token expires (Looker: 3600 s)."""

    renew_margin = 300.0

    def _login(self, transport_options: transport.TransportOptions) -> None:
        try:
            super()._login(transport_options)
        except looker_error.SDKError as error:
            raise login_failure(self.settings.base_url, getattr(self.transport, "last_status", None), error) from None
        lifetime = float(self.token.expires_in or 0)
        # Short-lived tokens (tests) renew at 90 % of their life, Looker's hour at 55 min.
        margin = min(self.renew_margin, lifetime * 0.1)
        self.token.expires_at = dt.datetime.now() + dt.timedelta(seconds=max(0.0, lifetime - margin))
        logger.info("Logged in to Looker; token valid %ds", int(lifetime))


class RetryingTransport(requests_transport.RequestsTransport):
    """Requests transport that retries 429/5xx and re-authenticates once on a 401."""

    def __init__(self, settings: LookerSettings, session: requests.Session, max_attempts: int = 5) -> None:
        super().__init__(settings, session)
        self.max_attempts = max_attempts
        self.auth: auth_session.AuthSession | None = None
        self.sleep: t.Callable[[float], None] = time.sleep
        # The HTTP status of the last answer (None: no answer): the SDK's errors carry only
        # the body, and Looker answers a refused login with 404 {"message": "Not found"}.
        self.last_status: int | None = None

    def request(  # type: ignore[override]
        self,
        method: transport.HttpMethod,
        path: str,
        query_params: t.MutableMapping[str, str] | None = None,
        body: bytes | None = None,
        authenticator: transport.TAuthenticator = None,
        transport_options: transport.TransportOptions | None = None,
    ) -> transport.Response:
        relogged = False
        attempt = 0
        while True:
            attempt += 1
            headers: dict[str, str] = {}
            if authenticator:
                headers.update(authenticator(transport_options or {}))
            if transport_options and transport_options.get("headers"):
                headers.update(transport_options["headers"])
            try:
                response = self.session.request(
                    method.name, path, auth=requests_transport.NullAuth(), params=query_params, data=body,
                    headers=headers, timeout=self.settings.timeout,
                )
            except (requests.ConnectionError, requests.Timeout) as error:
                self.last_status = None
                # A certificate that does not verify will not verify on retry either.
                if attempt >= self.max_attempts or isinstance(error, requests.exceptions.SSLError):
                    return transport.Response(False, str(error).encode(), transport.ResponseMode.STRING)
                self._backoff(attempt, None, f"{type(error).__name__} on {method.name} {_path(path)}")
                continue
            self.last_status = response.status_code
            if response.status_code == 401 and authenticator and self.auth is not None and not relogged:
                # The token expired early or was revoked: log in again once.
                relogged = True
                self.auth.token = type(self.auth.token)()
                logger.info("Looker answered 401 to %s %s: logging in again", method.name, _path(path))
                continue
            if response.status_code in RETRYABLE and attempt < self.max_attempts:
                self._backoff(attempt, response.headers.get("Retry-After"),
                              f"{response.status_code} on {method.name} {_path(path)}")
                continue
            result = transport.Response(
                response.ok, response.content, transport.response_mode(response.headers.get("content-type"))
            )
            encoding = requests.utils.get_encoding_from_headers(response.headers)
            if encoding:
                result.encoding = encoding
            return result

    def _backoff(self, attempt: int, retry_after: str | None, reason: str) -> None:
        delay = min(30.0, 0.5 * 2 ** (attempt - 1)) * (0.5 + random.random())
        if retry_after and retry_after.isdigit():
            delay = max(delay, float(retry_after))
        logger.warning("Looker API: %s; retrying in %.1fs (attempt %d/%d)", reason, delay, attempt, self.max_attempts)
        self.sleep(delay)


def login_failure(base_url: str, status: int | None, error: Exception) -> SystemicFailure:
    """Why ``POST /api/4.0/login`` failed, naming the setting to change (never the secret)."""
    if status in (400, 401, 403, 404):
        # Looker answers unknown or wrong API credentials with 404 Not found.
        return SystemicFailure(f"Looker refused the API credentials (looker_client_id/looker_client_secret): "
                               f"POST {base_url}/api/4.0/login answered HTTP {status}", CREDENTIALS_FIX)
    if status is None:
        text = str(error)
        if "certificate" in text.lower() or "ssl" in text.lower():
            return SystemicFailure(f"the TLS certificate of looker_base_url {base_url} is not trusted",
                                   "set looker_ca_bundle to the PEM file of the authority that signed it")
        return SystemicFailure(f"cannot reach Looker at looker_base_url {base_url} ({text[:200]})",
                               "set looker_base_url to the Looker host (https://<instance>.cloud.looker.com, "
                               "without /api/4.0) and check that this machine reaches it")
    return SystemicFailure(f"Looker answered HTTP {status} to POST {base_url}/api/4.0/login",
                           "check looker_base_url and that the Looker instance is up, then run again")


def _path(url: str) -> str:
    # Login URLs can carry credentials as query parameters (deprecated by Looker): never log them.
    return url.split("?", 1)[0]


def build_sdk(config: t.Mapping[str, t.Any]) -> methods40.Looker40SDK:
    wanted = WarehouseSettings.from_config(config)
    if not (wanted.looker_base_url and wanted.looker_client_id and wanted.looker_client_secret):
        missing = [k for k in ("looker_base_url", "looker_client_id", "looker_client_secret") if not config.get(k)]
        raise SystemicFailure(f"looker_api_enabled is on but {', '.join(missing)} not set",
                              f"set {missing[0]} (or looker_api_enabled: false)")
    verify: bool | str = wanted.looker_ca_bundle or wanted.looker_verify_ssl
    settings = LookerSettings(
        base_url=wanted.looker_base_url,
        client_id=wanted.looker_client_id,
        client_secret=wanted.looker_client_secret,
        verify=verify,
        timeout=wanted.looker_request_timeout,
    )
    session = requests.Session()
    # requests lets REQUESTS_CA_BUNDLE override session.verify; an explicit setting wins here.
    if verify is not True:
        session.trust_env = False
    session.headers.update({"Content-Type": "application/json"})
    http = RetryingTransport(settings, session)
    # RequestsTransport sets verify from the boolean setting: restore the CA bundle path.
    session.verify = verify
    auth = RenewingAuthSession(settings, http, serialize.deserialize40, "4.0")
    http.auth = auth
    return methods40.Looker40SDK(auth, serialize.deserialize40, serialize.serialize40, http, "4.0")


def verify_login(config: t.Mapping[str, t.Any]) -> None:
    """Log in and out once: a refused key raises the SystemicFailure naming the settings."""
    sdk = build_sdk(config)
    sdk.auth.authenticate({})
    sdk.auth.logout()
