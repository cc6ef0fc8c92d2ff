"""Transient failures retried, systemic ones stopping the run, auth and values the columns
cannot hold, on the local engine (the console command's view is in test_delivery.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from conftest import letters, record, run_target, schema_message
from qbc_plugin_kit.failures import SystemicFailure

pytestmark = pytest.mark.e2e

ACCOUNT = {"company_id": {"type": "string"}, "edition": {"type": "string"},
           "id": {"type": "string"}, "current_balance": {"type": ["number", "null"]},
           "updated_at": {"type": ["string", "null"], "format": "date-time"}}


def accounts(*ids: str) -> list[dict]:
    return [schema_message("accounts", ACCOUNT, ["company_id", "id"])] + [
        record("accounts", company_id="c1", edition="qbd", id=i, current_balance=Decimal("1.10"),
               updated_at="2026-11-02T10:00:00-05:00") for i in ids]


def table(config: dict, name: str) -> str:
    return f"`{config['catalog']}`.`{config['default_target_schema']}`.`{name}`"


def count(sql, config: dict, name: str) -> int:
    return sql(f"SELECT count(*) FROM {table(config, name)}")[0][0]


def test_warehouse_503_is_retried_until_it_clears(target_config, sql, databricks_faults):
    databricks_faults.fail_next(1, 503, method="ExecuteStatement")
    run_target(target_config, accounts("1", "2"))
    assert databricks_faults.count("faults.failed") == 1
    assert letters(target_config) == []
    assert count(sql, target_config, "accounts") == 2


def test_connection_reset_during_the_merge_is_retried(target_config, sql, databricks_faults):
    run_target(target_config, accounts("1"))  # table exists: the next load's first call is the MERGE
    databricks_faults.drop_next(1, method="ExecuteStatement")
    run_target(target_config, accounts("1", "2", "3"))
    assert databricks_faults.count("faults.dropped") == 1
    assert letters(target_config) == []
    assert count(sql, target_config, "accounts") == 3


def test_persistent_outage_stops_the_run_after_the_retries_with_nothing_set_aside(
        target_config, sql, databricks_faults):
    run_target(target_config, accounts("1"))
    databricks_faults.fail_next(50, 503, method="ExecuteStatement")
    with pytest.raises(SystemicFailure) as failure:
        run_target(target_config, accounts("2"))
    databricks_faults.clear()
    assert "still failed after 2 attempts" in str(failure.value)
    assert "server_hostname/http_path" in failure.value.fix
    assert letters(target_config) == []  # the record is not at fault: the next run re-sends it
    assert count(sql, target_config, "accounts") == 1


def test_rejected_access_token_fails_fast_without_retries(target_config, caplog):
    config = {**target_config, "access_token": "dapi-not-a-real-token"}
    with pytest.raises(SystemicFailure) as info:
        run_target(config, accounts("1"))
    assert not [r for r in caplog.records if "; retry " in r.getMessage()]  # the kit's retry line
    assert "access_token" in info.value.fix
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
    assert letters(target_config) == []
    databricks_engine.reset()  # the revoked tokens included the PAT the checking query uses
    assert count(sql, target_config, "accounts") == 4


def test_an_incompatible_table_stops_the_run_naming_the_table_and_the_fix(target_config, sql):
    catalog_schema = f"`{target_config['catalog']}`.`{target_config['default_target_schema']}`"
    sql(f"CREATE SCHEMA IF NOT EXISTS {catalog_schema}")
    # A table left by a loader that stored money as DOUBLE: loading exact decimals into it
    # would silently round, and every record of the stream would fail the same way.
    sql(f"CREATE TABLE {table(target_config, 'invoices')} (company_id STRING, id STRING, "
        "total_amount DOUBLE)")
    invoices = [schema_message("invoices", {"company_id": {"type": "string"},
                                            "id": {"type": "string"},
                                            "total_amount": {"type": ["number", "null"]}},
                               ["company_id", "id"]),
                record("invoices", company_id="c1", id="1", total_amount=Decimal("0.10"))]
    with pytest.raises(SystemicFailure) as failure:
        run_target(target_config, invoices)
    assert "`invoices`" in failure.value.cause and "DOUBLE" in failure.value.cause
    assert "migrate or drop that table" in failure.value.fix
    assert letters(target_config) == []
    assert count(sql, target_config, "invoices") == 0


def test_a_value_that_would_be_rounded_is_set_aside_alone(target_config, sql):
    messages = accounts("1", "3")
    messages.append(record("accounts", company_id="c1", edition="qbd", id="2",
                           current_balance=Decimal("0.123456789012"),
                           updated_at="2026-11-02T10:00:00Z"))
    run_target({**target_config, "on_data_failure": "warn"}, messages)
    (letter,) = letters(target_config)
    assert "more than 10 decimal places" in letter.reason
    assert '"current_balance":0.123456789012' in letter.line
    assert count(sql, target_config, "accounts") == 2


def test_a_first_batch_whose_insert_answer_was_lost_is_retried_without_duplicates(target_config, sql):
    """The first batch into a table the run created is an INSERT (nothing to merge with); when
    the connection drops after the warehouse ran it, the retry merges, so no row is doubled."""
    import io

    from target_databricks.row_encoding import to_json_text
    from target_databricks.target import TargetDatabricks

    target = TargetDatabricks(config=target_config, parse_env_config=False)
    real = target.connector.execute
    inserts: list[str] = []

    def execute(statement, parameters=None):
        rows = real(statement, parameters)
        if statement.startswith(f"INSERT INTO {table(target_config, 'accounts')}") and not inserts:
            inserts.append(statement)
            raise ConnectionResetError("connection reset after the statement ran")
        return rows

    target.connector.execute = execute
    try:
        target.listen(file_input=io.StringIO("".join(to_json_text(m) + "\n" for m in accounts("1", "2"))))
    finally:
        target.connector.close()
    assert inserts  # the first batch went in as an INSERT
    assert letters(target_config) == []
    assert count(sql, target_config, "accounts") == 2
