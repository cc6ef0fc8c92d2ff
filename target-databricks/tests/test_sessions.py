"""The warehouse session: opened at a stream's first record on the target's helper thread (the
table described while the rest of the batch is read), then reused by the thread that writes."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from conftest import letters, record, run_target, schema_message

pytestmark = pytest.mark.e2e

BILL = {"company_id": {"type": "string"}, "id": {"type": "string"},
        "total_amount": {"type": ["number", "null"]},
        "updated_at": {"type": ["string", "null"], "format": "date-time"}}


def bills(*ids: int) -> list[dict]:
    return [schema_message("bills", BILL, ["company_id", "id"])] + [
        record("bills", company_id="c1", id=str(i), total_amount=Decimal("1.10"),
               updated_at="2026-11-02T10:00:00-05:00") for i in ids]


def test_the_table_is_described_while_records_are_still_read_on_one_session(
        target_config, sql, databricks_faults):
    run_target(target_config, bills(1))  # the table exists: the next run describes it first
    databricks_faults.reset_counts()
    seen: list[int] = []

    def statements_so_far() -> None:
        # Reached after the first record, before the end of input (nothing is written yet).
        deadline = time.monotonic() + 60
        while databricks_faults.count("thrift.ExecuteStatement") == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        seen.append(databricks_faults.count("thrift.ExecuteStatement"))

    run_target(target_config, bills(1, 2, 3, 4), hooks={4: statements_so_far})
    assert seen == [1]  # the DESCRIBE, sent before the batch was complete
    # The session the helper thread opened is the one the MERGE ran on.
    assert databricks_faults.count("thrift.OpenSession") == 1
    assert sql(f"SELECT count(*) FROM `{target_config['catalog']}`."
               f"`{target_config['default_target_schema']}`.`bills`") == [(4,)]


def test_a_run_without_records_opens_no_session(target_config, databricks_faults):
    run_target(target_config, bills())
    assert databricks_faults.count("thrift.OpenSession") == 0


def test_a_failed_early_describe_is_asked_again_when_the_batch_is_written(
        target_config, sql, databricks_faults):
    run_target(target_config, bills(1))
    databricks_faults.fail_next(1, 503, method="ExecuteStatement")  # the helper thread's DESCRIBE
    run_target(target_config, bills(1, 2))
    assert databricks_faults.count("faults.failed") == 1
    assert letters(target_config) == []
    assert sql(f"SELECT count(*) FROM `{target_config['catalog']}`."
               f"`{target_config['default_target_schema']}`.`bills`") == [(2,)]


def test_a_describe_no_write_waited_for_ends_before_the_sessions_close(target_config, databricks_faults):
    """Every record of the stream is set aside, so no write takes the helper thread's DESCRIBE:
    the run still waits for it before closing its sessions, and leaves none open."""
    messages = [schema_message("bills", BILL, ["company_id", "id"])] + [
        record("bills", company_id="c1", id=str(i), total_amount=Decimal("0.123456789012"))
        for i in range(3)]
    run_target({**target_config, "on_data_failure": "warn"}, messages)
    time.sleep(1)  # a DESCRIBE left running would open its session after the run's close
    assert len(letters(target_config)) == 3
    assert databricks_faults.count("thrift.OpenSession") == 1
    assert databricks_faults.count("thrift.CloseSession") == 1
