"""The workspace REST endpoints a Databricks client touches besides the warehouse itself:
OIDC discovery and the client-credentials token endpoint (service-principal OAuth M2M, as
databricks-sdk's ``oauth-m2m`` auth uses them), host metadata, and the connector's feature
flags and telemetry sinks."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote

from .credentials import CredentialStore

WORKSPACE_ID = "1234567890123456"
FEATURE_FLAGS_PREFIX = "/api/2.0/connector-service/feature-flags/"
TELEMETRY_PATHS = frozenset({"/telemetry-ext", "/telemetry-unauth"})
TOKEN_PATH = "/oidc/v1/token"


@dataclass
class Reply:
    status: int
    payload: dict[str, object]
    headers: dict[str, str] = field(default_factory=dict)

    def body(self) -> bytes:
        return json.dumps(self.payload).encode()


def error(status: int, error_code: str, message: str) -> Reply:
    return Reply(status, {"error_code": error_code, "message": message})


def discovery(base_url: str, path: str) -> Reply | None:
    """GET documents; None when ``path`` is not one of them."""
    if path == "/oidc/.well-known/oauth-authorization-server":
        return Reply(
            200,
            {
                "issuer": f"{base_url}/oidc",
                "authorization_endpoint": f"{base_url}/oidc/v1/authorize",
                "token_endpoint": f"{base_url}{TOKEN_PATH}",
                "grant_types_supported": ["client_credentials", "authorization_code", "refresh_token"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
                "scopes_supported": ["all-apis", "sql", "offline_access"],
            },
        )
    if path == "/.well-known/databricks-config":
        return Reply(
            200, {"oidc_endpoint": f"{base_url}/oidc", "workspace_id": WORKSPACE_ID, "cloud": "aws"}
        )
    if path.startswith(FEATURE_FLAGS_PREFIX):
        return Reply(200, {"flags": [], "ttl_seconds": 900})
    return None


def _client_from_basic(header: str) -> tuple[str, str] | None:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    return (unquote(client_id), unquote(secret)) if sep else None


def token(credentials: CredentialStore, authorization: str, form_body: bytes) -> Reply:
    """The client-credentials grant, with the client authenticated by Basic header or form."""
    try:
        form = {k: v[0] for k, v in parse_qs(form_body.decode(), strict_parsing=False).items()}
    except UnicodeDecodeError:
        return Reply(400, {"error": "invalid_request", "error_description": "body is not UTF-8"})
    if form.get("grant_type") != "client_credentials":
        return Reply(
            400,
            {
                "error": "unsupported_grant_type",
                "error_description": "only client_credentials is served here",
            },
        )
    client = _client_from_basic(authorization) if authorization else None
    if client is None and "client_id" in form:
        client = (form["client_id"], form.get("client_secret", ""))
    if client is None or not credentials.check_client(*client):
        return Reply(
            401,
            {"error": "invalid_client", "error_description": "Client authentication failed"},
        )
    issued = credentials.issue_oauth_token(client[0])
    return Reply(
        200,
        {
            "access_token": issued.access_token,
            "token_type": "Bearer",
            "expires_in": issued.expires_in,
            "scope": form.get("scope", "all-apis"),
        },
        {"Cache-Control": "no-store"},
    )
