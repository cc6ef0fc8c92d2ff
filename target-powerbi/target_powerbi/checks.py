"""``target-powerbi check``: do these settings reach Power BI, and may they push there?

Aspects, cheapest first: the settings; a token for the Power BI scope (a wrong secret, an app
the tenant does not know, an unknown tenant and an unreachable authority are told apart by
Azure AD's answer); the workspace as the service principal sees it; the principal's role in
it (Admin, Member and Contributor may create datasets and push rows, a Viewer may not); the
push dataset, and with ``--catalog`` whether its tables match the streams' schemas. Only
reads: nothing is created, pushed or changed.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from qbc_plugin_kit.checks import (
    Aspect,
    Check,
    check_parser,
    failed,
    passed,
    run_checks,
    secret_values,
)
from qbc_plugin_kit.failures import SystemicFailure
from qbc_plugin_kit.retry import TransientError
from qbc_plugin_kit.settings_check import unknown_settings

from target_powerbi.auth import PowerBITokenProvider
from target_powerbi.client import PowerBIClient
from target_powerbi.config import PROG, RENAMED_SETTINGS, PowerBISettings, config_schema
from target_powerbi.errors import PowerBIAuthError, PowerBIRequestError, PowerBITlsError
from target_powerbi.loader import column_differences
from target_powerbi.runtime import http_session, token_provider
from target_powerbi.schema_mapping import table_columns, table_definition, table_name
from target_powerbi.target import TargetPowerBI

# A check prints its own lines; the token provider's INFO lines would only come between them.
LOGGER = logging.getLogger(f"{PROG}.check")
LOGGER.setLevel(logging.WARNING)
# A check answers in seconds; a run keeps request_timeout and its retry policy.
CHECK_TIMEOUT_SECONDS = 15.0
# Microsoft, "Roles in workspaces": Contributors and up may create and change content.
PUSHING_ROLES = ("Admin", "Member", "Contributor")
_REQUIRED = ("tenant_id", "client_id", "client_secret", "workspace_id")
_TLS_FIX = ("set ca_bundle to a PEM file with the CA that signed the host's certificate (a TLS-inspecting "
            "proxy's CA), or check the host name")
_ADD_TO_WORKSPACE = ("in Power BI open the workspace > Manage access and add the app (the service principal) "
                     "as Contributor, Member or Admin")


def token_aspect(settings: PowerBISettings, auth: PowerBITokenProvider) -> Aspect:
    name = "token"
    try:
        auth.token()
    except PowerBIAuthError as exc:
        return _token_refused(settings, exc)
    except PowerBITlsError as exc:
        return failed(name, str(exc), _TLS_FIX + " (authority_host)")
    except TransientError as exc:
        return failed(name, f"cannot reach the Azure AD authority {settings.authority_host} ({exc})",
                      "check authority_host (public cloud: https://login.microsoftonline.com) and that this "
                      "machine reaches it (proxy, firewall, DNS)")
    return passed(name, f"Azure AD issued a Power BI token to app {settings.client_id} in tenant {settings.tenant_id}")


def _token_refused(settings: PowerBISettings, exc: PowerBIAuthError) -> Aspect:
    name, app, tenant = "token", settings.client_id, settings.tenant_id
    codes = ", ".join(f"AADSTS{c}" for c in exc.codes)
    said = f"{exc.error}{', ' + codes if codes else ''}"
    if exc.error == "invalid_tenant":
        return failed(name, f"Azure AD does not know tenant {tenant}",
                      "set tenant_id to the Directory (tenant) ID or domain of the app registration "
                      "(Microsoft Entra ID > Overview), and authority_host to your cloud's login host")
    if exc.error == "invalid_client" or 7000215 in exc.codes or 7000222 in exc.codes:
        return failed(name, f"Azure AD refused the client secret of app {app} ({said})",
                      "set client_secret to the Value of a current secret of the app registration "
                      "(Certificates & secrets), not its Secret ID")
    if exc.error in ("unauthorized_client", "invalid_request") or 700016 in exc.codes:
        return failed(name, f"Azure AD knows no app {app} in tenant {tenant} ({said})",
                      "set client_id to the app registration's Application (client) ID, and tenant_id to the "
                      "tenant the app is registered in")
    return failed(name, f"Azure AD refused the token request of app {app} ({said or exc})",
                  "check client_id, client_secret and tenant_id")


def _api_failure(name: str, settings: PowerBISettings, exc: Exception) -> Aspect:
    if isinstance(exc, PowerBITlsError):
        return failed(name, str(exc), _TLS_FIX + " (api_url)")
    if isinstance(exc, TransientError):
        return failed(name, f"cannot reach the Power BI API at {settings.api_url} ({exc})",
                      "check api_url (public cloud: https://api.powerbi.com) and that this machine reaches it "
                      "(proxy, firewall, DNS)")
    if isinstance(exc, PowerBIRequestError) and exc.status in (401, 403):
        return failed(name, f"Power BI refused the service principal ({exc.status} {exc.code})",
                      "in the Power BI admin portal (Tenant settings > Developer settings) allow service "
                      "principals to use Power BI APIs, for a security group that holds this app")
    return failed(name, str(exc), "check api_url and workspace_id")


def workspace_aspect(settings: PowerBISettings, client: PowerBIClient) -> Aspect:
    name = "workspace"
    try:
        workspace = client.workspace()
    except (PowerBIRequestError, PowerBITlsError, TransientError) as exc:
        return _api_failure(name, settings, exc)
    if workspace is None:
        return failed(name, f"workspace {settings.workspace_id} does not exist or the service principal is not a "
                      "member of it",
                      "set workspace_id to the id in the workspace's address (app.powerbi.com/groups/<id>/...), "
                      "and " + _ADD_TO_WORKSPACE)
    return passed(name, f"{workspace.get('name')!r} ({settings.workspace_id})")


def _token_claims(token: str) -> dict[str, Any]:
    """The claims of an Azure AD access token (a JWT), read only to find the service principal's
    object id (``oid``): Power BI lists an app in a workspace by it. Nothing is trusted from it."""
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    try:
        padded = parts[1] + "=" * (-len(parts[1]) % 4)
        claims = json.loads(base64.urlsafe_b64decode(padded))
    except (ValueError, binascii.Error):
        return {}
    return claims if isinstance(claims, dict) else {}


def role_aspect(settings: PowerBISettings, client: PowerBIClient, auth: PowerBITokenProvider) -> Aspect:
    name = "role"
    try:
        users = client.workspace_users()
    except PowerBIRequestError as exc:
        if exc.status in (401, 403):
            return passed(name, "the workspace's members cannot be read with this token; the first run shows "
                          "whether the service principal may push")
        return _api_failure(name, settings, exc)
    except (PowerBITlsError, TransientError) as exc:
        return _api_failure(name, settings, exc)
    claims = _token_claims(auth.token())
    identities = {str(v).lower() for v in (claims.get("oid"), claims.get("appid"), settings.client_id) if v}
    mine = [u for u in users if u.get("principalType") == "App" and str(u.get("identifier", "")).lower() in identities]
    if not mine:
        return passed(name, "the app is not listed by name (a member through a security group?); the first run "
                      "shows whether it may push")
    role = str(mine[0].get("groupUserAccessRight"))
    if role in PUSHING_ROLES:
        return passed(name, f"the service principal is {role}: it may create the dataset and push rows")
    return failed(name, f"the service principal is {role} of workspace {settings.workspace_id}: a {role} cannot "
                  "create datasets or push rows",
                  "give the app the Contributor, Member or Admin role (the workspace > Manage access)")


def dataset_aspects(settings: PowerBISettings, client: PowerBIClient,
                    catalog: Mapping[str, Any] | None) -> list[Aspect]:
    name = f"dataset {settings.dataset_name!r}"
    try:
        dataset_id = client.find_dataset(settings.dataset_name)
        tables = client.get_tables(dataset_id) if dataset_id else {}
    except PowerBIRequestError as exc:
        if exc.code == "AmbiguousDataset":
            return [failed(name, str(exc), f"keep one dataset named {settings.dataset_name!r} in the workspace or "
                                           "set another dataset_name")]
        return [_api_failure(name, settings, exc)]
    except (PowerBITlsError, TransientError) as exc:
        return [_api_failure(name, settings, exc)]
    if dataset_id is None:
        return [passed(name, "not in the workspace yet; the first run creates it")]
    aspects = [passed(name, f"present ({dataset_id}) with {len(tables)} table(s)")]
    if catalog is None:
        return aspects
    for stream, schema in catalog_streams(catalog):
        try:
            columns = table_columns(schema, settings.number_data_type, stream=stream)
        except SystemicFailure as exc:
            aspects.append(failed(f"stream {stream}", exc.cause, exc.fix))
            continue
        table = table_name(stream)
        if table not in tables:
            aspects.append(passed(f"stream {stream}", f"no table {table!r} yet: the first run adds it (where Power "
                                  f"BI refuses, missing_table_action: {settings.missing_table_action} decides)"))
            continue
        differences = column_differences(tables[table], table_definition(stream, columns)["columns"])
        if not differences:
            aspects.append(passed(f"stream {stream}", f"matches table {table!r}"))
        elif settings.schema_change_action == "migrate":
            aspects.append(passed(f"stream {stream}", f"differs from table {table!r} and will be migrated "
                                  f"(schema_change_action: migrate): {'; '.join(differences)}"))
        else:
            aspects.append(failed(f"stream {stream}", f"differs from table {table!r}: {'; '.join(differences)}",
                                  f"set schema_change_action: migrate to let the target change table {table!r}, "
                                  "or make the stream match the table again (a stream map, or the tap's schema)"))
    return aspects


def catalog_streams(catalog: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(stream, schema) of each selected stream of a Singer catalog (every stream when none
    carries selection metadata)."""
    streams = catalog.get("streams") or []

    def selected(entry: Mapping[str, Any]) -> bool | None:
        for item in entry.get("metadata") or []:
            if not item.get("breadcrumb"):
                meta = item.get("metadata") or {}
                return meta.get("selected", meta.get("selected-by-default"))
        return None

    flags = [selected(entry) for entry in streams]
    any_flag = any(flag is not None for flag in flags)
    return [(str(entry.get("stream") or entry.get("tap_stream_id")), dict(entry.get("schema") or {}))
            for entry, flag in zip(streams, flags, strict=True) if flag or not any_flag]


