"""A DuckDB file named like one of the target's schemas is refused up front, with what to do."""

from __future__ import annotations

import pathlib
import typing as t

import pytest
from target_looker_warehouse.target import TargetLookerWarehouse


def test_a_duckdb_file_named_after_the_raw_schema_is_refused_before_any_load(
    duckdb_config: dict[str, t.Any], tmp_path: pathlib.Path
) -> None:
    config = {**duckdb_config, "duckdb_path": str(tmp_path / "quickbooks.duckdb")}
    with pytest.raises(ValueError, match=r"rename the file"):
        TargetLookerWarehouse(config=config, validate_config=True)
    assert not (tmp_path / "quickbooks.duckdb").exists()


def test_the_default_file_name_does_not_collide_with_the_default_schemas(
    duckdb_config: dict[str, t.Any],
) -> None:
    config = {k: v for k, v in duckdb_config.items() if k != "duckdb_path"}
    default = TargetLookerWarehouse.config_jsonschema["properties"]["duckdb_path"]["default"]
    assert pathlib.Path(default).stem not in {"quickbooks", "finance"}
    assert "default_target_schema" not in config or config["default_target_schema"] != pathlib.Path(default).stem
