"""The main job on local defaults: sandboxes up, every pipeline through Meltano, a finance summary.

Started by ``scripts/demo`` inside the project's virtualenv. Each run starts from nothing (fresh
sandboxes, a fresh Meltano state database, a fresh warehouse file) so the summary describes this
run only. The plugins get the sandboxes' addresses and credentials the way a user would give
them: Meltano setting environment variables over the ``dev`` environment of ``meltano.yml``.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / ".meltano" / "demo"
MELTANO = ROOT / ".venv-meltano" / "bin" / "meltano"
WAREHOUSE = ROOT / ".meltano" / "warehouse" / "warehouse.duckdb"
REALM_ID = "9130350000000001"
QBD_PASSWORD = "demo-web-connector-password"  # noqa: S105 - the local sandbox's, printed nowhere
# What a finance team would declare in looker_scheduled_plans: generated dashboards by name, a cron
# and destinations of each kind Looker delivers to. The S3 key is the local Looker's, kept apart
# in looker_destination_secrets as a real one would be.
LOOKER_PLANS: list[dict[str, Any]] = [
    {"name": "AP aging to finance, weekday mornings", "lookml_dashboard": "ap_aging", "crontab": "0 6 * * 1-5",
     "timezone": "UTC", "destinations": [
         {"type": "email", "address": "ap-team@example.com"},
         {"type": "s3", "address": "s3://finance-drop/ap-aging", "format": "csv_zip",
          "parameters": {"region": "us-east-1", "access_key_id": "AKIADEMO"}, "secret": "finance_s3"}]},
    {"name": "AP aging by cost center, Mondays", "lookml_dashboard": "ap_aging_by_cost_center",
     "crontab": "0 7 * * 1", "timezone": "UTC",
     "destinations": [{"type": "sftp", "address": "sftp://files.example.com/controllers",
                       "parameters": {"username": "looker"}, "secret": "controllers_sftp"}]},
    {"name": "AR aging to sales, daily", "lookml_dashboard": "ar_aging", "crontab": "30 6 * * *", "timezone": "UTC",
     "destinations": [{"type": "webhook", "address": "https://hooks.example.com/ar-aging"}]},
    {"name": "Month-end trial balance and cash", "lookml_dashboard": "general_ledger", "crontab": "0 2 1 * *",
     "timezone": "UTC", "destinations": [{"type": "email", "address": "controller@example.com"}]},
]


@dataclass
class Outcome:
    pipeline: str
    ok: bool
    seconds: float
    detail: str = ""


@dataclass
class Run:
    outcomes: list[Outcome] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def meltano(args: list[str], env: dict[str, str], log_name: str) -> subprocess.CompletedProcess[str]:
    log_path = WORK / f"{log_name}.log"
    result = subprocess.run([str(MELTANO), "--environment", "dev", *args], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=1800, check=False)
    log_path.write_text(result.stdout + result.stderr)
    return result


def first_run(*blocks: str) -> list[str]:
    """``meltano run`` arguments for a pipeline's first run: the demo starts from a fresh state
    database, and saying so keeps Meltano from warning "No state was found, complete import."."""
    return ["run", "--full-refresh", *blocks]


def base_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        MELTANO_SEND_ANONYMOUS_USAGE_STATS="false",
        MELTANO_DATABASE_URI=f"sqlite:///{WORK / 'meltano.db'}",
        TARGET_LOOKER_WAREHOUSE_DUCKDB_PATH=str(WAREHOUSE),
    )
    return env


@contextlib.contextmanager
def qbo_sandbox(transactions: int) -> Iterator[tuple[dict[str, str], Any]]:
    from cryptography.fernet import Fernet
    from sandboxes.qbo import QBOSandbox, RealmSpec

    spec = RealmSpec(realm_id=REALM_ID, seed=42, transactions=transactions)
    token_store = WORK / "qbo-tokens.enc"
    token_store.unlink(missing_ok=True)  # tokens of an earlier sandbox, under an earlier key
    with QBOSandbox(realms=[spec], data_dir=WORK / "qbo") as sandbox:
        tokens = sandbox.issue_tokens(REALM_ID)
        yield {
            "TAP_QUICKBOOKS_ONLINE_BASE_URL": sandbox.base_url,
            "TAP_QUICKBOOKS_ONLINE_TOKEN_URL": sandbox.token_url,
            "TAP_QUICKBOOKS_ONLINE_AUTHORIZE_URL": sandbox.authorize_url,
            "TAP_QUICKBOOKS_ONLINE_CLIENT_ID": sandbox.client_id,
            "TAP_QUICKBOOKS_ONLINE_CLIENT_SECRET": sandbox.client_secret,
            "TAP_QUICKBOOKS_ONLINE_REALM_ID": REALM_ID,
            "TAP_QUICKBOOKS_ONLINE_REFRESH_TOKEN": tokens["refresh_token"],
            "TAP_QUICKBOOKS_ONLINE_TOKEN_STORE_PATH": str(token_store),
            "QBO_TOKEN_STORE_KEY": Fernet.generate_key().decode(),
        }, sandbox


@contextlib.contextmanager
def databricks_warehouse() -> Iterator[tuple[dict[str, str], Any]]:
    from sandboxes.databricks.warehouse import LocalWarehouse

    with LocalWarehouse() as warehouse:
        yield {
            "TARGET_DATABRICKS_SERVER_HOSTNAME": warehouse.server_hostname,
            "TARGET_DATABRICKS_HTTP_PATH": warehouse.http_path,
            "TARGET_DATABRICKS_ACCESS_TOKEN": warehouse.access_token,
            "TARGET_DATABRICKS_CA_BUNDLE": warehouse.ca_file,
            "TARGET_DATABRICKS_CATALOG": warehouse.catalog,
            "TARGET_DATABRICKS_DEAD_LETTER_PATH": str(WORK / "databricks-dead-letters"),
        }, warehouse


@contextlib.contextmanager
def saas_sandbox(kind: str) -> Iterator[tuple[dict[str, str], Any]]:
    """Power BI or Salesforce on 127.0.0.1 (TLS with their own CA), and the target's settings."""
    if kind == "powerbi":
        from sandboxes.powerbi.server import PowerBISandbox as Sandbox
    else:
        from sandboxes.salesforce.server import SalesforceSandbox as Sandbox  # type: ignore[assignment]
    sandbox = Sandbox(workdir=WORK / kind)
    sandbox.start()
    try:
        overrides = {"dead_letter_path": str(WORK / f"{kind}-dead-letters")}
        if kind == "powerbi":
            overrides["mirror_path"] = str(WORK / "powerbi-mirror.sqlite")
        config = sandbox.target_config(**overrides)
        prefix = f"TARGET_{kind.upper()}_"
        yield {prefix + key.upper(): str(value) for key, value in config.items()}, sandbox
    finally:
        sandbox.stop()


