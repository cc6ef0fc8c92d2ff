"""A requests session that keeps a configured CA bundle even when REQUESTS_CA_BUNDLE is set.

requests lets ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE`` override a session's ``verify`` unless
``verify`` is passed per request, so a private CA (a corporate proxy, or a local sandbox)
configured with ``ca_bundle`` would silently be ignored. Passing it per request keeps proxy
settings from the environment working.
"""

from __future__ import annotations

from typing import Any

import requests


class CaBundleSession(requests.Session):
    def __init__(self, ca_bundle: str | None, user_agent: str) -> None:
        super().__init__()
        self._ca_bundle = ca_bundle
        self.headers["User-Agent"] = user_agent

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if self._ca_bundle and kwargs.get("verify") is None:
            kwargs["verify"] = self._ca_bundle
        return super().request(method, url, *args, **kwargs)
