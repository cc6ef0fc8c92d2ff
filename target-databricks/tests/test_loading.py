"""Loads through the local Spark SQL warehouse, checked by querying the stored tables."""

from __future__ import annotations

import json
import random
from decimal import Decimal

import pytest
from conftest import letters, record, run_target, schema_message

pytestmark = pytest.mark.e2e

INVOICE = {
    "company_id": {"type": "string"},
    "edition": {"type": ["string", "null"]},
    "id": {"type": "string"},
    "total_amount": {"type": ["number", "null"]},
    "updated_at": {"type": ["string", "null"], "format": "date-time"},
    "sync_token": {"type": ["integer", "null"]},
    "txn_date": {"type": ["string", "null"], "format": "date"},
    "_sdc_deleted_at": {"type": ["string", "null"], "format": "date-time"},
}
KEYS = ["company_id", "id"]


def invoice(id_: str, amount: str | None, updated_at: str, sync_token: int = 0,
            **extra: object) -> dict:
    return record("invoices", company_id="9130", edition="qbo", id=id_,
                  total_amount=Decimal(amount) if amount is not None else None,
                  updated_at=updated_at, sync_token=sync_token, txn_date="2026-11-01", **extra)


def stored(sql, config, table="invoices", columns="id, total_amount, _sdc_deleted_at"):
    name = f"`{config['catalog']}`.`{config['default_target_schema']}`.`{table}`"
    return sql(f"SELECT {columns} FROM {name} ORDER BY 1")


def test_money_is_stored_as_decimal_and_sums_exactly(target_config, sql):
    rng = random.Random(11)
    amounts = [Decimal(rng.randint(0, 10**9)) / 100 for _ in range(400)]
    amounts += [Decimal("0.0000000001"), Decimal("123456789012345678.0123456789")]
    messages = [schema_message("invoices", INVOICE, KEYS)]
    messages += [invoice(str(i), str(a), "2026-11-02T09:15:02-08:00")
                 for i, a in enumerate(amounts)]
    run_target(target_config, messages)

    name = f"`{target_config['catalog']}`.`{target_config['default_target_schema']}`.`invoices`"
    (total,) = sql(f"SELECT sum(total_amount) FROM {name}")[0]
    assert total == sum(amounts)
    types = {row[0]: row[1] for row in sql(f"DESCRIBE TABLE {name}")}
    assert types["total_amount"] == "decimal(38,10)"
    assert types["updated_at"] == "timestamp"
    row = sql(f"SELECT updated_at, _sdc_source FROM {name} LIMIT 1")[0]
    # 09:15:02-08:00 is 17:15:02 UTC; the connector shows the instant in the session zone (UTC)
    assert (row[0].hour, row[0].minute, row[1]) == (17, 15, "qbo:9130")


def test_newer_versions_update_and_older_ones_are_ignored(target_config, sql):
    run_target(target_config, [
        schema_message("invoices", INVOICE, KEYS),
        invoice("1", "10.00", "2026-11-02T10:00:00+00:00", 1),
        invoice("2", "20.00", "2026-11-02T10:00:00+00:00", 1),
    ])
    run_target(target_config, [
        schema_message("invoices", INVOICE, KEYS),
        invoice("1", "11.00", "2026-11-02T11:00:00+00:00", 2),   # newer: applied
        invoice("2", "19.00", "2026-11-02T09:00:00+00:00", 0),   # older: ignored
        # same instant in another offset, higher sync_token: newer
        invoice("1", "12.00", "2026-11-02T03:00:00-08:00", 3),
        # in-batch: a newer then an older version of a new record
        invoice("3", "30.00", "2026-11-02T12:00:00+00:00", 5),
        invoice("3", "29.00", "2026-11-02T12:00:00+00:00", 4),
    ])
    run_target(target_config, [
        schema_message("invoices", INVOICE, KEYS),
        invoice("1", "9.00", "2026-11-02T10:30:00+00:00", 9),    # older again: ignored
    ])
    rows = [(r[0], r[1]) for r in stored(sql, target_config)]
    assert rows == [("1", Decimal("12.0000000000")), ("2", Decimal("20.0000000000")),
                    ("3", Decimal("30.0000000000"))]


