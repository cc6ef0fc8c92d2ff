"""Loading behaviour a warehouse user sees: upsert guard, deletions, evolution, types, audit."""


from __future__ import annotations

import contextlib
import datetime as dt
import threading
import typing as t
from decimal import Decimal

import pytest

from tests.qb_records import KEYS, SCHEMAS, dumps, schema_message, singer_lines
from tests.target_runner import query, raw, run_target


def _invoice(object_id: str, updated_at: str, sync_token: int | None = None, **fields: t.Any) -> dict[str, t.Any]:
    return {
        "company_id": "9130", "edition": "qbo", "id": object_id, "updated_at": updated_at,
        "sync_token": sync_token, "edit_sequence": None, "total_amount": Decimal("10.00"),
        "balance": Decimal("10.00"), "txn_date": "2026-11-01", "_sdc_deleted_at": None, **fields,
    }


def _line(invoice_id: str, line_id: str, amount: str) -> dict[str, t.Any]:
    return {"company_id": "9130", "edition": "qbo", "invoice_id": invoice_id, "line_id": line_id,
            "amount": Decimal(amount), "updated_at": "2026-11-02T09:00:00-08:00", "_sdc_deleted_at": None}


def test_older_version_arriving_after_newer_keeps_newer(warehouse_config: dict[str, t.Any]) -> None:
    newer = _invoice("1", "2026-11-02T10:00:00-08:00", 3, total_amount=Decimal("30.00"))
    older = _invoice("1", "2026-11-02T09:00:00-08:00", 2, total_amount=Decimal("20.00"))
    run_target(warehouse_config, singer_lines({"invoices": [newer]}))
    run_target(warehouse_config, singer_lines({"invoices": [older]}))
    rows = query(warehouse_config, f"SELECT total_amount, sync_token FROM {raw(warehouse_config, 'invoices')}")
    assert rows == [(Decimal("30.00"), 3)]


def test_same_timestamp_is_ordered_by_sync_token_within_one_batch(warehouse_config: dict[str, t.Any]) -> None:
    stamp = "2026-11-02T10:00:00-08:00"
    records = [
        _invoice("1", stamp, 5, total_amount=Decimal("50.00")),
        _invoice("1", stamp, 4, total_amount=Decimal("40.00")),
    ]
    run_target(warehouse_config, singer_lines({"invoices": records}))
    rows = query(warehouse_config, f"SELECT total_amount FROM {raw(warehouse_config, 'invoices')}")
    assert rows == [(Decimal("50.00"),)]


def test_desktop_edit_sequence_compares_as_integer(warehouse_config: dict[str, t.Any]) -> None:
    stamp = "2026-11-02T10:00:00-08:00"
    newer = _invoice("1", stamp, None, edition="qbd", edit_sequence="10", total_amount=Decimal("10.00"))
    older = _invoice("1", stamp, None, edition="qbd", edit_sequence="9", total_amount=Decimal("9.00"))
    run_target(warehouse_config, singer_lines({"invoices": [newer]}))
    run_target(warehouse_config, singer_lines({"invoices": [older]}))
    rows = query(warehouse_config, f"SELECT total_amount, _sdc_source FROM {raw(warehouse_config, 'invoices')}")
    assert rows == [(Decimal("10.00"), "qbd:9130")]


def test_newer_version_replaces_stored_row(warehouse_config: dict[str, t.Any]) -> None:
    run_target(warehouse_config, singer_lines({"invoices": [_invoice("1", "2026-11-02T09:00:00-08:00", 1)]}))
    newer = _invoice("1", "2026-11-03T09:00:00-08:00", 2, total_amount=Decimal("99.99"))
    run_target(warehouse_config, singer_lines({"invoices": [newer]}))
    rows = query(warehouse_config, f"SELECT total_amount, sync_token FROM {raw(warehouse_config, 'invoices')}")
    assert rows == [(Decimal("99.99"), 2)]


