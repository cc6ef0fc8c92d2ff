"""Builds the loading machinery from settings, for the target and for ``replay`` alike."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qbc_plugin_kit.dead_letters import DeadLetterStore
from qbc_plugin_kit.http_session import CaBundleSession
from qbc_plugin_kit.retry import RetryPolicy

from target_salesforce.auth import SalesforceSessionProvider, login_base_url
from target_salesforce.client import SalesforceWriter
from target_salesforce.loader import SalesforceLoader
from target_salesforce.mapping import MappingSettings

USER_AGENT = "target-salesforce/0.1 (+https://github.com/quickbooks-connectors)"


@dataclass
class Runtime:
    loader: SalesforceLoader
    dead_letters: DeadLetterStore
    sessions: SalesforceSessionProvider

    def close(self) -> None:
        self.dead_letters.close()


def mapping_settings(config: Mapping[str, Any]) -> MappingSettings:
    external_id_field = config.get("external_id_field", "QuickBooks_Id__c")
    return MappingSettings(
        account_external_id_field=config.get("account_external_id_field") or external_id_field,
        opportunity_external_id_field=config.get("opportunity_external_id_field") or external_id_field,
        line_external_id_field=config.get("line_external_id_field") or external_id_field,
        version_field=config.get("version_field", "QuickBooks_Version__c"),
        account_active_field=config.get("account_active_field", "Active__c"),
        opportunity_stage=config.get("opportunity_stage", "Closed Won"),
        deleted_opportunity_stage=config.get("deleted_opportunity_stage", "Closed Lost"),
        line_item_object=config.get("line_item_object", "QuickBooks_Invoice_Line__c"),
        line_item_parent_field=config.get("line_item_parent_field", "Opportunity__c"),
        pricebook_entry_id=config.get("pricebook_entry_id") or None,
    )


def build_runtime(config: Mapping[str, Any], logger: logging.Logger) -> Runtime:
    session = CaBundleSession(config.get("ca_bundle"), USER_AGENT)
    timeout = float(config.get("request_timeout_seconds", 120))
    session.request = _with_timeout(session.request, timeout)  # type: ignore[method-assign]
    sessions = SalesforceSessionProvider(
        base_url=login_base_url(config.get("domain"), config.get("login_url")),
        client_id=config["client_id"],
        client_secret=config["client_secret"],
        api_version=str(config.get("api_version", "62.0")),
        session=session,
        max_age_seconds=float(config.get("session_max_age_seconds", 6600)),
        timeout_seconds=timeout,
        logger=logger,
    )
    retry = RetryPolicy(
        max_attempts=int(config.get("max_retries", 6)),
        base_seconds=float(config.get("backoff_base_seconds", 1.0)),
        max_seconds=float(config.get("backoff_max_seconds", 60.0)),
    )
    writer = SalesforceWriter(sessions=sessions, retry=retry,
                              bulk_poll_seconds=float(config.get("bulk_poll_seconds", 5.0)), logger=logger)
    loader = SalesforceLoader(writer=writer, settings=mapping_settings(config),
                              bulk_threshold=int(config.get("bulk_threshold", 2000)), logger=logger)
    dead_letters = DeadLetterStore(Path(config.get("dead_letter_path", ".meltano/target-salesforce/dead_letters")))
    return Runtime(loader=loader, dead_letters=dead_letters, sessions=sessions)


def _with_timeout(request: Any, timeout: float) -> Any:
    # simple-salesforce passes no timeout of its own; a hung socket must not hang the run.
    def send(method: Any, url: Any, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", timeout)
        return request(method, url, *args, **kwargs)
    return send
