"""`staging: volume`: batches go through a Parquet file in a Unity Catalog Volume that the MERGE
reads itself (`read_files`), on the local warehouse (which serves Volumes, the connector's
PUT/REMOVE and read_files)."""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import record, run_target, schema_message
from target_databricks.connector import DatabricksConnector
from target_databricks.sinks import AUTO_VOLUME_MIN_BYTES

pytest.importorskip("pyarrow", reason="staging: volume needs the `volume` extra (pyarrow)")

pytestmark = pytest.mark.e2e

BILL = {
    "company_id": {"type": "string"},
    "id": {"type": "string"},
    "vendor": {"type": ["string", "null"]},
    "total_amount": {"type": ["number", "null"]},
    "updated_at": {"type": ["string", "null"], "format": "date-time"},
    "sync_token": {"type": ["integer", "null"]},
}
KEYS = ["company_id", "id"]


def bill(id_: int, amount: Decimal, sync_token: int, vendor: str | None) -> dict:
    return record(
        "bills",
        company_id="9130",
        id=str(id_),
        vendor=vendor,
        total_amount=amount,
        updated_at=f"2026-11-02T{9 + sync_token:02d}:00:00-08:00",
        sync_token=sync_token,
    )


@pytest.fixture
def volume_config(target_config, sql, tmp_path):
    """The settings a user writes for volume staging, after creating the schema and volume
    (a volume needs its schema, and the target does not create volumes)."""
    catalog, schema = target_config["catalog"], target_config["default_target_schema"]
    sql(f"CREATE SCHEMA IF NOT EXISTS `{catalog}`.`{schema}`")
    sql(f"CREATE VOLUME `{catalog}`.`{schema}`.`staging`")
    local = tmp_path / "parquet"
    local.mkdir()
    return {
        **target_config,
        "staging": "volume",
        "staging_volume": "staging",
        "staging_local_path": str(local),
        "stage_chunk_bytes": 2_000,
    }


def test_a_large_batch_loads_through_the_volume_exactly(volume_config, sql, databricks_faults):
    rng = random.Random(7)
    amounts = [Decimal(rng.randint(-(10**9), 10**12)) / 100 for _ in range(300)]
    vendors = [None if i % 7 == 0 else f"Vendor {i} 'quoted' ünïcode" for i in range(300)]
    run_target(
        volume_config,
        [schema_message("bills", BILL, KEYS)]
        + [bill(i, a, 1, v) for i, (a, v) in enumerate(zip(amounts, vendors, strict=True))],
    )

    name = f"`{volume_config['catalog']}`.`{volume_config['default_target_schema']}`.`bills`"
    count, total = sql(f"SELECT COUNT(*), SUM(total_amount) FROM {name}")[0]
    assert (count, total) == (300, sum(amounts))
    stored = {r[0]: (r[1], r[2]) for r in sql(f"SELECT id, vendor, total_amount FROM {name}")}
    assert stored["0"] == (None, amounts[0])
    assert stored["299"] == (vendors[299], amounts[299])
    # The batch really went through the volume: one PUT and one REMOVE of the presigned URLs.
    assert databricks_faults.count("volume_files") >= 2


def test_updates_merge_from_the_volume_and_leave_nothing_behind(volume_config, sql):
    messages = [schema_message("bills", BILL, KEYS)]
    run_target(
        volume_config, messages + [bill(i, Decimal("10.00") + i, 1, "first") for i in range(50)]
    )
    # Newer versions of half the bills, and an older one that must not win.
    run_target(
        volume_config,
        messages
        + [bill(i, Decimal("0.01") * i, 2, "second") for i in range(0, 50, 2)]
        + [bill(1, Decimal("999.99"), 0, "stale")],
    )

    catalog, schema = volume_config["catalog"], volume_config["default_target_schema"]
    rows = {
        r[0]: (r[1], r[2])
        for r in sql(f"SELECT id, vendor, total_amount FROM `{catalog}`.`{schema}`.`bills`")
    }
    assert len(rows) == 50
    assert rows["2"] == ("second", Decimal("0.02"))
    assert rows["1"] == ("first", Decimal("11.00"))
    # The staging files are removed from the volume and from the local directory, and no
    # staging table was made (the MERGE reads the file).
    assert sql(f"LIST '/Volumes/{catalog}/{schema}/staging'") == []
    assert list(Path(volume_config["staging_local_path"]).iterdir()) == []
    tables = [r[1] for r in sql(f"SHOW TABLES IN `{catalog}`.`{schema}`")]
    assert tables == ["bills"]


