# Fixtures are imported by name, so each use looks like a redefinition to ruff.
# ruff: noqa: F811
"""Unity Catalog Volumes, COPY INTO and read_files on the local warehouse, through the unmodified
connector.

PUT/GET/REMOVE are the connector's staging operations: the warehouse answers with a presigned
URL and the connector makes the HTTP request itself, trusting the same CA as for the warehouse.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from databricks.sql.exc import Error, ServerOperationError
from sandboxes.databricks import LocalWarehouse
from sandboxes.databricks.fixtures import databricks_engine, unique_schema  # noqa: F401
from sandboxes.databricks.statement_results import StatementFailed
from sandboxes.databricks.volume_sql import find_file_reads
from sandboxes.loopback_http import loopback_session


@dataclass
class Volume:
    engine: LocalWarehouse
    schema: str  # catalog.schema
    path: str  # /Volumes/catalog/schema/volume
    local: Path  # the test's own directory, the connector's staging_allowed_local_path

    def run(self, *statements: str) -> list[Any]:
        """Execute statements on one connection allowed to stage files from ``local``."""
        rows: list[Any] = []
        with (
            self.engine.connect(staging_allowed_local_path=str(self.local)) as connection,
            connection.cursor() as cursor,
        ):
            for statement in statements:
                cursor.execute(statement)
                rows = cursor.fetchall() if cursor.description else []
        return rows


@pytest.fixture
def volume(databricks_engine: LocalWarehouse, tmp_path: Path) -> Volume:
    name = unique_schema("vol")
    catalog = databricks_engine.catalog
    staged = Volume(
        databricks_engine, f"{catalog}.{name}", f"/Volumes/{catalog}/{name}/landing", tmp_path
    )
    staged.run(f"CREATE SCHEMA {catalog}.{name}", f"CREATE VOLUME {catalog}.{name}.landing")
    return staged


@pytest.fixture
def invoices_file(volume: Volume) -> Iterator[Path]:
    """A Parquet file of invoices, every value as text (how target-databricks writes them)."""
    table = pa.table(
        {
            "c0": pa.array(["1", "2", "3"]),
            "c1": pa.array(["Acme", "Bolt & Nut", None]),
            "c2": pa.array(["1234567890123.45", "0.10", "-0.20"]),
        }
    )
    path = volume.local / "invoices.parquet"
    pq.write_table(table, path)
    yield path


def _copy_invoices(volume: Volume, remote: str, options: str = "") -> str:
    return (
        f"COPY INTO {volume.schema}.invoices FROM (SELECT CAST(c0 AS BIGINT) AS id, c1 AS customer, "
        f"CAST(c2 AS DECIMAL(18,2)) AS amount FROM '{remote}') FILEFORMAT = PARQUET{options}"
    )


def test_put_then_get_returns_the_same_bytes(volume: Volume) -> None:
    original = bytes(range(256)) * 40
    (volume.local / "upload.bin").write_bytes(original)
    volume.run(
        f"PUT '{volume.local / 'upload.bin'}' INTO '{volume.path}/2026/11/upload.bin' OVERWRITE",
        f"GET '{volume.path}/2026/11/upload.bin' TO '{volume.local / 'download.bin'}'",
    )
    assert (volume.local / "download.bin").read_bytes() == original


def test_copy_into_loads_exact_values_and_reports_the_rows(
    volume: Volume, invoices_file: Path
) -> None:
    remote = f"{volume.path}/invoices.parquet"
    result = volume.run(
        f"CREATE TABLE {volume.schema}.invoices (id BIGINT, customer STRING, amount DECIMAL(18,2))",
        f"PUT '{invoices_file}' INTO '{remote}'",
        _copy_invoices(volume, remote),
    )
    assert [tuple(r) for r in result] == [(3, 3, 0)]
    rows = volume.run(f"SELECT id, customer, amount FROM {volume.schema}.invoices ORDER BY id")
    assert [tuple(r) for r in rows] == [
        (1, "Acme", Decimal("1234567890123.45")),
        (2, "Bolt & Nut", Decimal("0.10")),
        (3, None, Decimal("-0.20")),
    ]
    total = volume.run(f"SELECT SUM(amount) FROM {volume.schema}.invoices")[0][0]
    assert total == Decimal("1234567890123.35")


def test_copy_into_skips_a_file_already_loaded_unless_forced(
    volume: Volume, invoices_file: Path
) -> None:
    remote = f"{volume.path}/invoices.parquet"
    volume.run(
        f"CREATE TABLE {volume.schema}.invoices (id BIGINT, customer STRING, amount DECIMAL(18,2))",
        f"PUT '{invoices_file}' INTO '{remote}'",
        _copy_invoices(volume, remote),
    )
    again = volume.run(_copy_invoices(volume, remote))
    assert [tuple(r) for r in again] == [(0, 0, 0)]
    assert volume.run(f"SELECT COUNT(*) FROM {volume.schema}.invoices")[0][0] == 3

    forced = volume.run(_copy_invoices(volume, remote, " COPY_OPTIONS ('force' = 'true')"))
    assert [tuple(r) for r in forced] == [(3, 3, 0)]
    assert volume.run(f"SELECT COUNT(*) FROM {volume.schema}.invoices")[0][0] == 6


def test_a_recreated_table_forgets_the_files_it_loaded(volume: Volume, invoices_file: Path) -> None:
    remote = f"{volume.path}/invoices.parquet"
    create = (
        f"CREATE TABLE {volume.schema}.invoices (id BIGINT, customer STRING, amount DECIMAL(18,2))"
    )
    volume.run(create, f"PUT '{invoices_file}' INTO '{remote}'", _copy_invoices(volume, remote))
    result = volume.run(
        f"DROP TABLE {volume.schema}.invoices", create, _copy_invoices(volume, remote)
    )
    assert [tuple(r) for r in result] == [(3, 3, 0)]


def test_copy_into_without_select_matches_columns_by_name(volume: Volume) -> None:
    pq.write_table(
        pa.table(
            {
                "amount": pa.array([Decimal("9.99")], pa.decimal128(18, 2)),
                "id": pa.array([7], pa.int64()),
            }
        ),
        volume.local / "typed.parquet",
    )
    rows = volume.run(
        f"CREATE TABLE {volume.schema}.typed (id BIGINT, amount DECIMAL(18,2))",
        f"PUT '{volume.local / 'typed.parquet'}' INTO '{volume.path}/typed/part-0.parquet'",
        f"COPY INTO {volume.schema}.typed FROM '{volume.path}/typed' FILEFORMAT = PARQUET",
        f"SELECT id, amount FROM {volume.schema}.typed",
    )
    assert [tuple(r) for r in rows] == [(7, Decimal("9.99"))]


def _read_invoices(remote: str) -> str:
    return (f"SELECT CAST(c0 AS BIGINT) AS id, c1 AS customer, CAST(c2 AS DECIMAL(18,2)) AS amount "
            f"FROM read_files('{remote}', format => 'parquet')")


def test_read_files_reads_a_volume_file_as_the_source_of_any_statement(
    volume: Volume, invoices_file: Path
) -> None:
    remote = f"{volume.path}/invoices.parquet"
    rows = volume.run(f"PUT '{invoices_file}' INTO '{remote}'", _read_invoices(remote) + " ORDER BY id")
    assert [tuple(r) for r in rows] == [
        (1, "Acme", Decimal("1234567890123.45")),
        (2, "Bolt & Nut", Decimal("0.10")),
        (3, None, Decimal("-0.20")),
    ]
    # A MERGE whose source is the file itself: no staging table.
    merged = volume.run(
        f"CREATE TABLE {volume.schema}.invoices (id BIGINT, customer STRING, amount DECIMAL(18,2))",
        f"INSERT INTO {volume.schema}.invoices VALUES (2, 'old', 5.00)",
        f"MERGE INTO {volume.schema}.invoices AS t USING ({_read_invoices(remote)}) AS s ON t.id = s.id "
        "WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *",
        f"SELECT id, customer, amount FROM {volume.schema}.invoices ORDER BY id",
    )
    assert [tuple(r) for r in merged] == [
        (1, "Acme", Decimal("1234567890123.45")),
        (2, "Bolt & Nut", Decimal("0.10")),
        (3, None, Decimal("-0.20")),
    ]


def test_read_files_fails_as_the_warehouse_does(volume: Volume, invoices_file: Path) -> None:
    with pytest.raises(ServerOperationError, match=r"\[PATH_NOT_FOUND\] Path does not exist"):
        volume.run(_read_invoices(f"{volume.path}/missing.parquet"))
    with pytest.raises(ServerOperationError, match="NOT_FOUND: Volume"):
        volume.run(_read_invoices(f"{volume.path.rsplit('/', 1)[0]}/nowhere/invoices.parquet"))
    remote = f"{volume.path}/invoices.parquet"
    volume.run(f"PUT '{invoices_file}' INTO '{remote}'")
    with pytest.raises(ServerOperationError, match="UNSUPPORTED_FEATURE"):
        volume.run(f"SELECT * FROM read_files('{remote}', format => 'csv')")


def test_read_files_is_found_only_where_sql_would_call_it() -> None:
    statement = ("SELECT 'read_files(''/x'')' AS text, `read_files(` AS c -- read_files('/y')\n"
                 "FROM read_files('/Volumes/m/s/v/a.parquet', format => 'parquet') AS f "
                 "JOIN READ_FILES ( '/Volumes/m/s/v/b' ) AS g ON true")
    reads = find_file_reads(statement)
    assert [r.path for r in reads] == ["/Volumes/m/s/v/a.parquet", "/Volumes/m/s/v/b"]
    assert statement[reads[0].start:reads[0].end] == (
        "read_files('/Volumes/m/s/v/a.parquet', format => 'parquet')")
    assert find_file_reads("SELECT my_read_files('/x'), t.read_files FROM t") == []
    with pytest.raises(StatementFailed, match="UNSUPPORTED_FEATURE"):
        find_file_reads("SELECT * FROM read_files(:path)")


def test_remove_deletes_the_file(volume: Volume) -> None:
    (volume.local / "a.txt").write_bytes(b"hello")
    volume.run(
        f"PUT '{volume.local / 'a.txt'}' INTO '{volume.path}/a.txt'",
        f"REMOVE '{volume.path}/a.txt'",
    )
    with pytest.raises(Error, match="Staging operation over HTTP was unsuccessful: 404"):
        volume.run(f"GET '{volume.path}/a.txt' TO '{volume.local / 'back.txt'}'")
    assert not (volume.local / "back.txt").exists()


def test_removing_a_missing_file_fails(volume: Volume) -> None:
    with pytest.raises(Error, match="Staging operation over HTTP was unsuccessful: 404"):
        volume.run(f"REMOVE '{volume.path}/never-there.csv'")


def test_put_onto_an_existing_file_without_overwrite_is_refused(volume: Volume) -> None:
    (volume.local / "first.txt").write_bytes(b"first")
    (volume.local / "second.txt").write_bytes(b"second")
    volume.run(f"PUT '{volume.local / 'first.txt'}' INTO '{volume.path}/f.txt'")
    with pytest.raises(ServerOperationError, match="FILE_IN_STAGING_PATH_ALREADY_EXISTS"):
        volume.run(f"PUT '{volume.local / 'second.txt'}' INTO '{volume.path}/f.txt'")
    volume.run(f"GET '{volume.path}/f.txt' TO '{volume.local / 'check.txt'}'")
    assert (volume.local / "check.txt").read_bytes() == b"first"

    volume.run(
        f"PUT '{volume.local / 'second.txt'}' INTO '{volume.path}/f.txt' OVERWRITE",
        f"GET '{volume.path}/f.txt' TO '{volume.local / 'check2.txt'}'",
    )
    assert (volume.local / "check2.txt").read_bytes() == b"second"


def test_put_into_a_missing_volume_or_schema_is_refused(volume: Volume) -> None:
    (volume.local / "a.txt").write_bytes(b"x")
    catalog, schema = volume.schema.split(".")
    with pytest.raises(ServerOperationError, match="NOT_FOUND: Volume"):
        volume.run(f"PUT '{volume.local / 'a.txt'}' INTO '/Volumes/{catalog}/{schema}/nope/a.txt'")
    with pytest.raises(ServerOperationError, match=r"\[SCHEMA_NOT_FOUND\]"):
        volume.run(
            f"PUT '{volume.local / 'a.txt'}' INTO '/Volumes/{catalog}/no_such_schema/v/a.txt'"
        )
    with pytest.raises(ServerOperationError, match="NOT_FOUND: Catalog"):
        volume.run(
            f"PUT '{volume.local / 'a.txt'}' INTO '/Volumes/no_such_catalog/{schema}/v/a.txt'"
        )


def test_paths_and_names_that_would_leave_the_volume_are_refused(volume: Volume) -> None:
    (volume.local / "a.txt").write_bytes(b"x")
    catalog, schema = volume.schema.split(".")
    for remote in (f"{volume.path}/../escape.txt", f"/Volumes/{catalog}/{schema}/../landing/a.txt"):
        with pytest.raises(ServerOperationError, match="INVALID_VOLUME_PATH"):
            volume.run(f"PUT '{volume.local / 'a.txt'}' INTO '{remote}' OVERWRITE")
    with pytest.raises(ServerOperationError, match="INVALID_SCHEMA_OR_RELATION_NAME"):
        volume.run(f"CREATE VOLUME {volume.schema}.`../../outside`")


def test_create_volume_needs_its_schema_and_a_free_name(volume: Volume) -> None:
    with pytest.raises(ServerOperationError, match=r"\[SCHEMA_NOT_FOUND\]"):
        volume.run(f"CREATE VOLUME {volume.engine.catalog}.no_such_schema.v")
    with pytest.raises(ServerOperationError, match=r"\[VOLUME_ALREADY_EXISTS\]"):
        volume.run(f"CREATE VOLUME {volume.schema}.landing")
    volume.run(f"CREATE VOLUME IF NOT EXISTS {volume.schema}.landing")


def test_a_dropped_volume_takes_its_files(volume: Volume) -> None:
    (volume.local / "a.txt").write_bytes(b"x")
    volume.run(
        f"PUT '{volume.local / 'a.txt'}' INTO '{volume.path}/a.txt'",
        f"DROP VOLUME {volume.schema}.landing",
    )
    with pytest.raises(ServerOperationError, match="NOT_FOUND: Volume"):
        volume.run(f"GET '{volume.path}/a.txt' TO '{volume.local / 'b.txt'}'")
    volume.run(
        f"DROP VOLUME IF EXISTS {volume.schema}.landing", f"CREATE VOLUME {volume.schema}.landing"
    )
    with pytest.raises(Error, match="Staging operation over HTTP was unsuccessful: 404"):
        volume.run(f"GET '{volume.path}/a.txt' TO '{volume.local / 'b.txt'}'")


def test_presigned_urls_refuse_unknown_tokens(databricks_engine: LocalWarehouse) -> None:
    session = loopback_session(databricks_engine.ca_file)
    for method in ("GET", "PUT", "DELETE"):
        response = session.request(
            method,
            f"{databricks_engine.host_url}/volume-files/not-a-token",
            data=b"x" if method == "PUT" else None,
            timeout=10,
        )
        assert response.status_code == 403, method


def test_an_expired_presigned_url_is_refused(volume: Volume) -> None:
    (volume.local / "a.txt").write_bytes(b"x")
    store = volume.engine.adapter.volumes  # type: ignore[union-attr]
    lifetime, store.url_lifetime_s = store.url_lifetime_s, 0.0
    try:
        with pytest.raises(Error, match="Staging operation over HTTP was unsuccessful: 403"):
            volume.run(f"PUT '{volume.local / 'a.txt'}' INTO '{volume.path}/a.txt'")
    finally:
        store.url_lifetime_s = lifetime
    with pytest.raises(Error, match="Staging operation over HTTP was unsuccessful: 404"):
        volume.run(f"GET '{volume.path}/a.txt' TO '{volume.local / 'b.txt'}'")


def test_staging_needs_an_allowed_local_path(volume: Volume) -> None:
    (volume.local / "a.txt").write_bytes(b"x")
    with (
        volume.engine.connect() as connection,
        connection.cursor() as cursor,
        pytest.raises(Error, match="staging_allowed_local_path"),
    ):
        cursor.execute(f"PUT '{volume.local / 'a.txt'}' INTO '{volume.path}/a.txt'")