def test_deleted_header_is_flagged_and_its_lines_too(warehouse_config: dict[str, t.Any]) -> None:
    run_target(
        warehouse_config,
        singer_lines({
            "invoices": [_invoice("1", "2026-11-02T09:00:00-08:00", 1), _invoice("2", "2026-11-02T09:00:00-08:00", 1)],
            "invoice_lines": [_line("1", "1", "4.00"), _line("1", "2", "6.00"), _line("2", "1", "10.00")],
        }),
    )
    deletion = {"company_id": "9130", "edition": "qbo", "id": "1", "updated_at": "2026-11-04T09:00:00-08:00",
                "_sdc_deleted_at": "2026-11-04T09:00:00-08:00"}
    run_target(warehouse_config, singer_lines({"invoices": [deletion]}))
    headers = query(warehouse_config,
                    f"SELECT id, total_amount, _sdc_deleted_at IS NOT NULL FROM {raw(warehouse_config, 'invoices')} ORDER BY id")
    # The deletion carries no amounts: the stored values stay, flagged.
    assert headers == [("1", Decimal("10.00"), True), ("2", Decimal("10.00"), False)]
    lines = query(warehouse_config,
                  f"SELECT invoice_id, line_id, _sdc_deleted_at IS NOT NULL FROM {raw(warehouse_config, 'invoice_lines')} "
                  "ORDER BY invoice_id, line_id")
    assert lines == [("1", "1", True), ("1", "2", True), ("2", "1", False)]


def test_stale_update_does_not_undo_a_deletion(warehouse_config: dict[str, t.Any]) -> None:
    stored = _invoice("1", "2026-11-02T09:00:00-08:00", None)
    deletion = {"company_id": "9130", "edition": "qbo", "id": "1", "updated_at": None,
                "_sdc_deleted_at": "2026-11-04T09:00:00-08:00"}
    run_target(warehouse_config, singer_lines({"invoices": [stored]}))
    run_target(warehouse_config, singer_lines({"invoices": [deletion]}))
    run_target(warehouse_config, singer_lines({"invoices": [stored]}))
    rows = query(warehouse_config, f"SELECT _sdc_deleted_at IS NOT NULL FROM {raw(warehouse_config, 'invoices')}")
    assert rows == [(True,)]


def test_hard_delete_removes_deleted_rows_and_their_lines(warehouse_config: dict[str, t.Any]) -> None:
    config = {**warehouse_config, "hard_delete": True}
    run_target(config, singer_lines({
        "invoices": [_invoice("1", "2026-11-02T09:00:00-08:00", 1), _invoice("2", "2026-11-02T09:00:00-08:00", 1)],
        "invoice_lines": [_line("1", "1", "4.00"), _line("2", "1", "10.00")],
    }))
    deletion = {"company_id": "9130", "edition": "qbo", "id": "1", "updated_at": "2026-11-04T09:00:00-08:00",
                "_sdc_deleted_at": "2026-11-04T09:00:00-08:00"}
    run_target(config, singer_lines({"invoices": [deletion]}))
    assert query(config, f"SELECT id FROM {raw(config, 'invoices')}") == [("2",)]
    assert query(config, f"SELECT invoice_id FROM {raw(config, 'invoice_lines')}") == [("2",)]


def test_deleted_records_stream_flags_the_named_stream(warehouse_config: dict[str, t.Any]) -> None:
    run_target(warehouse_config, singer_lines({"invoices": [_invoice("7", "2026-11-02T09:00:00-08:00", 1)]}))
    deleted_records = [{"company_id": "9130", "edition": "qbd", "id": "7", "entity": "Invoice", "stream": "invoices",
                        "deleted_at": "2026-11-05T01:02:03+00:00", "updated_at": "2026-11-05T01:02:03+00:00"}]
    schema = {"type": "object", "properties": {
        "company_id": {"type": "string"}, "edition": {"type": ["string", "null"]}, "id": {"type": "string"},
        "entity": {"type": ["string", "null"]}, "stream": {"type": "string"},
        "deleted_at": {"type": ["string", "null"], "format": "date-time"},
        "updated_at": {"type": ["string", "null"], "format": "date-time"}}}
    SCHEMAS["deleted_records"], KEYS["deleted_records"] = schema, ["company_id", "stream", "id"]
    try:
        run_target(warehouse_config, singer_lines({"deleted_records": deleted_records}))
    finally:
        del SCHEMAS["deleted_records"], KEYS["deleted_records"]
    rows = query(warehouse_config, f"SELECT _sdc_deleted_at FROM {raw(warehouse_config, 'invoices')}")
    assert rows[0][0] == dt.datetime(2026, 11, 5, 1, 2, 3, tzinfo=dt.UTC)


