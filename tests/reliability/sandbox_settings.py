"""The settings a user would give the plugins to reach each sandbox, as Meltano setting variables."""

from __future__ import annotations

import contextlib
import socket
import time
from pathlib import Path
from typing import Any

REALM_ID = "9130350000000001"
QBD_PASSWORD = "reliability-web-connector-password"
QBD_USER = "qbwc-demo"


def qbo(sandbox: Any, work: Path) -> dict[str, str]:
    from cryptography.fernet import Fernet

    tokens = sandbox.issue_tokens(REALM_ID)
    return {
        "TAP_QUICKBOOKS_ONLINE_BASE_URL": sandbox.base_url,
        "TAP_QUICKBOOKS_ONLINE_TOKEN_URL": sandbox.token_url,
        "TAP_QUICKBOOKS_ONLINE_AUTHORIZE_URL": sandbox.authorize_url,
        "TAP_QUICKBOOKS_ONLINE_CLIENT_ID": sandbox.client_id,
        "TAP_QUICKBOOKS_ONLINE_CLIENT_SECRET": sandbox.client_secret,
        "TAP_QUICKBOOKS_ONLINE_REALM_ID": REALM_ID,
        "TAP_QUICKBOOKS_ONLINE_REFRESH_TOKEN": str(tokens["refresh_token"]),
        "TAP_QUICKBOOKS_ONLINE_TOKEN_STORE_PATH": str(work / "qbo-tokens.enc"),
        "QBO_TOKEN_STORE_KEY": Fernet.generate_key().decode(),
    }


def qbd(port: int, work: Path, wait_seconds: int = 120) -> dict[str, str]:
    return {
        "TAP_QUICKBOOKS_DESKTOP_PORT": str(port),
        "TAP_QUICKBOOKS_DESKTOP_USERNAME": QBD_USER,
        "TAP_QUICKBOOKS_DESKTOP_PASSWORD": QBD_PASSWORD,
        "TAP_QUICKBOOKS_DESKTOP_BUFFER_PATH": str(work / "qbd-buffer.sqlite"),
        # The tap run starts its own QBWC server and waits for one Web Connector session.
        "TAP_QUICKBOOKS_DESKTOP_RUN_SERVER_WAIT_SECONDS": str(wait_seconds),
        # After a failed session QBWC is told to come back after this long (default 300 s, doubling).
        "TAP_QUICKBOOKS_DESKTOP_FAILURE_BACKOFF_SECONDS": "5",
    }


def databricks(warehouse: Any, work: Path) -> dict[str, str]:
    return {
        "TARGET_DATABRICKS_SERVER_HOSTNAME": warehouse.server_hostname,
        "TARGET_DATABRICKS_HTTP_PATH": warehouse.http_path,
        "TARGET_DATABRICKS_ACCESS_TOKEN": warehouse.access_token,
        "TARGET_DATABRICKS_CA_BUNDLE": warehouse.ca_file,
        "TARGET_DATABRICKS_CATALOG": warehouse.catalog,
        "TARGET_DATABRICKS_DEAD_LETTER_PATH": str(work / "databricks-dead-letters"),
    }


def saas(kind: str, sandbox: Any, work: Path) -> dict[str, str]:
    overrides: dict[str, Any] = {"dead_letter_path": str(work / f"{kind}-dead-letters")}
    if kind == "powerbi":
        overrides["mirror_path"] = str(work / "powerbi-mirror.sqlite")
    config = sandbox.target_config(**overrides)
    prefix = f"TARGET_{kind.upper()}_"
    return {prefix + key.upper(): str(value) for key, value in config.items()}


def postgres(cluster: Any) -> dict[str, str]:
    return {"TARGET_LOOKER_WAREHOUSE_DIALECT": "postgres",
            "TARGET_LOOKER_WAREHOUSE_SQLALCHEMY_URL": cluster.sqlalchemy_url()}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
        time.sleep(0.2)
    return False