@contextlib.contextmanager
def looker_sandbox() -> Iterator[tuple[dict[str, str], Any]]:
    """A local Looker whose project remote is the LookML folder the target writes, and the
    target's settings to deploy it and keep LOOKER_PLANS in step after each load."""
    import json
    import secrets

    from sandboxes.looker import LookerSandbox

    # Where the target writes the LookML project: the folder a user commits and pushes, which
    # the local Looker reads as the project's git remote.
    lookml = WORK / "lookml"
    with LookerSandbox(project_remotes={"quickbooks": lookml}) as sandbox:
        yield {
            "TARGET_LOOKER_WAREHOUSE_LOOKML_PATH": str(lookml),
            "TARGET_LOOKER_WAREHOUSE_LOOKER_API_ENABLED": "true",
            "TARGET_LOOKER_WAREHOUSE_LOOKER_BASE_URL": sandbox.base_url,
            "TARGET_LOOKER_WAREHOUSE_LOOKER_CLIENT_ID": sandbox.client_id,
            "TARGET_LOOKER_WAREHOUSE_LOOKER_CLIENT_SECRET": sandbox.client_secret,
            "TARGET_LOOKER_WAREHOUSE_LOOKER_PROJECT_ID": "quickbooks",
            "TARGET_LOOKER_WAREHOUSE_LOOKER_SCHEDULED_PLANS": json.dumps(LOOKER_PLANS),
            "TARGET_LOOKER_WAREHOUSE_LOOKER_DESTINATION_SECRETS": json.dumps({
                "finance_s3": {"secret_access_key": secrets.token_urlsafe(24)},
                "controllers_sftp": {"password": secrets.token_urlsafe(16)}}),
        }, sandbox