def test_a_staging_file_that_cannot_be_removed_does_not_fail_the_loaded_batch(
    volume_config, sql, monkeypatch
):
    execute = DatabricksConnector.execute

    def refuse_remove(self, statement, parameters=None):
        if statement.startswith("REMOVE "):
            raise RuntimeError("volume is read-only")
        return execute(self, statement, parameters)

    monkeypatch.setattr(DatabricksConnector, "execute", refuse_remove)
    run_target(
        volume_config,
        [schema_message("bills", BILL, KEYS)]
        + [bill(i, Decimal("1.10"), 1, "v") for i in range(20)],
    )
    monkeypatch.undo()

    catalog, schema = volume_config["catalog"], volume_config["default_target_schema"]
    assert sql(f"SELECT SUM(total_amount) FROM `{catalog}`.`{schema}`.`bills`") == [
        (Decimal("22.00"),)
    ]
    # The batch is loaded; the file it could not remove is left (and logged), never reloaded.
    assert len(sql(f"LIST '/Volumes/{catalog}/{schema}/staging'")) == 1


MEMO = {
    "company_id": {"type": "string"},
    "id": {"type": "string"},
    "memo": {"type": ["string", "null"]},
    "total_amount": {"type": ["number", "null"]},
    "updated_at": {"type": ["string", "null"], "format": "date-time"},
}
# Values of a third of the auto threshold per record: two make a batch under it, a few past it.
MEMO_BYTES = AUTO_VOLUME_MIN_BYTES // 3


def memos(stream: str, count: int) -> list[dict]:
    return [schema_message(stream, MEMO, KEYS)] + [
        record(stream, company_id="9130", id=str(i),
               memo=None if i == 0 else f"{i} ünïcode 'q' " + "m" * MEMO_BYTES,
               total_amount=Decimal(f"{i * 7919 % 100000}.{i % 100:02d}"),
               updated_at=f"2026-11-02T09:{i % 60:02d}:00-08:00")
        for i in range(count)
    ]


def test_auto_sends_small_batches_as_parameters_and_large_ones_through_the_volume(
        volume_config, sql, databricks_faults):
    """`staging: auto` (the default) with a Volume: the same records land the same either way."""
    count = AUTO_VOLUME_MIN_BYTES // MEMO_BYTES + 3  # one batch of them is past the threshold
    # The default staging (auto) and chunk size, with the Volume named.
    config = {k: v for k, v in volume_config.items() if k not in ("staging", "stage_chunk_bytes")}
    # Two records per batch: under the threshold, so no file goes to the Volume.
    run_target({**config, "batch_size_rows": 2}, memos("memos_small", count))
    assert databricks_faults.count("volume_files") == 0
    # All of them in one batch: past the threshold, so one file is PUT and REMOVEd.
    run_target(config, memos("memos_large", count))
    assert databricks_faults.count("volume_files") == 2

    catalog, schema = volume_config["catalog"], volume_config["default_target_schema"]

    def stored(table: str) -> list[tuple]:
        return sql(f"SELECT company_id, id, memo, total_amount, updated_at, _sdc_deleted_at "
                   f"FROM `{catalog}`.`{schema}`.`{table}` ORDER BY id")

    small, large = stored("memos_small"), stored("memos_large")
    assert len(small) == count
    assert small == large
    assert sum(r[3] for r in large) == sum(
        Decimal(f"{i * 7919 % 100000}.{i % 100:02d}") for i in range(count))
    assert sql(f"LIST '/Volumes/{catalog}/{schema}/staging'") == []

    # A record too large for one statement's parameters takes the Volume even in a small batch,
    # instead of being set aside (as it is without a Volume).
    big = "x" * 1_100_000
    run_target({**config, "batch_size_rows": 2}, [
        schema_message("memos_big", MEMO, KEYS),
        record("memos_big", company_id="9130", id="big", memo=big, total_amount=Decimal("1.10"))])
    assert databricks_faults.count("volume_files") == 4
    assert sql(f"SELECT length(memo), total_amount FROM `{catalog}`.`{schema}`.`memos_big`") == [
        (1_100_000, Decimal("1.10"))]
