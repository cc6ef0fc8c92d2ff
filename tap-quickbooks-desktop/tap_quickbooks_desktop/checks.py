"""``tap-quickbooks-desktop check``: will the Web Connector reach this server, and has it?

QuickBooks Desktop is never called from here: the Web Connector calls us. So the check proves
what is on this side: the settings, the ``.qwc`` the user loaded (its AppURL and UserName must
match this server, or QBWC calls somewhere else or is refused), the certificate QBWC will see
(valid for the AppURL's host, not about to expire), the buffer (writable), the server answering
at that URL, and what the buffer recorded of the Web Connector's sessions: when it last completed
one, what went wrong since, and how many entries wait for the next tap run.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import sqlite3
import ssl
import typing as t
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

from lxml import etree
from qbc_plugin_kit.checks import Aspect, Check, failed, passed
from qbc_plugin_kit.settings_check import unknown_settings

from .config import ConfigError, ServerConfig, server_config
from .qwc import app_url

if t.TYPE_CHECKING:
    from collections.abc import Mapping

CERT_WARNING_DAYS = 30
PROBE_TIMEOUT_SECONDS = 5.0
QWC_FIX = "run `tap-quickbooks-desktop qwc` (meltano invoke tap-quickbooks-desktop:qwc), remove the old application in the Web Connector and add the new .qwc"
# The .qwc is user-supplied XML: no entities, no DTD, no network.
_SAFE_XML = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def settings_aspect(settings: Mapping[str, t.Any], schema: dict[str, t.Any]) -> tuple[Aspect, ServerConfig | None]:
    try:
        config = server_config(settings)
    except ConfigError as exc:
        return failed("settings", str(exc), "meltano config tap-quickbooks-desktop set <setting> ... "
                      "(password: the one the Web Connector user types for this company)"), None
    unknown = unknown_settings(dict(settings), schema)
    if unknown:
        return failed("settings", unknown[0], "rename or remove the setting"), config
    return passed("settings", f"{len(config.companies)} company(ies): "
                  f"{', '.join(c.company for c in config.companies)}"), config


def qwc_aspect(config: ServerConfig, company: str, username: str, path: Path) -> Aspect:
    name = f"{company} .qwc"
    if not path.exists():
        return passed(name, f"not checked: no {path} (pass --qwc FILE to compare the file you loaded)")
    try:
        root = etree.fromstring(path.read_bytes(), _SAFE_XML)
    except etree.XMLSyntaxError as exc:
        return failed(name, f"{path} is not valid XML ({exc})", QWC_FIX)
    url = (root.findtext("AppURL") or "").strip()
    user = (root.findtext("UserName") or "").strip()
    expected = app_url(config)
    if url.rstrip("/") != expected.rstrip("/"):
        return failed(name, f"{path} sends the Web Connector to {url!r}, but this server is at {expected!r}",
                      f"{QWC_FIX} (or set app_url to the URL the Web Connector uses)")
    if user != username:
        return failed(name, f"{path} logs in as {user!r}, but company {company} expects username {username!r}",
                      QWC_FIX)
    return passed(name, f"{path} matches {expected} as {username!r}")


def _host_matches(host: str, names: list[str], addresses: list[str]) -> bool:
    try:
        return str(ipaddress.ip_address(host)) in addresses
    except ValueError:
        pass
    for pattern in names:
        if pattern == host or (pattern.startswith("*.") and host.count(".") == pattern.count(".")
                               and host.endswith(pattern[1:])):
            return True
    return False


def certificate_aspect(config: ServerConfig, now: dt.datetime | None = None) -> Aspect:
    if not config.ssl_certfile:
        return passed("certificate", "plain HTTP on loopback (the Web Connector accepts http://localhost only)")
    name = "certificate"
    cert_path = Path(config.ssl_certfile)
    if not cert_path.exists():
        return failed(name, f"ssl_certfile {cert_path} does not exist", "set ssl_certfile to the PEM certificate")
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(config.ssl_certfile, config.ssl_keyfile)
    except (ssl.SSLError, OSError) as exc:
        return failed(name, f"ssl_certfile and ssl_keyfile do not load as a pair ({exc})",
                      "set ssl_keyfile to the private key of ssl_certfile (both PEM)")
    from cryptography import x509

    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    host = urlparse(app_url(config)).hostname or config.host
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = san.get_values_for_type(x509.DNSName)
        addresses = [str(a) for a in san.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        names, addresses = [], []
    if not _host_matches(host, names, addresses):
        covered = ", ".join(names + addresses) or "no names"
        return failed(name, f"the certificate covers {covered}, not {host} (the Web Connector's host)",
                      f"issue a certificate whose subjectAltName includes {host}, or set app_url to a covered name")
    now = now or dt.datetime.now(dt.UTC)
    left = cert.not_valid_after_utc - now
    until = cert.not_valid_after_utc.date().isoformat()
    if left.total_seconds() <= 0:
        return failed(name, f"the certificate expired on {until}", "renew the certificate (ssl_certfile)")
    if left.days < CERT_WARNING_DAYS:
        return failed(name, f"the certificate expires on {until} (in {left.days} days)",
                      "renew the certificate (ssl_certfile) before then")
    return passed(name, f"valid for {host} until {until}")


def shared_store_aspects(config: ServerConfig, settings: Mapping[str, t.Any]) -> list[Aspect]:
    """Replicas on PostgreSQL (state_database_url): reachable, and what it holds per company."""
    from .store import open_store

    try:
        store = open_store(settings)
        try:
            waiting = store.count_entries()
            statuses = {c.company: store.company_status(c.company) for c in config.companies}
        finally:
            store.close()
    except Exception as exc:  # any driver error (DNS, auth, permissions) is this line's answer
        return [failed("state store", f"the PostgreSQL state store cannot be used ({type(exc).__name__}: {exc})",
                       "check state_database_url (host, database, user, password) and that this user may write there")]
    aspects = [passed("state store", "PostgreSQL state store reachable")]
    for company, status in statuses.items():
        if status.consecutive_failures:
            aspects.append(failed(f"{company} web connector", f"the last session failed at {status.last_failure_at}: "
                                  f"{status.last_error} ({status.consecutive_failures} failure(s) in a row)",
                                  "open QuickBooks with the company file, check the Web Connector's log, then Update Selected"))
        else:
            aspects.append(passed(f"{company} web connector", "no failed session recorded"))
    aspects.append(passed("waiting entries", f"{waiting} responses buffered for the next tap run to drain "
                          "(or prune, if already committed)" if waiting else "none: the buffer is empty"))
    return aspects


def buffer_aspect(config: ServerConfig) -> Aspect:
    path = Path(config.buffer_path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=5, isolation_level=None)
        try:
            # Takes the write lock and gives it back: proves writable without changing a row.
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("ROLLBACK")
        finally:
            conn.close()
    except (OSError, sqlite3.Error) as exc:
        return failed("buffer", f"{path} is not writable ({exc})",
                      "set buffer_path to a file in a directory this user can write, or fix its permissions")
    return passed("buffer", f"{path} writable")


def server_aspect(config: ServerConfig, settings: Mapping[str, t.Any]) -> Aspect:
    url = app_url(config)
    probe = url.rstrip("/") + "/?wsdl"
    context = None
    if url.startswith("https"):
        # Reachability only: the certificate has its own line.
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    try:
        with urllib.request.urlopen(probe, timeout=PROBE_TIMEOUT_SECONDS, context=context) as resp:  # noqa: S310
            ok = resp.status == 200
    except (urllib.error.URLError, OSError):
        ok = False
    if ok:
        return passed("server", f"answering at {url}")
    if int(settings.get("run_server_wait_seconds") or 0) > 0:
        return passed("server", f"not running at {url}; each tap run starts it (run_server_wait_seconds)")
    return failed("server", f"nothing answers at {url}, where the Web Connector calls",
                  "start it: meltano invoke tap-quickbooks-desktop:serve (or set run_server_wait_seconds)")


def web_connector_aspects(config: ServerConfig) -> list[Aspect]:
    path = Path(config.buffer_path)
    if not path.exists():
        return [failed(f"{c.company} web connector", "it has never called (no buffer yet)",
                       "load the .qwc into the Web Connector and click Update Selected")
                for c in config.companies]
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        aspects = []
        for company in config.companies:
            aspects.append(_company_status(conn, company.company))
        waiting = conn.execute("SELECT COUNT(*) FROM entries").fetchone()[0]
    except sqlite3.Error as exc:
        return [failed("web connector", f"the buffer {path} cannot be read ({exc})",
                       "set buffer_path to the server's buffer")]
    finally:
        conn.close()
    # Drained entries stay until the next run prunes what the target committed (the STATE lives
    # in Meltano, not here), so this counts both: an upper bound of what the next run drains.
    aspects.append(passed("waiting entries", f"{waiting} responses buffered for the next tap run to drain "
                          "(or prune, if already committed)" if waiting else "none: the buffer is empty"))
    return aspects


def _company_status(conn: sqlite3.Connection, company: str) -> Aspect:
    name = f"{company} web connector"
    row = conn.execute("SELECT consecutive_failures, last_failure_at, last_error, last_success_at "
                       "FROM company_status WHERE company = ?", (company,)).fetchone()
    errors = conn.execute("SELECT COUNT(*), MAX(message) FROM request_errors WHERE company = ?",
                          (company,)).fetchone()
    if row is None:
        return failed(name, "no completed session recorded yet",
                      "open the company in QuickBooks, load its .qwc into the Web Connector and click Update Selected")
    failures, last_failure, last_error, last_success = row
    if failures and (not last_success or (last_failure or "") > last_success):
        return failed(name, f"the last session failed at {last_failure}: {last_error} "
                      f"({failures} failure(s) in a row; last success: {last_success or 'never'})",
                      "open QuickBooks with the company file, check the Web Connector's log, then Update Selected")
    detail = f"last completed session at {last_success}"
    if errors and errors[0]:
        detail += f"; {errors[0]} request error(s) reported, e.g. {errors[1]}"
    return passed(name, detail)


def consumer_aspects(settings: Mapping[str, t.Any], now: dt.datetime | None = None) -> list[Aspect]:
    """One line per reader of the buffer (a Meltano job's state): where it is, what it holds back."""
    from .config import buffer_consumer_retention_days
    from .store import open_store

    if not settings.get("state_database_url") and not Path(str(settings.get("buffer_path") or "")).exists():
        return []
    try:
        days = buffer_consumer_retention_days(settings)
        store = open_store(settings)
        try:
            rows = store.consumers()
        finally:
            store.close()
    except Exception as exc:  # the store's own lines already name an unusable store
        return [failed("consumers", f"the buffer's consumers cannot be read ({type(exc).__name__}: {exc})",
                       "set buffer_path (or state_database_url) to the server's buffer")]
    now = now or dt.datetime.now(dt.UTC)
    per_consumer: dict[str, list[t.Any]] = {}
    for row in rows:
        per_consumer.setdefault(row.consumer, []).append(row)
    aspects = []
    for consumer, held in per_consumer.items():
        seen = max(r.last_seen for r in held)
        position = min(r.position for r in held)
        where = f"last run {seen:%Y-%m-%d %H:%M} UTC, committed up to entry {position}"
        if now - seen > dt.timedelta(days=days):
            detail = (f"{where}; unseen for more than buffer_consumer_retention_days ({days}): holds nothing "
                      "back, and its next run fails until its state is cleared (meltano state clear <state id>)")
        else:
            waiting = sum(r.waiting for r in held)
            detail = f"{where}; holds back {waiting} buffered entr{'y' if waiting == 1 else 'ies'} it has not committed"
        aspects.append(passed(f"consumer {consumer}", detail))
    return aspects


def build_checks(settings: Mapping[str, t.Any], schema: dict[str, t.Any],
                 qwc_files: list[Path] | None = None) -> list[tuple[str, Check]]:
    settings_line, config = settings_aspect(settings, schema)
    checks: list[tuple[str, Check]] = [("settings", lambda: settings_line)]
    if config is None:
        return checks
    given = {p.stem: p for p in qwc_files or []}
    for company in config.companies:
        path = given.get(company.company) or (qwc_files[0] if qwc_files and len(config.companies) == 1
                                               else Path(f"{company.company}.qwc"))
        checks.append((f"{company.company} .qwc",
                       lambda c=company, p=path: qwc_aspect(config, c.company, c.username, p)))
    checks += [("certificate", lambda: certificate_aspect(config)),
               ("server", lambda: server_aspect(config, settings))]
    if settings.get("state_database_url"):
        checks.append(("state store", lambda: shared_store_aspects(config, settings)))
    else:
        checks += [("buffer", lambda: buffer_aspect(config)),
                   ("web connector", lambda: web_connector_aspects(config))]
    checks.append(("consumers", lambda: consumer_aspects(settings)))
    return checks
