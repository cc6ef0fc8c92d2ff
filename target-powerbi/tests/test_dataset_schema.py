"""The existing dataset is the contract reports are built on: a stream that differs from its
table is refused (or migrated when the user chose so), a new stream keeps the dataset id where
Power BI can add the table, and a new dataset is created with its relationships."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest
from qbc_plugin_kit.failures import SystemicFailure
from sandboxes.powerbi.push_datasets import PushLimits
from sandboxes.powerbi.server import PowerBISandbox

from .singer_io import CUSTOMER_SCHEMA, KEYS, customer, record_message, run_target, schema_message

ADA = customer("1", "Ada", "2026-11-01T09:00:00Z", 0)


def _customers_schema(**changes: object) -> dict:
    schema = copy.deepcopy(CUSTOMER_SCHEMA)
    for name, prop in changes.items():
        if prop is None:
            del schema["properties"][name]
        else:
            schema["properties"][name] = prop
    return {"type": "SCHEMA", "stream": "customers", "schema": schema, "key_properties": KEYS["customers"]}


def test_a_column_whose_type_changed_is_refused_naming_column_both_types_and_the_fix(powerbi_sandbox, powerbi_config):
    run_target(powerbi_config, [schema_message("customers"), record_message("customers", ADA)])
    changed = _customers_schema(balance={"type": ["integer", "null"]})
    with pytest.raises(SystemicFailure) as raised:
        run_target(powerbi_config, [changed, record_message("customers", customer("2", "Bob", "2026-11-02T09:00:00Z",
                                                                                  0, balance=5))])
    message = str(raised.value)
    assert "column 'balance' is Int64 in the stream but Decimal in the table" in message
    assert message.endswith("then run again") and "schema_change_action: migrate" in message
    (dataset,) = powerbi_sandbox.store.datasets_named("QuickBooks")
    assert dataset.tables["customers"].columns["balance"] == "Decimal"
    assert [r["id"] for r in powerbi_sandbox.store.rows("QuickBooks", "customers")] == ["1"]


def test_added_and_removed_columns_are_refused(powerbi_sandbox, powerbi_config):
    run_target(powerbi_config, [schema_message("customers"), record_message("customers", ADA)])
    changed = _customers_schema(terms={"type": ["string", "null"]}, active=None)
    with pytest.raises(SystemicFailure) as raised:
        run_target(powerbi_config, [changed, record_message("customers", ADA)])
    assert "column 'terms' (String) is in the stream but not in the table" in raised.value.cause
    assert "column 'active' (Boolean) is in the table but no longer in the stream" in raised.value.cause


def test_migrate_changes_the_table_in_place_and_pushes_its_rows_again(powerbi_sandbox, powerbi_config):
    run_target(powerbi_config, [schema_message("customers"), record_message("customers", ADA),
                                record_message("customers", customer("2", "Bob", "2026-11-01T09:00:00Z", 0))])
    (before,) = powerbi_sandbox.store.datasets_named("QuickBooks")
    changed = _customers_schema(terms={"type": ["string", "null"]})
    config = {**powerbi_config, "schema_change_action": "migrate"}
    run_target(config, [changed, record_message("customers", customer("3", "Cy", "2026-11-02T09:00:00Z", 0,
                                                                      terms="Net 30"))])
    (after,) = powerbi_sandbox.store.datasets_named("QuickBooks")
    assert after.id == before.id
    assert after.tables["customers"].columns["terms"] == "String"
    rows = {r["id"]: r for r in powerbi_sandbox.store.rows("QuickBooks", "customers")}
    assert sorted(rows) == ["1", "2", "3"]
    assert rows["3"]["terms"] == "Net 30" and rows["1"]["balance"] == Decimal("10.25")


def test_a_new_stream_is_added_to_the_dataset_keeping_its_id_where_power_bi_allows(tmp_path):
    with PowerBISandbox(workdir=tmp_path / "pbi", limits=PushLimits(put_table_adds_tables=True)) as sandbox:
        config = sandbox.target_config(mirror_path=str(tmp_path / "mirror.sqlite"),
                                       dead_letter_path=str(tmp_path / "letters"))
        run_target(config, [schema_message("customers"), record_message("customers", ADA)])
        (first,) = sandbox.store.datasets_named("QuickBooks")
        run_target(config, [schema_message("invoices"), record_message("invoices", {
            "company_id": "9130", "edition": "qbo", "id": "77", "total_amount": 12.5,
            "updated_at": "2026-11-01T09:00:00Z", "sync_token": 0})])
        (second,) = sandbox.store.datasets_named("QuickBooks")
        assert second.id == first.id
        assert sorted(second.tables) == ["customers", "invoices"]
        assert [r["display_name"] for r in sandbox.store.rows("QuickBooks", "customers")] == ["Ada"]
        assert [r["total_amount"] for r in sandbox.store.rows("QuickBooks", "invoices")] == [Decimal("12.5")]


def test_a_new_dataset_relates_lines_to_headers_and_headers_to_lists(powerbi_sandbox, powerbi_config):
    invoice_schema = schema_message("invoices")
    invoice_schema["schema"] = copy.deepcopy(invoice_schema["schema"])
    invoice_schema["schema"]["properties"]["customer_id"] = {"type": ["string", "null"]}
    line_schema = schema_message("invoice_lines")
    line_schema["schema"] = copy.deepcopy(line_schema["schema"])
    line_schema["schema"]["properties"]["item_id"] = {"type": ["string", "null"]}
    line_schema["schema"]["properties"]["customer_id"] = {"type": ["string", "null"]}
    line = {"company_id": "9130", "edition": "qbo", "invoice_id": "77", "line_id": "1", "amount": 5,
            "item_id": "3", "customer_id": "1", "updated_at": "2026-11-01T09:00:00Z", "sync_token": 0}
    run_target(powerbi_config, [schema_message("customers"), invoice_schema, line_schema,
                                record_message("customers", ADA), record_message("invoice_lines", line)])
    (dataset,) = powerbi_sandbox.store.datasets_named("QuickBooks")
    pairs = {(r["fromTable"], r["fromColumn"], r["toTable"], r["toColumn"]) for r in dataset.relationships}
    assert pairs == {("invoice_lines", "invoice_id", "invoices", "id"),
                     ("invoices", "customer_id", "customers", "id")}


def test_a_stream_after_the_first_push_of_a_dataset_created_in_the_same_run_is_added(powerbi_sandbox, powerbi_config):
    # batch_size_rows 1: customers reach Power BI before the invoices schema arrives.
    run_target({**powerbi_config, "batch_size_rows": 1}, [
        schema_message("customers"), record_message("customers", ADA),
        record_message("customers", customer("2", "Bob", "2026-11-01T09:00:00Z", 0)),
        schema_message("invoices"), record_message("invoices", {
            "company_id": "9130", "edition": "qbo", "id": "77", "updated_at": "2026-11-01T09:00:00Z",
            "sync_token": 0})])
    (dataset,) = powerbi_sandbox.store.datasets_named("QuickBooks")
    assert sorted(dataset.tables) == ["customers", "invoices"]
    assert sorted(r["id"] for r in powerbi_sandbox.store.rows("QuickBooks", "customers")) == ["1", "2"]
    assert [r["id"] for r in powerbi_sandbox.store.rows("QuickBooks", "invoices")] == ["77"]
