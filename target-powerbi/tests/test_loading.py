"""Loading behaviour a Power BI user sees: tables, types, audit columns, versions, deletes."""

from __future__ import annotations

from decimal import Decimal

import pytest
from qbc_plugin_kit.failures import SystemicFailure

from .singer_io import customer, pending_letters, record_message, run_target, schema_message


def test_creates_push_dataset_with_columns_typed_from_the_singer_schema(powerbi_sandbox, powerbi_config):
    run_target(powerbi_config, [schema_message("customers"),
                                record_message("customers", customer("1", "Ada", "2026-11-01T09:00:00-08:00", 0))])
    (dataset,) = powerbi_sandbox.store.datasets_named("QuickBooks")
    columns = dataset.tables["customers"].columns
    assert columns["balance"] == "Decimal"
    assert columns["sync_token"] == "Int64"
    assert columns["active"] == "Boolean"
    assert columns["updated_at"] == "DateTime"
    assert columns["billing_address_city"] == "String"
    assert dataset.retention_policy == "None"


def test_every_row_carries_audit_columns_and_exact_money(powerbi_sandbox, powerbi_config):
    record = customer("1", "Ada", "2026-11-01T09:00:00-08:00", 0, balance=Decimal("1234567.8912"))
    run_target(powerbi_config, [schema_message("customers"), record_message("customers", record)])
    (row,) = powerbi_sandbox.store.rows("QuickBooks", "customers")
    assert row["balance"] == Decimal("1234567.8912")
    assert row["_sdc_source"] == "qbo:9130"
    assert row["_sdc_extracted_at"].startswith("2026-11-20T10:00:00")
    assert row["_sdc_received_at"] and row["_sdc_batched_at"]
    assert row["_sdc_deleted_at"] is None
    assert row["updated_at"] == "2026-11-01T09:00:00-08:00"


def test_older_version_never_replaces_a_newer_one_across_runs(powerbi_sandbox, powerbi_config):
    newer = customer("1", "Ada Newer", "2026-11-02T09:00:00+00:00", 3)
    older = customer("1", "Ada Older", "2026-11-01T09:00:00+00:00", 2)
    run_target(powerbi_config, [schema_message("customers"), record_message("customers", newer)])
    run_target(powerbi_config, [schema_message("customers"), record_message("customers", older)])
    rows = powerbi_sandbox.store.rows("QuickBooks", "customers")
    assert [r["display_name"] for r in rows] == ["Ada Newer"]


def test_same_timestamp_higher_sync_token_wins_and_offsets_are_compared_in_utc(powerbi_sandbox, powerbi_config):
    first = customer("1", "v1", "2026-11-02T01:00:00-08:00", 4)   # 09:00 UTC
    second = customer("1", "v2", "2026-11-02T09:00:00+00:00", 5)  # same instant, newer token
    stale = customer("1", "stale", "2026-11-02T08:30:00+00:00", 9)
    run_target(powerbi_config, [schema_message("customers"), record_message("customers", first),
                                record_message("customers", second), record_message("customers", stale)])
    assert [r["display_name"] for r in powerbi_sandbox.store.rows("QuickBooks", "customers")] == ["v2"]


def test_dimension_table_is_rewritten_with_one_row_per_key(powerbi_sandbox, powerbi_config):
    run_target(powerbi_config, [schema_message("customers"),
                                record_message("customers", customer("1", "Ada", "2026-11-01T09:00:00Z", 0)),
                                record_message("customers", customer("2", "Bob", "2026-11-01T09:00:00Z", 0))])
    run_target(powerbi_config, [schema_message("customers"),
                                record_message("customers", customer("1", "Ada Lovelace", "2026-11-03T09:00:00Z", 1))])
    rows = sorted(powerbi_sandbox.store.rows("QuickBooks", "customers"), key=lambda r: r["id"])
    assert [(r["id"], r["display_name"]) for r in rows] == [("1", "Ada Lovelace"), ("2", "Bob")]


def test_rerun_of_the_same_versions_pushes_nothing_new(powerbi_sandbox, powerbi_config):
    messages = [schema_message("invoices"), record_message("invoices", {
        "company_id": "9130", "edition": "qbo", "id": "77", "doc_number": "1001", "txn_date": "2026-11-01",
        "total_amount": 150.5, "updated_at": "2026-11-01T09:00:00Z", "sync_token": 0})]
    run_target(powerbi_config, messages)
    run_target(powerbi_config, messages)
    assert len(powerbi_sandbox.store.rows("QuickBooks", "invoices")) == 1


def test_rerun_of_a_keyless_stream_pushes_nothing_new(powerbi_sandbox, powerbi_config):
    schema = {"type": "SCHEMA", "stream": "report_rows", "key_properties": [],
              "schema": {"type": "object", "properties": {"account": {"type": "string"},
                                                           "amount": {"type": "number"}}}}
    messages = [schema, {"type": "RECORD", "stream": "report_rows", "record": {"account": "4000", "amount": 12.5}}]
    run_target(powerbi_config, messages)
    run_target(powerbi_config, messages)
    assert len(powerbi_sandbox.store.rows("QuickBooks", "report_rows")) == 1


