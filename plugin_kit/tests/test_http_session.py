from __future__ import annotations

from typing import Any

import pytest
import requests
from qbc_plugin_kit.http_session import CaBundleSession
from requests.adapters import BaseAdapter


class RecordingAdapter(BaseAdapter):
    """Stands in for the network: records what requests would have verified the server with."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[requests.PreparedRequest, Any]] = []

    def send(self, request: requests.PreparedRequest, stream: bool = False, timeout: Any = None,
             verify: Any = True, cert: Any = None, proxies: Any = None) -> requests.Response:
        self.sent.append((request, verify))
        response = requests.Response()
        response.status_code = 204
        response.request = request
        return response

    def close(self) -> None:
        pass


def _session(ca_bundle: str | None) -> tuple[CaBundleSession, RecordingAdapter]:
    session = CaBundleSession(ca_bundle, "target-test/1.0")
    adapter = RecordingAdapter()
    session.mount("https://", adapter)
    return session, adapter


def test_configured_ca_bundle_wins_over_requests_ca_bundle(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/env-bundle.pem")
    session, adapter = _session("/etc/ssl/private-ca.pem")
    session.get("https://vendor.example/api")
    [(request, verify)] = adapter.sent
    assert verify == "/etc/ssl/private-ca.pem"
    assert request.headers["User-Agent"] == "target-test/1.0"


def test_an_explicit_verify_per_request_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    session, adapter = _session("/etc/ssl/private-ca.pem")
    session.get("https://vendor.example/api", verify=False)
    assert adapter.sent[0][1] is False


def test_without_a_bundle_the_environment_still_applies(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/env-bundle.pem")
    session, adapter = _session(None)
    session.post("https://vendor.example/api", json={"a": 1})
    assert adapter.sent[0][1] == "/etc/ssl/env-bundle.pem"
