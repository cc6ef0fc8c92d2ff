"""A minimal HTTP client for the sandbox (tests, benchmarks, the CLI's self-check)."""

from __future__ import annotations

from typing import Any

import requests

from ..loopback_http import loopback_session
from . import jsonfmt
from .sandbox import QBOSandbox


class SandboxClient:
    def __init__(self, sandbox: QBOSandbox, realm_id: str | None = None, minorversion: int = 75) -> None:
        self.sandbox = sandbox
        self.realm_id = realm_id or sandbox.realm_ids[0]
        self.minorversion = minorversion
        self.session = loopback_session()
        self.tokens = sandbox.issue_tokens(self.realm_id)

    @property
    def access_token(self) -> str:
        return str(self.tokens["access_token"])

    def get(self, path: str, params: dict[str, Any] | None = None, token: str | None = None,
            timeout: float = 10.0) -> requests.Response:
        query = {"minorversion": str(self.minorversion), **(params or {})}
        headers = {"Authorization": f"Bearer {token or self.access_token}", "Accept": "application/json"}
        return self.session.get(f"{self.sandbox.api_url(self.realm_id)}/{path.lstrip('/')}",
                                params=query, headers=headers, timeout=timeout)

    def post(self, path: str, body: Any, timeout: float = 10.0) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.access_token}", "Accept": "application/json",
                   "Content-Type": "application/json"}
        return self.session.post(f"{self.sandbox.api_url(self.realm_id)}/{path.lstrip('/')}",
                                 params={"minorversion": str(self.minorversion)}, data=jsonfmt.dumps(body),
                                 headers=headers, timeout=timeout)

    def query(self, text: str, **kwargs: Any) -> requests.Response:
        return self.get("query", {"query": text}, **kwargs)

    def query_json(self, text: str) -> dict[str, Any]:
        response = self.query(text)
        response.raise_for_status()
        return dict(jsonfmt.loads(response.content))

    def close(self) -> None:
        self.session.close()
