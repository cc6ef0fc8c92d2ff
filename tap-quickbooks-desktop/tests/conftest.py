"""Fixtures: a sandbox QuickBooks company, our QBWC server, the sandbox Web Connector."""

from __future__ import annotations

import contextlib
import io
import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sandboxes.qbwc import Faults, QuickBooksCompany, QWCFile, WebConnector
from sandboxes.qbwc.fixtures import qb_company_factory  # noqa: F401
from tap_quickbooks_desktop.config import server_config
from tap_quickbooks_desktop.qwc import render_qwc
from tap_quickbooks_desktop.server import QbwcServer
from tap_quickbooks_desktop.tap import TapQuickBooksDesktop

PASSWORD = "correct horse battery staple"
USERNAME = "qbwc-acme"
COMPANY = "acme"


def base_settings(buffer_path: Path, **overrides: Any) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "companies": [{"company": COMPANY, "username": USERNAME, "password": PASSWORD}],
        "buffer_path": str(buffer_path),
        "host": "127.0.0.1",
        "port": 0,
        "max_returned": 100,
        "failure_backoff_seconds": 0,
    }
    settings.update(overrides)
    return settings


@pytest.fixture
def company(qb_company_factory: Callable[..., QuickBooksCompany]) -> QuickBooksCompany:  # noqa: F811
    return qb_company_factory(seed=7, transactions=120, tz="-05:00")


@pytest.fixture
def settings(tmp_path: Path) -> dict[str, Any]:
    return base_settings(tmp_path / "buffer.sqlite")


@pytest.fixture
def start_server() -> Iterator[Callable[[dict[str, Any]], QbwcServer]]:
    servers: list[QbwcServer] = []

    def start(settings: dict[str, Any]) -> QbwcServer:
        server = QbwcServer(server_config(settings)).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def connector_for(
    server: QbwcServer,
    company: QuickBooksCompany,
    tmp_path: Path,
    *,
    password: str = PASSWORD,
    faults: Faults | None = None,
    ca_file: str | None = None,
) -> WebConnector:
    document = render_qwc(server.config, server.config.companies[0])
    qwc_path = tmp_path / "acme.qwc"
    qwc_path.write_text(document.replace(f":{server.config.port}/", f":{server.port}/"))
    return WebConnector(
        qwc=QWCFile.load(str(qwc_path)), password=password, company=company,
        faults=faults or Faults(), ca_file=ca_file,
    )


@pytest.fixture
def web_connector(tmp_path: Path) -> Callable[..., WebConnector]:
    def make(server: QbwcServer, company: QuickBooksCompany, **kwargs: Any) -> WebConnector:
        return connector_for(server, company, tmp_path, **kwargs)

    return make


class DrainResult:
    def __init__(self, messages: list[dict[str, Any]]) -> None:
        self.messages = messages

    def records(self, stream: str) -> list[dict[str, Any]]:
        return [m["record"] for m in self.messages if m["type"] == "RECORD" and m["stream"] == stream]

    @property
    def state(self) -> dict[str, Any]:
        states = [m["value"] for m in self.messages if m["type"] == "STATE"]
        return states[-1] if states else {}


def drain(settings: dict[str, Any], state: dict[str, Any] | None = None) -> DrainResult:
    """One tap run in-process, its Singer messages parsed."""
    tap = TapQuickBooksDesktop(config=settings, state=state or {}, parse_env_config=False)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        tap.sync_all()
    return DrainResult([json.loads(line) for line in out.getvalue().splitlines() if line.strip()])


def drain_serving_one_session(
    settings: dict[str, Any], company: QuickBooksCompany, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> tuple[Any, DrainResult]:
    """One tap run with ``run_server_wait_seconds`` set in ``settings``: the tap starts its own
    QBWC server, the Web Connector polls it once, then the tap drains. Returns (the Web
    Connector's report, the drain)."""
    started: list[QbwcServer] = []
    original_start = QbwcServer.start

    def start_and_remember(server: QbwcServer) -> QbwcServer:
        started.append(server)
        return original_start(server)

    monkeypatch.setattr(QbwcServer, "start", start_and_remember)
    result: dict[str, DrainResult] = {}
    runner = threading.Thread(target=lambda: result.setdefault("drain", drain(settings)))
    runner.start()
    deadline = time.monotonic() + 30
    while not started and time.monotonic() < deadline:
        time.sleep(0.02)
    server = started[0]
    while server.port == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    qwc_path = tmp_path / "run.qwc"
    qwc_path.write_text(render_qwc(server.config, server.config.companies[0]).replace(":0/", f":{server.port}/"))
    report = WebConnector(qwc=QWCFile.load(str(qwc_path)), password=PASSWORD, company=company).run_once()
    runner.join(timeout=90)
    return report, result["drain"]