def test_fact_table_appends_each_new_version_ordered_by_sdc_version(powerbi_sandbox, powerbi_config):
    base = {"company_id": "9130", "edition": "qbo", "id": "77", "doc_number": "1001", "txn_date": "2026-11-01"}
    run_target(powerbi_config, [schema_message("invoices"),
                                record_message("invoices", {**base, "total_amount": 100, "updated_at": "2026-11-01T09:00:00Z", "sync_token": 0})])
    run_target(powerbi_config, [schema_message("invoices"),
                                record_message("invoices", {**base, "total_amount": 120, "updated_at": "2026-11-02T09:00:00Z", "sync_token": 1})])
    rows = powerbi_sandbox.store.rows("QuickBooks", "invoices")
    latest = max(rows, key=lambda r: r["_sdc_version"])
    assert len(rows) == 2
    assert latest["total_amount"] == Decimal("120")


def test_deleted_invoice_appends_tombstones_for_it_and_its_lines(powerbi_sandbox, powerbi_config):
    header = {"company_id": "9130", "edition": "qbo", "id": "77", "doc_number": "1001",
              "updated_at": "2026-11-01T09:00:00Z", "sync_token": 0}
    line = {"company_id": "9130", "edition": "qbo", "invoice_id": "77", "line_id": "1", "amount": 50,
            "updated_at": "2026-11-01T09:00:00Z", "sync_token": 0}
    run_target(powerbi_config, [schema_message("invoices"), schema_message("invoice_lines"),
                                record_message("invoices", header), record_message("invoice_lines", line)])
    deleted = {"company_id": "9130", "edition": "qbo", "id": "77", "updated_at": "2026-11-05T09:00:00Z",
               "sync_token": 1, "_sdc_deleted_at": "2026-11-05T09:00:00Z"}
    run_target(powerbi_config, [schema_message("invoices"), schema_message("invoice_lines"),
                                record_message("invoices", deleted)])
    invoice_rows = powerbi_sandbox.store.rows("QuickBooks", "invoices")
    line_rows = powerbi_sandbox.store.rows("QuickBooks", "invoice_lines")
    assert [r["_sdc_deleted_at"] is not None for r in sorted(invoice_rows, key=lambda r: r["_sdc_version"])] == [False, True]
    assert [r["_sdc_deleted_at"] is not None for r in sorted(line_rows, key=lambda r: r["_sdc_version"])] == [False, True]


def test_deleted_customer_stays_in_dimension_flagged_unless_hard_delete(powerbi_sandbox, powerbi_config):
    alive = customer("1", "Ada", "2026-11-01T09:00:00Z", 0)
    gone = customer("1", "Ada", "2026-11-04T09:00:00Z", 1, _sdc_deleted_at="2026-11-04T09:00:00Z")
    run_target(powerbi_config, [schema_message("customers"), record_message("customers", alive),
                                record_message("customers", customer("2", "Bob", "2026-11-01T09:00:00Z", 0))])
    run_target(powerbi_config, [schema_message("customers"), record_message("customers", gone)])
    flagged = {r["id"]: r["_sdc_deleted_at"] for r in powerbi_sandbox.store.rows("QuickBooks", "customers")}
    assert flagged["1"] is not None and flagged["2"] is None

    run_target({**powerbi_config, "hard_delete": True},
               [schema_message("customers"), record_message("customers", customer("2", "Bob B", "2026-11-05T09:00:00Z", 1))])
    assert [r["id"] for r in powerbi_sandbox.store.rows("QuickBooks", "customers")] == ["2"]


def test_large_batches_are_split_to_the_rows_per_request_limit(powerbi_sandbox, powerbi_config):
    config = {**powerbi_config, "max_rows_per_request": 40}
    records = [record_message("invoices", {"company_id": "9130", "edition": "qbo", "id": str(i),
                                           "updated_at": "2026-11-01T09:00:00Z", "sync_token": 0})
               for i in range(100)]
    run_target(config, [schema_message("invoices"), *records])
    posts = powerbi_sandbox.requests_to("POST", r"/tables/invoices/rows$")
    assert len(powerbi_sandbox.store.rows("QuickBooks", "invoices")) == 100
    assert len(posts) == 3


def test_a_large_dimension_batch_is_one_rewrite_not_one_per_post(powerbi_sandbox, powerbi_config):
    config = {**powerbi_config, "max_rows_per_request": 40}
    run_target(config, [schema_message("customers"),
                        *[record_message("customers", customer(str(i), f"C{i}", "2026-11-01T09:00:00Z", 0))
                          for i in range(100)]])
    assert len(powerbi_sandbox.store.rows("QuickBooks", "customers")) == 100
    assert len(powerbi_sandbox.requests_to("DELETE", r"/tables/customers/rows$")) == 1
    assert len(powerbi_sandbox.requests_to("POST", r"/tables/customers/rows$")) == 3


