"""``target-salesforce check``: does this configuration reach the org, and can it hold the data?

Aspects, cheapest first: the settings; a session from the client-credentials flow on the org's
My Domain (a refused app, a Run As user the flow cannot use and an unreachable host are told
apart); the API version among the org's (``/services/data/``); per mapped sObject, every field
the mapping writes present with a type that holds its values, and the external-id field that
upserts match on marked External ID and unique (describe); the share of the org's daily API
allowance left (``/limits`` ``DailyApiRequests``) against ``api_budget_share``. Only reads.

The fields come from the mapping itself (``mapping.py``): each stream's write is built for a
sample record, so the check cannot drift from what a run sends.
"""

from __future__ import annotations

import decimal
import functools
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import requests
from qbc_plugin_kit.checks import Aspect, Check, check_command, failed, passed
from qbc_plugin_kit.failures import SystemicFailure
from qbc_plugin_kit.retry import TransientError
from qbc_plugin_kit.settings_check import unknown_settings

from target_salesforce.auth import SalesforceSessionProvider
from target_salesforce.client import SalesforceWriter
from target_salesforce.config import PROG, RENAMED_SETTINGS, SalesforceSettings, config_schema
from target_salesforce.failure_kinds import SETUP_FIX, SalesforceRequestError
from target_salesforce.mapping import (
    DATE_FIELDS,
    MappingSettings,
    Write,
    account_write,
    chart_write,
    line_write,
    opportunity_write,
    order_write,
    price_write,
    product_write,
)
from target_salesforce.runtime import build_runtime, mapping_settings

# A check prints its own lines; the session's INFO lines would only come between them.
LOGGER = logging.getLogger(f"{PROG}.check")
LOGGER.setLevel(logging.WARNING)
CHECK_TIMEOUT_SECONDS = 15.0
# Salesforce field types that hold each kind of value the mapping sends.
COMPATIBLE = {
    "number": {"currency", "double", "percent", "int", "long"},
    "boolean": {"boolean"},
    "date": {"date", "datetime"},
    "text": {"string", "textarea", "phone", "picklist", "email", "url", "combobox", "multipicklist",
             "encryptedstring"},
}
_STAMP = "2026-11-20T10:00:00+00:00"
_MONEY = decimal.Decimal("1.00")
# One record with every field the record model gives the mapped streams (docs/record-model.md).
_SAMPLE: dict[str, Any] = {
    "company_id": "9130", "edition": "qbo", "id": "1", "parent_id": "2", "customer_id": "3", "vendor_id": "4",
    "item_id": "5", "invoice_id": "6", "bill_id": "7", "line_id": "1", "line_num": 1,
    "display_name": "Sample", "fully_qualified_name": "Sample", "company_name": "Sample", "name": "Sample",
    "email": "a@example.com", "phone": "555", "terms_id": "1", "account_number": "1",
    "billing_address": {"line1": "1 Main St", "line2": "Suite 1", "city": "Austin", "region": "TX",
                        "postal_code": "78701", "country": "US"},
    "balance": _MONEY, "total_amount": _MONEY, "amount": _MONEY, "quantity": _MONEY, "unit_price": _MONEY,
    "current_balance": _MONEY, "doc_number": "1001", "txn_date": "2026-11-01", "due_date": "2026-12-01",
    "private_note": "note", "description": "Sample", "item_name": "Sample", "account_name": "Sample",
    "account_type": "Bank", "account_sub_type": "Checking", "classification": "Asset", "sku": "S-1",
    "item_type": "Service", "detail_type": "SalesItemLineDetail", "active": True,
    "updated_at": _STAMP, "sync_token": 0, "_sdc_extracted_at": _STAMP, "_sdc_received_at": _STAMP,
    "_sdc_batched_at": _STAMP, "_sdc_source": "qbo:9130",
}


def _writes(stream: str, record: Mapping[str, Any], settings: MappingSettings) -> list[Write]:
    if stream in ("customers", "vendors"):
        return [account_write(stream, record, settings)]
    if stream in ("invoices", "bills"):
        writes = [opportunity_write(record, settings, stream)]
        return writes + ([order_write(record, settings, stream)] if settings.line_detail == "order" else [])
    if stream in ("invoice_lines", "bill_lines"):
        return [line_write(record, settings, None, stream)]
    if stream == "items":
        return [product_write(record, settings), price_write(record, settings)]
    return [chart_write(record, settings)]


MAPPED_STREAMS = ("customers", "vendors", "invoices", "bills", "invoice_lines", "bill_lines", "items", "accounts")


