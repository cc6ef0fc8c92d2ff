"""Builds the loading machinery from settings, for a run and for ``replay`` alike."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qbc_plugin_kit.failures import SystemicFailure, missing_file
from qbc_plugin_kit.http_session import CaBundleSession

from target_salesforce.auth import SalesforceSessionProvider, login_base_url
from target_salesforce.client import SalesforceWriter
from target_salesforce.config import SalesforceSettings
from target_salesforce.loader import SalesforceLoader
from target_salesforce.mapping import LINE_DETAILS, MappingSettings

USER_AGENT = "target-salesforce/0.1 (+https://github.com/quickbooks-connectors)"


@dataclass
class Runtime:
    loader: SalesforceLoader
    sessions: SalesforceSessionProvider


def mapping_settings(settings: SalesforceSettings) -> MappingSettings:
    external_id_field = settings.external_id_field
    return MappingSettings(
        account_external_id_field=settings.account_external_id_field or external_id_field,
        opportunity_external_id_field=settings.opportunity_external_id_field or external_id_field,
        line_external_id_field=settings.line_external_id_field or external_id_field,
        version_field=settings.version_field,
        account_active_field=settings.account_active_field,
        opportunity_stage=settings.opportunity_stage,
        deleted_opportunity_stage=settings.deleted_opportunity_stage,
        line_item_object=settings.line_item_object,
        line_item_parent_field=settings.line_item_parent_field,
        pricebook_entry_id=settings.pricebook_entry_id,
        line_detail=line_detail(settings),
        chart_object=settings.chart_of_accounts_object,
        order_status=settings.order_status,
        sent_invoices_only=bool(settings.sent_invoices_only),
    )


def line_detail(settings: SalesforceSettings) -> str:
    chosen = settings.line_detail
    if chosen:
        if chosen not in LINE_DETAILS:
            raise SystemicFailure(f"line_detail is {chosen!r}, which target-salesforce does not know",
                              f"set line_detail to one of {', '.join(LINE_DETAILS)}")
        return str(chosen)
    # Releases before line_detail chose OpportunityLineItems by naming a price book entry.
    return "opportunity_line_item" if settings.pricebook_entry_id else "order"


def build_runtime(settings: SalesforceSettings, logger: logging.Logger) -> Runtime:
    ca_bundle = settings.ca_bundle
    if ca_bundle and not Path(ca_bundle).is_file():
        # requests would only say "Could not find a suitable TLS CA certificate bundle".
        raise missing_file("ca_bundle", ca_bundle)
    session = CaBundleSession(ca_bundle, USER_AGENT)
    timeout = settings.request_timeout
    session.request = _with_timeout(session.request, timeout)  # type: ignore[method-assign]
    sessions = SalesforceSessionProvider(
        base_url=login_base_url(settings.domain, settings.login_url),
        client_id=settings.client_id,
        client_secret=settings.client_secret,
        api_version=settings.api_version,
        session=session,
        max_age_seconds=float(settings.session_max_age_seconds),
        timeout_seconds=timeout,
        logger=logger,
    )
    writer = SalesforceWriter(sessions=sessions, bulk_poll_seconds=settings.bulk_poll_seconds,
                              api_budget_share=settings.api_budget_share, logger=logger)
    loader = SalesforceLoader(writer=writer, settings=mapping_settings(settings),
                              bulk_threshold=settings.bulk_threshold, logger=logger)
    return Runtime(loader=loader, sessions=sessions)


def _with_timeout(request: Any, timeout: float) -> Any:
    # simple-salesforce passes no timeout of its own; a hung socket must not hang the run.
    def send(method: Any, url: Any, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", timeout)
        return request(method, url, *args, **kwargs)
    return send