def test_deletion_flags_the_row_and_keeps_its_values(target_config, sql):
    run_target(target_config, [
        schema_message("invoices", INVOICE, KEYS),
        invoice("1", "10.00", "2026-11-02T10:00:00+00:00", 1),
        invoice("2", "20.00", "2026-11-02T10:00:00+00:00", 1),
    ])
    run_target(target_config, [
        schema_message("invoices", INVOICE, KEYS),
        invoice("1", None, "2026-11-02T11:00:00+00:00", 2,
                _sdc_deleted_at="2026-11-02T11:00:00+00:00"),
        # a deletion of a record never loaded is kept as a tombstone
        invoice("4", None, "2026-11-02T11:00:00+00:00", 2,
                _sdc_deleted_at="2026-11-02T11:00:00+00:00"),
    ])
    # an older version arriving after the deletion does not bring the record back
    run_target(target_config, [
        schema_message("invoices", INVOICE, KEYS),
        invoice("1", "10.00", "2026-11-02T10:00:00+00:00", 1),
        invoice("4", "40.00", "2026-11-02T10:00:00+00:00", 1),
    ])
    rows = {r[0]: (r[1], r[2] is not None) for r in stored(sql, target_config)}
    assert rows == {"1": (Decimal("10.0000000000"), True), "2": (Decimal("20.0000000000"), False),
                    "4": (None, True)}


def test_hard_delete_removes_the_row(target_config, sql):
    config = {**target_config, "hard_delete": True}
    run_target(config, [schema_message("invoices", INVOICE, KEYS),
                        invoice("1", "10.00", "2026-11-02T10:00:00+00:00", 1),
                        invoice("2", "20.00", "2026-11-02T10:00:00+00:00", 1)])
    run_target(config, [schema_message("invoices", INVOICE, KEYS),
                        invoice("1", None, "2026-11-02T11:00:00+00:00", 2,
                                _sdc_deleted_at="2026-11-02T11:00:00+00:00")])
    assert [r[0] for r in stored(sql, config)] == ["2"]


@pytest.mark.parametrize("hard_delete", [False, True])
def test_a_deletion_in_the_first_batch_of_a_new_table_is_kept_flagged_or_left_out(target_config, sql,
                                                                                   hard_delete):
    config = {**target_config, "hard_delete": hard_delete}
    run_target(config, [schema_message("invoices", INVOICE, KEYS),
                        invoice("1", "10.00", "2026-11-02T10:00:00+00:00", 1,
                                _sdc_deleted_at="2026-11-02T10:00:00+00:00"),
                        invoice("2", "20.00", "2026-11-02T10:00:00+00:00", 1),
                        invoice("2", "25.00", "2026-11-02T11:00:00+00:00", 2)])
    rows = [(r[0], r[1], r[2] is not None) for r in stored(sql, config)]
    kept = [("2", Decimal("25.0000000000"), False)]  # the newer version of the repeated key
    assert rows == (kept if hard_delete else [("1", Decimal("10.0000000000"), True), *kept])


def test_deleted_header_flags_its_stored_lines(target_config, sql):
    line_schema = {"company_id": {"type": "string"}, "invoice_id": {"type": "string"},
                   "line_id": {"type": "string"}, "amount": {"type": ["number", "null"]},
                   "_sdc_deleted_at": {"type": ["string", "null"], "format": "date-time"}}
    run_target(target_config, [
        schema_message("invoices", INVOICE, KEYS),
        invoice("1", "10.00", "2026-11-02T10:00:00+00:00", 1),
        invoice("2", "20.00", "2026-11-02T10:00:00+00:00", 1),
        schema_message("invoice_lines", line_schema, ["company_id", "invoice_id", "line_id"]),
        *[record("invoice_lines", company_id="9130", invoice_id=h, line_id=str(n),
                 amount=Decimal("5.00")) for h in ("1", "2") for n in (1, 2)],
    ])
    run_target(target_config, [
        schema_message("invoices", INVOICE, KEYS),
        invoice("1", None, "2026-11-02T11:00:00+00:00", 2,
                _sdc_deleted_at="2026-11-02T11:00:00+00:00"),
    ])
    lines = stored(sql, target_config, "invoice_lines",
                   "invoice_id, line_id, _sdc_deleted_at IS NOT NULL")
    assert sorted((r[0], r[1], r[2]) for r in lines) == [
        ("1", "1", True), ("1", "2", True), ("2", "1", False), ("2", "2", False)]