def test_new_column_is_added_and_old_rows_keep_their_values(warehouse_config: dict[str, t.Any]) -> None:
    run_target(warehouse_config, singer_lines({"invoices": [_invoice("1", "2026-11-02T09:00:00-08:00", 1)]}))
    SCHEMAS["invoices"]["properties"]["memo_code"] = {"type": ["string", "null"]}
    try:
        run_target(warehouse_config, singer_lines(
            {"invoices": [_invoice("2", "2026-11-02T09:00:00-08:00", 1, memo_code="X1")]}))
    finally:
        del SCHEMAS["invoices"]["properties"]["memo_code"]
    rows = query(warehouse_config,
                 f"SELECT id, total_amount, memo_code FROM {raw(warehouse_config, 'invoices')} ORDER BY id")
    assert rows == [("1", Decimal("10.00"), None), ("2", Decimal("10.00"), "X1")]


def test_integer_column_widens_to_decimal_then_text_without_loss(warehouse_config: dict[str, t.Any]) -> None:
    def run(prop: dict[str, t.Any], value: t.Any, object_id: str) -> None:
        SCHEMAS["invoices"]["properties"]["custom_field"] = prop
        try:
            run_target(warehouse_config, singer_lines(
                {"invoices": [_invoice(object_id, "2026-11-02T09:00:00-08:00", 1, custom_field=value)]}))
        finally:
            del SCHEMAS["invoices"]["properties"]["custom_field"]

    run({"type": ["integer", "null"]}, 7, "1")
    run({"type": ["number", "null"]}, Decimal("7.125"), "2")
    run({"type": ["string", "null"]}, "seven", "3")
    rows = query(warehouse_config, f"SELECT id, custom_field FROM {raw(warehouse_config, 'invoices')} ORDER BY id")
    assert [r[0] for r in rows] == ["1", "2", "3"]
    assert [Decimal(r[1]) for r in rows[:2]] == [Decimal(7), Decimal("7.125")]
    assert rows[2][1] == "seven"


def test_money_is_exact_decimal_and_timestamps_keep_the_instant(warehouse_config: dict[str, t.Any]) -> None:
    record = _invoice("1", "2026-11-02T09:15:02-08:00", 1, total_amount=Decimal("1234567890123.45"),
                      exchange_rate=Decimal("1.0837012345"))
    run_target(warehouse_config, singer_lines({"invoices": [record]}))
    rows = query(warehouse_config,
                 f"SELECT total_amount, exchange_rate, updated_at FROM {raw(warehouse_config, 'invoices')}")
    amount, rate, updated = rows[0]
    assert (amount, rate) == (Decimal("1234567890123.45"), Decimal("1.0837012345"))
    assert updated == dt.datetime(2026, 11, 2, 17, 15, 2, tzinfo=dt.UTC)


def test_every_row_has_the_audit_columns(warehouse_config: dict[str, t.Any]) -> None:
    run_target(warehouse_config, singer_lines({"invoices": [_invoice("1", "2026-11-02T09:00:00-08:00", 1)]}))
    rows = query(
        warehouse_config,
        "SELECT _sdc_extracted_at, _sdc_received_at IS NOT NULL, _sdc_batched_at IS NOT NULL, "
        f"_sdc_deleted_at, _sdc_source FROM {raw(warehouse_config, 'invoices')}",
    )
    assert rows == [(dt.datetime(2026, 11, 30, 12, tzinfo=dt.UTC), True, True, None, "qbo:9130")]


def test_state_is_emitted_after_the_batch_is_committed(warehouse_config: dict[str, t.Any]) -> None:
    _, stdout = run_target(
        warehouse_config,
        singer_lines({"invoices": [_invoice("1", "2026-11-02T09:00:00-08:00", 1)]}, state={"bookmarks": {"invoices": "x"}}),
    )
    assert stdout.strip().splitlines()[-1] == '{"bookmarks": {"invoices": "x"}}'
    assert len(query(warehouse_config, f"SELECT id FROM {raw(warehouse_config, 'invoices')}")) == 1