def settings_aspect(config: Mapping[str, Any], settings: PowerBISettings) -> Aspect:
    missing = [k for k in _REQUIRED if not getattr(settings, k)]
    if missing:
        return failed("settings", f"{', '.join(missing)} not set",
                      f"meltano config {PROG} set {missing[0]} ... (the app registration's values; workspace_id "
                      "is the id in the workspace's address)")
    unknown = unknown_settings({k: v for k, v in config.items() if k not in RENAMED_SETTINGS}, full_schema())
    if unknown:
        return failed("settings", unknown[0], "rename or remove the setting")
    if settings.ca_bundle and not Path(settings.ca_bundle).is_file():
        return failed("settings", f"ca_bundle {settings.ca_bundle!r} is not a file",
                      "set ca_bundle to the path of an existing PEM file, or unset it")
    renamed = [f"{old} is deprecated: rename it to {new}" for old, new in RENAMED_SETTINGS.items() if old in config]
    detail = f"tenant {settings.tenant_id}, app {settings.client_id}, workspace {settings.workspace_id}"
    return passed("settings", "; ".join([detail, *renamed]))


def full_schema() -> dict[str, Any]:
    """The settings schema with the SDK's built-in target settings (load_method, ...)."""
    schema = copy.deepcopy(config_schema())
    TargetPowerBI.append_builtin_config(schema)
    return schema


