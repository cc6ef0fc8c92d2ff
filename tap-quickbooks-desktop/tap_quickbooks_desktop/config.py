"""Typed view of the tap's settings shared by the QBWC server and the Singer tap."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

QBXML_VERSION = "13.0"
DEFAULT_BUFFER_PATH = ".meltano/tap-quickbooks-desktop/buffer.sqlite"


class ConfigError(ValueError):
    """The configuration cannot run the tap or the server; the message says which setting."""


@dataclass(frozen=True)
class CompanyConfig:
    """One QuickBooks company file and the Web Connector user that syncs it."""

    company: str
    username: str
    password: str = field(repr=False)
    company_file: str = ""


@dataclass(frozen=True)
class ServerConfig:
    """Everything the QBWC server needs, resolved from the tap settings."""

    companies: tuple[CompanyConfig, ...]
    buffer_path: str = DEFAULT_BUFFER_PATH
    state_database_url: str | None = field(default=None, repr=False)
    host: str = "127.0.0.1"
    port: int = 8443
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    app_url: str | None = None
    qbxml_version: str = QBXML_VERSION
    max_returned: int = 250
    queries_per_message: int = 4
    overlap_seconds: int = 300
    start_date: str | None = None
    ticket_ttl_seconds: int = 3600
    failure_backoff_seconds: int = 300
    streams: tuple[str, ...] | None = None

    @property
    def uses_tls(self) -> bool:
        return bool(self.ssl_certfile)

    def company_by_key(self, company: str) -> CompanyConfig | None:
        return next((c for c in self.companies if c.company == company), None)

    def company_for_user(self, username: str) -> CompanyConfig | None:
        for company in self.companies:
            if company.username == username:
                return company
        return None


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _companies(config: Mapping[str, Any]) -> tuple[CompanyConfig, ...]:
    entries = config.get("companies") or []
    shorthand = not entries
    if not entries and config.get("company"):
        entries = [
            {
                "company": config.get("company"),
                "username": config.get("username"),
                "password": config.get("password"),
                "company_file": config.get("company_file") or "",
            }
        ]
    companies: list[CompanyConfig] = []
    for index, entry in enumerate(entries):
        missing = [k for k in ("company", "username", "password") if not entry.get(k)]
        if missing and shorthand:
            raise ConfigError(f"the setting {' and '.join(missing)} is not set (company {entry.get('company')!r})")
        if missing:
            raise ConfigError(f"companies[{index}] is missing {', '.join(missing)}")
        companies.append(
            CompanyConfig(
                company=str(entry["company"]),
                username=str(entry["username"]),
                password=str(entry["password"]),
                company_file=str(entry.get("company_file") or ""),
            )
        )
    names = [c.company for c in companies]
    users = [c.username for c in companies]
    if len(set(names)) != len(names):
        raise ConfigError("each entry of companies needs its own `company` key")
    if len(set(users)) != len(users):
        # authenticate() only sees the user name, so it must pick exactly one company.
        raise ConfigError("each company needs its own Web Connector `username`")
    return tuple(companies)


def company_keys(config: Mapping[str, Any]) -> tuple[str, ...]:
    """Company keys the tap drains (all, or `only_company`); passwords are not needed."""
    entries = config.get("companies") or []
    if entries:
        keys = tuple(str(e["company"]) for e in entries if e.get("company"))
    else:
        keys = (str(config["company"]),) if config.get("company") else ()
    only = config.get("only_company")
    if not only:
        return keys
    if str(only) not in keys:
        raise ConfigError(
            f"only_company {only!r} is not the key of any entry of companies "
            f"({', '.join(keys) or 'none configured'}); set it to one of them or leave it empty"
        )
    return (str(only),)


def server_config(config: Mapping[str, Any]) -> ServerConfig:
    """Validate the settings the server needs and refuse unsafe combinations."""
    companies = _companies(config)
    if not companies:
        raise ConfigError("set `companies` (or `company`, `username` and `password`)")
    if config.get("only_company"):
        # A server limited to one company (e.g. run-and-wait in a per-company job)
        # authenticates only that company's Web Connector.
        keys = company_keys(config)
        companies = tuple(c for c in companies if c.company in keys)
    host = str(config.get("host") or "127.0.0.1")
    certfile = config.get("ssl_certfile") or None
    keyfile = config.get("ssl_keyfile") or None
    if bool(certfile) != bool(keyfile):
        raise ConfigError("set both ssl_certfile and ssl_keyfile, or neither")
    if not certfile and not is_loopback(host):
        # QBWC itself refuses http:// except to localhost; serving passwords in clear
        # text to the network would be the only effect of allowing it.
        raise ConfigError(
            f"host {host!r} is not a loopback address: plain HTTP is only allowed on "
            "localhost; set ssl_certfile and ssl_keyfile to serve HTTPS"
        )
    streams = config.get("streams")
    return ServerConfig(
        companies=companies,
        buffer_path=str(config.get("buffer_path") or DEFAULT_BUFFER_PATH),
        state_database_url=config.get("state_database_url") or None,
        host=host,
        port=int(config.get("port", 8443)),
        ssl_certfile=certfile,
        ssl_keyfile=keyfile,
        app_url=config.get("app_url") or None,
        qbxml_version=str(config.get("qbxml_version") or QBXML_VERSION),
        max_returned=int(config.get("max_returned") or 250),
        queries_per_message=int(config.get("queries_per_message") or 4),
        overlap_seconds=int(config.get("overlap_seconds", 300)),
        start_date=config.get("start_date") or None,
        ticket_ttl_seconds=int(config.get("ticket_ttl_seconds") or 3600),
        failure_backoff_seconds=int(config.get("failure_backoff_seconds", 300)),
        streams=tuple(streams) if streams else None,
    )