def test_a_string_beyond_4000_characters_is_set_aside_alone_never_cut(powerbi_sandbox, powerbi_config):
    fits = customer("1", "x" * 4000, "2026-11-01T09:00:00Z", 0)
    too_long = customer("2", "y" * 4001, "2026-11-01T09:00:00Z", 0)
    run_target({**powerbi_config, "on_data_failure": "warn"},
               [schema_message("customers"), record_message("customers", fits),
                record_message("customers", too_long)])
    (row,) = powerbi_sandbox.store.rows("QuickBooks", "customers")
    assert row["id"] == "1" and len(row["display_name"]) == 4000
    (letter,) = pending_letters(powerbi_config)
    assert letter.key == {"company_id": "9130", "id": "2"}
    assert "4001 characters" in letter.reason and "y" * 4001 in letter.line


def test_an_invoice_whose_lines_json_exceeds_4000_characters_lands_with_that_column_empty(
        powerbi_sandbox, powerbi_config, caplog):
    lines = [{"line_id": str(i), "description": "Consulting hours, week " + str(i), "amount": 125}
             for i in range(80)]
    invoice = {"company_id": "9130", "edition": "qbo", "id": "77", "total_amount": 10000, "lines": lines,
               "updated_at": "2026-11-01T09:00:00Z", "sync_token": 0}
    run_target(powerbi_config, [schema_message("invoices"), record_message("invoices", invoice)])
    (row,) = powerbi_sandbox.store.rows("QuickBooks", "invoices")
    assert row["total_amount"] == Decimal("10000") and row["lines"] is None
    assert any("1 nested value(s)" in m and "left empty" in m for m in caplog.messages)
    assert pending_letters(powerbi_config) == []


def test_decimals_are_rounded_to_four_places_as_power_bi_stores_them(powerbi_sandbox, powerbi_config, caplog):
    # The fixed decimal holds ten-thousandths; a fifth decimal of 5 or more rounds up (away from zero).
    balances = {"1": Decimal("922337203685477.5807"), "2": Decimal("10.12345"), "3": Decimal("-2.00005"),
                "4": Decimal("1.23454"), "5": Decimal("19.99")}
    beyond = customer("6", "Too big", "2026-11-01T09:00:00Z", 0, balance=Decimal("922337203685477.5808"))
    messages = [schema_message("customers")]
    messages += [record_message("customers", customer(i, f"c{i}", "2026-11-01T09:00:00Z", 0, balance=b))
                 for i, b in balances.items()]
    with caplog.at_level("INFO"):
        run_target({**powerbi_config, "on_data_failure": "warn"}, [*messages, record_message("customers", beyond)])
    stored = {r["id"]: r["balance"] for r in powerbi_sandbox.store.rows("QuickBooks", "customers")}
    assert stored == {"1": Decimal("922337203685477.5807"), "2": Decimal("10.1235"), "3": Decimal("-2.0001"),
                      "4": Decimal("1.2345"), "5": Decimal("19.99")}
    assert any("3 number(s) with more than four decimal places rounded" in m for m in caplog.messages)
    (letter,) = pending_letters(powerbi_config)
    assert "922337203685477.5808" in letter.line and "fixed decimal range" in letter.reason


def test_new_stream_recreates_the_dataset_with_every_table_refilled(powerbi_sandbox, powerbi_config):
    powerbi_config = {**powerbi_config, "missing_table_action": "recreate"}
    run_target(powerbi_config, [schema_message("customers"),
                                record_message("customers", customer("1", "Ada", "2026-11-01T09:00:00Z", 0))])
    (first,) = powerbi_sandbox.store.datasets_named("QuickBooks")
    run_target(powerbi_config, [schema_message("invoices"), record_message("invoices", {
        "company_id": "9130", "edition": "qbo", "id": "77", "updated_at": "2026-11-01T09:00:00Z", "sync_token": 0})])
    (second,) = powerbi_sandbox.store.datasets_named("QuickBooks")
    assert second.id != first.id
    assert sorted(second.tables) == ["customers", "invoices"]
    assert [r["display_name"] for r in powerbi_sandbox.store.rows("QuickBooks", "customers")] == ["Ada"]
    assert [r["id"] for r in powerbi_sandbox.store.rows("QuickBooks", "invoices")] == ["77"]


def test_new_stream_power_bi_cannot_add_stops_the_run_by_default_naming_the_setting(powerbi_sandbox, powerbi_config):
    config = powerbi_config
    run_target(config, [schema_message("customers"),
                        record_message("customers", customer("1", "Ada", "2026-11-01T09:00:00Z", 0))])
    with pytest.raises(SystemicFailure, match="missing_table_action: recreate") as raised:
        run_target(config, [schema_message("invoices"), record_message("invoices", {
            "company_id": "9130", "edition": "qbo", "id": "77", "updated_at": "2026-11-01T09:00:00Z",
            "sync_token": 0})])
    assert "'invoices'" in raised.value.cause
    assert len(powerbi_sandbox.store.datasets_named("QuickBooks")) == 1
    assert pending_letters(config) == []