def looker_summary(sandbox: Any) -> list[str]:
    """The scheduled plans as Looker holds them (read back through its API), and what the loads did."""
    from target_looker_warehouse.looker_client import build_sdk

    sdk = build_sdk({"looker_base_url": sandbox.base_url, "looker_client_id": sandbox.client_id,
                     "looker_client_secret": sandbox.client_secret})
    try:
        plans = sdk.all_scheduled_plans(all_users=True)
    finally:
        sdk.auth.logout()
    operations = sandbox.operations()
    lines = [f"  {'plan':40} {'delivers':40} {'cron':12} {'to':14} state"]
    for plan in sorted(plans, key=lambda p: str(p.name)):
        target = plan.lookml_dashboard_id or (f"dashboard {plan.dashboard_id}" if plan.dashboard_id else
                                              f"look {plan.look_id}")
        kinds = ", ".join(str(d.type) for d in plan.scheduled_plan_destination or [])
        lines.append(f"  {str(plan.name)[:40]:40} {target!s:40} {plan.crontab!s:12} {kinds:14} "
                     f"{'enabled' if plan.enabled else 'DISABLED (its dashboard is gone)'}")
    missing = sorted({str(p["name"]) for p in LOOKER_PLANS} - {str(p.name) for p in plans})
    if missing:
        lines.append(f"  declared but not in Looker (the load's log says why): {', '.join(missing)}")
    lines.append(f"  {operations.count('create_scheduled_plan')} created, {operations.count('update_scheduled_plan')} "
                 f"updated over {operations.count('deploy_to_production')} deploys "
                 f"({len(sandbox.dashboards)} LookML dashboards in production)")
    return lines


SUMMARY_TABLES = ("accounts", "customers", "vendors", "invoices", "invoice_lines", "bills", "bill_lines",
                  "payments", "bill_payments", "journal_entry_lines")


def shown(table: str) -> bool:
    """The tables a finance reader looks at first: core streams and the modelled layer."""
    return table in SUMMARY_TABLES or table.startswith(("dim_", "fct_", "ap_", "ar_"))


def powerbi_summary(sandbox: Any) -> list[str]:
    lines = []
    for dataset in sandbox.store.datasets_named(sandbox.target_config().get("dataset_name", "QuickBooks")):
        for table in SUMMARY_TABLES:
            if table in dataset.tables:
                rows = len(sandbox.store.rows(dataset.name, table))
                lines.append(f"  {dataset.name + '.' + table:42} {rows:>10,}")
        lines.append(f"  ({len(dataset.tables)} tables in the push dataset)")
    return lines or ["  (no push dataset was created)"]


