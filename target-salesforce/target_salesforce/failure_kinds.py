"""Salesforce's answers sorted into the delivery contract's kinds (docs/delivery-contract.md).

* transient: 5xx, HTTP 429 (whatever its error code), ``REQUEST_LIMIT_EXCEEDED``,
  ``UNABLE_TO_LOCK_ROW``, dropped connections, timeouts (retried with backoff by the kit's
  policy, ``max_retries``);
* systemic: the org refuses the credentials, the Run As user lacks a permission, a field or
  object the settings name does not exist, the host cannot be found or its certificate not
  trusted: every record would fail the same way, so the run stops naming the setting;
* data: a per-record error of an sObject Collections or Bulk API answer (a value too long, a
  restricted picklist value, a parent that does not exist yet): that record alone.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import requests
from qbc_plugin_kit.failures import Kind, SystemicFailure, Verdict
from qbc_plugin_kit.retry import TransientError

# Error codes Salesforce documents as worth retrying: the org's concurrent or 24-hour API
# allowance, row lock contention, server unavailability.
TRANSIENT_CODES = frozenset({"REQUEST_LIMIT_EXCEEDED", "UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE"})
# Too Many Requests: a throttle in front of the org (an API gateway, a concurrency limit) says
# "later", whatever error code, if any, its body carries.
TOO_MANY_REQUESTS = 429


def is_transient_status(status: int) -> bool:
    return status == TOO_MANY_REQUESTS or status >= 500
# Codes that come from the org's setup or the Run As user's permissions, never from one record.
PERMISSION_CODES = frozenset({
    "INSUFFICIENT_ACCESS_OR_READONLY", "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY",
    "INVALID_FIELD_FOR_INSERT_UPDATE", "API_DISABLED_FOR_ORG", "API_CURRENTLY_DISABLED",
    "INVALID_SESSION_ID", "INSUFFICIENT_ACCESS", "NOT_FOUND", "INVALID_TYPE",
    "FUNCTIONALITY_NOT_ENABLED",
})
# INVALID_FIELD also answers a missing parent ("Foreign key external ID ... not found"), which
# is a data failure; these wordings name a field or object that the org does not have.
_SETUP_WORDINGS = ("No such column", "is not an external id field", "sObject type")
SETUP_FIX = ("create the field or object in the org (README: Org setup) or correct the setting that "
             "names it (external_id_field, version_field, account_active_field, line_detail, line_item_object, "
             "line_item_parent_field, chart_of_accounts_object, opportunity_stage, order_status), and give the connected app's Run As user "
             "read/write access to it")


class SalesforceRequestError(Exception):
    """Salesforce refused a whole request (not one record of it)."""

    def __init__(self, message: str, status: int = 0, codes: frozenset[str] = frozenset()) -> None:
        super().__init__(message)
        self.status = status
        self.codes = codes


def is_setup_error(code: str, message: str) -> bool:
    return code in PERMISSION_CODES or (code == "INVALID_FIELD" and any(w in message for w in _SETUP_WORDINGS))


def record_error(code: str, message: str) -> Kind:
    """The kind of one record's error in a per-record answer."""
    if code in TRANSIENT_CODES:
        return Kind.TRANSIENT
    if is_setup_error(code, message):
        return Kind.SYSTEMIC
    return Kind.DATA


def network_failure(exc: requests.RequestException, url: str) -> Exception:
    """A failed HTTP exchange as the contract sees it: a certificate or a host name that will
    not change by retrying stops the run; anything else on the way is worth a retry."""
    host = urlsplit(url).netloc or url
    if isinstance(exc, requests.exceptions.SSLError):
        return SystemicFailure(
            f"the TLS certificate of {host} is not trusted ({_first_line(exc)})",
            "set ca_bundle to the PEM file of the CA that signs it (a TLS-inspecting proxy's CA), or "
            "correct domain/login_url if this is not the org's host")
    if isinstance(exc, requests.ConnectionError) and _names_unresolvable_host(exc):
        return SystemicFailure(
            f"the host {host} cannot be found (its name does not resolve)",
            "set domain to the org's My Domain prefix (e.g. acme.my) or login_url to its base URL")
    return TransientError(f"could not reach Salesforce at {host} (domain/login_url): {type(exc).__name__}")


def _names_unresolvable_host(exc: requests.ConnectionError) -> bool:
    # requests wraps urllib3's NameResolutionError in its message ("Failed to resolve 'host'").
    text = str(exc)
    return "NameResolutionError" in text or "Failed to resolve" in text


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__


def classify(error: BaseException) -> Verdict:
    """The contract's verdict on an error out of a batch's load."""
    if isinstance(error, TransientError):
        return Verdict(Kind.TRANSIENT, str(error), retry_after=error.retry_after)
    if isinstance(error, SalesforceRequestError):
        if error.codes & TRANSIENT_CODES or is_transient_status(error.status):
            return Verdict(Kind.TRANSIENT, str(error))
        if error.status in (401, 403) or any(is_setup_error(code, str(error)) for code in error.codes):
            return Verdict(Kind.SYSTEMIC, f"Salesforce refused the request: {error}", fix=SETUP_FIX)
        if error.status == 404:
            return Verdict(Kind.SYSTEMIC, f"Salesforce does not know the resource: {error}",
                           fix="check api_version and the object names in the settings "
                               "(line_item_object) against the org")
        return Verdict(Kind.REFUSED, str(error))
    if isinstance(error, requests.RequestException):
        return Verdict(Kind.TRANSIENT, f"{type(error).__name__}: {_first_line(error)}")
    return Verdict(Kind.REFUSED, f"{type(error).__name__}: {error}")