def mapped_fields(settings: MappingSettings) -> dict[str, tuple[str, dict[str, str | None]]]:
    """sObject -> (its external-id field, {field or relationship: kind of value}) for every
    write a run makes, live and deleted (kind None: the sample leaves it empty)."""
    found: dict[str, tuple[str, dict[str, str | None]]] = {}
    deleted = {**_SAMPLE, "_sdc_deleted_at": _STAMP}
    for stream in MAPPED_STREAMS:
        for record in (_SAMPLE, deleted):
            for write in _writes(stream, record, settings):
                fields = found.setdefault(write.sobject, (write.external_field, {}))[1]
                for name, value in write.payload.items():
                    kind = _kind(name, value)
                    if fields.get(name) is None:
                        fields[name] = kind
    return found


def _kind(name: str, value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dict):
        return "reference"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float | decimal.Decimal):
        return "number"
    return "date" if name in DATE_FIELDS else "text"


def _setting_of(name: str, settings: MappingSettings) -> str | None:
    named = {settings.account_active_field: "account_active_field", settings.version_field: "version_field",
             settings.line_item_parent_field: "line_item_parent_field"}
    return named.get(name)


def object_aspect(sobject: str, external_field: str, wanted: Mapping[str, str | None],
                  settings: MappingSettings, writer: SalesforceWriter) -> Aspect:
    name = f"object {sobject}"
    try:
        described = writer.fields(sobject)
    except SalesforceRequestError as exc:
        return failed(name, f"the org has no sObject {sobject} the Run As user can read ({exc})", SETUP_FIX)
    problems: list[tuple[str, str]] = []
    relationships = {str(f.get("relationshipName")): f for f in described.values() if f.get("relationshipName")}
    for field, kind in wanted.items():
        if kind == "reference":
            if field not in relationships:
                problems.append((field, f"no relationship {field} (a lookup field) on {sobject}"))
            continue
        spec = described.get(field)
        if spec is None:
            problems.append((field, f"field {field} does not exist on {sobject}"))
        elif kind is not None and spec.get("type") not in COMPATIBLE[kind]:
            problems.append((field, f"field {sobject}.{field} is of type {spec.get('type')}, which cannot hold a "
                                    f"{kind} value"))
        elif not (spec.get("createable") or spec.get("updateable")):
            problems.append((field, f"field {sobject}.{field} is read-only for the Run As user"))
    external = described.get(external_field)
    if external is None:
        problems.append((external_field, f"external-id field {external_field} does not exist on {sobject}"))
    elif not external.get("externalId") or not external.get("unique"):
        problems.append((external_field, f"{sobject}.{external_field} is not marked External ID and Unique, so "
                                         "upserts cannot match on it"))
    if problems:
        field, problem = problems[0]
        setting = _setting_of(field, settings) or ("external_id_field" if field == external_field else None)
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        fix = (f"set {setting} to a field the org has, or create {field} on {sobject} (README: Org setup)"
               if setting else f"create {field} on {sobject} (README: Org setup) and give the Run As user access")
        return failed(name, problem + more, fix)
    return passed(name, f"{len(wanted)} mapped fields present with compatible types; external id "
                        f"{external_field} (unique)")


def stage_aspect(settings: MappingSettings, writer: SalesforceWriter) -> Aspect:
    name = "opportunity stages"
    try:
        stage = writer.fields("Opportunity").get("StageName") or {}
    except SalesforceRequestError as exc:
        return failed(name, f"Opportunity cannot be described ({exc})", SETUP_FIX)
    values = {str(v.get("value")) for v in stage.get("picklistValues") or [] if v.get("active", True)}
    for setting, value in (("opportunity_stage", settings.opportunity_stage),
                           ("deleted_opportunity_stage", settings.deleted_opportunity_stage)):
        if values and value not in values:
            return failed(name, f"{setting} {value!r} is not a stage of the org's Opportunity StageName",
                          f"set {setting} to one of: {', '.join(sorted(values))}")
    return passed(name, f"{settings.opportunity_stage!r} and {settings.deleted_opportunity_stage!r} are stages")


def token_aspect(sessions: SalesforceSessionProvider) -> Aspect:
    name = "token"
    try:
        client = sessions.client()
    except TransientError as exc:
        return failed(name, f"cannot reach Salesforce at {sessions.base_url} ({exc})",
                      "check domain (the My Domain prefix, e.g. acme.my) or login_url, and that this machine "
                      "reaches the org (proxy, firewall)")
    except SystemicFailure as exc:
        text = exc.cause
        if "invalid_grant" in text:
            return failed(name, f"the org has no usable Run As user for the connected app ({text})",
                          "in the connected app's policies enable the client credentials flow and set Run As to an "
                          "active user with API access")
        return failed(name, text, exc.fix)
    return passed(name, f"session on {client.sf_instance} from the client-credentials flow")