def test_schema_change_mid_stream_adds_columns_and_widens(target_config, sql):
    before = {"id": {"type": "string"}, "quantity": {"type": ["integer", "null"]}}
    after = {**before, "quantity": {"type": ["number", "null"]},
             "memo": {"type": ["string", "null"]}}
    run_target(target_config, [
        schema_message("items", before, ["id"]),
        record("items", id="a", quantity=3),
        schema_message("items", after, ["id"]),
        record("items", id="b", quantity=Decimal("2.5"), memo="half"),
    ])
    name = f"`{target_config['catalog']}`.`{target_config['default_target_schema']}`.`items`"
    types = {row[0]: row[1] for row in sql(f"DESCRIBE TABLE {name}")}
    assert types["quantity"].startswith("decimal(") and types["memo"] == "string"
    rows = sql(f"SELECT id, quantity, memo FROM {name} ORDER BY 1")
    assert [(r[0], r[1], r[2]) for r in rows] == [("a", Decimal(3), None),
                                                  ("b", Decimal("2.5"), "half")]


def test_append_only_keeps_every_version(target_config, sql):
    config = {**target_config, "load_method": "append-only"}
    run_target(config, [schema_message("invoices", INVOICE, KEYS),
                        invoice("1", "10.00", "2026-11-02T10:00:00+00:00", 1),
                        invoice("1", "11.00", "2026-11-02T11:00:00+00:00", 2)])
    assert len(stored(sql, config)) == 2


def test_overwrite_replaces_the_previous_run(target_config, sql):
    config = {**target_config, "load_method": "overwrite"}
    run_target(config, [schema_message("invoices", INVOICE, KEYS),
                        invoice("1", "10.00", "2026-11-02T10:00:00+00:00", 1),
                        invoice("2", "10.00", "2026-11-02T10:00:00+00:00", 1)])
    run_target(config, [schema_message("invoices", INVOICE, KEYS),
                        invoice("3", "10.00", "2026-11-02T10:00:00+00:00", 1)])
    assert [r[0] for r in stored(sql, config)] == ["3"]


def test_large_batch_is_staged_in_chunks_then_merged_once(target_config, sql):
    config = {**target_config, "stage_chunk_bytes": 20_000}
    messages = [schema_message("invoices", INVOICE, KEYS)]
    messages += [invoice(f"{i:05d}", f"{i}.01", "2026-11-02T10:00:00+00:00") for i in range(1500)]
    run_target(config, messages)
    name = f"`{config['catalog']}`.`{config['default_target_schema']}`.`invoices`"
    count, total = sql(f"SELECT count(*), sum(total_amount) FROM {name}")[0]
    assert count == 1500
    assert total == sum(Decimal(f"{i}.01") for i in range(1500))
    tables = [r[1] for r in sql(f"SHOW TABLES IN `{config['catalog']}`.`{config['default_target_schema']}`")]
    assert tables == ["invoices"]  # the staging table is dropped at the end
    assert letters(config) == []


def test_nested_values_load_as_struct_and_array_columns(target_config, sql):
    config = {**target_config, "nested_as": "struct"}
    address = {"type": ["object", "null"], "properties": {"city": {"type": ["string", "null"]},
                                                         "line1": {"type": ["string", "null"]}}}
    applied = {"type": ["array", "null"], "items": {"type": "object", "properties": {
        "txn_id": {"type": "string"}, "amount": {"type": ["number", "null"]}}}}
    run_target(config, [
        schema_message("payments", {"id": {"type": "string"}, "billing_address": address,
                                    "applied": applied}, ["id"]),
        record("payments", id="p1", billing_address={"city": "Reno", "line1": "1 Main St"},
               applied=[{"txn_id": "i1", "amount": Decimal("10.05")},
                        {"txn_id": "i2", "amount": Decimal("0.0000000001")}]),
    ])
    name = f"`{config['catalog']}`.`{config['default_target_schema']}`.`payments`"
    row = sql(f"SELECT billing_address.city, applied[1].amount, size(applied) FROM {name}")[0]
    assert (row[0], row[1], row[2]) == ("Reno", Decimal("1E-10"), 2)


