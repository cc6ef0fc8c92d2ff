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

from target_powerbi.auth import PowerBITokenProvider
from target_powerbi.client import PowerBIClient
from target_powerbi.loader import DEFAULT_DIMENSION_STREAMS, PushLoader
from target_powerbi.mirror import Mirror
from target_powerbi.pacing import PushLimits, PushPacer

USER_AGENT = "target-powerbi/0.1 (+https://github.com/quickbooks-connectors)"


@dataclass
class Runtime:
    loader: PushLoader
    dead_letters: DeadLetterStore
    auth: PowerBITokenProvider
    client: PowerBIClient

    def close(self) -> None:
        self.loader.mirror.close()
        self.dead_letters.close()


def build_runtime(config: Mapping[str, Any], logger: logging.Logger) -> Runtime:
    session = CaBundleSession(config.get("ca_bundle"), USER_AGENT)
    auth = PowerBITokenProvider(
        tenant_id=config["tenant_id"],
        client_id=config["client_id"],
        client_secret=config["client_secret"],
        authority_host=config.get("authority_host", "https://login.microsoftonline.com"),
        session=session,
        refresh_margin_seconds=float(config.get("token_refresh_margin_seconds", 300)),
        logger=logger,
    )
    retry = RetryPolicy(
        max_attempts=int(config.get("max_retries", 6)),
        base_seconds=float(config.get("backoff_base_seconds", 1.0)),
        max_seconds=float(config.get("backoff_max_seconds", 60.0)),
    )
    client = PowerBIClient(
        session=session, auth=auth, api_url=config.get("api_url", "https://api.powerbi.com"),
        workspace_id=config["workspace_id"], retry=retry,
        timeout_seconds=float(config.get("request_timeout_seconds", 120)), logger=logger,
    )
    limits = PushLimits(
        max_rows_per_request=int(config.get("max_rows_per_request", 10_000)),
        post_requests_per_minute=int(config.get("max_post_requests_per_minute", 120)),
        rows_per_hour=int(config.get("max_rows_per_hour", 1_000_000)),
    )
    loader = PushLoader(
        client=client,
        mirror=Mirror(Path(config.get("mirror_path", ".meltano/target-powerbi/mirror.sqlite"))),
        pacer=PushPacer(limits, logger=logger),
        dataset_name=config.get("dataset_name", "QuickBooks"),
        retention_policy=config.get("retention_policy", "None"),
        dimension_streams=config.get("dimension_streams") or DEFAULT_DIMENSION_STREAMS,
        number_type=config.get("number_data_type", "Decimal"),
        hard_delete=bool(config.get("hard_delete", False)),
        missing_table_action=config.get("missing_table_action", "recreate"),
        logger=logger,
    )
    dead_letters = DeadLetterStore(Path(config.get("dead_letter_path", ".meltano/target-powerbi/dead_letters")))
    return Runtime(loader=loader, dead_letters=dead_letters, auth=auth, client=client)
