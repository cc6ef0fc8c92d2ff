"""Transient failures retried, auth, validation, dead letters and replay, on the local engine."""

from __future__ import annotations

import json
import time
from decimal import Decimal

import pytest
from conftest import record, run_target, schema_message
from target_databricks import cli
from target_databricks.auth import AuthenticationError
from target_databricks.dead_letters import DeadLetterStore

pytestmark = pytest.mark.e2e

ACCOUNT = {"company_id": {"type": "string"}, "edition": {"type": "string"},
           "id": {"type": "string"}, "current_balance": {"type": ["number", "null"]},
           "updated_at": {"type": ["string", "null"], "format": "date-time"}}


def accounts(*ids: str) -> list[dict]:
    return [schema_message("accounts", ACCOUNT, ["company_id", "id"])] + [
        record("accounts", company_id="c1", edition="qbd", id=i, current_balance=Decimal("1.10"),
               updated_at="2026-11-02T10:00:00-05:00") for i in ids]


def table(config: dict, name: str) -> str:
    return f"`{config['catalog']}`.`{config['schema']}`.`{name}`"


def count(sql, config: dict, name: str) -> int:
    return sql(f"SELECT count(*) FROM {table(config, name)}")[0][0]


def test_warehouse_503_is_retried_until_it_clears(target_config, sql, databricks_faults):
    databricks_faults.fail_next(2, 503, method="ExecuteStatement")
    target = run_target(target_config, accounts("1", "2"))
    assert databricks_faults.count("faults.failed") == 2
    assert not target.rejected_batches
    assert count(sql, target_config, "accounts") == 2


def test_connection_reset_during_the_merge_is_retried(target_config, sql, databricks_faults):
    run_target(target_config, accounts("1"))  # table exists: the next load's first call is the MERGE
    databricks_faults.drop_next(1, method="ExecuteStatement")
    target = run_target(target_config, accounts("1", "2", "3"))
    assert databricks_faults.count("faults.dropped") == 1
    assert not target.rejected_batches
    assert count(sql, target_config, "accounts") == 3


def test_persistent_outage_dead_letters_the_batch_and_stops(target_config, databricks_faults):
    config = {**target_config, "retry_attempts": 3}
    run_target(config, accounts("1"))
    databricks_faults.fail_next(50, 503, method="ExecuteStatement")
    with pytest.raises(Exception, match=r"503|TEMPORARILY_UNAVAILABLE|unavailable|retry"):
        run_target(config, accounts("2"))
    databricks_faults.clear()
    letters = DeadLetterStore(config["dead_letter_path"]).list()
    assert len(letters) == 1


def test_rejected_access_token_fails_fast_without_retries(target_config, databricks_faults):
    config = {**target_config, "access_token": "dapi-not-a-real-token"}
    started = time.monotonic()
    with pytest.raises(AuthenticationError) as info:
        run_target(config, accounts("1"))
    assert time.monotonic() - started < 20
    assert "dapi-not-a-real-token" not in str(info.value)


def test_service_principal_oauth_loads_and_refreshes_after_401(target_config, sql,
                                                               databricks_engine,
                                                               databricks_faults):
    config = {k: v for k, v in target_config.items() if k != "access_token"}
    config |= {"client_id": databricks_engine.client_id,
               "client_secret": databricks_engine.client_secret, "batch_size_rows": 2}
    messages = accounts("1", "2", "3", "4")
    # After the first batch (records 1 and 2) is merged, every issued token is revoked.
    target = run_target(config, messages, hooks={4: databricks_faults.expire_tokens})
    assert target.connector.oauth_token is not None
    assert target.connector.oauth_token.fetch_count == 2
    assert target.connector.reconnect_count == 1
    assert not target.rejected_batches
    databricks_engine.reset()  # the revoked tokens included the PAT the checking query uses
    assert count(sql, target_config, "accounts") == 4


def test_incompatible_table_is_dead_lettered_other_streams_load_and_replay_works(
    target_config, sql, capsys
):
    catalog_schema = f"`{target_config['catalog']}`.`{target_config['schema']}`"
    sql(f"CREATE SCHEMA IF NOT EXISTS {catalog_schema}")
    # A table left by a loader that stored money as DOUBLE: loading exact decimals into it
    # would silently round, so the batch must be refused.
    sql(f"CREATE TABLE {table(target_config, 'invoices')} (company_id STRING, id STRING, "
        "total_amount DOUBLE)")
    invoices = [schema_message("invoices", {"company_id": {"type": "string"},
                                            "id": {"type": "string"},
                                            "total_amount": {"type": ["number", "null"]}},
                               ["company_id", "id"]),
                record("invoices", company_id="c1", id="1", total_amount=Decimal("0.10"))]
    target = run_target(target_config, invoices + accounts("1", "2"))
    assert count(sql, target_config, "accounts") == 2
    assert count(sql, target_config, "invoices") == 0
    store = DeadLetterStore(target_config["dead_letter_path"])
    (letter_path,) = store.list()
    letter = store.read(letter_path)
    assert letter.stream == "invoices"
    assert "DOUBLE" in letter.error
    assert letter.records[0]["total_amount"] == Decimal("0.10")
    assert target.rejected_batches == [letter_path]

    # The user fixes the table, then replays: the batch loads and leaves the store.
    sql(f"DROP TABLE {table(target_config, 'invoices')}")
    config_file = letter_path.parent.parent / "config.json"
    config_file.write_text(json.dumps(target_config))
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["replay", "--config", str(config_file)])
    assert exit_info.value.code == 0
    assert store.list() == []
    rows = sql(f"SELECT id, total_amount FROM {table(target_config, 'invoices')}")
    assert [(r[0], r[1]) for r in rows] == [("1", Decimal("0.1000000000"))]
    assert "replayed 1 batch(es)" in capsys.readouterr().err


def test_value_that_would_be_rounded_is_dead_lettered(target_config, sql):
    messages = accounts("1")
    messages.append(record("accounts", company_id="c1", edition="qbd", id="2",
                           current_balance=Decimal("0.123456789012"),
                           updated_at="2026-11-02T10:00:00Z"))
    target = run_target(target_config, messages)
    (path,) = target.rejected_batches
    assert "more than 10 decimal places" in DeadLetterStore.read(path).error
