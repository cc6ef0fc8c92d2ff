"""The SQL text, checked without a warehouse."""

from __future__ import annotations

import re

from qbc_plugin_kit.version_order import supersedes_sql
from target_databricks import merge_sql
from target_databricks.merge_sql import Column

TABLE = "`main`.`qb`.`invoices`"
COLUMNS = [
    Column("company_id", "STRING"),
    Column("id", "STRING"),
    Column("total_amount", "DECIMAL(38,10)"),
    Column("updated_at", "TIMESTAMP"),
    Column("sync_token", "BIGINT"),
    Column("edit_sequence", "STRING"),
    Column("_sdc_deleted_at", "TIMESTAMP"),
]


def clauses(sql: str) -> list[str]:
    """The MERGE's WHEN clauses (CASE WHEN inside a condition does not split)."""
    return [c.strip() for c in re.split(r" WHEN (?=(?:NOT )?MATCHED)", sql)[1:]]


def test_identifiers_are_backquoted_with_backquotes_doubled():
    assert merge_sql.quote_ident("we`ird name") == "`we``ird name`"
    assert merge_sql.table_name("main", None, "t") == "`main`.`t`"


def test_create_table_uses_three_part_name_provider_and_properties():
    sql = merge_sql.create_table(TABLE, COLUMNS[:3], provider="DELTA",
                                 properties={"delta.enableTypeWidening": "true"})
    assert sql == (
        "CREATE TABLE IF NOT EXISTS `main`.`qb`.`invoices` (`company_id` STRING, `id` STRING, "
        "`total_amount` DECIMAL(38,10)) USING DELTA "
        "TBLPROPERTIES ('delta.enableTypeWidening' = 'true')"
    )


def test_create_table_without_provider_leaves_using_out():
    sql = merge_sql.create_table(TABLE, COLUMNS[:1], provider="")
    assert "USING" not in sql
    assert sql.endswith("(`company_id` STRING)")


def test_staging_table_is_replaced_not_reused():
    sql = merge_sql.create_table("`s`", COLUMNS[:1], provider="ICEBERG", replace=True)
    assert sql.startswith("CREATE OR REPLACE TABLE `s`")


def test_add_columns_and_widen_statements():
    assert merge_sql.add_columns(TABLE, [Column("memo", "STRING")]) == (
        "ALTER TABLE `main`.`qb`.`invoices` ADD COLUMNS (`memo` STRING)"
    )
    assert merge_sql.alter_column_type(TABLE, "qty", "DECIMAL(38,10)") == (
        "ALTER TABLE `main`.`qb`.`invoices` ALTER COLUMN `qty` TYPE DECIMAL(38,10)"
    )


def test_rows_source_reads_one_json_parameter_and_casts_each_column():
    sql = merge_sql.json_rows_source(COLUMNS[:4], ":rows")
    assert sql.count(":rows") == 1
    assert "from_json(:rows, 'ARRAY<ARRAY<STRING>>')" in sql
    assert "r[0] AS `company_id`" in sql
    assert "CAST(r[2] AS DECIMAL(38,10)) AS `total_amount`" in sql
    assert "CAST(r[3] AS TIMESTAMP) AS `updated_at`" in sql
    assert "DOUBLE" not in sql


def test_nested_struct_columns_are_parsed_from_their_json_text():
    sql = merge_sql.json_rows_source([Column("addr", "STRUCT<`city`: STRING>")], "%(rows)s")
    assert "from_json(r[0], 'STRUCT<`city`: STRING>') AS `addr`" in sql


def test_merge_matches_on_every_key_null_safely():
    sql = merge_sql.merge(TABLE, COLUMNS, ["company_id", "id"], "SELECT 1")
    assert "ON t.`company_id` <=> s.`company_id` AND t.`id` <=> s.`id`" in sql


def test_merge_updates_only_when_the_kits_version_order_says_not_older():
    sql = merge_sql.merge(TABLE, COLUMNS, ["company_id", "id"], "SELECT 1")
    update = next(c for c in clauses(sql) if "UPDATE SET t.`total_amount`" in c)
    guard = supersedes_sql("databricks", lambda c: f"s.`{c}`", lambda c: f"t.`{c}`")
    assert update.startswith(f"MATCHED AND {guard} THEN UPDATE SET")
    # key columns are never rewritten
    assert "t.`id` =" not in update


def test_version_columns_the_table_lacks_are_null_on_both_sides():
    columns = [Column("id", "STRING"), Column("updated_at", "STRING"), Column("memo", "STRING")]
    guard = merge_sql.version_guard(columns)
    assert "sync_token" not in guard and "edit_sequence" not in guard
    assert "COALESCE(CAST(NULL AS BIGINT), -1)" in guard
    # an updated_at kept as text compares as the instant it names, not as text
    assert "COALESCE(CAST(s.`updated_at` AS TIMESTAMP), NULL, TIMESTAMP '0001-01-01 00:00:00')" in guard


