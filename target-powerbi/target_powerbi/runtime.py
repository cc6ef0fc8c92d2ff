"""Builds the loading machinery from settings, once per run (replay is a run too)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qbc_plugin_kit.failures import missing_file
from qbc_plugin_kit.http_session import CaBundleSession

from target_powerbi.auth import PowerBITokenProvider
from target_powerbi.client import PowerBIClient
from target_powerbi.loader import DEFAULT_DIMENSION_STREAMS, PushLoader
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


def build_runtime(config: Mapping[str, Any], logger: logging.Logger) -> Runtime:
    ca_bundle = config.get("ca_bundle")
    if ca_bundle and not Path(ca_bundle).is_file():
        # requests would only say "Could not find a suitable TLS CA certificate bundle".
        raise missing_file("ca_bundle", str(ca_bundle))
    session = CaBundleSession(ca_bundle, USER_AGENT)
    auth = PowerBITokenProvider(
        tenant_id=config["tenant_id"],
        client_id=config["client_id"],
        client_secret=config["client_secret"],
        authority_host=config["authority_host"],
        session=session,
        refresh_margin_seconds=float(config["token_refresh_margin_seconds"]),
        logger=logger,
    )
    client = PowerBIClient(
        session=session, auth=auth, api_url=config["api_url"], workspace_id=config["workspace_id"],
        timeout_seconds=float(config["request_timeout_seconds"]), logger=logger,
    )
    limits = PushLimits(
        max_rows_per_request=int(config["max_rows_per_request"]),
        post_requests_per_minute=int(config["max_post_requests_per_minute"]),
        rows_per_hour=int(config["max_rows_per_hour"]),
    )
    loader = PushLoader(
        client=client,
        mirror=Mirror(Path(config["mirror_path"])),
        pacer=PushPacer(limits, logger=logger),
        dataset_name=config["dataset_name"],
        retention_policy=config["retention_policy"],
        dimension_streams=config.get("dimension_streams") or DEFAULT_DIMENSION_STREAMS,
        number_type=config["number_data_type"],
        hard_delete=bool(config["hard_delete"]),
        missing_table_action=config["missing_table_action"],
        schema_change_action=config["schema_change_action"],
        logger=logger,
    )
    return Runtime(loader=loader, auth=auth, client=client)
