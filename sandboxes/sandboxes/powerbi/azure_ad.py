"""Azure AD (Microsoft identity platform v2.0) client-credentials token issuer for one tenant."""

from __future__ import annotations

import base64
import hmac
import json
import secrets
import threading
import time
from dataclasses import dataclass

from sandboxes.https_server import Request, Response

POWERBI_SCOPE = "https://analysis.windows.net/powerbi/api/.default"


@dataclass
class IssuedToken:
    client_id: str
    object_id: str
    expires_at: float


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class TokenIssuer:
    """Issues opaque bearer tokens; knows which are valid, expired or revoked."""

    def __init__(self, tenant_id: str, client_id: str, client_secret: str, lifetime_seconds: int,
                 object_id: str = "3d9b93c6-7b6d-4801-a491-1738910904fd") -> None:
        self.tenant_id = tenant_id
        self.client_id = client_id
        # The service principal's object id: Power BI lists an app in a workspace by it.
        self.object_id = object_id
        self._client_secret = client_secret
        self.lifetime_seconds = lifetime_seconds
        self._tokens: dict[str, IssuedToken] = {}
        self._lock = threading.Lock()
        self.issued_count = 0

    def openid_configuration(self, base_url: str) -> Response:
        authority = f"{base_url}/{self.tenant_id}"
        return Response(200, {
            "token_endpoint": f"{authority}/oauth2/v2.0/token",
            "authorization_endpoint": f"{authority}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{authority}/oauth2/v2.0/devicecode",
            "issuer": f"{authority}/v2.0",
            "jwks_uri": f"{base_url}/{self.tenant_id}/discovery/v2.0/keys",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "tenant_region_scope": "EU",
        })

    def token(self, request: Request) -> Response:
        form = request.form()
        if form.get("grant_type") != "client_credentials":
            return _aad_error(400, "unsupported_grant_type", 70003,
                              "AADSTS70003: The app requested an unsupported grant type.")
        scope = form.get("scope", "")
        if POWERBI_SCOPE not in scope.split():
            return _aad_error(400, "invalid_scope", 1002012,
                              f"AADSTS1002012: The provided value for scope {scope!r} is not valid. "
                              "Client credential flows must have a scope value with /.default suffixed.")
        client_id = form.get("client_id", "")
        client_secret = form.get("client_secret", "")
        if not hmac.compare_digest(client_id.encode(), self.client_id.encode()):
            return _aad_error(400, "unauthorized_client", 700016,
                              f"AADSTS700016: Application with identifier '{client_id}' was not found "
                              f"in the directory '{self.tenant_id}'.")
        if not hmac.compare_digest(client_secret.encode(), self._client_secret.encode()):
            return _aad_error(401, "invalid_client", 7000215,
                              "AADSTS7000215: Invalid client secret provided. Ensure the secret being "
                              "sent in the request is the client secret value, not the client secret ID.")
        access_token = self._jwt(client_id)
        with self._lock:
            self._tokens[access_token] = IssuedToken(client_id, self.object_id, time.time() + self.lifetime_seconds)
            self.issued_count += 1
        return Response(200, {
            "token_type": "Bearer",
            "expires_in": self.lifetime_seconds,
            "ext_expires_in": self.lifetime_seconds,
            "access_token": access_token,
        }, headers={"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"})

    def _jwt(self, client_id: str) -> str:
        """A token shaped like Azure AD's (a JWT whose claims name the app, its service principal
        and the tenant); its signature is random: the sandbox knows its tokens by value."""
        now = int(time.time())
        claims = {"aud": "https://analysis.windows.net/powerbi/api", "iss": f"https://sts.windows.net/{self.tenant_id}/",
                  "iat": now, "nbf": now, "exp": now + self.lifetime_seconds, "appid": client_id,
                  "idtyp": "app", "oid": self.object_id, "sub": self.object_id, "tid": self.tenant_id,
                  "uti": secrets.token_urlsafe(16), "ver": "1.0"}
        header = {"typ": "JWT", "alg": "RS256", "kid": "sandbox"}
        return ".".join((_b64url(json.dumps(header).encode()), _b64url(json.dumps(claims).encode()),
                         _b64url(secrets.token_bytes(64))))

    def principal(self, token: str | None) -> IssuedToken | None:
        with self._lock:
            return self._tokens.get(token or "")

    def check(self, token: str | None) -> str:
        """Return ``"ok"``, ``"expired"`` or ``"invalid"`` for a presented bearer token."""
        if not token:
            return "invalid"
        with self._lock:
            issued = self._tokens.get(token)
        if issued is None:
            return "invalid"
        return "ok" if issued.expires_at > time.time() else "expired"

    def expire_all(self) -> None:
        """Make every token issued so far expired, as if an hour passed."""
        with self._lock:
            for issued in self._tokens.values():
                issued.expires_at = 0.0


def _aad_error(status: int, error: str, code: int, description: str) -> Response:
    return Response(status, {
        "error": error,
        "error_description": description,
        "error_codes": [code],
        "timestamp": time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime()),
        "trace_id": secrets.token_hex(16),
        "correlation_id": secrets.token_hex(16),
    })
