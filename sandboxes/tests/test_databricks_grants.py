"""What the sandbox warehouse refuses to a principal that lacks a privilege, and how it reads
Databricks' USE CATALOG / USE SCHEMA for Spark (no engine needed)."""

from __future__ import annotations

import pytest
from sandboxes.databricks.grants import refusal
from sandboxes.databricks.protocol_translator import use_namespace
from sandboxes.databricks.statement_results import StatementFailed


@pytest.mark.parametrize(("statement", "privilege", "securable"), [
    ("CREATE TABLE IF NOT EXISTS `main`.`qb`.`invoices` (id STRING)", "CREATE TABLE", "Schema 'main.qb'"),
    ("CREATE SCHEMA IF NOT EXISTS `main`.`qb`", "CREATE SCHEMA", "Catalog 'main'"),
    ("USE CATALOG `main`", "USE CATALOG", "Catalog 'main'"),
    ("USE SCHEMA `main`.`qb`", "USE SCHEMA", "Schema 'main.qb'"),
    ("MERGE INTO `main`.`qb`.`t` AS t USING s ON t.id = s.id", "MODIFY", "Table 'main.qb.t'"),
    ("PUT '/tmp/f' INTO '/Volumes/main/qb/stage/f.parquet' OVERWRITE", "WRITE VOLUME", "Volume 'main.qb.stage'"),
    ("MERGE INTO `main`.`qb`.`t` AS t USING (SELECT c0 AS id FROM read_files("
     "'/Volumes/main/qb/stage/f.parquet', format => 'parquet')) AS s ON t.id = s.id WHEN MATCHED THEN DELETE",
     "READ VOLUME", "Volume 'main.qb.stage'"),
])
def test_a_missing_privilege_fails_the_statement_as_databricks_documents(statement, privilege, securable):
    failure = refusal(statement, frozenset({privilege}))
    assert isinstance(failure, StatementFailed)
    assert failure.sql_state == "42501"
    assert str(failure) == (f"[INSUFFICIENT_PERMISSIONS] Insufficient privileges: User does not have "
                            f"{privilege} on {securable}.")


def test_a_principal_with_every_privilege_or_another_one_missing_is_not_refused():
    statement = "CREATE TABLE `main`.`qb`.`t` (id STRING)"
    assert refusal(statement, frozenset()) is None
    assert refusal(statement, frozenset({"MODIFY"})) is None
    assert refusal("SELECT 1", frozenset({"CREATE TABLE", "MODIFY"})) is None


def test_use_catalog_and_a_qualified_use_schema_become_sparks_use():
    catalogs = frozenset({"main", "spark_catalog"})
    assert use_namespace("USE CATALOG `main`", catalogs) == "USE `main`"
    assert use_namespace("USE SCHEMA `main`.`qb`", catalogs) == "USE `main`.`qb`"
    assert use_namespace("USE SCHEMA qb", catalogs) == "USE qb"
    assert use_namespace("SELECT 1", catalogs) == "SELECT 1"


def test_a_missing_catalog_is_refused_with_databricks_error_class():
    with pytest.raises(StatementFailed, match=r"^\[NO_SUCH_CATALOG_EXCEPTION\] Catalog 'finanse' was not found"):
        use_namespace("USE CATALOG finanse", frozenset({"main"}))
    with pytest.raises(StatementFailed, match="NO_SUCH_CATALOG_EXCEPTION"):
        use_namespace("USE SCHEMA finanse.qb", frozenset({"main"}))