def test_append_only_keeps_every_version(duckdb_config: dict[str, t.Any]) -> None:
    config = {**duckdb_config, "load_method": "append-only"}
    run_target(config, singer_lines({"invoices": [_invoice("1", "2026-11-02T10:00:00-08:00", 3)]}))
    run_target(config, singer_lines({"invoices": [_invoice("1", "2026-11-02T09:00:00-08:00", 2)]}))
    rows = query(config, f"SELECT sync_token FROM {raw(config, 'invoices')} ORDER BY sync_token")
    assert rows == [(2,), (3,)]


def test_activate_version_flags_rows_of_older_versions(duckdb_config: dict[str, t.Any]) -> None:
    def versioned(object_id: str, version: int) -> str:
        record = {"type": "RECORD", "stream": "invoices", "version": version,
                  "record": _invoice(object_id, "2026-11-02T09:00:00-08:00", 1)}
        return schema_message("invoices") + "\n" + dumps(record) + "\n"

    run_target(duckdb_config, versioned("1", 1))
    run_target(duckdb_config, versioned("2", 2) + '{"type":"ACTIVATE_VERSION","stream":"invoices","version":2}\n')
    rows = query(duckdb_config, f"SELECT id, _sdc_deleted_at IS NOT NULL FROM {raw(duckdb_config, 'invoices')} ORDER BY id")
    assert rows == [("1", True), ("2", False)]


def test_line_removed_from_an_edited_document_is_flagged(warehouse_config: dict[str, t.Any]) -> None:
    def line(line_id: str, updated_at: str) -> dict[str, t.Any]:
        return {**_line("1", line_id, "5.00"), "updated_at": updated_at}

    v1, v2 = "2026-11-02T09:00:00-08:00", "2026-11-03T09:00:00-08:00"
    run_target(warehouse_config, singer_lines({"invoice_lines": [line("1", v1), line("2", v1), line("3", v1)]}))
    # The edited invoice keeps lines 1 and 3; they arrive in two batches of the same version.
    config = {**warehouse_config, "batch_size_rows": 1}
    run_target(config, singer_lines({"invoice_lines": [line("1", v2), line("3", v2)]}))
    rows = query(warehouse_config,
                 f"SELECT line_id, _sdc_deleted_at IS NOT NULL FROM {raw(warehouse_config, 'invoice_lines')} ORDER BY line_id")
    assert rows == [("1", False), ("2", True), ("3", False)]


def test_a_header_deleted_in_the_run_that_delivers_its_lines_flags_them_when_both_drain_side_by_side(
        postgres_config: dict[str, t.Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """The end-of-input drain merges invoices and invoice_lines on parallel threads. Each merge's
    deletion rule reads the other table: the header's flags stored lines, the lines' reads stored
    deleted headers. Both are held here just before commit, until the other arrives (or 3 s): two
    merges that overlapped would each miss the other's uncommitted rows (the clean-clone CI saw it)."""
    from target_looker_warehouse.sinks import WarehouseSink

    both_before_commit = threading.Barrier(2, timeout=3)
    propagate = WarehouseSink._propagate_deletions

    def held(self: WarehouseSink, conn: t.Any, staging: str, columns: list[str]) -> None:
        propagate(self, conn, staging, columns)
        if self.table_name in ("invoices", "invoice_lines"):
            with contextlib.suppress(threading.BrokenBarrierError):
                both_before_commit.wait()

    monkeypatch.setattr(WarehouseSink, "_propagate_deletions", held)
    deletion = {"company_id": "9130", "edition": "qbo", "id": "1", "updated_at": "2026-11-04T09:00:00-08:00",
                "_sdc_deleted_at": "2026-11-04T09:00:00-08:00"}
    run_target(postgres_config, singer_lines({
        "invoice_lines": [_line("1", "1", "4.00"), _line("1", "2", "6.00"), _line("2", "1", "10.00")],
        "invoices": [_invoice("2", "2026-11-02T09:00:00-08:00", 1), deletion],
    }))
    lines = query(postgres_config,
                  f"SELECT invoice_id, line_id, _sdc_deleted_at IS NOT NULL FROM {raw(postgres_config, 'invoice_lines')} "
                  "ORDER BY invoice_id, line_id")
    assert lines == [("1", "1", True), ("1", "2", True), ("2", "1", False)]