def test_soft_delete_keeps_stored_values_and_still_inserts_tombstones():
    sql = merge_sql.merge(TABLE, COLUMNS, ["company_id", "id"], "SELECT 1",
                          tombstone_columns=["_sdc_received_at"])
    delete_clause = clauses(sql)[0]
    assert delete_clause.startswith(
        f"MATCHED AND s.`_sdc_deleted_at` IS NOT NULL AND {merge_sql.version_guard(COLUMNS)} THEN")
    assert "t.`_sdc_deleted_at` = s.`_sdc_deleted_at`" in delete_clause
    # a deletion carries no sync_token or edit_sequence: the stored ones stay
    assert "t.`sync_token` = coalesce(s.`sync_token`, t.`sync_token`)" in delete_clause
    assert "total_amount" not in delete_clause.split("THEN UPDATE SET")[1]
    assert "WHEN NOT MATCHED THEN INSERT" in sql


def test_hard_delete_removes_matches_and_never_inserts_deletions():
    sql = merge_sql.merge(TABLE, COLUMNS, ["company_id", "id"], "SELECT 1", hard_delete=True)
    guard = merge_sql.version_guard(COLUMNS)
    assert f"WHEN MATCHED AND s.`_sdc_deleted_at` IS NOT NULL AND {guard} THEN DELETE" in sql
    assert "WHEN NOT MATCHED AND s.`_sdc_deleted_at` IS NULL THEN INSERT" in sql


def test_merge_clauses_come_in_the_order_spark_evaluates_them():
    sql = merge_sql.merge(TABLE, COLUMNS, ["company_id", "id"], "SELECT 1")
    guard = merge_sql.version_guard(COLUMNS)
    deletion, update, insert = clauses(sql)
    assert deletion.startswith(f"MATCHED AND s.`_sdc_deleted_at` IS NOT NULL AND {guard} THEN")
    assert update.startswith(f"MATCHED AND {guard} THEN UPDATE SET")
    assert insert.startswith("NOT MATCHED THEN INSERT")


def test_insert_select_appends_or_overwrites():
    assert merge_sql.insert_select(TABLE, COLUMNS[:2], "SELECT 1").startswith(
        "INSERT INTO `main`.`qb`.`invoices` (`company_id`, `id`) SELECT `company_id`, `id` FROM"
    )
    assert merge_sql.insert_select(TABLE, COLUMNS[:2], "SELECT 1", overwrite=True).startswith(
        "INSERT OVERWRITE `main`.`qb`.`invoices`"
    )


def test_deleted_header_flags_its_lines():
    sql = merge_sql.flag_children_deleted(
        "`main`.`qb`.`invoice_lines`", [("company_id", "company_id"), ("invoice_id", "id")],
        "SELECT 1")
    assert "t.`invoice_id` <=> s.`id`" in sql
    assert "WHEN MATCHED AND t.`_sdc_deleted_at` IS NULL THEN UPDATE SET" in sql
    hard = merge_sql.flag_children_deleted("`l`", [("a", "b")], "SELECT 1", hard_delete=True)
    assert hard.endswith("THEN DELETE")


def test_volume_staging_statements():
    path = merge_sql.volume_path("main", "qb", "staging", "f.parquet")
    assert path == "/Volumes/main/qb/staging/f.parquet"
    assert merge_sql.put_file("/tmp/f.parquet", path) == (
        "PUT '/tmp/f.parquet' INTO '/Volumes/main/qb/staging/f.parquet' OVERWRITE"
    )
    source = merge_sql.file_rows_source(COLUMNS[1:3], path)
    assert source == (
        "SELECT `c0` AS `id`, CAST(`c1` AS DECIMAL(38,10)) AS `total_amount` "
        "FROM read_files('/Volumes/main/qb/staging/f.parquet', format => 'parquet')"
    )
    assert merge_sql.remove_file(path) == "REMOVE '/Volumes/main/qb/staging/f.parquet'"


def test_string_literals_escape_quotes_and_backslashes():
    assert merge_sql.quote_string("it's a \\path") == "'it\\'s a \\\\path'"


def test_columns_shared_by_every_row_travel_once_as_their_own_parameter():
    sql = merge_sql.json_rows_source(COLUMNS[:4], ":rows", {0: ":c0", 3: None})
    assert "CAST(:c0 AS STRING)" not in sql and ":c0 AS `company_id`" in sql
    assert "CAST(NULL AS TIMESTAMP) AS `updated_at`" in sql
    # the remaining columns are renumbered inside each JSON row
    assert "r[0] AS `id`" in sql and "CAST(r[1] AS DECIMAL(38,10)) AS `total_amount`" in sql


def test_an_encoded_payload_is_decoded_from_base64_before_parsing():
    sql = merge_sql.json_rows_source(COLUMNS[:2], "%(rows)s", encoded=True)
    assert "from_json(CAST(unbase64(%(rows)s) AS STRING), 'ARRAY<ARRAY<STRING>>')" in sql
    assert sql.count("%(rows)s") == 1