def build_checks(config: dict[str, Any], catalog: Mapping[str, Any] | None = None) -> list[tuple[str, Check]]:
    settings = PowerBISettings.from_config(config)
    settings = replace(settings, request_timeout=min(settings.request_timeout, CHECK_TIMEOUT_SECONDS))
    first = settings_aspect(config, settings)
    checks: list[tuple[str, Check]] = [("settings", lambda: first)]
    if not first.ok:
        return checks  # nothing further can be tried without these
    session = http_session(settings)
    auth = token_provider(settings, session, LOGGER)
    client = PowerBIClient(session=session, auth=auth, api_url=settings.api_url, workspace_id=settings.workspace_id,
                           timeout_seconds=settings.request_timeout, logger=LOGGER)
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

    checks += [
        step("token", None, lambda: token_aspect(settings, auth)),
        step("workspace", "token", lambda: workspace_aspect(settings, client)),
        step("role", "workspace", lambda: role_aspect(settings, client, auth)),
        step("dataset", "workspace", lambda: dataset_aspects(settings, client, catalog)),
    ]
    return checks


def run_check(argv: list[str]) -> int:
    """Prove the settings reach Power BI and may push there, without moving data (one line each)."""
    from qbc_plugin_kit.plugin_cli import env_config, load_config

    parser = check_parser(PROG)
    parser.add_argument("--catalog", type=Path,
                        help="Singer catalog: also compare each selected stream with its table in the dataset")
    args = parser.parse_args(argv)
    schema = full_schema()
    config = {**env_config(PROG, schema), **load_config(args.config)}
    catalog = None
    if args.catalog is not None:
        catalog = load_config([args.catalog])
    return run_checks(PROG, build_checks(config, catalog), secrets=secret_values(config, schema))
