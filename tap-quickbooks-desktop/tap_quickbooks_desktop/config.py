"""Typed view of the tap's settings shared by the QBWC server and the Singer tap: each default
is a constant here, which the settings schema in ``tap.py`` and :class:`ServerConfig` both use."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

QBXML_VERSION = "13.0"
DEFAULT_BUFFER_PATH = ".meltano/tap-quickbooks-desktop/buffer.sqlite"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8443
DEFAULT_MAX_RETURNED = 250
DEFAULT_QUERIES_PER_MESSAGE = 4
DEFAULT_OVERLAP_SECONDS = 300
DEFAULT_TICKET_TTL_SECONDS = 3600
DEFAULT_FAILURE_BACKOFF_SECONDS = 300
DEFAULT_RUN_SERVER_WAIT_SECONDS = 0
DEFAULT_BUFFER_CONSUMER_RETENTION_DAYS = 30


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
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    app_url: str | None = None
    qbxml_version: str = QBXML_VERSION
    max_returned: int = DEFAULT_MAX_RETURNED
    queries_per_message: int = DEFAULT_QUERIES_PER_MESSAGE
    overlap_seconds: int = DEFAULT_OVERLAP_SECONDS
    start_date: str | None = None
    ticket_ttl_seconds: int = DEFAULT_TICKET_TTL_SECONDS
    failure_backoff_seconds: int = DEFAULT_FAILURE_BACKOFF_SECONDS
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
                "company_file": config.get("company_file"),
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
    given = {key: value for key, value in config.items() if value not in (None, "")}
    host = str(given.get("host", DEFAULT_HOST))
    certfile = given.get("ssl_certfile")
    keyfile = given.get("ssl_keyfile")
    if bool(certfile) != bool(keyfile):
        raise ConfigError("set both ssl_certfile and ssl_keyfile, or neither")
    if not certfile and not is_loopback(host):
        # QBWC itself refuses http:// except to localhost; serving passwords in clear
        # text to the network would be the only effect of allowing it.
        raise ConfigError(
            f"host {host!r} is not a loopback address: plain HTTP is only allowed on "
            "localhost; set ssl_certfile and ssl_keyfile to serve HTTPS"
        )
    typed: dict[str, Any] = {}
    for key in _TEXT_SETTINGS:
        if key in given:
            typed[key] = str(given[key])
    for key in _WHOLE_NUMBER_SETTINGS:
        if key in given:
            typed[key] = int(given[key])
    if given.get("streams"):
        typed["streams"] = tuple(given["streams"])
    return ServerConfig(companies=companies, **typed)


# Settings ServerConfig takes as they are set (unset ones keep its defaults).
_TEXT_SETTINGS = ("buffer_path", "state_database_url", "host", "ssl_certfile", "ssl_keyfile", "app_url",
                  "qbxml_version", "start_date")
_WHOLE_NUMBER_SETTINGS = ("port", "max_returned", "queries_per_message", "overlap_seconds",
                          "ticket_ttl_seconds", "failure_backoff_seconds")


def run_server_wait_seconds(config: Mapping[str, Any]) -> int:
    """How long a tap run serves the Web Connector before draining (0: it does not)."""
    value = config.get("run_server_wait_seconds")
    return DEFAULT_RUN_SERVER_WAIT_SECONDS if value in (None, "") else int(value)


def buffer_consumer_retention_days(config: Mapping[str, Any]) -> int:
    """Days a reader of the buffer (a Meltano job) may stay away and still hold entries back."""
    value = config.get("buffer_consumer_retention_days")
    days = DEFAULT_BUFFER_CONSUMER_RETENTION_DAYS if value in (None, "") else int(value)
    if days < 0:
        raise ConfigError("buffer_consumer_retention_days must be 0 or more (days)")
    return days
