"""Builds the loading machinery from settings, for a run and for ``replay`` alike."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qbc_plugin_kit.failures import SystemicFailure, missing_file
from qbc_plugin_kit.http_session import CaBundleSession

from target_salesforce.auth import SalesforceSessionProvider, login_base_url
from target_salesforce.client import SalesforceWriter
from target_salesforce.loader import SalesforceLoader
from target_salesforce.mapping import LINE_DETAILS, MappingSettings

USER_AGENT = "target-salesforce/0.1 (+https://github.com/quickbooks-connectors)"


@dataclass
class Runtime:
    loader: SalesforceLoader
    sessions: SalesforceSessionProvider


def mapping_settings(config: Mapping[str, Any]) -> MappingSettings:
    # The SDK fills every declared default into the config before this runs.
    external_id_field = config["external_id_field"]
    return MappingSettings(
        account_external_id_field=config.get("account_external_id_field") or external_id_field,
        opportunity_external_id_field=config.get("opportunity_external_id_field") or external_id_field,
        line_external_id_field=config.get("line_external_id_field") or external_id_field,
        version_field=config["version_field"],
        account_active_field=config["account_active_field"],
        opportunity_stage=config["opportunity_stage"],
        deleted_opportunity_stage=config["deleted_opportunity_stage"],
        line_item_object=config["line_item_object"],
        line_item_parent_field=config["line_item_parent_field"],
        pricebook_entry_id=config.get("pricebook_entry_id") or None,
        line_detail=line_detail(config),
        chart_object=config["chart_of_accounts_object"],
        order_status=config["order_status"],
        sent_invoices_only=bool(config["sent_invoices_only"]),
    )


def line_detail(config: Mapping[str, Any]) -> str:
    chosen = config.get("line_detail")
    if chosen:
        if chosen not in LINE_DETAILS:
            raise SystemicFailure(f"line_detail is {chosen!r}, which target-salesforce does not know",
                              f"set line_detail to one of {', '.join(LINE_DETAILS)}")
        return str(chosen)
    # Releases before line_detail chose OpportunityLineItems by naming a price book entry.
    return "opportunity_line_item" if config.get("pricebook_entry_id") else "order"


def build_runtime(config: Mapping[str, Any], logger: logging.Logger) -> Runtime:
    ca_bundle = config.get("ca_bundle")
    if ca_bundle and not Path(ca_bundle).is_file():
        # requests would only say "Could not find a suitable TLS CA certificate bundle".
        raise missing_file("ca_bundle", ca_bundle)
    session = CaBundleSession(ca_bundle, USER_AGENT)
    timeout = float(config["request_timeout"])
    session.request = _with_timeout(session.request, timeout)  # type: ignore[method-assign]
    sessions = SalesforceSessionProvider(
        base_url=login_base_url(config.get("domain"), config.get("login_url")),
        client_id=config["client_id"],
        client_secret=config["client_secret"],
        api_version=str(config["api_version"]),
        session=session,
        max_age_seconds=float(config["session_max_age_seconds"]),
        timeout_seconds=timeout,
        logger=logger,
    )
    budget = config.get("api_budget_share")
    writer = SalesforceWriter(sessions=sessions, bulk_poll_seconds=float(config["bulk_poll_seconds"]),
                              api_budget_share=None if budget is None else float(budget), logger=logger)
    loader = SalesforceLoader(writer=writer, settings=mapping_settings(config),
                              bulk_threshold=int(config["bulk_threshold"]), logger=logger)
    return Runtime(loader=loader, sessions=sessions)


def _with_timeout(request: Any, timeout: float) -> Any:
    # simple-salesforce passes no timeout of its own; a hung socket must not hang the run.
    def send(method: Any, url: Any, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", timeout)
        return request(method, url, *args, **kwargs)
    return send
