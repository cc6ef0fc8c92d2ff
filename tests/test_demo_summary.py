"""The demo's summary reads back what the destinations hold: the Looker scheduled plans the
warehouse loads created (from the local Looker's API), and the Salesforce Opportunities for bills
and the chart of accounts (from the local org), each through Meltano as `scripts/demo` runs them."""

from __future__ import annotations

import importlib.util
import sys
from typing import Any

import pytest

from .conftest import ROOT

pytestmark = pytest.mark.e2e


def _load_demo() -> Any:
    spec = importlib.util.spec_from_file_location("demo_summary_script", ROOT / "scripts" / "demo.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


demo = _load_demo()


@pytest.fixture(scope="module")
def meltano_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    work = tmp_path_factory.mktemp("demo")
    demo.WORK = work
    demo.WAREHOUSE = work / "warehouse.duckdb"
    env = demo.base_env()
    result = demo.meltano(["install"], env, "install")
    assert result.returncode == 0, result.stderr[-3000:]
    return env


def _run(env: dict[str, str], tap: str, target: str) -> str:
    result = demo.meltano(["run", tap, target], env, f"{tap}-{target}")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    return output


def test_the_summary_lists_the_scheduled_plans_looker_holds_and_a_second_load_changes_none(
    meltano_env: dict[str, str],
) -> None:
    env = dict(meltano_env)
    with demo.qbo_sandbox(120) as (qbo_env, _), demo.looker_sandbox() as (looker_env, looker):
        env.update(qbo_env | looker_env)
        first = _run(env, "tap-quickbooks-online", "target-looker-warehouse")
        created = {p["name"]: p["id"] for p in looker.scheduled_plans.values()}
        _run(env, "tap-quickbooks-online", "target-looker-warehouse")
        summary = demo.looker_summary(looker)

    declared = {p["name"]: p for p in demo.LOOKER_PLANS}
    assert set(created) == set(declared)
    # The second load found every plan as declared: no new plan, no update call.
    assert {p["name"]: p["id"] for p in looker.scheduled_plans.values()} == created
    assert looker.operations().count("create_scheduled_plan") == len(declared)
    assert looker.operations().count("update_scheduled_plan") == 0
    assert looker.violations == []
    for name, plan in declared.items():
        (line,) = [line for line in summary if line.strip().startswith(name[:40])]
        assert f"quickbooks::{plan['lookml_dashboard']}" in line and plan["crontab"] in line and "enabled" in line
        assert ", ".join(d["type"] for d in plan["destinations"]) in line
    assert summary[-1].strip().startswith(f"{len(declared)} created, 0 updated over 2 deploys")
    secrets = [value for key, value in env.items() if key.endswith(("DESTINATION_SECRETS", "CLIENT_SECRET"))]
    assert not [s for s in secrets if s in first]


def test_the_summary_counts_bill_opportunities_and_the_chart_of_accounts_in_salesforce(
    meltano_env: dict[str, str],
) -> None:
    env = dict(meltano_env)
    with demo.qbo_sandbox(120) as (qbo_env, qbo), demo.saas_sandbox("salesforce") as (sf_env, salesforce):
        env.update(qbo_env | sf_env)
        _run(env, "tap-quickbooks-online", "target-salesforce")
        summary = demo.salesforce_summary(salesforce)
        realm = qbo.realm(demo.REALM_ID)
        bills = [realm.get("Bill", i) for i in realm.ids("Bill")]
        accounts = realm.ids("Account")

    (bill_line,) = [line for line in summary if "Opportunities: QuickBooks Bill (qbo)" in line]
    count, amount = bill_line.split()[-2:]
    assert int(count.replace(",", "")) == len(bills) > 0
    assert amount == demo.money(sum(demo.Decimal(str(b["TotalAmt"])) for b in bills))
    (chart_line,) = [line for line in summary if "Chart of accounts" in line]
    assert int(chart_line.split()[-1].replace(",", "")) == len(accounts) > 0
