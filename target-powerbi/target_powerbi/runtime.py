"""Builds the loading machinery from settings, once per run (replay is a run too)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from qbc_plugin_kit.failures import missing_file
from qbc_plugin_kit.http_session import CaBundleSession

from target_powerbi.auth import PowerBITokenProvider
from target_powerbi.client import PowerBIClient
from target_powerbi.config import PowerBISettings
from target_powerbi.loader import PushLoader
from target_powerbi.mirror import Mirror
from target_powerbi.pacing import PushLimits, PushPacer

USER_AGENT = "target-powerbi/0.1 (+https://github.com/quickbooks-connectors)"


@dataclass
class Runtime:
    loader: PushLoader
    auth: PowerBITokenProvider
    client: PowerBIClient

    def close(self) -> None:
        self.loader.mirror.close()


def build_runtime(settings: PowerBISettings, logger: logging.Logger) -> Runtime:
    session = http_session(settings)
    auth = token_provider(settings, session, logger)
    client = PowerBIClient(session=session, auth=auth, api_url=settings.api_url, workspace_id=settings.workspace_id,
                           timeout_seconds=settings.request_timeout, logger=logger)
    limits = PushLimits(
        max_rows_per_request=settings.max_rows_per_request,
        post_requests_per_minute=settings.max_post_requests_per_minute,
        rows_per_hour=settings.max_rows_per_hour,
    )
    loader = PushLoader(
        client=client,
        mirror=Mirror(Path(settings.mirror_path)),
        pacer=PushPacer(limits, logger=logger),
        dataset_name=settings.dataset_name,
        retention_policy=settings.retention_policy,
        dimension_streams=settings.dimension_streams,
        number_type=settings.number_data_type,
        hard_delete=settings.hard_delete,
        missing_table_action=settings.missing_table_action,
        schema_change_action=settings.schema_change_action,
        logger=logger,
    )
    return Runtime(loader=loader, auth=auth, client=client)


def http_session(settings: PowerBISettings) -> CaBundleSession:
    if settings.ca_bundle and not Path(settings.ca_bundle).is_file():
        # requests would only say "Could not find a suitable TLS CA certificate bundle".
        raise missing_file("ca_bundle", settings.ca_bundle)
    return CaBundleSession(settings.ca_bundle, USER_AGENT)


def token_provider(settings: PowerBISettings, session: CaBundleSession,
                   logger: logging.Logger) -> PowerBITokenProvider:
    return PowerBITokenProvider(
        tenant_id=settings.tenant_id, client_id=settings.client_id, client_secret=settings.client_secret,
        authority_host=settings.authority_host, session=session,
        refresh_margin_seconds=float(settings.token_refresh_margin_seconds), logger=logger)
