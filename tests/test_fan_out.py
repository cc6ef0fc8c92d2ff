"""QuickBooks Online realms fanned out by the Dagster project, each its own Meltano job.

The real stack: the sandbox serves N realms (Intuit's per-realm limits enforced), the Dagster
daemon's run queue launches one run per partition (company) within the source's limit, each run
is `meltano run --state-id-suffix <realm>` with `only_realm`, into a PostgreSQL warehouse.
Reduced size in CI (4 realms, 2 at a time); QBC_FAN_OUT_FULL=1 runs 20 realms, 4 at a time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sandboxes.postgres.cluster import PostgresCluster
from sandboxes.qbo import QBOSandbox, RealmSpec

from .conftest import ROOT

pytestmark = pytest.mark.e2e

FULL = os.environ.get("QBC_FAN_OUT_FULL") == "1"
REALMS = [f"91303500000001{i:02d}" for i in range(20 if FULL else 4)]
MAX_CONCURRENT = 4 if FULL else 2
ORCHESTRATION = ROOT / "orchestration"
DAGSTER_BIN = ORCHESTRATION / ".venv" / "bin"
MELTANO = Path(os.environ.get("QBC_MELTANO") or ROOT / ".venv-meltano" / "bin" / "meltano")
RUN_TIMEOUT = 1800 if FULL else 900


def _run(args: list[str], env: dict[str, str], timeout: float = 600) -> str:
    result = subprocess.run(args, cwd=ORCHESTRATION, env=env, capture_output=True, text=True,
                            timeout=timeout, check=False)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    return result.stdout


@pytest.fixture(scope="module")
def fan_out(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    from cryptography.fernet import Fernet

    if not (DAGSTER_BIN / "dagster").exists():
        pytest.fail("Dagster is not installed: run scripts/test (install_scale_out_tools), which creates "
                    "orchestration/.venv from orchestration/requirements.txt")
    work = tmp_path_factory.mktemp("fan-out")
    specs = [RealmSpec(realm, seed=100 + i, transactions=30) for i, realm in enumerate(REALMS)]
    with QBOSandbox(realms=specs, data_dir=work / "qbo") as sandbox, PostgresCluster() as warehouse:
        realms = [{"realm_id": r, "refresh_token": sandbox.issue_tokens(r)["refresh_token"]} for r in REALMS]
        env = {
            **os.environ,
            "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
            "MELTANO_DATABASE_URI": f"sqlite:///{work / 'meltano.db'}",
            "QBC_MELTANO": str(MELTANO),
            "TAP_QUICKBOOKS_ONLINE_BASE_URL": sandbox.base_url,
            "TAP_QUICKBOOKS_ONLINE_TOKEN_URL": sandbox.token_url,
            "TAP_QUICKBOOKS_ONLINE_CLIENT_ID": sandbox.client_id,
            "TAP_QUICKBOOKS_ONLINE_CLIENT_SECRET": sandbox.client_secret,
            "TAP_QUICKBOOKS_ONLINE_REALMS": json.dumps(realms),
            # The stream reconciled below; every other stream would only lengthen each run.
            "TAP_QUICKBOOKS_ONLINE__SELECT": json.dumps(["invoices.*"]),
            "QBO_TOKEN_STORE_KEY": Fernet.generate_key().decode(),
            "TARGET_LOOKER_WAREHOUSE_DIALECT": "postgres",
            "TARGET_LOOKER_WAREHOUSE_SQLALCHEMY_URL": warehouse.sqlalchemy_url(),
            "DAGSTER_HOME": str(work / "dagster_home"),
            "QBC_FLEET_FILE": str(work / "companies.yml"),
        }
        (work / "dagster_home").mkdir()
        (work / "companies.yml").write_text(json.dumps({  # YAML is a superset of JSON
            "meltano_project": str(ROOT),
            "environment": "dev",
            "sources": {"qbo": {
                "extractor": "tap-quickbooks-online", "loader": "target-looker-warehouse",
                "company_setting": "only_realm", "companies": REALMS, "cron": "0 * * * *",
                "max_concurrent": MAX_CONCURRENT, "retries": 2, "fresh_within_minutes": 60,
                "env": {"TAP_QUICKBOOKS_ONLINE_TOKEN_STORE_PATH": str(work / "tokens-{company}.fernet"),
                        "TARGET_LOOKER_WAREHOUSE_LOOKML_PATH": str(work / "lookml-{company}")},
            }},
        }))
        install = subprocess.run([str(MELTANO), "install", "tap-quickbooks-online", "target-looker-warehouse"],
                                 cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False)
        assert install.returncode == 0, install.stderr[-3000:]
        _kit_into_loader_venv()
        instance = _run([str(DAGSTER_BIN / "python"), "-m", "qbc_orchestration.instance_yaml"], env)
        (work / "dagster_home" / "dagster.yaml").write_text(instance)

        # The backfill first: it creates the instance's storage, which two processes starting
        # together would both try to migrate. Its runs wait in the queue for the daemon.
        _run([str(DAGSTER_BIN / "dagster"), "job", "backfill", "-m", "qbc_orchestration.definitions",
              "-d", str(ORCHESTRATION), "-j", "qbo_sync", "--partitions", ",".join(REALMS), "--noprompt"], env)
        daemon_log = (work / "daemon.log").open("w")
        daemon = subprocess.Popen([str(DAGSTER_BIN / "dagster-daemon"), "run", "-m", "qbc_orchestration.definitions",
                                   "-d", str(ORCHESTRATION)], cwd=ORCHESTRATION, env=env,
                                  stdout=daemon_log, stderr=subprocess.STDOUT)
        try:
            runs = _wait_for_runs(env, len(REALMS))
            yield {"sandbox": sandbox, "warehouse": warehouse, "runs": runs, "env": env, "work": work}
        finally:
            daemon.terminate()
            try:
                daemon.wait(timeout=30)
            except subprocess.TimeoutExpired:
                daemon.kill()
            daemon_log.close()


def _kit_into_loader_venv() -> None:
    """target-looker-warehouse imports qbc_plugin_kit but its pyproject does not list it yet.

    Outside this issue (the target's owner adds the dependency); until then Meltano's venv of
    the target gets the kit here, or every run would fail on the import.
    """
    venv_python = ROOT / ".meltano" / "loaders" / "target-looker-warehouse" / "venv" / "bin" / "python"
    if subprocess.run([str(venv_python), "-c", "import qbc_plugin_kit"], capture_output=True, check=False).returncode:
        # Meltano's venvs have no pip of their own: this interpreter's pip installs into it.
        subprocess.run([sys.executable, "-m", "pip", "--python", str(venv_python), "install", "-q",
                        "-e", str(ROOT / "plugin_kit")], capture_output=True, timeout=600, check=True)


def _wait_for_runs(env: dict[str, str], expected: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + RUN_TIMEOUT
    runs: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        out = _run([str(DAGSTER_BIN / "python"), "-m", "qbc_orchestration.company_status", "qbo"], env)
        runs = [json.loads(line) for line in out.splitlines() if line.strip()]
        if len(runs) >= expected and all(r["status"] in ("SUCCESS", "FAILURE", "CANCELED") for r in runs):
            return runs
        time.sleep(5)
    pytest.fail(f"Dagster runs did not finish within {RUN_TIMEOUT}s: {runs}")


def test_every_realm_runs_as_its_own_partition_and_succeeds(fan_out):
    assert sorted(r["company"] for r in fan_out["runs"]) == sorted(REALMS)
    assert {r["status"] for r in fan_out["runs"]} == {"SUCCESS"}, fan_out["runs"]


def test_the_run_queue_never_runs_more_than_the_source_limit_at_once(fan_out):
    edges = sorted([(r["start"], 1) for r in fan_out["runs"]] + [(r["end"], -1) for r in fan_out["runs"]],
                   key=lambda edge: (edge[0], edge[1]))
    running = peak = 0
    for _, step in edges:
        running += step
        peak = max(peak, running)
    assert peak <= MAX_CONCURRENT
    assert peak >= 2, "no two companies ever ran together: nothing was fanned out"


def test_intuit_per_realm_limits_are_never_exceeded(fan_out):
    sandbox: QBOSandbox = fan_out["sandbox"]
    for realm in REALMS:
        stats = sandbox.stats(realm)
        assert stats.by_status.get(429, 0) == 0 and stats.throttled == 0, realm
        assert 0 < stats.max_concurrent <= 10, realm


def test_every_realm_reconciles_in_the_warehouse_to_the_cent(fan_out):
    sandbox: QBOSandbox = fan_out["sandbox"]
    with psycopg.connect(fan_out["warehouse"].dsn) as conn:
        rows = conn.execute(
            "select company_id, count(*), sum(total_amount) from quickbooks.invoices"
            " where _sdc_deleted_at is null group by company_id").fetchall()
    landed = {company: (count, Decimal(total)) for company, count, total in rows}
    for realm in REALMS:
        handle = sandbox.realm(realm)
        source = [handle.get("Invoice", i) for i in handle.ids("Invoice")]
        expected = (len(source), sum((Decimal(str(inv["TotalAmt"])) for inv in source), Decimal(0)))
        assert landed.get(realm) == expected, realm


def test_each_realm_keeps_its_own_meltano_state(fan_out):
    out = subprocess.run([str(MELTANO), "state", "list"], cwd=ROOT, env=fan_out["env"], capture_output=True,
                         text=True, timeout=300, check=True).stdout
    for realm in REALMS:
        assert f"dev:tap-quickbooks-online-to-target-looker-warehouse:{realm}" in out
