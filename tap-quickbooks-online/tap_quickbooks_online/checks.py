"""``tap-quickbooks-online check``: does this configuration reach the user's companies?

Aspects, cheapest first: the settings, the token store, the token endpoint and the app's
credentials (a refresh grant with a placeholder token: Intuit authenticates the client before
it looks at the grant, so ``invalid_client`` vs ``invalid_grant`` tells them apart without
spending a token), then per realm the refresh token (one real refresh, persisted like a run's),
a CompanyInfo read (reachable and authorised), the minorversion, and the request budget.
"""

from __future__ import annotations

import datetime as dt
import time
import typing as t

import requests
from qbc_plugin_kit.checks import Aspect, Check, failed, passed
from qbc_plugin_kit.settings_check import unknown_settings

from tap_quickbooks_online.auth import RealmTokens
from tap_quickbooks_online.client import QBOClient
from tap_quickbooks_online.errors import APIError, AuthError, ConfigError, QBOError, TokenStoreError
from tap_quickbooks_online.rate_limit import RealmRateLimiter

if t.TYPE_CHECKING:
    from tap_quickbooks_online.tap import TapQuickBooksOnline

# Intuit's documented limits per realm (Accounting API: 500 requests/minute, 10 concurrent).
INTUIT_REQUESTS_PER_MINUTE = 500
INTUIT_CONCURRENCY = 10
# Intuit ignores minorversion values below 75 since 2025-08 (they answer as 75).
LOWEST_MINORVERSION = 75
CHECK_TIMEOUT_SECONDS = 15.0
AUTH_FIX = "run `meltano invoke tap-quickbooks-online:auth` (tap-quickbooks-online auth) for this company"


def _seconds(value: float) -> str:
    days = value / 86400
    return f"{days:.0f} days" if days >= 2 else f"{value / 3600:.1f} hours"


def settings_aspect(tap: TapQuickBooksOnline) -> Aspect:
    missing = [k for k in ("client_id", "client_secret") if not getattr(tap.settings, k)]
    if missing:
        return failed("settings", f"{' and '.join(missing)} not set",
                      f"meltano config tap-quickbooks-online set {missing[0]} ... (the app's Keys & credentials)")
    try:
        realms = tap.realm_entries()
    except ConfigError as exc:
        cause, _, fix = str(exc).partition(". Fix: ")
        return failed("settings", cause, fix)
    unknown = unknown_settings(dict(tap.config), tap.config_jsonschema)
    if unknown:
        return failed("settings", unknown[0], "rename or remove the setting")
    return passed("settings", f"{len(realms)} realm(s): {', '.join(str(r['realm_id']) for r in realms)}")


def token_store_aspect(tap: TapQuickBooksOnline) -> Aspect:
    try:
        store = tap.token_store()
        realms = store.realms()
    except TokenStoreError as exc:
        return failed("token store", str(exc).rstrip("."),
                      f"set {tap.settings.token_store_key_env} to the key the store was written with "
                      "(or move the store away to start over)")
    mode = store.path.stat().st_mode & 0o777 if store.path.exists() else None
    if mode is not None and mode & 0o077:
        return failed("token store", f"{store.path} is readable by others (mode {mode:o})",
                      f"chmod 600 {store.path}")
    where = f"{store.path} (encrypted, mode 600)" if mode is not None else f"{store.path} (not written yet)"
    return passed("token store", f"{where}, holds {len(realms)} realm(s)")


def token_endpoint_aspect(tap: TapQuickBooksOnline) -> Aspect:
    url = tap.settings.token_url
    try:
        resp = requests.post(url, data={"grant_type": "refresh_token", "refresh_token": "check-placeholder"},
                             auth=(tap.settings.client_id or "", tap.settings.client_secret or ""),
                             headers={"Accept": "application/json"}, timeout=CHECK_TIMEOUT_SECONDS)
    except requests.RequestException as exc:
        return failed("token endpoint", f"cannot reach {url} ({type(exc).__name__})",
                      "check token_url and that this machine reaches it (proxy, firewall, DNS)")
    try:
        error = str(resp.json().get("error", ""))
    except (ValueError, AttributeError):
        error = ""
    if error == "invalid_client" or resp.status_code == 401:
        return failed("token endpoint", f"Intuit refused client_id/client_secret (HTTP {resp.status_code} invalid_client)",
                      "set client_id and client_secret to the app's Keys & credentials (Production keys "
                      "for real companies, Development keys for sandbox companies)")
    if error == "invalid_grant":
        return passed("token endpoint", f"{url} reachable; client_id and client_secret accepted")
    return failed("token endpoint", f"{url} answered HTTP {resp.status_code} {error or '(no OAuth error)'}",
                  "check token_url (Intuit: https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer)")


def _realm_client(tap: TapQuickBooksOnline, entry: dict[str, t.Any]) -> QBOClient:
    realm_id = str(entry["realm_id"])
    session = requests.Session()
    tokens = RealmTokens(realm_id, oauth=tap.oauth_client(session), store=tap.token_store(),
                         configured_refresh_token=entry.get("refresh_token"),
                         refresh_warning_days=tap.settings.refresh_token_warning_days)
    # One attempt, a short wait: a check answers in seconds, a run keeps its retry policy.
    return QBOClient(realm_id, base_url=tap.settings.base_url, minorversion=tap.settings.minorversion,
                     tokens=tokens, limiter=RealmRateLimiter(), session=session,
                     timeout=CHECK_TIMEOUT_SECONDS, max_attempts=1)


