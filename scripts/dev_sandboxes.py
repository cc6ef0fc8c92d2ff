"""Start or stop the local sandboxes that ``meltano.yml``'s ``dev`` environment points at.

``bash scripts/sandboxes up`` starts each sandbox on the port and with the CA file the ``dev``
environment names (QuickBooks Online 17710, Databricks 17720, Power BI 17750, Salesforce 17760,
and a Web Connector that calls tap-quickbooks-desktop's server on 17730 every minute), and
writes their throwaway credentials to the project's ``.env`` as ``SANDBOX_*`` variables, which
only the ``dev`` environment reads. Then ``meltano --environment=dev run tap-quickbooks-online
target-looker-warehouse`` works by hand. ``down`` stops them and removes those variables;
``status`` says which are running.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# The Meltano project the sandboxes serve (--project): this repository unless told otherwise.
PROJECT = ROOT
WORK = PROJECT / ".meltano" / "sandboxes"
PIDS = WORK / "pids.json"
DOTENV = PROJECT / ".env"
BEGIN = "# >>> scripts/sandboxes up: local sandbox credentials for the dev environment (removed by `down`)"
END = "# <<< scripts/sandboxes up"

# What meltano.yml's dev environment expects (tests/test_dev_sandboxes.py reads them back from it).
REALM_ID = "9130350000000001"
QBO_PORT = 17710
DATABRICKS_PORT = 17720
QBD_SERVER_PORT = 17730
POWERBI_PORT = 17750
SALESFORCE_PORT = 17760
POWERBI_TENANT_ID = "0f3e2d1c-4b5a-4c6d-8e7f-9a0b1c2d3e4f"
POWERBI_WORKSPACE_ID = "f089354e-8366-4e18-aea3-4cb4a3a50b48"
QBD_USER = "qbwc-demo"
DEV_TOKEN_STORE = PROJECT / ".meltano" / "tap-quickbooks-online" / "dev-tokens.enc"


def use_project(project: Path) -> None:
    global PROJECT, WORK, PIDS, DOTENV, DEV_TOKEN_STORE
    PROJECT = project.resolve()
    WORK = PROJECT / ".meltano" / "sandboxes"
    PIDS = WORK / "pids.json"
    DOTENV = PROJECT / ".env"
    DEV_TOKEN_STORE = PROJECT / ".meltano" / "tap-quickbooks-online" / "dev-tokens.enc"


@dataclass
class Sandbox:
    name: str
    port: int | None
    command: list[str]
    # Reads the sandbox's first JSON line; returns the SANDBOX_* variables it gives the dev environment.
    variables: Callable[[dict[str, Any]], dict[str, str]] | None
    ready_timeout: float = 120.0


def _python() -> str:
    return sys.executable


def sandboxes(transactions: int, only: set[str] | None) -> tuple[list[Sandbox], dict[str, str]]:
    """Each sandbox's command line, and the variables known before any starts."""
    qbo_id, qbo_secret = "ABsandbox" + secrets.token_hex(16), secrets.token_urlsafe(30)
    qbd_password = secrets.token_urlsafe(18)
    fixed = {
        "SANDBOX_QBO_CLIENT_ID": qbo_id,
        "SANDBOX_QBO_CLIENT_SECRET": qbo_secret,
        "SANDBOX_QBD_PASSWORD": qbd_password,
    }
    qwc = WORK / "qbd.qwc"
    listed = [
        Sandbox("qbo", QBO_PORT, [
            _python(), "-m", "sandboxes.qbo", "--port", str(QBO_PORT), "--realm", REALM_ID,
            "--transactions", str(transactions), "--data-dir", str(WORK / "qbo"),
            "--client-id", qbo_id, "--client-secret-env", "SANDBOX_QBO_CLIENT_SECRET"],
            lambda info: {"SANDBOX_QBO_REFRESH_TOKEN": info["realms"][REALM_ID]["refresh_token"]}),
        Sandbox("databricks", DATABRICKS_PORT, [
            _python(), "-m", "sandboxes.databricks", "--json", "--port", str(DATABRICKS_PORT),
            "--ca-out", str(PROJECT / ".meltano" / "databricks" / "ca.pem")],
            lambda info: {"SANDBOX_DATABRICKS_ACCESS_TOKEN": info["access_token"]}, ready_timeout=600),
        Sandbox("powerbi", POWERBI_PORT, [
            _python(), "-m", "sandboxes.powerbi", "--port", str(POWERBI_PORT), "--workdir", str(WORK / "powerbi"),
            "--ca-out", str(PROJECT / ".meltano" / "powerbi" / "ca.pem"),
            "--tenant-id", POWERBI_TENANT_ID, "--workspace-id", POWERBI_WORKSPACE_ID],
            lambda info: {"SANDBOX_POWERBI_CLIENT_ID": info["client_id"],
                          "SANDBOX_POWERBI_CLIENT_SECRET": info["client_secret"]}),
        Sandbox("salesforce", SALESFORCE_PORT, [
            _python(), "-m", "sandboxes.salesforce", "--port", str(SALESFORCE_PORT), "--workdir", str(WORK / "salesforce"),
            "--ca-out", str(PROJECT / ".meltano" / "salesforce" / "ca.pem")],
            lambda info: {"SANDBOX_SALESFORCE_CLIENT_ID": info["client_id"],
                          "SANDBOX_SALESFORCE_CLIENT_SECRET": info["client_secret"]}),
        # QuickBooks Desktop: the tap is the server (`meltano --environment=dev invoke
        # tap-quickbooks-desktop:serve`); this plays the customer's Web Connector, once a minute.
        Sandbox("web-connector", None, [
            _python(), "-m", "sandboxes.qbwc", "--qwc", str(qwc), "--password-env", "SANDBOX_QBD_PASSWORD",
            "--company", f"seed:42:{transactions}", "--company-path", str(WORK / "qbd-company.sqlite"),
            "--every", "1", "--max-runs", "1440"], None),
    ]
    chosen = [s for s in listed if only is None or s.name in only]
    if any(s.name == "web-connector" for s in chosen):
        _write_qwc(qwc)
    return chosen, fixed