def api_version_aspect(sessions: SalesforceSessionProvider, version: str) -> Aspect:
    name = "api version"
    client = sessions.client()
    url = f"{client.base_url.split('/services/data/')[0]}/services/data/"
    try:
        answer = client.session.get(url, timeout=CHECK_TIMEOUT_SECONDS)
        versions = [str(v.get("version")) for v in answer.json()]
    except (requests.RequestException, ValueError, AttributeError) as exc:
        return failed(name, f"{url} did not list the org's API versions ({type(exc).__name__})",
                      "check domain or login_url")
    if version not in versions:
        return failed(name, f"api_version {version} is not served by the org (it serves {', '.join(versions[-3:])})",
                      f"set api_version to {versions[-1] if versions else 'a version the org serves'}")
    return passed(name, f"{version} (the org serves up to {versions[-1]})")


def budget_aspect(sessions: SalesforceSessionProvider, share: float) -> Aspect:
    name = "daily API budget"
    try:
        limits = sessions.client().restful("limits/")
    except Exception as exc:  # simple-salesforce raises its own errors per status
        return failed(name, f"the org's limits could not be read ({type(exc).__name__})",
                      "give the Run As user the View Setup and Configuration permission, or check api_version")
    daily = (limits or {}).get("DailyApiRequests") or {}
    total, remaining = int(daily.get("Max") or 0), int(daily.get("Remaining") or 0)
    if total <= 0:
        return passed(name, "the org reports no daily allowance")
    used = total - remaining
    allowed = share
    summary = f"{remaining:,} of {total:,} daily API requests left ({remaining / total:.0%})"
    if used >= allowed * total:
        return failed(name, f"{summary}; api_budget_share {allowed:g} leaves this target none",
                      "run once the org's rolling 24-hour window frees requests, or raise api_budget_share")
    return passed(name, f"{summary}; this target stops at {allowed:.0%} used")


def build_checks(config: dict[str, Any]) -> list[tuple[str, Check]]:
    given = SalesforceSettings.from_config(config, LOGGER)
    configured = replace(given, request_timeout=min(given.request_timeout, CHECK_TIMEOUT_SECONDS))
    missing = [k for k in ("client_id", "client_secret") if not getattr(configured, k)]
    if not (configured.domain or configured.login_url):
        missing.append("domain")
    if missing:
        aspect = failed("settings", f"{', '.join(missing)} not set",
                        f"meltano config {PROG} set {missing[0]} ... (the connected app's consumer key and secret; "
                        "domain is the My Domain prefix, e.g. acme.my)")
        return [("settings", lambda: aspect)]
    unknown = unknown_settings(dict(config), config_schema())
    try:
        runtime = build_runtime(configured, LOGGER)
    except SystemicFailure as exc:
        refused = failed("settings", exc.cause, exc.fix)
        return [("settings", lambda: refused)]
    settings = mapping_settings(configured)
    sessions, writer = runtime.sessions, runtime.loader.writer
    first = failed("settings", unknown[0], "rename or remove the setting") if unknown else \
        passed("settings", f"org {sessions.base_url}, line detail {settings.line_detail}")
    outcome: dict[str, bool] = {}

    def step(name: str, needed: str | None, check: Callable[[], Aspect | Sequence[Aspect]]) -> tuple[str, Check]:
        def run() -> Aspect | Sequence[Aspect]:
            if needed is not None and not outcome.get(needed, False):
                result: Aspect | Sequence[Aspect] = failed(name, f"not tried: see the {needed} line",
                                                           f"fix the {needed} first")
            else:
                result = check()
            outcome[name] = all(a.ok for a in ([result] if isinstance(result, Aspect) else result))
            return result
        return name, run

    objects = mapped_fields(settings)
    checks: list[tuple[str, Check]] = [
        ("settings", lambda: first),
        step("token", None, lambda: token_aspect(sessions)),
        step("api version", "token", lambda: api_version_aspect(sessions, configured.api_version)),
    ]
    for sobject, (external_field, wanted) in objects.items():
        checks.append(step(f"object {sobject}", "api version",
                           functools.partial(object_aspect, sobject, external_field, wanted, settings, writer)))
    checks += [step("opportunity stages", "api version", lambda: stage_aspect(settings, writer)),
               step("daily API budget", "token", lambda: budget_aspect(sessions, configured.api_budget_share))]
    return checks


run_check = check_command(PROG, config_schema(), build_checks, RENAMED_SETTINGS)