def refresh_token_aspect(tap: TapQuickBooksOnline, client: QBOClient) -> Aspect:
    name = f"realm {client.realm_id} refresh token"
    tokens = client.tokens
    try:
        tokens.refresh_now()
    except AuthError as exc:
        text = str(exc)
        if "invalid_client" in text:
            return failed(name, "not tried: Intuit refused client_id/client_secret", "see the token endpoint line")
        if "unavailable" in text:
            return failed(name, "the token endpoint did not answer", "see the token endpoint line")
        return failed(name, "Intuit refused the refresh token (expired, revoked, already rotated, or "
                      "issued to another app)", AUTH_FIX)
    expires = tokens.refresh_token_expires_at  # the chain may still wait under pending:<origin>
    if expires is None:
        return passed(name, "valid (Intuit did not say when it expires)")
    when = dt.datetime.fromtimestamp(float(expires), tz=dt.UTC).date().isoformat()
    remaining = float(expires) - time.time()
    if remaining < tap.settings.refresh_token_warning_days * 86400:
        return failed(name, f"valid but expires on {when} (in {_seconds(remaining)})", AUTH_FIX + " before then")
    return passed(name, f"valid; expires on {when} (in {_seconds(remaining)}); rotated and stored")


def company_aspects(tap: TapQuickBooksOnline, client: QBOClient) -> list[Aspect]:
    name = f"realm {client.realm_id} company"
    minor = tap.settings.minorversion
    try:
        body = client.read("CompanyInfo", client.realm_id)
    except AuthError:
        return [failed(name, "not tried: no access token", "see the refresh token line")]
    except APIError as exc:
        if exc.status == 403 or exc.status == 401:
            return [failed(name, f"the token is not authorised for company {client.realm_id} (HTTP {exc.status})",
                           "check realm_id (QuickBooks: Settings > Account and settings > Billing & subscription, "
                           f"Company ID), or {AUTH_FIX}")]
        if exc.status == 400 and "minor" in str(exc).lower():
            return [failed(name, f"Intuit refused minorversion {minor}", "set minorversion to a supported value (75)")]
        return [failed(name, f"Intuit refused the CompanyInfo read: {exc}", "check base_url and realm_id")]
    except QBOError as exc:
        return [failed(name, f"cannot reach {tap.settings.base_url} ({exc})",
                       "check base_url (production: https://quickbooks.api.intuit.com, sandbox companies: "
                       "https://sandbox-quickbooks.api.intuit.com) and the network")]
    company = str(body.get("CompanyName") or "(unnamed)")
    aspects = [passed(name, f"reachable and authorised: {company!r}")]
    if minor < LOWEST_MINORVERSION:
        aspects.append(failed(f"realm {client.realm_id} minorversion",
                              f"minorversion {minor} is below {LOWEST_MINORVERSION}, which Intuit ignores (it answers as 75)",
                              f"set minorversion to {LOWEST_MINORVERSION} or higher"))
    else:
        aspects.append(passed(f"realm {client.realm_id} minorversion", f"{minor} accepted"))
    return aspects


def budget_aspect(tap: TapQuickBooksOnline) -> Aspect:
    per_minute = tap.settings.requests_per_minute
    concurrency = tap.settings.max_concurrency
    if per_minute > INTUIT_REQUESTS_PER_MINUTE:
        return failed("request budget", f"requests_per_minute {per_minute} exceeds Intuit's {INTUIT_REQUESTS_PER_MINUTE} per realm",
                      f"set requests_per_minute to {INTUIT_REQUESTS_PER_MINUTE} or less (more only buys 429 answers)")
    if concurrency > INTUIT_CONCURRENCY:
        return failed("request budget", f"max_concurrency {concurrency} exceeds Intuit's {INTUIT_CONCURRENCY} requests in flight per realm",
                      f"set max_concurrency to {INTUIT_CONCURRENCY} or less")
    return passed("request budget", f"{per_minute} requests/minute, {concurrency} in flight per realm "
                  f"(Intuit: {INTUIT_REQUESTS_PER_MINUTE}, {INTUIT_CONCURRENCY}); the check used 1 API request per realm")


def build_checks(tap: TapQuickBooksOnline) -> list[tuple[str, Check]]:
    settings = settings_aspect(tap)
    checks: list[tuple[str, Check]] = [("settings", lambda: settings)]
    if not settings.ok and "realm" not in (settings.problem or "") and "unknown" not in (settings.problem or ""):
        return checks  # without the app's credentials nothing further can be tried
    checks += [("token store", lambda: token_store_aspect(tap)),
               ("token endpoint", lambda: token_endpoint_aspect(tap))]
    try:
        realms = tap.realm_entries()
    except ConfigError:
        realms = []
    for entry in realms:
        def realm_checks(entry: dict[str, t.Any] = entry) -> list[Aspect]:
            try:
                client = _realm_client(tap, entry)
            except TokenStoreError:
                return [failed(f"realm {entry['realm_id']}", "not tried: the token store is unusable",
                               "see the token store line")]
            token = refresh_token_aspect(tap, client)
            if not token.ok:
                return [token]
            return [token, *company_aspects(tap, client)]
        checks.append((f"realm {entry['realm_id']}", realm_checks))
    checks.append(("request budget", lambda: budget_aspect(tap)))
    return checks