@pytest.mark.parametrize("parameter_style", ["native", "inline"])
def test_text_and_nested_json_round_trip_exactly_in_either_parameter_style(
        target_config, sql, parameter_style):
    # Quotes, backslashes and non-ASCII inside nested JSON: escapes everywhere. Inline, the
    # connector splices the payload into the SQL text, so it must survive the SQL parser too.
    config = {**target_config, "parameter_style": parameter_style, "stage_chunk_bytes": 4_000}
    memo = 'it\'s "quoted" \\ back\\\\slash, café ✓ -- /* not a comment */ :not_a_marker ?'
    lines = {"type": ["array", "null"], "items": {"type": "object", "properties": {
        "memo": {"type": ["string", "null"]}, "amount": {"type": ["number", "null"]}}}}
    schema = {"id": {"type": "string"}, "memo": {"type": ["string", "null"]}, "lines": lines}
    messages = [schema_message("notes", schema, ["id"])]
    messages += [record("notes", id=f"{i:03d}", memo=f"{memo} {i}",
                        lines=[{"memo": memo, "amount": Decimal(f"{i}.10")}]) for i in range(60)]
    run_target(config, messages)
    assert letters(config) == []
    rows = stored(sql, config, "notes", "id, memo, lines")
    assert len(rows) == 60
    assert [r[1] for r in rows] == [f"{memo} {i}" for i in range(60)]
    assert rows[7][2] == '[{"memo":' + json.dumps(memo, ensure_ascii=False) + ',"amount":7.10}]'


def test_a_record_too_large_for_native_parameters_is_set_aside_alone_with_what_to_do(
        target_config, sql):
    schema = {"id": {"type": "string"}, "memo": {"type": ["string", "null"]}}
    run_target({**target_config, "on_data_failure": "warn"}, [
        schema_message("notes", schema, ["id"]),
        record("notes", id="small", memo="fine"),
        record("notes", id="big", memo="x" * 1_100_000),
        schema_message("tags", schema, ["id"]),
        record("tags", id="t1", memo="fine"),
    ])
    (letter,) = letters(target_config)
    assert '"id":"big"' in letter.line
    assert "staging: volume" in letter.reason and "1,000,000" in letter.reason
    assert [r[0] for r in stored(sql, target_config, "notes", "id")] == ["small"]
    assert [r[0] for r in stored(sql, target_config, "tags", "id")] == ["t1"]


@pytest.mark.parametrize("stream_maps", [None, {"invoices": {"memo": "'mapped'"}}])
def test_extraction_time_is_the_messages_else_the_records_own(target_config, sql, stream_maps):
    """One rule for _sdc_extracted_at (plugin-kit record_intake): a replayed dead letter or a tap
    that puts the time in the record keeps it; the message's time_extracted wins when sent. The
    same on the bulk path and on the SDK's path (stream maps)."""
    config = {**target_config, **({"stream_maps": stream_maps} if stream_maps else {})}
    own = invoice("1", "1.00", "2026-11-02T09:00:00+00:00", _sdc_extracted_at="2026-11-01T08:00:00+00:00")
    sent = {**invoice("2", "2.00", "2026-11-02T09:00:00+00:00", _sdc_extracted_at="2026-11-01T08:00:00+00:00"),
            "time_extracted": "2026-11-03T07:00:00+00:00"}
    run_target(config, [schema_message("invoices", INVOICE, KEYS), own, sent])
    rows = stored(sql, config, columns="id, hour(_sdc_extracted_at), day(_sdc_extracted_at)")
    assert [tuple(r) for r in rows] == [("1", 8, 1), ("2", 7, 3)]