def _fernet_key() -> str:
    import base64

    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def _write_qwc(path: Path) -> None:
    from sandboxes.qbwc import QWCFile

    path.parent.mkdir(parents=True, exist_ok=True)
    qwc = QWCFile(app_url=f"http://127.0.0.1:{QBD_SERVER_PORT}/", user_name=QBD_USER,
                  owner_id="{57F3B9B6-86F1-4FCC-B1FF-966DE1813D20}",
                  file_id="{90A44FB7-33D9-4815-AC85-AC86A7E7D1EB}", qb_type="QBFS",
                  app_name="quickbooks-connectors dev")
    path.write_text(qwc.to_xml(), encoding="utf-8")


def _port_taken(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _read_json_line(process: subprocess.Popen[bytes], log: Path, timeout: float) -> dict[str, Any]:
    """The first JSON object the sandbox prints (its settings), or the end of its log on failure."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("{"):
                return dict(json.loads(line))
        if process.poll() is not None:
            break
        time.sleep(0.3)
    tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-5:]
    raise SystemExit(f"the {log.stem} sandbox did not start (log {log}): " + " | ".join(tail))


def up(transactions: int, only: set[str] | None) -> int:
    if PIDS.exists() and _running(json.loads(PIDS.read_text())):
        print("sandboxes are already up (bash scripts/sandboxes status); `bash scripts/sandboxes down` first")
        return 1
    WORK.mkdir(parents=True, exist_ok=True)
    chosen, variables = sandboxes(transactions, only)
    busy = [f"{s.name} (port {s.port})" for s in chosen if s.port and _port_taken(s.port)]
    if busy:
        print(f"port in use: {', '.join(busy)}. Fix: stop what listens there, or `bash scripts/sandboxes down`")
        return 1
    env = {**os.environ, **variables, "PYTHONUNBUFFERED": "1"}
    pids: dict[str, int] = {}
    try:
        for sandbox in chosen:
            log = WORK / f"{sandbox.name}.log"
            # The log holds the sandbox's credentials: private, like .env.
            out = os.fdopen(os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb")
            with out:
                # Its own session: the sandbox outlives this command and is stopped by `down`.
                process = subprocess.Popen(sandbox.command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                                           stdout=out, stderr=out, start_new_session=True)
            pids[sandbox.name] = process.pid
            if sandbox.variables is not None:
                info = _read_json_line(process, log, sandbox.ready_timeout)
                variables.update(sandbox.variables(info))
            print(f"  up  {sandbox.name:14} " + (f"127.0.0.1:{sandbox.port}" if sandbox.port else
                                                 f"calls 127.0.0.1:{QBD_SERVER_PORT} every minute"), flush=True)
    except BaseException:
        _stop(pids)
        raise
    PIDS.write_text(json.dumps(pids), encoding="utf-8")
    # The tokens of an earlier sandbox, under an earlier key, would only be refused.
    DEV_TOKEN_STORE.unlink(missing_ok=True)
    if not _user_defines("QBO_TOKEN_STORE_KEY"):
        # The dev token store's key (the tap's default token_store_key_env); a key the user set
        # already serves as well, since the dev environment's store is a file of its own.
        variables["QBO_TOKEN_STORE_KEY"] = _fernet_key()
    _write_dotenv(variables)
    print(f"\nCredentials: SANDBOX_* variables in {DOTENV.name} (read by the dev environment only). Now:\n"
          "  meltano --environment=dev run tap-quickbooks-online target-looker-warehouse\n"
          "  meltano --environment=dev invoke tap-quickbooks-desktop:serve   # the Web Connector calls it\n"
          "Stop them with: bash scripts/sandboxes down")
    return 0


def _running(pids: dict[str, int]) -> dict[str, int]:
    alive = {}
    for name, pid in pids.items():
        try:
            os.kill(pid, 0)
        except OSError:
            continue
        alive[name] = pid
    return alive


def _stop(pids: dict[str, int]) -> None:
    for pid in pids.values():
        with contextlib.suppress(OSError):
            os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while _running(pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    for pid in _running(pids).values():
        with contextlib.suppress(OSError):
            os.killpg(pid, signal.SIGKILL)


def down() -> int:
    pids = json.loads(PIDS.read_text()) if PIDS.exists() else {}
    _stop(pids)
    for name in pids:
        print(f"  down {name}")
    PIDS.unlink(missing_ok=True)
    _write_dotenv({})
    shutil.rmtree(WORK / "powerbi", ignore_errors=True)
    shutil.rmtree(WORK / "salesforce", ignore_errors=True)
    print("sandboxes stopped" if pids else "no sandboxes were up")
    return 0


def status() -> int:
    pids = json.loads(PIDS.read_text()) if PIDS.exists() else {}
    alive = _running(pids)
    for name in pids:
        print(f"  {'up  ' if name in alive else 'DOWN'} {name}")
    if not pids:
        print("no sandboxes are up: bash scripts/sandboxes up")
    return 0 if pids and len(alive) == len(pids) else 1


def _user_lines() -> list[str]:
    """``.env`` without this command's block."""
    lines = DOTENV.read_text(encoding="utf-8").splitlines() if DOTENV.exists() else []
    kept: list[str] = []
    inside = False
    for line in lines:
        if line == BEGIN:
            inside = True
        elif line == END:
            inside = False
        elif not inside:
            kept.append(line)
    return kept


def _user_defines(name: str) -> bool:
    return name in os.environ or any(line.split("=", 1)[0].strip() == name for line in _user_lines())


def _write_dotenv(variables: dict[str, str]) -> None:
    """Replace this command's block of ``.env`` (the user's own lines stay as they are)."""
    kept = _user_lines()
    if variables:
        kept += [BEGIN, *(f"{key}={value}" for key, value in sorted(variables.items())), END]
    if not kept:
        DOTENV.unlink(missing_ok=True)
        return
    fd = os.open(DOTENV, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write("\n".join(kept) + ("\n" if kept else ""))
    os.chmod(DOTENV, 0o600)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bash scripts/sandboxes", description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["up", "down", "status"])
    parser.add_argument("--transactions", type=int, default=500, help="transactions per sandbox company (default 500)")
    parser.add_argument("--only", action="append", help="start only this sandbox (repeatable): "
                        "qbo, databricks, powerbi, salesforce, web-connector")
    parser.add_argument("--project", type=Path, default=ROOT,
                        help="the Meltano project whose dev environment they serve (default: this repository)")
    args = parser.parse_args(argv)
    use_project(args.project)
    if args.action == "up":
        return up(args.transactions, set(args.only) if args.only else None)
    if args.action == "down":
        return down()
    return status()


if __name__ == "__main__":
    sys.exit(main())
