"""Intuit's OpenID discovery document, served with the sandbox's own endpoints.

Intuit's OAuth client libraries (intuit-oauth's ``AuthClient``) read the token, authorization and
revocation URLs from this document rather than hard-coding them, and take the document's URL as
their ``environment``; serving it lets them run against the sandbox unchanged. The document is
Intuit's published one (``qbo/oauth/discovery.json`` of the vendor reference files) with each
Intuit endpoint replaced by the sandbox's.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from sandboxes import reference_path

if TYPE_CHECKING:
    from .sandbox import QBOSandbox

DISCOVERY_PATH = "/.well-known/openid_configuration"
DISCOVERY_FILE = "qbo/oauth/discovery.json"


def discovery_document(sandbox: QBOSandbox) -> dict[str, Any]:
    # Intuit's file starts with a byte-order mark.
    document: dict[str, Any] = json.loads(reference_path(*DISCOVERY_FILE.split("/")).read_text(encoding="utf-8-sig"))
    base = sandbox.base_url
    document.update({
        "issuer": f"{base}/op/v1",
        "authorization_endpoint": sandbox.authorize_url,
        "token_endpoint": sandbox.token_url,
        "revocation_endpoint": sandbox.revoke_url,
        "userinfo_endpoint": f"{base}/v1/openid_connect/userinfo",
        "jwks_uri": f"{base}/op/v1/jwks",
    })
    return document
