"""DuckDB reads the COPY text the row encoder writes (dialects.load_copy_text) back to exactly
the values the records held: hostile text, NULL against the text ``\\N``, exact money, offsets."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import typing as t

import duckdb
import pytest
from target_looker_warehouse.column_types import family_for_schema
from target_looker_warehouse.dialects import DuckDBDialect, load_copy_text
from target_looker_warehouse.row_encoding import NeedsFullCheck, RowEncoder

D = decimal.Decimal
SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "name": {"type": ["string", "null"]},
        "amount": {"type": ["number", "null"]},
        "updated_at": {"type": ["string", "null"], "format": "date-time"},
        "txn_date": {"type": ["string", "null"], "format": "date"},
        "meta": {"type": ["object", "null"]},
    },
}
NAMES = list(SCHEMA["properties"])
FAMILIES = [family_for_schema(SCHEMA["properties"][n]) for n in NAMES]

HOSTILE = [
    "tab\there", "line\nbreak", "carriage\rreturn\r\n", "back\\slash", "\\", "\\\\", "ends with \\",
    "\\N", "\\\\N", "\\t is not a tab", "\\0", "nul\x00inside", "\x00", "", " ", "é漢字🙂\u2028\u00a0",
    '"quoted" \'single\'', "a,b;c|d", "\\\t\\\n\\\r",
]


def load(records: list[dict[str, t.Any]]) -> list[tuple[t.Any, ...]]:
    dialect = DuckDBDialect({})
    encoder = RowEncoder(SCHEMA, NAMES, NAMES, FAMILIES, dialect.scale, dialect.precision, keep_nul=True)
    rows = []
    for record in records:
        try:
            rows.append(encoder.encode_fast(record))
        except NeedsFullCheck:
            rows.append(encoder.row(encoder.encode_checked(record)))
    connection = duckdb.connect()
    columns = ", ".join(f"{dialect.quote(n)} {dialect.type_sql(f)}" for n, f in zip(NAMES, FAMILIES, strict=True))
    connection.execute(f"CREATE TABLE staging ({columns})")
    load_copy_text(connection, dialect, "staging", NAMES, FAMILIES, rows)
    return connection.execute("SELECT * FROM staging ORDER BY id").fetchall()


def test_hostile_text_reads_back_exactly_and_null_stays_apart_from_the_text_backslash_n() -> None:
    records = [{"id": f"{i:03}", "name": text, "meta": {"text": text}} for i, text in enumerate(HOSTILE)]
    records.append({"id": "999", "name": None, "meta": None})
    found = load(records)
    assert [row[1] for row in found] == [*HOSTILE, None]
    assert [None if row[5] is None else json.loads(row[5]) for row in found] == [
        *({"text": text} for text in HOSTILE), None]


def test_random_strings_of_escape_characters_read_back_exactly() -> None:
    import random

    rng = random.Random(17)
    alphabet = ["\\", "t", "n", "r", "0", "N", "\t", "\n", "\r", "\x00", "a"]
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 10))) for _ in range(500)]
    found = load([{"id": f"{i:04}", "name": text} for i, text in enumerate(texts)])
    assert [row[1] for row in found] == texts


def test_money_is_exact_and_timestamps_keep_their_instant() -> None:
    found = load([{"id": "1", "amount": D("1234567890.0123456789"), "updated_at": "2026-01-01T09:00:00-08:00",
                   "txn_date": "2026-02-28"},
                  {"id": "2", "amount": D("-0.01"), "updated_at": "2026-01-01T09:00:00.123456+05:30"}])
    assert [row[2] for row in found] == [D("1234567890.0123456789"), D("-0.01")]
    assert found[0][3] == dt.datetime(2026, 1, 1, 17, 0, tzinfo=dt.UTC)
    assert found[1][3] == dt.datetime(2026, 1, 1, 3, 30, 0, 123456, tzinfo=dt.UTC)
    assert found[0][4] == dt.date(2026, 2, 28)


def test_a_value_longer_than_the_readers_default_line_reads_back_whole() -> None:
    text = "x" * 3_000_000 + "\t" + "漢" * 700_000
    assert load([{"id": "1", "name": text}])[0][1] == text


@pytest.mark.parametrize("limit", ["48MB", "64MB"])
def test_duckdb_memory_limit_is_applied_to_the_targets_connections(limit: str, tmp_path: t.Any) -> None:
    from target_looker_warehouse.connector import WarehouseConnector

    connector = WarehouseConnector({"dialect": "duckdb", "duckdb_path": str(tmp_path / "w.duckdb"),
                                    "duckdb_memory_limit": limit})
    try:
        with connector.engine.connect() as conn:
            found = conn.exec_driver_sql("SELECT current_setting('memory_limit')").scalar()
    finally:
        connector.dispose()
    expected = duckdb.connect(config={"memory_limit": limit}).execute(
        "SELECT current_setting('memory_limit')").fetchone()
    assert expected is not None and found == expected[0]


def test_a_duckdb_batch_holds_at_most_its_cap_whatever_batch_size_rows(warehouse_config: dict[str, t.Any]) -> None:
    from target_looker_warehouse.dialects import DuckDBDialect as Capped
    from target_looker_warehouse.target import TargetLookerWarehouse

    schema = {"type": "object", "properties": {"id": {"type": "string"}}}
    for asked in (1_000, 1_000_000):
        target = TargetLookerWarehouse(config={**warehouse_config, "batch_size_rows": asked}, validate_config=True)
        try:
            sink = target.get_sink("things", schema=schema, key_properties=["id"])
            cap = Capped.max_batch_rows if warehouse_config["dialect"] == "duckdb" else None
            assert cap is None or cap < 1_000_000
            assert sink.max_size == (asked if cap is None else min(asked, cap))
        finally:
            target.warehouse_connector.dispose()