def salesforce_summary(sandbox: Any) -> list[str]:
    org = sandbox.org
    lines = [f"  {sobject:42} {len(records):>10,}" for sobject, records in sorted(org.records.items()) if records]
    by_type: dict[tuple[str, str], list[Any]] = {}
    for row in org.records.get("Opportunity", {}).values():
        if row.get("QuickBooks_Deleted_At__c") is None:
            edition = str(row.get("QuickBooks_Id__c") or "").split(":")[0]
            by_type.setdefault((str(row.get("Type") or "(no type)"), edition), []).append(row.get("Amount") or 0)
    for (kind, edition), amounts in sorted(by_type.items()):
        label = f"Opportunities: {kind} ({edition})"
        lines.append(f"  {label:42} {len(amounts):>10,}  {money(sum(amounts)):>16}")
    chart = org.records.get("QuickBooks_Account__c", {})
    lines.append(f"  {'Chart of accounts (QuickBooks_Account__c)':42} {len(chart):>10,}")
    return lines


def qbd_env(port: int) -> dict[str, str]:
    return {
        "TAP_QUICKBOOKS_DESKTOP_PORT": str(port),
        "TAP_QUICKBOOKS_DESKTOP_PASSWORD": QBD_PASSWORD,
        "TAP_QUICKBOOKS_DESKTOP_BUFFER_PATH": str(WORK / "qbd-buffer.sqlite"),
        # The tap run starts its own QBWC server and waits for one Web Connector session.
        "TAP_QUICKBOOKS_DESKTOP_RUN_SERVER_WAIT_SECONDS": "300",
    }


def qbd_company(transactions: int) -> Any:
    from sandboxes.qbwc import QuickBooksCompany

    return QuickBooksCompany.generate(seed=42, transactions=transactions,
                                      path=WORK / "qbd-company.sqlite", tz="-05:00")


def drive_web_connector(port: int, company: Any, done: list[Any]) -> None:
    """Play the customer's Windows machine: QBWC polling the tap's server once."""
    from sandboxes.qbwc import QWCFile, WebConnector

    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            break
        time.sleep(0.5)
    qwc = QWCFile(app_url=f"http://127.0.0.1:{port}/", user_name="qbwc-demo",
                  owner_id="{57F3B9B6-86F1-4FCC-B1FF-966DE1813D20}",
                  file_id="{90A44FB7-33D9-4815-AC85-AC86A7E7D1EB}", qb_type="QBFS",
                  app_name="quickbooks-connectors demo")
    done.append(WebConnector(qwc=qwc, password=QBD_PASSWORD, company=company).run_once())


def timed(run: Run, name: str, action: Callable[[], subprocess.CompletedProcess[str]]) -> bool:
    started = time.monotonic()
    result = action()
    ok = result.returncode == 0
    detail = "" if ok else _last_error(result.stderr + result.stdout)
    run.outcomes.append(Outcome(name, ok, time.monotonic() - started, detail))
    print(f"  {'ok  ' if ok else 'FAIL'} {name} ({time.monotonic() - started:.0f} s){'' if ok else ': ' + detail}",
          flush=True)
    return ok


