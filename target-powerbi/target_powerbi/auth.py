"""Service-principal tokens for the Power BI REST API (msal, client-credentials flow).

Azure AD access tokens live about an hour. A token is re-acquired ``refresh_margin_seconds``
before it expires, so a long batch never starts with a token about to lapse, and again at
once when Power BI rejects it (401, or 403 ``TokenExpired``), which covers clock skew and
revoked tokens.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable

import msal
import msal.exceptions
import requests
from qbc_plugin_kit.retry import TransientError

from target_powerbi.errors import PowerBIAuthError, PowerBITlsError

POWERBI_SCOPE = "https://analysis.windows.net/powerbi/api/.default"
# msal reports an unreachable or failing token endpoint as these errors rather than raising.
_TRANSIENT_AAD_ERRORS = {"temporarily_unavailable", "server_error", "service_unavailable"}


class PowerBITokenProvider:
    def __init__(
        self,
        *,
        tenant_id: str,
        client_id: str,
        client_secret: str,
        authority_host: str,
        session: requests.Session,
        scope: str = POWERBI_SCOPE,
        refresh_margin_seconds: float = 300.0,
        clock: Callable[[], float] = time.time,
        logger: logging.Logger | None = None,
    ) -> None:
        self._tenant_id = tenant_id
        self._client_id = client_id
        self._scope = scope
        self._margin = refresh_margin_seconds
        self._clock = clock
        self._logger = logger or logging.getLogger(__name__)
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_at = 0.0
        self.acquired_count = 0
        self._authority = f"{authority_host.rstrip('/')}/{tenant_id}"
        self._secret = client_secret
        self._session = session
        self._cache = msal.TokenCache()
        self._application: msal.ConfidentialClientApplication | None = None

    @property
    def _app(self) -> msal.ConfidentialClientApplication:
        """Built on first use: msal reads the tenant's OpenID configuration as it is built, and
        that call's failures must be told apart like a token request's (see _acquire)."""
        if self._application is None:
            try:
                self._application = msal.ConfidentialClientApplication(
                    self._client_id,
                    client_credential=self._secret,
                    authority=self._authority,
                    # Instance discovery would call login.microsoftonline.com even for a sovereign
                    # cloud or private authority host; the configured host is authoritative.
                    instance_discovery=False,
                    http_client=self._session,
                    token_cache=self._cache,
                )
            except requests.exceptions.SSLError as exc:
                raise PowerBITlsError(f"the TLS certificate of the Azure AD authority {self._authority} could "
                                      f"not be verified ({str(exc).splitlines()[0][:300]})") from exc
            except requests.RequestException as exc:
                raise TransientError(f"could not reach the Azure AD authority {self._authority}: "
                                     f"{type(exc).__name__}") from exc
            except ValueError as exc:
                # msal: "Unable to get authority configuration for ..." (an unknown tenant).
                raise PowerBIAuthError(f"Azure AD does not know the tenant {self._tenant_id} (no OpenID "
                                       f"configuration at {self._authority})", error="invalid_tenant") from exc
        return self._application

    def token(self) -> str:
        with self._lock:
            if self._token is None or self._clock() >= self._expires_at - self._margin:
                self._acquire()
            assert self._token is not None
            return self._token

    def invalidate(self) -> None:
        """Forget the current token (Power BI said it is expired or invalid)."""
        with self._lock:
            self._token = None
            cache = self._cache
            for item in list(cache.search(msal.TokenCache.CredentialType.ACCESS_TOKEN)):
                cache.remove_at(item)

    def _acquire(self) -> None:
        cache = self._cache
        for item in list(cache.search(msal.TokenCache.CredentialType.ACCESS_TOKEN)):
            cache.remove_at(item)
        try:
            result = self._app.acquire_token_for_client(scopes=[self._scope])
        except msal.exceptions.MsalServiceError as exc:
            # msal raises this for a non-JSON error page; it also holds a 5xx/429 answer back
            # from repeat calls for its Retry-After (5 s by default), which our backoff outlasts.
            status = re.search(r"HTTP Error: (\d+)", str(exc))
            if status and (int(status.group(1)) >= 500 or int(status.group(1)) == 429):
                raise TransientError(f"Azure AD token endpoint answered {status.group(1)}") from exc
            raise PowerBIAuthError(f"Azure AD token request failed: {exc}") from exc
        except requests.exceptions.SSLError as exc:
            raise PowerBITlsError(f"the TLS certificate of the Azure AD authority host could not be verified "
                                  f"({str(exc).splitlines()[0][:300] if str(exc) else 'SSLError'})") from exc
        except requests.RequestException as exc:
            raise TransientError(
                f"could not reach the Azure AD token endpoint for tenant {self._tenant_id}: "
                f"{type(exc).__name__}"
            ) from exc
        if result.get("error") in _TRANSIENT_AAD_ERRORS:
            raise TransientError(f"Azure AD is unavailable: {result.get('error')}")
        if "access_token" not in result:
            raise PowerBIAuthError(
                f"Azure AD refused the client credentials of app {self._client_id} in tenant "
                f"{self._tenant_id}: {result.get('error')}: "
                f"{str(result.get('error_description', '')).splitlines()[0] if result.get('error_description') else ''}"
                " (check client_id, client_secret and that the service principal may use Power BI APIs)",
                error=str(result.get("error") or ""),
                codes=tuple(int(c) for c in result.get("error_codes") or () if str(c).isdigit()),
            )
        self._token = str(result["access_token"])
        self._expires_at = self._clock() + float(result.get("expires_in", 3599))
        self.acquired_count += 1
        self._logger.info("Acquired a Power BI access token valid for %ss", result.get("expires_in"))
