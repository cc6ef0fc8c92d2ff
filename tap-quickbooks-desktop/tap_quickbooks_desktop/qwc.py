"""The .qwc file a user loads into the QuickBooks Web Connector."""

from __future__ import annotations

import uuid
from xml.sax.saxutils import escape

from .config import CompanyConfig, ServerConfig


def _guid() -> str:
    return "{" + str(uuid.uuid4()).upper() + "}"


def app_url(config: ServerConfig) -> str:
    if config.app_url:
        return config.app_url
    scheme = "https" if config.uses_tls else "http"
    host = "localhost" if config.host in ("127.0.0.1", "::1", "localhost") else config.host
    return f"{scheme}://{host}:{config.port}/"


def render_qwc(
    config: ServerConfig,
    company: CompanyConfig,
    *,
    run_every_n_minutes: int = 15,
    app_name: str = "tap-quickbooks-desktop",
    owner_id: str | None = None,
    file_id: str | None = None,
) -> str:
    """QWC XML; OwnerID/FileID are fresh GUIDs unless given (keep them to re-register)."""
    url = app_url(config)
    fields = [
        ("AppName", f"{app_name} ({company.company})"),
        ("AppID", ""),
        ("AppURL", url),
        ("AppDescription", f"Syncs QuickBooks company {company.company} to Singer/Meltano"),
        ("AppSupport", url.rstrip("/") + "/?wsdl"),
        ("UserName", company.username),
        ("OwnerID", owner_id or _guid()),
        ("FileID", file_id or _guid()),
        ("QBType", "QBFS"),
    ]
    lines = ['<?xml version="1.0"?>', "<QBWCXML>"]
    lines += [f"  <{tag}>{escape(value)}</{tag}>" for tag, value in fields]
    lines += [
        "  <Scheduler>",
        f"    <RunEveryNMinutes>{int(run_every_n_minutes)}</RunEveryNMinutes>",
        "  </Scheduler>",
        "  <IsReadOnly>true</IsReadOnly>",
        "</QBWCXML>",
        "",
    ]
    return "\n".join(lines)