def _last_error(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    for line in reversed(lines):
        if "error" in line.lower() or "exception" in line.lower():
            return line.strip()[:300]
    return lines[-1][:300] if lines else "no output"


def fresh_start() -> None:
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    for path in (WAREHOUSE, WAREHOUSE.with_suffix(".duckdb.wal")):
        path.unlink(missing_ok=True)


def money(value: Any) -> str:
    return f"{Decimal(value or 0):,.2f}"


def warehouse_summary() -> list[str]:
    import duckdb

    if not WAREHOUSE.exists():
        return ["  (no warehouse file: the warehouse pipelines did not run)"]
    lines = []
    con = duckdb.connect(str(WAREHOUSE), read_only=True)
    try:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_type = 'BASE TABLE' order by 1, 2").fetchall()
        lines.append(f"  {'table':42} {'rows':>10}")
        for schema, table in tables:
            if not shown(table):
                continue
            row = con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()  # noqa: S608
            count = row[0] if row else 0
            lines.append(f"  {schema + '.' + table:42} {count:>10,}")
        lines.append(f"  ({len(tables)} tables in all)")
        bills = next((f'"{s}"."{t}"' for s, t in tables if t == "bills"), None)
        if bills:
            lines.append("")
            lines.append("  Top vendors by open balance (unpaid bills, both QuickBooks editions):")
            rows = con.execute(
                f"select edition, coalesce(vendor_name, vendor_id) as vendor, sum(balance) as open, "  # noqa: S608
                f"count(*) filter (where balance > 0) as open_bills from {bills} "
                "where _sdc_deleted_at is null and balance > 0 "
                "group by 1, 2 order by 3 desc limit 5").fetchall()
            for edition, vendor, open_balance, open_bills in rows:
                lines.append(f"    {vendor:36} {money(open_balance):>16}  {open_bills:>4} open bills  ({edition})")
    finally:
        con.close()
    return lines


def dashboard_report() -> str:
    """Write the local HTML report of the dashboards' tiles; its path, or why there is none."""
    import duckdb
    from target_looker_warehouse.tile_report import write_report

    if not WAREHOUSE.exists():
        return "(none: the warehouse pipelines did not run)"
    con = duckdb.connect(str(WAREHOUSE), read_only=True)
    try:
        # The modelled layer's default schema (target-looker-warehouse's model_schema).
        return str(write_report(lambda sql: con.execute(sql).fetchall(), "finance", WORK / "dashboards.html"))
    finally:
        con.close()


def databricks_summary(warehouse: Any) -> list[str]:
    lines = []
    with warehouse.connect() as connection, connection.cursor() as cursor:
        cursor.execute(f"SHOW TABLES IN {warehouse.catalog}.quickbooks")
        names = sorted(row[1] for row in cursor.fetchall())
        lines.append(f"  {'table':42} {'rows':>10}")
        for name in filter(shown, names):
            cursor.execute(f"SELECT count(*) FROM {warehouse.catalog}.quickbooks.{name}")  # noqa: S608
            lines.append(f"  {'quickbooks.' + name:42} {cursor.fetchone()[0]:>10,}")
        lines.append(f"  ({len(names)} tables in all)")
        if "invoices" in names:
            cursor.execute(f"SELECT sum(total_amount), sum(balance) FROM {warehouse.catalog}.quickbooks.invoices "  # noqa: S608
                           "WHERE _sdc_deleted_at IS NULL")
            total, open_balance = cursor.fetchone()
            lines.append(f"  invoiced {money(total)}, still owed by customers {money(open_balance)}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=2000,
                        help="transactions per sandbox company (default 2000)")
    args = parser.parse_args()
    fresh_start()
    run = Run()
    env = base_env()

    print("Installing the plugins into Meltano (first run only takes minutes)...", flush=True)
    install = meltano(["install"], env, "meltano-install")
    if install.returncode != 0:
        print(install.stderr[-3000:], file=sys.stderr)
        return 1

    print("Running the pipelines through Meltano:", flush=True)
    with contextlib.ExitStack() as stack:
        qbo_env, _ = stack.enter_context(qbo_sandbox(args.transactions))
        env.update(qbo_env)
        warehouse = None
        try:
            dbx_env, warehouse = stack.enter_context(databricks_warehouse())
            env.update(dbx_env)
        except Exception as exc:
            run.skipped.append(f"tap-quickbooks-online target-databricks: the local Spark engine did not start ({exc})")
        if warehouse is not None:
            timed(run, "meltano run tap-quickbooks-online target-databricks",
                  lambda: meltano(first_run("tap-quickbooks-online", "target-databricks"), env, "qbo-databricks"))
        looker_env, looker = stack.enter_context(looker_sandbox())
        env.update(looker_env)
        timed(run, "meltano run tap-quickbooks-online target-looker-warehouse",
              lambda: meltano(first_run("tap-quickbooks-online", "target-looker-warehouse"), env, "qbo-warehouse"))

        saas: dict[str, Any] = {}
        for kind in ("powerbi", "salesforce"):
            saas_env, saas[kind] = stack.enter_context(saas_sandbox(kind))
            env.update(saas_env)
            timed(run, f"meltano run tap-quickbooks-online target-{kind}",
                  functools.partial(meltano, first_run("tap-quickbooks-online", f"target-{kind}"), env, f"qbo-{kind}"))

        port = free_port()
        env.update(qbd_env(port))
        sessions: list[Any] = []
        company = qbd_company(args.transactions)
        connector = threading.Thread(target=drive_web_connector, args=(port, company, sessions), daemon=True)
        connector.start()
        timed(run, "meltano run tap-quickbooks-desktop target-looker-warehouse",
              lambda: meltano(first_run("tap-quickbooks-desktop", "target-looker-warehouse"), env, "qbd-warehouse"))
        connector.join(timeout=30)
        if sessions:
            report = sessions[0]
            print(f"       Web Connector session: {report.outcome}, {report.requests_answered} qbXML request sets",
                  flush=True)

        # The Desktop -> Salesforce job: its own Web Connector session and buffer, into the same org.
        port = free_port()
        env.update(qbd_env(port))
        env["TAP_QUICKBOOKS_DESKTOP_BUFFER_PATH"] = str(WORK / "qbd-salesforce-buffer.sqlite")
        sessions = []
        connector = threading.Thread(target=drive_web_connector, args=(port, company, sessions), daemon=True)
        connector.start()
        timed(run, "meltano run qbd-to-salesforce (tap-quickbooks-desktop target-salesforce)",
              lambda: meltano(first_run("qbd-to-salesforce"), env, "qbd-salesforce"))
        connector.join(timeout=30)

        print("\nWarehouse (DuckDB, .meltano/warehouse/warehouse.duckdb):")
        print("\n".join(warehouse_summary()))
        print(f"\nDashboard report (the Looker dashboards' tiles from the warehouse): {dashboard_report()}")
        print("\nLooker scheduled plans (read back from the local Looker after the warehouse loads):")
        try:
            print("\n".join(looker_summary(looker)))
        except Exception as exc:
            print(f"  could not read back: {exc}")
        if warehouse is not None:
            print("\nDatabricks (local Spark SQL warehouse, catalog main):")
            try:
                print("\n".join(databricks_summary(warehouse)))
            except Exception as exc:
                print(f"  could not read back: {exc}")

        print("\nPower BI (push dataset rows, local Power BI service):")
        print("\n".join(powerbi_summary(saas["powerbi"])))
        print("\nSalesforce (records per object, local org):")
        print("\n".join(salesforce_summary(saas["salesforce"])))

    for line in run.skipped:
        print(f"\nSkipped: {line}")
    print(f"\nLogs of each run: {WORK.relative_to(ROOT)}/*.log")
    write_bench_figures(run)
    failed = [o for o in run.outcomes if not o.ok]
    return 1 if failed else 0


# --- Figures for bench/run (the harness's contract, see bench/harness.py) ---------------------


def write_bench_figures(run: Run) -> None:
    """Each pipeline's wall and outcome as JSON into the file bench/run names in QBC_BENCH_FIGURES
    (nothing without it); a pipeline skipped (the Spark engine did not start) fails its check."""
    import json

    target = os.environ.get("QBC_BENCH_FIGURES")
    if not target:
        return
    pipelines = [{"name": o.pipeline, "ok": o.ok, "seconds": round(o.seconds, 1), "detail": o.detail}
                 for o in run.outcomes]
    checks = [{"what": "pipelines skipped", "expected": [], "found": run.skipped}]
    checks += [{"what": o.pipeline, "expected": "ok", "found": "ok" if o.ok else f"failed: {o.detail}"}
               for o in run.outcomes]
    Path(target).write_text(json.dumps({"figures": {"pipelines": pipelines}, "checks": checks}, indent=1),
                            encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
